"""Benchmark: the service's own instructions per ``POST /open311/v2/requests.json``, counted.

Timings on a shared 2-core machine move by 10–30% from one minute to the next, so
a change worth a few percent of CPU cannot be seen in them. This counts instead
the machine instructions the service's Python process runs for each call
(Valgrind's callgrind; Debian package ``valgrind``): the same code gives the same
count within a fraction of a percent, whatever the machine is doing.

It builds the app in this process, posts through Flask's test client (every
service in turn, a random point of the town each time, as the other POST
benchmarks), first ``--warmup`` calls with counting off, then ``--requests``
calls counted. PostgreSQL's own work is not in the count (it runs in its
backend), and neither is gunicorn's: compare commits with it, not with the
figures of the HTTP benchmarks.

Usage, from the repository root with the service's virtualenv, on a database
holding the town (the calls stay in it)::

    export DATABASE_URL=postgresql+psycopg2://postgres@127.0.0.1:5432/geo_urp_postbench
    python -m benchmarks.bench_open311_instructions --municipality mezzolombardo

Options: ``--requests`` counted calls (default 60; under Valgrind each takes
about 50 times as long), ``--warmup`` uncounted calls first (default 150),
``--key`` an existing api_key (default: a new public key of the town).
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.bench_open311_post import api_key, call, municipality_id, points, target_arguments  # noqa: E402
from geo_urp import settings  # noqa: E402

_INSIDE = "GEO_URP_BENCH_UNDER_CALLGRIND"


def _count(args: argparse.Namespace) -> None:
    """Under callgrind: warm up, switch counting on, post, switch it off."""
    from geo_urp import create_app

    db = settings.database_url()
    key = api_key(db, args.key, args.municipality, "bench_open311_instructions")
    spots = points(db, municipality_id(db, args.municipality), args.warmup + args.requests)
    client = create_app().test_client()

    def post(i: int) -> None:
        body, headers = call(key, args.municipality, i, spots[i])
        resp = client.post("/open311/v2/requests.json", data=body, headers=headers)
        if resp.status_code != 201:
            sys.exit(f"POST answered {resp.status_code}: {resp.get_data(as_text=True)[:300]}")

    for i in range(args.warmup):
        post(args.requests + i)
    subprocess.run(["callgrind_control", "--instr=on", str(os.getpid())], check=True, capture_output=True)
    for i in range(args.requests):
        post(i)
    subprocess.run(["callgrind_control", "--instr=off", str(os.getpid())], check=True, capture_output=True)


def main() -> None:
    parser = target_arguments(__doc__, url=False)
    parser.add_argument("--requests", type=int, default=60)
    parser.add_argument("--warmup", type=int, default=150)
    args = parser.parse_args()
    if os.environ.get(_INSIDE):
        _count(args)
        return
    if shutil.which("valgrind") is None or shutil.which("callgrind_control") is None:
        sys.exit("valgrind is not installed: apt-get install valgrind")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "callgrind.out"
        done = subprocess.run(
            ["valgrind", "--tool=callgrind", "--instr-atstart=no", f"--callgrind-out-file={out}",
             sys.executable, "-m", "benchmarks.bench_open311_instructions", *sys.argv[1:]],
            env={**os.environ, _INSIDE: "1"}, capture_output=True, text=True)
        if done.returncode != 0 or not out.exists():
            sys.exit(f"the counted run failed ({done.returncode}): {done.stderr[-2000:]}")
        totals = re.search(r"^totals:\s+(\d+)", out.read_text(), re.MULTILINE)
    if totals is None:
        sys.exit("callgrind wrote no totals")
    print(f"{args.requests} POSTs counted after {args.warmup} uncounted: "
          f"{int(totals.group(1)) / args.requests / 1e6:.3f} million instructions per call (Python process)")


if __name__ == "__main__":
    main()
