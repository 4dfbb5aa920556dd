"""Benchmark: the council's trend page (``/council/trends``) on years of history against a plain GROUP BY.

Usage: .venv/bin/python -m benchmarks.bench_trends_page [--history 1000000] [--years 5]
       [--service road_damage] [--from 2025-01 --to 2025-12] [--repeat 5]

On a scratch database with Mezzolombardo, ``--history`` past reports are written
(``simulate --history``), vacuumed, and counted once into ``trend_weeks`` (timed), then, in the
same run, alternately:

- **the plain GROUP BY** of ``bench_trends``: that service's reports of the period per ISO week
  and month with the median and 90th percentile of hours to resolve, nothing more;
- **a first page**: ``GET /council/trends`` for that service and period with no answer kept in
  the process (refresh check, tables, suppression, the charts drawn, the page rendered);
- **a repeated page**: the same request again (the answer kept, the page drawn again);

and the same two for every service the council may see (``service_code`` empty), and the
weekly CSV. Prints medians, ratios and sizes, and drops the database. It measures; it checks
nothing.
"""
from __future__ import annotations

import argparse
import logging
import statistics
import time

from sqlalchemy import text

from benchmarks.bench_trends import PLAIN
from benchmarks.scratch import scratch_database, town_with_history
from geo_urp import create_app
from geo_urp.acting import trend_counts
from geo_urp.db import engine_for, session_scope
from geo_urp.reading import trends


def _timed(fn) -> float:
    t = time.perf_counter()
    fn()
    return (time.perf_counter() - t) * 1000


def _page(client, path: str, headers: dict, into: dict) -> None:
    """One first (no answer kept) and one repeated time of ``path``, and its size and status."""
    trends._ANSWERS.clear()  # a question not asked before in this process
    into.setdefault("first", []).append(_timed(lambda: client.get(path, headers=headers)))
    last = []
    into.setdefault("repeated", []).append(_timed(lambda: last.append(client.get(path, headers=headers))))
    into["size"], into["status"] = len(last[0].data), last[0].status_code


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--history", type=int, default=1_000_000)
    parser.add_argument("--years", type=float, default=5)
    parser.add_argument("--service", default="road_damage")
    parser.add_argument("--from", dest="first", default="2025-01")
    parser.add_argument("--to", dest="last", default="2025-12")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    logging.disable(logging.INFO)
    with scratch_database() as url:
        mid, key, written_s = town_with_history(url, args.history, args.years)
        with engine_for(url).connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE reports"))  # no autovacuum of the new rows during the timings
        with session_scope(url) as s:
            s.execute(text("DELETE FROM trend_refreshes WHERE municipality_id = :m"), {"m": mid})
        with session_scope(url) as s:
            count_s = _timed(lambda: trend_counts.refresh(s, mid)) / 1000
        with engine_for(url).connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE trend_weeks"))
        client = create_app({"DATABASE_URL": url}).test_client()
        headers = {"X-API-Key": key}
        paths = {f"/council/trends {args.service}":
                 f"/council/trends?service_code={args.service}&from={args.first}&to={args.last}",
                 "/council/trends every service": f"/council/trends?from={args.first}&to={args.last}",
                 "/council/trends.csv weekly, every service":
                 f"/council/trends.csv?table=weekly&from={args.first}&to={args.last}"}
        for path in paths.values():
            client.get(path, headers=headers)  # the app's first requests: imports, pools, templates
        params = {"slug": "mezzolombardo", "code": args.service, "first": f"{args.first}-01", "last": f"{args.last}-01"}
        plain, timed = [], {name: {} for name in paths}
        for _ in range(args.repeat):
            with session_scope(url) as s:
                plain.append(_timed(lambda: s.execute(PLAIN, params).all()))
            for name, path in paths.items():
                _page(client, path, headers, timed[name])
        p_ms = statistics.median(plain)
        print(f"history: {args.history} reports over {args.years:g} years written in {written_s:.1f} s; "
              f"first full count of trend_weeks {count_s:.1f} s")
        print(f"plain GROUP BY ({args.service}, {args.first}..{args.last})  median {p_ms:8.1f} ms  "
              f"{[round(v, 1) for v in plain]}")
        for name, t in timed.items():
            fm, rm = statistics.median(t["first"]), statistics.median(t["repeated"])
            print(f"{name}: first median {fm:.1f} ms {[round(v, 1) for v in t['first']]} ({p_ms / fm:.1f}x the "
                  f"plain GROUP BY), repeated median {rm:.1f} ms {[round(v, 1) for v in t['repeated']]} "
                  f"({p_ms / rm:.1f}x), {t['size'] / 1024:.0f} KB, status {t['status']}")


if __name__ == "__main__":
    main()
