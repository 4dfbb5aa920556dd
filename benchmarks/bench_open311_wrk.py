"""Benchmark: ``POST /open311/v2/requests.json`` in a closed loop, driven by ``wrk``.

The same calls as ``bench_open311_post`` (every service in turn, a new point of the
town and a new Idempotency-Key each time), sent by ``wrk`` (Debian package ``wrk``,
written in C) instead of 20 Python threads. On a machine where the client shares
the cores with the service, the Python client spent 1.5-2 ms of CPU per call, and
its threads waited for the interpreter lock before they could read an answer; wrk
spends little of either. Closed loop only: each connection posts again as soon as
it is answered (``bench_open311_post --rate`` gives the open loop).

Usage, from the repository root with the service running on a database holding
past reports (see docs/PERFORMANCE.md)::

    export DATABASE_URL=postgresql+psycopg2://postgres@127.0.0.1:5432/geo_urp_postbench
    python -m benchmarks.bench_open311_wrk --url http://127.0.0.1:8011 --municipality mezzolombardo

Options: ``--seconds`` of timed load (default 10), ``--warmup`` seconds of untimed load
first (default 3: each gunicorn worker builds its caches of the town; then the statistics
of the calls' tables are gathered, ``bench_open311_post.analyze_calls``), ``--concurrency``
connections (default 20), ``--key`` an api_key (default: a new public key).
It prints what wrk measured: requests, throughput, errors, latency percentiles.
"""
from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.bench_open311_post import (  # noqa: E402
    analyze_calls,
    api_key,
    municipality_id,
    points,
    target_arguments,
)
from geo_urp import settings  # noqa: E402

SCRIPT = Path(__file__).resolve().parent / "open311_post.lua"
POINTS = 20_000  # more than any run sends: every call at a point of its own


def run_wrk(url: str, seconds: float, concurrency: int, points_file: str, key: str, slug: str) -> str:
    """One wrk run; its report (the two summary lines ``open311_post.lua`` prints)."""
    done = subprocess.run(
        ["wrk", "-t2", f"-c{concurrency}", f"-d{seconds:g}s", "--timeout", "30s", "-s", str(SCRIPT), url,
         "--", points_file, key, slug, uuid.uuid4().hex[:12]],
        capture_output=True, text=True, check=False)
    if done.returncode != 0:
        sys.exit(f"wrk failed ({done.returncode}): {done.stderr.strip() or done.stdout.strip()}")
    return "".join(done.stdout.splitlines(keepends=True)[-2:])


def main() -> None:
    parser = target_arguments(__doc__)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--concurrency", type=int, default=20)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed: apt-get install wrk (or use benchmarks.bench_open311_post)")

    db = settings.database_url()
    mid = municipality_id(db, args.municipality)
    key = api_key(db, args.key, args.municipality, "bench_open311_wrk")
    with tempfile.NamedTemporaryFile("w", suffix=".txt") as spots:
        spots.write("".join(f"{lat:.7f},{lon:.7f}\n" for lat, lon in points(db, mid, POINTS)))
        spots.flush()
        url = args.url.rstrip("/")
        if args.warmup > 0:
            warm = run_wrk(url, args.warmup, args.concurrency, spots.name, key, args.municipality)
            print("warm-up, untimed: " + warm.splitlines()[0])
        analyze_calls(db)
        print(f"POST /open311/v2/requests.json, {args.concurrency} connections, closed loop, "
              f"{args.seconds:g} s:")
        print(run_wrk(url, args.seconds, args.concurrency, spots.name, key, args.municipality), end="")


if __name__ == "__main__":
    main()
