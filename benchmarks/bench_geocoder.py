"""Geocoder throughput on the demo town: queries per second in one process.

Loads layers/mezzolombardo into the database of ``--url`` (default: the
service's ``DATABASE_URL``) inside a transaction that is rolled back at the end,
so the database is left as it was, then replays the operator query set of
``tests/locating/test_geocoder_queryset.py`` for ``--seconds`` and prints the
rate, per-kind latencies and the share of queries refused. A benchmark, not a
test: it measures and prints, it asserts nothing.

    python -m benchmarks.bench_geocoder [--url URL] [--seconds 10]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from geo_urp import settings  # noqa: E402
from geo_urp.errors import NotFound  # noqa: E402
from geo_urp.loading.loader import load_municipality  # noqa: E402
from geo_urp.locating.geocoder import geocode, reverse_geocode  # noqa: E402
from tests.locating.test_geocoder_queryset import DEMO, generate_queries  # noqa: E402

SLUG = "bench-geocoder"


def main() -> None:
    """Load the demo town, warm the index, then geocode the query set in a loop."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=settings.database_url())
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()

    engine = create_engine(args.url)
    with engine.connect() as conn:
        outer = conn.begin()
        session = Session(bind=conn, join_transaction_mode="create_savepoint")
        t0 = time.perf_counter()
        load_municipality(session, DEMO, SLUG)
        mid = session.execute(text("SELECT id FROM municipalities WHERE slug = :s"), {"s": SLUG}).scalar_one()
        print(f"loaded {DEMO.name} in {time.perf_counter() - t0:.1f} s")
        queries = generate_queries()
        t0 = time.perf_counter()
        geocode(session, mid, queries[0].text)  # builds the in-process index once
        print(f"index built in {(time.perf_counter() - t0) * 1000:.0f} ms; {len(queries)} queries in the set")

        latencies: dict[str, list[float]] = defaultdict(list)
        refused = done = 0
        start = time.perf_counter()
        while time.perf_counter() - start < args.seconds:
            for q in queries:
                t = time.perf_counter()
                try:
                    kind = geocode(session, mid, q.text).best.kind
                except NotFound:
                    kind, refused = "refused", refused + 1
                latencies[kind].append(time.perf_counter() - t)
                done += 1
        elapsed = time.perf_counter() - start
        print(f"geocode: {done} queries in {elapsed:.1f} s = {done / elapsed:.0f} queries/s "
              f"({refused / done:.1%} refused)")
        for kind, values in sorted(latencies.items()):
            print(f"  {kind:<13} n={len(values):>6}  median {statistics.median(values) * 1000:.2f} ms  "
                  f"p95 {sorted(values)[int(len(values) * 0.95)] * 1000:.2f} ms")

        points = [(x, y) for q in queries for x, y in q.expected[:1]]
        t = time.perf_counter()
        for x, y in points:
            reverse_geocode(session, mid, x, y)
        rev = time.perf_counter() - t
        print(f"reverse_geocode: {len(points)} points = {len(points) / rev:.0f} points/s")
        session.close()
        outer.rollback()


if __name__ == "__main__":
    main()
