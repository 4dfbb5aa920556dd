"""Measure: Open311 throughput by the number of gunicorn workers of ``serve``.

It uses the harness of ``benchmarks.load_faults`` (a PostgreSQL cluster of its own, the Borgo
fixture town): ``serve`` is started with each worker count in turn on the same cluster and town,
and ``--callers`` closed-loop callers (each posts its next call when the last is answered, with
its own Idempotency-Key) post for a warm-up, not counted, then for ``--seconds``. PostgreSQL is
not restarted; each step starts from the town as loaded (the calls of the steps before are
deleted), so that no worker count is measured on more incidents than another. Usage, from the
repository root::

    python -m benchmarks.bench_workers --workers 1,2,3,4 --callers 50 --seconds 60

For each worker count it prints calls accepted per second, per second and worker, p50 and p95
of the accepted calls' latency, the answers that were not 201, accepted against stored, and
the machine's load average before the step (the callers, ``serve`` and PostgreSQL share it).
It measures and asserts nothing.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.load_faults import (  # noqa: E402
    forget_calls, load, percentile, restart_serve, start_service, stop_service, stored)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workers", default="1,2,3,4", help="worker counts, in the order run")
    parser.add_argument("--callers", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--warmup", type=float, default=10, help="seconds posted before each step, not counted")
    args = parser.parse_args()
    counts = [int(n) for n in args.workers.split(",")]
    print(f"{len(os.sched_getaffinity(0))} cores; {args.callers} callers, {args.warmup:g} s warm-up, "
          f"{args.seconds:g} s measured")
    print("workers  calls/s  per worker  p50 ms  p95 ms  not 201  accepted  stored  load avg (1 min)")
    service = start_service(counts[0])
    try:
        for n, workers in enumerate(counts):
            if n:
                restart_serve(service, workers)
            forget_calls(service)
            load(service, args.callers, args.warmup)
            load_avg = os.getloadavg()[0]
            run = load(service, args.callers, args.seconds)
            held = stored(service, run)
            ok = [a.ms for a in run.answers if a.status in (200, 201)]
            rate = len(ok) / run.seconds
            print(f"{workers:7d}  {rate:7.1f}  {rate / workers:10.1f}  {percentile(ok, 50):6.0f}  "
                  f"{percentile(ok, 95):6.0f}  {len(run.answers) - len(ok):7d}  {len(run.accepted()):8d}  "
                  f"{held.reports:6d}  {load_avg:.2f}", flush=True)
            if held.accepted_missing or held.accepted_not_once or held.keys_stored_twice:
                print(f"         accepted but missing {held.accepted_missing}, not stored once "
                      f"{held.accepted_not_once}, stored twice {held.keys_stored_twice}")
    finally:
        stop_service(service)


if __name__ == "__main__":
    main()
