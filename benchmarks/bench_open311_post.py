"""Benchmark: latency of ``POST /open311/v2/requests.json`` with 20 concurrent clients.

It measures the whole intake path of a running service (api_key check,
validation, reverse geocoding, snapping, storing, incident reasoning, commit)
over HTTP, on a reports table that already holds many rows, as in a town after
some years of calls.

Usage, from the repository root with the service's virtualenv::

    export DATABASE_URL=postgresql+psycopg2://postgres@127.0.0.1:5432/geo_urp
    python -m geo_urp db init
    python -m geo_urp layers load layers/mezzolombardo --municipality mezzolombardo
    python -m geo_urp serve --port 8000 &          # in another terminal
    python -m benchmarks.bench_open311_post --url http://127.0.0.1:8000 --municipality mezzolombardo

Options: ``--rate R`` offers R requests per second in all (open loop, as calls
arrive at a contact centre whatever the server is doing) instead of the default
closed loop where every client posts again the moment it is answered (a stress
test: latency then is mostly queueing behind the two cores); ``--seed-reports N`` first inserts N stored (mostly closed) reports
straight into ``DATABASE_URL`` with one ``INSERT … SELECT generate_series``
(default 100000; 0 skips it), ``--requests`` how many POSTs to time (default
2000), ``--warmup`` how many POSTs to send first, untimed, from the same clients
(default 200: every service, on every worker and pooled connection, so that a
worker's first calls, which build its per-process caches of the town, are not
timed), ``--concurrency`` (default 20), ``--key`` an existing api_key (default:
a new public key for the municipality is created), ``--drop-seeded`` deletes
the rows this script seeded (tokens starting ``bench-``) and exits.

It prints the seeding time, then requests, errors by status, throughput and
latency percentiles in milliseconds. The POSTed reports stay in the database
(they also feed incidents): run it against a demo or scratch database.
"""
from __future__ import annotations

import argparse
import http.client
import statistics
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from threading import local
from urllib.parse import urlencode, urlsplit

from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from geo_urp import settings  # noqa: E402
from geo_urp.accounts import create_api_key  # noqa: E402
from geo_urp.catalog import DEFAULT_CATALOG  # noqa: E402
from geo_urp.db import analyze, session_scope  # noqa: E402

SEED_SQL = text("""
    WITH pts AS (
        SELECT (ST_Dump(ST_GeneratePoints(boundary, :n, 42))).geom AS g FROM municipalities WHERE id = :mid
    ), numbered AS (
        SELECT g, row_number() OVER () AS i FROM pts
    )
    INSERT INTO reports (municipality_id, token, service_code, status, status_notes, requested_datetime,
                         updated_datetime, attributes, call_back, geom, geocode_kind, description)
    SELECT :mid, 'bench-' || md5(random()::text || i), (:codes)[1 + (i % array_length(:codes, 1))],
           CASE WHEN t < now() - interval '7 days' THEN 'closed' ELSE 'open' END,
           CASE WHEN t < now() - interval '7 days' THEN 'Intervento eseguito.' END,
           t, t + interval '2 days', '{}', false, g, 'latlong', 'segnalazione storica ' || i
    FROM numbered, LATERAL (SELECT now() - random() * interval '730 days' AS t) AS w""")


def municipality_id(url: str, slug: str) -> int:
    with session_scope(url) as s:
        mid = s.execute(text("SELECT id FROM municipalities WHERE slug = :s AND boundary IS NOT NULL"),
                        {"s": slug}).scalar()
    if mid is None:
        sys.exit(f"no municipality {slug!r} with a boundary in {url}: load its layers first")
    return mid


def seed(url: str, mid: int, n: int) -> float:
    """Insert ``n`` stored reports in one statement; returns the seconds it took."""
    started = time.perf_counter()
    with session_scope(url) as s:
        s.execute(SEED_SQL, {"mid": mid, "n": n, "codes": DEFAULT_CATALOG.codes})
    analyze(url, ["reports"])
    return time.perf_counter() - started


# The tables a call writes besides reports (analysed by ``simulate --history`` with it).
CALL_TABLES = ("incidents", "incident_reports", "incident_events", "caller_contacts", "report_retries")


def analyze_calls(url: str) -> None:
    """After the warm-up: the statistics of the tables the calls wrote, as autovacuum gathers them
    on a server with PostgreSQL's defaults once a few dozen calls are in. Where autovacuum is off
    (as on the shared benchmark machines) they would stay those of the empty tables of the
    benchmark database, and the planner would plan every call's joins blind."""
    if not analyze(url, CALL_TABLES):
        sys.exit("the statistics of the calls' tables could not be gathered: see the warning above")


def points(url: str, mid: int, n: int) -> list[tuple[float, float]]:
    """``n`` random (lat, lon) inside the municipality, where callers would be."""
    with session_scope(url) as s:
        rows = s.execute(text("""
            SELECT ST_Y(p), ST_X(p) FROM (
                SELECT ST_Transform((ST_Dump(ST_GeneratePoints(boundary, :n, 7))).geom, 4326) AS p
                FROM municipalities WHERE id = :mid) q"""), {"mid": mid, "n": n}).all()
    return [(float(lat), float(lon)) for lat, lon in rows]


_http = local()


def _connection(base: str) -> http.client.HTTPConnection:
    """This client thread's connection (the standard library's: ``requests`` spent about 2 ms of
    CPU per call on the same two cores the service runs on)."""
    conn = getattr(_http, "conn", None)
    if conn is None:
        where = urlsplit(base)
        conn = _http.conn = http.client.HTTPConnection(where.hostname, where.port or 80, timeout=60)
    return conn


def call(key: str, slug: str, i: int, point: tuple[float, float]) -> tuple[str, dict]:
    """The form body and headers of benchmark call ``i``: every service in turn, at ``point``
    (lat, lon), with a caller's phone and a new Idempotency-Key."""
    codes = DEFAULT_CATALOG.codes
    body = urlencode({"api_key": key, "jurisdiction_id": slug, "service_code": codes[i % len(codes)],
                      "lat": f"{point[0]:.7f}", "long": f"{point[1]:.7f}", "description": f"bench {i}",
                      "phone": "+39 0461 000000"})
    return body, {"Content-Type": "application/x-www-form-urlencoded",
                  "Idempotency-Key": f"bench-{uuid.uuid4().hex}"}


def _post(base: str, key: str, slug: str, i: int, point: tuple[float, float]) -> tuple[float, int]:
    body, headers = call(key, slug, i, point)
    started = time.perf_counter()
    conn = _connection(base)
    try:
        conn.request("POST", "/open311/v2/requests.json", body, headers)
        resp = conn.getresponse()
        resp.read()
        status = resp.status
        if resp.will_close:  # gunicorn's sync workers answer one request per connection
            conn.close()
    except (OSError, http.client.HTTPException):
        conn.close()
        status = 0
    return (time.perf_counter() - started) * 1000.0, status


def percentile(sorted_ms: list[float], p: float) -> float:
    return sorted_ms[min(len(sorted_ms) - 1, int(round(p / 100.0 * (len(sorted_ms) - 1))))]


def target_arguments(doc: str, url: bool = True) -> argparse.ArgumentParser:
    """A parser with the options every POST benchmark takes: the service (unless ``url`` is
    False: the benchmark posts in its own process), the town, the key."""
    parser = argparse.ArgumentParser(description=doc.split("\n")[0])
    if url:
        parser.add_argument("--url", default="http://127.0.0.1:8000", help="base URL of the running service")
    parser.add_argument("--municipality", required=True, help="slug of a loaded municipality")
    parser.add_argument("--key", help="api_key to post with (default: create a public key)")
    return parser


def api_key(db: str, given: str | None, slug: str, label: str) -> str:
    """``given``, or a new public key of the town labelled ``label``."""
    if given:
        return given
    with session_scope(db) as s:
        return create_api_key(s, "public", slug, label=label)


def main() -> None:
    parser = target_arguments(__doc__)
    parser.add_argument("--seed-reports", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--warmup", type=int, default=200,
                        help="untimed POSTs sent first by the same clients (default 200)")
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--rate", type=float, default=0.0,
                        help="open loop: offer this many requests per second in all, spread over the clients "
                             "(default 0: closed loop, each client posts again as soon as it is answered)")
    parser.add_argument("--drop-seeded", action="store_true")
    args = parser.parse_args()

    db = settings.database_url()
    mid = municipality_id(db, args.municipality)
    if args.drop_seeded:
        with session_scope(db) as s:
            gone = s.execute(text("DELETE FROM reports WHERE token LIKE 'bench-%'")).rowcount
        print(f"deleted {gone} seeded reports")
        return
    if args.seed_reports > 0:
        print(f"seeded {args.seed_reports} reports in {seed(db, mid, args.seed_reports):.1f} s")
    with session_scope(db) as s:
        total = s.execute(text("SELECT count(*) FROM reports WHERE municipality_id = :m"), {"m": mid}).scalar()
    key = api_key(db, args.key, args.municipality, "bench_open311_post")
    where = points(db, mid, args.warmup + args.requests)
    warm, where = where[:args.warmup], where[args.warmup:]
    base = args.url.rstrip("/")
    with ThreadPoolExecutor(max_workers=args.concurrency) as pool:  # warm-up: caches, connections
        warm_errors = sum(status not in (200, 201) for _ms, status in pool.map(
            lambda ip: _post(base, key, args.municipality, ip[0], ip[1]), enumerate(warm)))
    if warm_errors:
        sys.exit(f"{warm_errors} of {len(warm)} warm-up POSTs failed: is the service working?")
    analyze_calls(db)

    started = time.perf_counter()

    def one(ip: tuple[int, tuple[float, float]]) -> tuple[float, int]:
        if args.rate:  # open loop: request i is due at i / rate, whether or not earlier ones are done
            due = started + ip[0] / args.rate
            time.sleep(max(0.0, due - time.perf_counter()))
        return _post(base, key, args.municipality, ip[0], ip[1])

    with ThreadPoolExecutor(max_workers=args.concurrency) as pool:
        results = list(pool.map(one, enumerate(where)))
    wall = time.perf_counter() - started

    ok = sorted(ms for ms, status in results if status in (200, 201))
    errors: dict[int, int] = {}
    for _ms, status in results:
        if status not in (200, 201):
            errors[status] = errors.get(status, 0) + 1
    print(f"reports in the table before: {total}; warm-up POSTs, untimed: {len(warm)}")
    offered = f", {args.rate:g} req/s offered" if args.rate else ", closed loop"
    print(f"POST /open311/v2/requests.json: {len(results)} requests, {args.concurrency} concurrent clients"
          f"{offered}, {wall:.1f} s, {len(results) / wall:.1f} req/s served")
    print(f"errors by status: {errors or 'none'}")
    if ok:
        print(f"latency ms: mean {statistics.fmean(ok):.1f}  p50 {percentile(ok, 50):.1f}  "
              f"p90 {percentile(ok, 90):.1f}  p95 {percentile(ok, 95):.1f}  p99 {percentile(ok, 99):.1f}  "
              f"max {ok[-1]:.1f}")


if __name__ == "__main__":
    main()
