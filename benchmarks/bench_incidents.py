"""Benchmark: incident update per new report, and full recomputation, with 100,000 past reports.

Usage: .venv/bin/python -m benchmarks.bench_incidents [--history 100000] [--nights 6]
Creates a scratch database on the embedded server (or DATABASE_URL's), loads
Mezzolombardo, writes the past reports with ``simulate --history``'s writer,
then feeds several planned nights (planted faults plus background calls), call
by call: intake stores each report, and ``on_report_stored`` (timed alone) updates
the incidents, each call committed. Finally it times ``recompute_open`` for the
municipality. Prints the figures and drops the database. It measures; it checks nothing.
"""
from __future__ import annotations

import argparse
import statistics
import time
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select, text

from benchmarks.scratch import scratch_database
from geo_urp import settings
from geo_urp.accounts import Principal
from geo_urp.db import engine_for, session_scope
from geo_urp.loading.loader import load_municipality
from geo_urp.acting.intake import create_report
from geo_urp.models import Municipality
from geo_urp.reasoning import on_report_stored
from geo_urp.reasoning.recompute import recompute_open
from geo_urp.simulate.history import write_history
from geo_urp.simulate.replay import request_form
from geo_urp.simulate.scenario import default_start, plan_night

DEMO = Path(__file__).resolve().parent.parent / "layers" / "mezzolombardo"


def _pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * p))]


def _machine() -> str:
    """Two readings that tell how fast this machine is today, to compare figures across machines:
    a plain Python loop and a ``SELECT 1`` round trip to the database."""
    started = time.perf_counter()
    total = 0
    for i in range(5_000_000):
        total += i
    loop = time.perf_counter() - started
    with engine_for(settings.database_url()).connect() as conn:
        started = time.perf_counter()
        for _ in range(1000):
            conn.execute(text("SELECT 1")).scalar()
        trip = (time.perf_counter() - started)
    return f"5M-step Python loop {loop:.2f} s, SELECT 1 round trip {trip:.2f} ms"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--history", type=int, default=100_000)
    ap.add_argument("--nights", type=int, default=6)
    args = ap.parse_args()
    with scratch_database() as url:
        with session_scope(url) as s:
            load_municipality(s, DEMO, "mezzolombardo")
            mid = s.scalar(select(Municipality.id).where(Municipality.slug == "mezzolombardo"))
        t = time.perf_counter()
        with session_scope(url) as s:
            write_history(s, mid, args.history)
        print(f"wrote {args.history} past reports in {time.perf_counter() - t:.1f} s")
        with engine_for(url).begin() as c:
            c.execute(text("ANALYZE"))
        operator = Principal("operator", mid, None, "bench")
        update_ms, intake_ms = [], []
        first = default_start()
        for night_no in range(args.nights):
            with session_scope(url) as s:
                night = plan_night(s, mid, seed=100 + night_no,  # oldest night first: calls in time order
                                   start=first - timedelta(days=2 * (args.nights - 1 - night_no)))
            for call in night.calls:
                form = request_form(call, "unused", "mezzolombardo")
                with session_scope(url) as s:
                    t0 = time.perf_counter()
                    receipt = create_report(s, operator, form, {})
                    t1 = time.perf_counter()
                    on_report_stored(s, receipt.report)
                    t2 = time.perf_counter()
                intake_ms.append((t1 - t0) * 1000)
                update_ms.append((t2 - t1) * 1000)
        print(f"{len(update_ms)} new reports over {args.nights} nights on top of {args.history} past ones:")
        print(f"  incident update (on_report_stored): p50 {statistics.median(update_ms):.1f} ms, "
              f"p95 {_pct(update_ms, 0.95):.1f} ms, max {max(update_ms):.1f} ms")
        print(f"  intake (validate, place, snap, store): p50 {statistics.median(intake_ms):.1f} ms, "
              f"p95 {_pct(intake_ms, 0.95):.1f} ms")
        with session_scope(url) as s:
            open_now = s.execute(text("SELECT count(*) FROM incidents WHERE status = 'open'")).scalar()
        runs = []
        for _ in range(3):
            with session_scope(url) as s:
                t = time.perf_counter()
                replayed, now_open = recompute_open(s, mid)
                runs.append(time.perf_counter() - t)
        print(f"  full recomputation of open incidents ({replayed} reports -> {now_open} incidents, "
              f"{open_now} before): best {min(runs):.2f} s, worst {max(runs):.2f} s "
              f"(runs: {', '.join(f'{r:.2f}' for r in runs)})")
        print(f"  this machine: {_machine()}")


if __name__ == "__main__":
    main()
