"""Measure: 200 concurrent Open311 callers for ten minutes, PostgreSQL restarted in the middle.

It uses the harness of ``benchmarks.load_faults``: a PostgreSQL cluster of its own (so the
restart disturbs no other server), ``serve`` with several gunicorn workers, ``--callers``
threads posting calls one after another, each with its own Idempotency-Key and retried with
it after a 503 (honouring ``Retry-After``) or a cut connection. Usage, from the repository root::

    python -m benchmarks.bench_load_faults --callers 200 --seconds 600 --workers 3

It prints throughput, latency percentiles of the accepted answers, answers by status, the
503s and the outage (from the restart to the first call accepted after it), and accepted
against stored. It measures; the test ``tests/test_load_faults.py`` asserts.
"""
from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.load_faults import percentile, start_service, stop_service, stored, load  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--callers", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=600)
    parser.add_argument("--workers", type=int, default=3, help="gunicorn workers of serve")
    parser.add_argument("--restart-after", type=float, default=None,
                        help="seconds into the run PostgreSQL is restarted (default: half way; -1: never)")
    args = parser.parse_args()
    restart = args.seconds / 2 if args.restart_after is None else (None if args.restart_after < 0 else args.restart_after)
    service = start_service(args.workers)
    try:
        run = load(service, args.callers, args.seconds, restart)
        held = stored(service, run)
    finally:
        stop_service(service)
    ok = [a.ms for a in run.answers if a.status in (200, 201)]
    by_status = Counter(a.status for a in run.answers)
    no_retry_after = sum(1 for a in run.answers if a.status == 503 and not a.retry_after)
    print(f"{args.callers} callers, {args.seconds:g} s, {args.workers} workers: {len(run.answers)} answers in "
          f"{run.seconds:.1f} s, {len(ok) / run.seconds:.1f} calls accepted/s")
    print(f"answers by status (0: no answer): {dict(sorted(by_status.items()))}; 503 without Retry-After: "
          f"{no_retry_after}; calls given up: {run.gave_up}")
    print(f"accepted latency ms: p50 {percentile(ok, 50):.0f}  p95 {percentile(ok, 95):.0f}  "
          f"p99 {percentile(ok, 99):.0f}  max {max(ok, default=0):.0f}")
    if run.restart_at is not None:
        after = [a.at for a in run.answers if a.at >= run.restart_at and a.status in (200, 201)
                 and a.at > run.restart_at + (run.restart_s or 0)]
        bad = [a.at for a in run.answers if a.at >= run.restart_at and a.status in (0, 503)]
        print(f"restart at {run.restart_at:.1f} s (pg_ctl restart -m fast took {run.restart_s:.1f} s); "
              f"503 or no answer from {min(bad, default=0):.1f} to {max(bad, default=0):.1f} s; "
              f"first call sent after the restart and accepted at {min(after, default=0):.1f} s")
    print(f"accepted {len(run.accepted())}, stored {held.reports} ({held.distinct_keys} keys), stored twice "
          f"{held.keys_stored_twice}, accepted but missing {held.accepted_missing}, not stored once "
          f"{held.accepted_not_once}")


if __name__ == "__main__":
    main()
