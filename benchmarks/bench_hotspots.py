"""Benchmark: the council's hotspots on years of history against a plain hexagon count.

Usage: .venv/bin/python -m benchmarks.bench_hotspots [--history 1000000] [--years 5]
       [--service road_damage] [--cell-m 200] [--repeat 3]

On a scratch database with Mezzolombardo, ``--history`` past reports are written
(``simulate --history``: they are counted on the council's default grid as they are written),
then, for one service and the last twelve months, in the same run, alternately:

- **the plain count**: PostGIS's ``ST_HexagonGrid`` over the town joined to the reports of that
  service and year, counting reports per cell (the query of PostGIS's documentation), nothing more;
- **a first answer** of ``GET /api/hotspots`` with the trend (counts, Gi* with permutations,
  FDR, emerging trend, suppression), no answer kept yet: what a council member asking a new
  question waits for;
- **a repeated answer**: the same request again.

Also: the time of the first count of the whole history (a town's first question at a new
cell size pays it), and ``/council``'s size and time for the same question. Prints medians
and ratios, and drops the database. It measures; it checks nothing.
"""
from __future__ import annotations

import argparse
import logging
import statistics
import time

from sqlalchemy import text

from benchmarks.scratch import scratch_database, town_with_history
from geo_urp import create_app
from geo_urp.acting import hotspot_counts
from geo_urp.db import session_scope

PLAIN = text("""
    SELECT h.i, h.j, count(r.id) AS n
    FROM municipalities m
    CROSS JOIN LATERAL ST_HexagonGrid(:cell_m, m.boundary) AS h
    LEFT JOIN reports r ON ST_Intersects(r.geom, h.geom) AND r.municipality_id = m.id
         AND r.service_code = :code AND r.requested_datetime >= :since
    WHERE m.id = :mid AND ST_Intersects(h.geom, m.boundary)
    GROUP BY h.i, h.j
""")


def _timed(fn) -> float:
    t = time.perf_counter()
    fn()
    return (time.perf_counter() - t) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--history", type=int, default=1_000_000)
    parser.add_argument("--years", type=float, default=5)
    parser.add_argument("--service", default="road_damage")
    parser.add_argument("--cell-m", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    logging.disable(logging.INFO)
    with scratch_database() as url:
        mid, key, written_s = town_with_history(url, args.history, args.years)
        with session_scope(url) as s:
            s.execute(text("ANALYZE reports"))
        with session_scope(url) as s:
            first_count_s = _timed(lambda: hotspot_counts.refresh(s, mid, args.cell_m)) / 1000
        app = create_app({"DATABASE_URL": url})
        client = app.test_client()
        headers = {"X-API-Key": key}
        query = f"service_code={args.service}&cell_m={args.cell_m}"
        with session_scope(url) as s:
            since = s.execute(text("SELECT date_trunc('month', now()) - interval '11 months'")).scalar()
            year_reports = s.execute(text("SELECT count(*) FROM reports WHERE service_code = :c AND "
                                          "requested_datetime >= :since"), {"c": args.service, "since": since}).scalar()
        client.get(f"/api/hotspots?{query}&trend=1", headers=headers)  # the app's first request: imports, pools
        plain, first, repeated, sizes = [], [], [], []
        for _ in range(args.repeat):
            with session_scope(url) as s:
                plain.append(_timed(lambda: s.execute(PLAIN, {"cell_m": args.cell_m, "code": args.service,
                                                              "since": since, "mid": mid}).all()))
            with session_scope(url) as s:
                s.execute(text("DELETE FROM hotspot_answers"))
            first.append(_timed(lambda: client.get(f"/api/hotspots?{query}&trend=1", headers=headers)))
            resp = []
            repeated.append(_timed(lambda: resp.append(client.get(f"/api/hotspots?{query}&trend=1", headers=headers))))
            sizes.append(len(resp[0].data))
        page, page_ms = [], []
        for _ in range(args.repeat):
            page_ms.append(_timed(lambda: page.append(client.get(f"/council?{query}", headers=headers))))
        p_ms, f_ms, r_ms = (statistics.median(v) for v in (plain, first, repeated))
        print(f"history: {args.history} reports over {args.years:g} years written in {written_s:.1f} s; "
              f"first count of all of it on the {args.cell_m} m grid {first_count_s:.1f} s")
        print(f"{args.service}, last 12 months: {year_reports} reports")
        print(f"plain ST_HexagonGrid count        median {p_ms:8.1f} ms  {[round(v, 1) for v in plain]}")
        print(f"/api/hotspots first answer        median {f_ms:8.1f} ms  {[round(v, 1) for v in first]}  "
              f"({p_ms / f_ms:.1f}x faster than the plain count)")
        print(f"/api/hotspots repeated answer     median {r_ms:8.1f} ms  {[round(v, 1) for v in repeated]}  "
              f"({p_ms / r_ms:.1f}x faster than the plain count)")
        print(f"answer size {sizes[0] / 1024:.0f} KB")
        print(f"/council page: {len(page[-1].data) / 1024 / 1024:.2f} MB, median {statistics.median(page_ms):.0f} ms "
              f"{[round(v) for v in page_ms]} (status {page[-1].status_code})")


if __name__ == "__main__":
    main()
