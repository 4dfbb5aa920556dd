"""Measure: what callers' clients see when PostgreSQL restarts under a load of Open311 POSTs.

``--clients`` clients (default 50) post ``--requests`` calls in all (default 2000) to a running
service, each with its own Idempotency-Key; after ``--restart-after`` answers (default 500)
PostgreSQL is restarted (``--restart-command``, default Debian's ``pg_ctlcluster`` for the
installed cluster). A client answered 503 waits for ``Retry-After`` and sends the same call
again, with the same key, as a well-behaved Open311 client does. At the end it counts the
answers by status, and checks in the database that every accepted call was stored exactly once
(accepted = stored, no duplicate).

Usage, from the repository root, against a service on a scratch database (see
``bench_open311_post``; it restarts the whole local PostgreSQL server: nothing else should be
using it)::

    python -m benchmarks.bench_restart_under_load --url http://127.0.0.1:8000 --municipality mezzolombardo

It prints the answers by status (first tries and retries apart) and whether any call was lost
or duplicated. It measures; it asserts nothing.
"""
from __future__ import annotations

import glob
import http.client
import os
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlencode

from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.bench_open311_post import _connection, api_key, municipality_id, points, target_arguments  # noqa: E402
from geo_urp import settings  # noqa: E402
from geo_urp.catalog import DEFAULT_CATALOG  # noqa: E402
from geo_urp.db import session_scope  # noqa: E402


def _default_restart() -> str:
    version = sorted(os.path.basename(p) for p in glob.glob("/etc/postgresql/*"))[-1:]
    return f"pg_ctlcluster --skip-systemctl-redirect {version[0]} main restart" if version else ""


def _post(base: str, body: str, idem: str) -> tuple[int, float]:
    """One POST; its status (0: no answer at all) and the Retry-After it carried (seconds)."""
    conn = _connection(base)
    try:
        conn.request("POST", "/open311/v2/requests.json", body,
                     {"Content-Type": "application/x-www-form-urlencoded", "Idempotency-Key": idem})
        resp = conn.getresponse()
        resp.read()
        if resp.will_close:
            conn.close()
        return resp.status, float(resp.headers.get("Retry-After") or 0)
    except (OSError, http.client.HTTPException):
        conn.close()
        return 0, 1.0


def main() -> None:
    parser = target_arguments(__doc__)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--restart-after", type=int, default=500)
    parser.add_argument("--restart-command", default=_default_restart())
    args = parser.parse_args()

    db = settings.database_url()
    mid = municipality_id(db, args.municipality)
    key = api_key(db, args.key, args.municipality, "bench_restart_under_load")
    base = args.url.rstrip("/")
    run = uuid.uuid4().hex[:8]
    codes = DEFAULT_CATALOG.codes
    where = points(db, mid, args.requests)
    first, retries = Counter(), Counter()
    accepted: set[str] = set()
    answered = 0
    lock = threading.Lock()
    restarted = threading.Event()

    def one(i: int) -> None:
        nonlocal answered
        lat, lon = where[i]
        idem = f"restart-{run}-{i}"
        body = urlencode({"api_key": key, "jurisdiction_id": args.municipality, "service_code": codes[i % len(codes)],
                          "lat": f"{lat:.7f}", "long": f"{lon:.7f}", "description": f"restart {i}"})
        tries = 0
        while True:
            status, wait = _post(base, body, idem)
            with lock:
                (retries if tries else first)[status] += 1
                if tries == 0:
                    answered += 1
                    if answered == args.restart_after and not restarted.is_set():
                        restarted.set()
                        threading.Thread(target=subprocess.run, args=(args.restart_command,),
                                         kwargs={"shell": True}, daemon=True).start()
            if status in (200, 201):
                with lock:
                    accepted.add(idem)
                return
            if status not in (0, 503) or tries >= 60:
                return  # an answer a client cannot retry, or given up: counted as it is
            tries += 1
            time.sleep(max(wait, 0.5))

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=args.clients) as pool:
        list(pool.map(one, range(args.requests)))
    wall = time.perf_counter() - started
    with session_scope(db) as s:
        stored = Counter(s.scalars(text("SELECT idempotency_key FROM report_retries WHERE idempotency_key LIKE :p"),
                                   {"p": f"restart-{run}-%"}))
    duplicated = sum(1 for n in stored.values() if n > 1)
    lost = len(accepted - set(stored))
    print(f"{args.requests} calls from {args.clients} clients in {wall:.1f} s; PostgreSQL restarted after "
          f"{args.restart_after} answers ({args.restart_command!r})")
    print(f"first answers by status: {dict(sorted(first.items()))}")
    print(f"answers to retries by status: {dict(sorted(retries.items())) or 'none'}")
    print(f"accepted {len(accepted)}, stored {len(stored)}, lost {lost}, stored twice {duplicated}, "
          f"never accepted {args.requests - len(accepted)}")


if __name__ == "__main__":
    main()
