"""Measure: 200 concurrent Open311 callers for ten minutes, PostgreSQL restarted in the middle.

It uses the harness of ``benchmarks.load_faults``: a PostgreSQL cluster of its own (so the
restart disturbs no other server), ``serve`` with several gunicorn workers, ``--callers``
threads posting calls one after another, each with its own Idempotency-Key and retried with
it after a 503 (honouring ``Retry-After``) or a cut connection. Usage, from the repository root::

    python -m benchmarks.bench_load_faults --callers 200 --seconds 600 --workers 3

It prints throughput, latency percentiles of the accepted answers, answers by status, the
503s and the outage (when, counted from the restart, calls were answered 503 and the first
call was accepted again), and accepted against stored. It measures; the test ``tests/test_load_faults.py`` asserts.
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
        # By when each call was answered (a call waits seconds in the queue before a worker takes it).
        def answered(a):
            return a.at + a.ms / 1000.0 - run.restart_at
        bad = sorted(answered(a) for a in run.answers if a.status in (0, 503))
        ok_after = [answered(a) for a in run.answers if a.status in (200, 201) and bad and answered(a) > bad[0]]
        sent_after = [a for a in run.answers if a.status in (200, 201) and a.at > run.restart_at + run.restart_s]
        first_sent = min(sent_after, key=lambda a: a.at, default=None)
        retry_afters = sorted({a.retry_after for a in run.answers if a.status == 503 and a.retry_after})
        print(f"restart at {run.restart_at:.1f} s (pg_ctl restart -m fast took {run.restart_s:.1f} s); "
              f"Retry-After values {retry_afters}")
        print(f"answered 503 or not at all: {len(bad)}, from {bad[0] if bad else 0:+.1f} to "
              f"{bad[-1] if bad else 0:+.1f} s of the restart; first 201 after the first 503: "
              f"{min(ok_after, default=0):+.1f} s")
        if first_sent:
            print(f"first call sent after the restart ended and accepted: sent {first_sent.at - run.restart_at:+.1f} s, "
                  f"answered {answered(first_sent):+.1f} s")
    print(f"accepted {len(run.accepted())}, stored {held.reports} ({held.distinct_keys} keys), stored twice "
          f"{held.keys_stored_twice}, accepted but missing {held.accepted_missing}, not stored once "
          f"{held.accepted_not_once}")


if __name__ == "__main__":
    main()
