"""Benchmark: the council's trend answer on years of history against a plain GROUP BY over the reports.

Usage: DATABASE_URL=<a copy of a database holding simulate --history reports>
       .venv/bin/python -m benchmarks.bench_trends [--municipality mezzolombardo] [--service road_damage]
       [--from 2025-01 --to 2025-12] [--repeat 5]

Migrates the database (``db init``), times the first full count of ``trend_weeks``
(``trend_counts.refresh``: what ``simulate --history`` or the worker pays once), then, for one
service and one year, alternately:

- **the plain GROUP BY**: the reports of that service and year counted per ISO week and month
  with the median and 90th percentile of hours to resolve (``percentile_cont``), nothing more;
- **a first answer** of ``reading.trends`` (refresh check, tables, suppression) with no answer
  kept in the process: a new question;
- **a repeated answer**: the same question again.

Prints medians and ratios. It measures; it checks nothing.
"""
from __future__ import annotations

import argparse
import os
import statistics
import time

from sqlalchemy import text

from geo_urp.acting import trend_counts
from geo_urp.db import init_db, session_scope
from geo_urp.reading import trends

PLAIN = text("""
    SELECT date_trunc('week', r.requested_datetime AT TIME ZONE 'Europe/Rome')::date AS week,
           date_trunc('month', r.requested_datetime AT TIME ZONE 'Europe/Rome')::date AS month, count(*) AS n,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY r.updated_datetime - r.requested_datetime)
               FILTER (WHERE r.status = 'closed') AS median,
           percentile_cont(0.9) WITHIN GROUP (ORDER BY r.updated_datetime - r.requested_datetime)
               FILTER (WHERE r.status = 'closed') AS p90
    FROM reports r JOIN municipalities m ON m.id = r.municipality_id
    WHERE m.slug = :slug AND r.service_code = :code
      AND r.requested_datetime >= (CAST(:first AS date)::timestamp AT TIME ZONE 'Europe/Rome')
      AND r.requested_datetime < ((CAST(:last AS date) + interval '1 month')::timestamp AT TIME ZONE 'Europe/Rome')
    GROUP BY 1, 2
""")


def _timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> None:
    """Run the comparison and print its figures."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--municipality", default="mezzolombardo")
    ap.add_argument("--service", default="road_damage")
    ap.add_argument("--from", dest="first", default="2025-01")
    ap.add_argument("--to", dest="last", default="2025-12")
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    url = os.environ["DATABASE_URL"]
    init_db(url)
    with session_scope(url) as session:
        mid = session.execute(text("SELECT id FROM municipalities WHERE slug = :s"), {"s": args.municipality}).scalar_one()
        n = session.execute(text("SELECT count(*) FROM reports WHERE municipality_id = :m"), {"m": mid}).scalar()
        session.execute(text("DELETE FROM trend_refreshes WHERE municipality_id = :m"), {"m": mid})
    with session_scope(url) as session:
        full = _timed(lambda: trend_counts.refresh(session, mid))
    query = {"jurisdiction_id": args.municipality, "service_code": args.service, "from": args.first, "to": args.last}
    plain, first, repeated = [], [], []
    for _ in range(args.repeat):
        with session_scope(url) as session:
            params = {"slug": args.municipality, "code": args.service, "first": f"{args.first}-01",
                      "last": f"{args.last}-01"}
            plain.append(_timed(lambda: session.execute(PLAIN, params).all()))
        with session_scope(url) as session:
            trends._ANSWERS.clear()  # a question not asked before in this process
            first.append(_timed(lambda: trends.trends(session, trends.ask(session, query, None))))
        with session_scope(url) as session:
            repeated.append(_timed(lambda: trends.trends(session, trends.ask(session, query, None))))
    p, f, r = (statistics.median(x) for x in (plain, first, repeated))
    print(f"reports in the town: {n}; first full count of trend_weeks: {full:.2f} s")
    print(f"plain GROUP BY, {args.service} {args.first}..{args.last}: {p * 1000:.1f} ms (median of {args.repeat})")
    print(f"trend answer, first:    {f * 1000:.1f} ms ({p / f:.1f}x faster)")
    print(f"trend answer, repeated: {r * 1000:.1f} ms ({p / r:.1f}x faster)")


if __name__ == "__main__":
    main()
