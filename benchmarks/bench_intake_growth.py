"""Benchmark: does a call cost more as the night's calls pile up?

It posts calls one after the other through Flask's test client (no HTTP, no
concurrency: one process, the wall time of each POST) and prints, for every
window of ``--window`` calls, the mean milliseconds per call of each service.
The calls are those of ``bench_open311_post`` (every service in turn, each at a
new random point of the town), all within minutes, so the open incidents grow
the way a closed-loop load test grows them: a cluster or an outage soon holds
hundreds or thousands of calls. A call whose cost follows the size of its
incident shows as a column that climbs from window to window.

Usage, from the repository root, on a scratch copy of a database holding the
town's layers and its past reports (see docs/PERFORMANCE.md; the POSTed reports
stay in it)::

    DATABASE_URL=postgresql+psycopg2://postgres@127.0.0.1:5432/<a copy> \\
        python -m benchmarks.bench_intake_growth --municipality mezzolombardo --calls 5000

Options: ``--calls`` posted in all (default 5000), ``--window`` calls per line
(default 500), ``--key`` an existing api_key (default: a new public key).
"""
from __future__ import annotations

import sys
import time
from collections import defaultdict
from pathlib import Path
from urllib.parse import parse_qs

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.bench_open311_post import api_key, call, municipality_id, points, target_arguments  # noqa: E402
from geo_urp import settings  # noqa: E402


def main() -> None:
    parser = target_arguments(__doc__, url=False)
    parser.add_argument("--calls", type=int, default=5000)
    parser.add_argument("--window", type=int, default=500)
    args = parser.parse_args()
    from geo_urp import create_app

    db = settings.database_url()
    key = api_key(db, args.key, args.municipality, "bench_intake_growth")
    spots = points(db, municipality_id(db, args.municipality), args.calls)
    client = create_app().test_client()
    window: dict[str, list[float]] = defaultdict(list)
    for i in range(args.calls):
        body, headers = call(key, args.municipality, i, spots[i])
        started = time.perf_counter()
        resp = client.post("/open311/v2/requests.json", data=body, headers=headers)
        elapsed = (time.perf_counter() - started) * 1000
        if resp.status_code != 201:
            sys.exit(f"POST {i} answered {resp.status_code}: {resp.get_data(as_text=True)[:300]}")
        window[parse_qs(body)["service_code"][0]].append(elapsed)
        if (i + 1) % args.window == 0 or i + 1 == args.calls:
            print(f"calls {i + 2 - sum(map(len, window.values()))}-{i + 1}, ms per call: " + "  ".join(
                f"{code} {sum(ms) / len(ms):.1f}" for code, ms in sorted(window.items())), flush=True)
            window.clear()


if __name__ == "__main__":
    main()
