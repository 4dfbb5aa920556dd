"""Benchmark: the operator page with 5,000 open reports against a plain Folium map of the same points.

Usage: .venv/bin/python -m benchmarks.bench_operator_page [--reports 5000] [--repeat 3]

On a scratch database with Mezzolombardo, ``--reports`` reports of the last two days are
written (``simulate --history``'s writer) and opened, and their incidents are built
(``recompute_open``). Then, in headless Chromium, in the same run, alternately:

- **the operator page**: an operator logged in opens ``/operator`` (the town's layers,
  the live incidents, the call intake); timed from navigation to the first frame drawn
  after the first answer of ``/api/incidents``;
- **a plain Folium map**: the same reports' points, one ``folium.Marker`` each, written
  to a file with Leaflet copied beside it (so it loads offline too); timed from
  navigation to the first frame after ``load``.

Each page's weight is what it fetched, over the wire (compressed) and decoded. Last, the size of a poll with
nothing new (``since`` = the previous answer's ``next_since``). Prints the medians and
the ratio, and drops the database. It measures; it checks nothing.
"""
from __future__ import annotations

import argparse
import logging
import statistics
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import folium
import requests
from sqlalchemy import select, text

from benchmarks.scratch import scratch_database
from geo_urp import create_app
from geo_urp.accounts import create_api_key, create_user
from geo_urp.db import session_scope
from geo_urp.loading.loader import load_municipality
from geo_urp.models import Municipality
from geo_urp.reasoning.recompute import recompute_open
from geo_urp.showing.assets import copy_assets, use_local_assets
from geo_urp.simulate.history import write_history
from tests.showing.browser import browser_page
from tests.showing.live_server import live_server

DEMO = Path(__file__).resolve().parent.parent / "layers" / "mezzolombardo"
FRAME = "new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))"


def _open_reports(url: str, n: int) -> tuple[list[tuple[float, float]], str]:
    """Mezzolombardo with ``n`` open reports of the last two days and their incidents; their
    points (lat, lon) and an operator key."""
    with session_scope(url) as s:
        load_municipality(s, DEMO, "mezzolombardo")
        mid = s.scalar(select(Municipality.id).where(Municipality.slug == "mezzolombardo"))
        write_history(s, mid, n, years=2 / 365.25, now=datetime.now(timezone.utc))
        s.execute(text("UPDATE reports SET status = 'open', status_notes = NULL WHERE municipality_id = :m"),
                  {"m": mid})
        create_user(s, "bench", "bench-password", "operator")
        key = create_api_key(s, "operator", "mezzolombardo")
    with session_scope(url) as s:
        replayed, incidents = recompute_open(s, mid)
        points = [tuple(p) for p in s.execute(text(
            "SELECT ST_Y(ST_Transform(geom, 4326)), ST_X(ST_Transform(geom, 4326)) FROM reports"))]
    print(f"{replayed} open reports, {incidents} open incidents")
    return points, key


def _plain_folium(points: list[tuple[float, float]], folder: Path) -> Path:
    lat = statistics.fmean(p[0] for p in points)
    lon = statistics.fmean(p[1] for p in points)
    m = use_local_assets(folium.Map(location=[lat, lon], zoom_start=15, tiles=None), ".")
    for p in points:
        folium.Marker(p).add_to(m)
    copy_assets(folder)
    path = folder / "plain.html"
    m.save(str(path))
    return path


WEIGHT = """() => [performance.getEntriesByType("navigation")[0], ...performance.getEntriesByType("resource")]
  .map(e => [e.name, e.encodedBodySize, e.decodedBodySize])"""


def _weight(page) -> tuple[int, int]:
    """Bytes the page fetched: as they came over the wire, and once decompressed."""
    entries = page.evaluate(WEIGHT)
    return sum(e[1] for e in entries), sum(e[2] for e in entries)


def _time_operator(base: str) -> tuple[float, int]:
    with browser_page() as page:
        page.goto(f"{base}/login")
        page.fill("input[name=username]", "bench")
        page.fill("input[name=password]", "bench-password")
        page.click("button[type=submit], input[type=submit]")
        page.wait_for_url("**/operator**")
        page.goto(f"{base}/login")  # away again, so the timed load starts cold but logged in
        started = time.perf_counter()
        with page.expect_response(lambda r: "/api/incidents" in r.url and "since=" not in r.url, timeout=120_000):
            page.goto(f"{base}/operator", wait_until="commit")
        page.evaluate(FRAME)
        took = time.perf_counter() - started
        assert not page.outside, page.outside
        return took, _weight(page)


def _time_plain(path: Path) -> tuple[float, tuple[int, int]]:
    with browser_page() as page:
        started = time.perf_counter()
        page.goto(path.as_uri(), wait_until="load", timeout=300_000)
        page.evaluate(FRAME)
        took = time.perf_counter() - started
        # Files have no transfer size: weigh the files the page read.
        files = {path} | {path.parent / name.split(path.parent.as_uri() + "/", 1)[-1]
                          for name, _, _ in page.evaluate(WEIGHT) if name.startswith(path.parent.as_uri())}
        size = sum(f.stat().st_size for f in files if f.is_file())
        return took, (size, size)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reports", type=int, default=5000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    for name in ("werkzeug", "geo_urp.request"):  # no access log between the figures
        logging.getLogger(name).setLevel(logging.ERROR)
    with scratch_database() as url, tempfile.TemporaryDirectory() as tmp:
        points, key = _open_reports(url, args.reports)
        plain = _plain_folium(points, Path(tmp))
        app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench"})
        ours, theirs = [], []
        with live_server(app) as base:
            for _ in range(args.repeat):
                ours.append(_time_operator(base))
                theirs.append(_time_plain(plain))
            first = requests.get(f"{base}/api/incidents", headers={"X-API-Key": key}, timeout=60)
            empty = requests.get(f"{base}/api/incidents", params={"since": first.json()["next_since"]},
                                 headers={"X-API-Key": key}, timeout=60)
        o, t = statistics.median(x for x, _ in ours), statistics.median(x for x, _ in theirs)
        for name, runs in ((f"operator page", ours), (f"plain Folium, {len(points)} markers", theirs)):
            wire, whole = max(w for _, (w, _) in runs), max(d for _, (_, d) in runs)
            print(f"{name}: {statistics.median(x for x, _ in runs):.2f} s, {wire / 1e6:.2f} MB over the wire, "
                  f"{whole / 1e6:.2f} MB decoded (runs {', '.join(f'{x:.2f}' for x, _ in runs)})")
        print(f"plain / operator: {t / o:.1f}x; first /api/incidents answer {len(first.content) / 1e3:.1f} kB, "
              f"a poll with nothing new {len(empty.content)} bytes")


if __name__ == "__main__":
    main()
