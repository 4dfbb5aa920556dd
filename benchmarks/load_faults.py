"""A load-and-fault harness: many Open311 callers against ``serve``, with PostgreSQL restarted mid-run.

Shared by ``tests/test_load_faults.py`` (short, asserts behaviour) and
``benchmarks.bench_load_faults`` (ten minutes, reports figures). It runs its own PostgreSQL
cluster (``initdb`` into a temporary folder, on a free port) so that restarting it disturbs no
other database server on the machine; migrates it, loads the Borgo fixture town, makes an
operator key, and starts ``python -m geo_urp serve`` with several gunicorn workers on a free port.

Each caller posts calls one after another, each with its own ``Idempotency-Key``; answered 503
(or not answered at all) it waits for ``Retry-After`` and sends the same call again with the
same key, as a well-behaved Open311 client does. Every answer's status, ``Retry-After`` and
latency is recorded, and at the end the database is asked whether accepted = stored.
"""
from __future__ import annotations

import glob
import http.client
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

from sqlalchemy import create_engine, text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from geo_urp.accounts import create_api_key  # noqa: E402
from geo_urp.catalog import DEFAULT_CATALOG  # noqa: E402
from geo_urp.db import engine_for, grant_app_role, init_db, session_scope  # noqa: E402
from geo_urp.loading.loader import load_municipality  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
TOWN = ROOT / "tests" / "fixtures" / "borgo"


def free_port() -> int:
    """A TCP port nobody listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _pg_bindir() -> Path:
    """Where ``initdb`` and ``pg_ctl`` are: on PATH, else ``pg_config --bindir``, else Debian's
    versioned folders (they are not on PATH there)."""
    found = shutil.which("initdb")
    if found:
        return Path(found).parent
    try:
        out = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True, check=True).stdout.strip()
        if (Path(out) / "initdb").exists():
            return Path(out)
    except (OSError, subprocess.CalledProcessError):
        pass
    for folder in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if (Path(folder) / "initdb").exists():
            return Path(folder)
    raise RuntimeError("no initdb found: install PostgreSQL's server package")


class Cluster:
    """A PostgreSQL cluster of our own in a temporary folder: start, restart, stop."""

    def __init__(self) -> None:
        self.bindir = _pg_bindir()
        self.dir = Path(tempfile.mkdtemp(prefix="geo_urp_pg_"))
        self.data = self.dir / "data"
        self.port = free_port()
        # initdb refuses to run as root: the cluster then belongs to the postgres account.
        self._as = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if self._as:
            shutil.chown(self.dir, "postgres")

    def _run(self, *args: str) -> None:
        subprocess.run([*self._as, *args], check=True, capture_output=True)

    def start(self) -> None:
        """initdb (trust, local only) and start."""
        self._run(str(self.bindir / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres",
                  "--no-sync", "-E", "UTF8")
        self._pg_ctl("start")

    def _pg_ctl(self, action: str, *extra: str) -> None:
        options = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c max_connections=200 -c fsync=off"
        self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-w", "-l", str(self.dir / "log"),
                  "-o", options, action, *extra)

    def restart(self) -> None:
        """``pg_ctl restart -m fast``: every connection is cut, then it comes back."""
        self._pg_ctl("restart", "-m", "fast")

    def url(self, user: str = "postgres", database: str = "geo_urp") -> str:
        return f"postgresql+psycopg2://{user}@127.0.0.1:{self.port}/{database}"

    def stop(self) -> None:
        try:
            self._pg_ctl("stop", "-m", "immediate")
        except subprocess.CalledProcessError:
            pass
        shutil.rmtree(self.dir, ignore_errors=True)


@dataclass
class Service:
    """The cluster, the running ``serve`` and an operator key of the loaded town."""

    cluster: Cluster
    process: subprocess.Popen
    base: str
    key: str
    slug: str = "borgo"


def start_service(workers: int = 3) -> Service:
    """Cluster up, schema migrated, the service's own role, Borgo loaded, an operator key, and
    ``serve`` answering ``/healthz``."""
    cluster = Cluster()
    cluster.start()
    engine = create_engine(cluster.url(database="postgres"), isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text("CREATE DATABASE geo_urp"))
    engine.dispose()
    # What `db init`, `db grant-app`, `layers load` and `keys add` do, in this process: each
    # command would start an interpreter of its own.
    init_db(cluster.url())
    grant_app_role(cluster.url(), "geo_urp_app")
    with session_scope(cluster.url()) as session:
        load_municipality(session, TOWN, "borgo")
        key = create_api_key(session, "operator", None, None, "load_faults")
    engine_for(cluster.url()).dispose()
    process, base = _serve(cluster, workers)
    return Service(cluster, process, base, key)


def _serve(cluster: Cluster, workers: int) -> tuple[subprocess.Popen, str]:
    """``serve`` with ``workers`` gunicorn workers on a free port, once it answers ``/healthz``."""
    env = {**os.environ, "DATABASE_URL": cluster.url("geo_urp_app"), "DATABASE_ADMIN_URL": cluster.url(),
           "LOG_FORMAT": "json", "LOG_LEVEL": "WARNING", "SMTP_HOST": "", "SMS_GATEWAY_URL": ""}
    port = free_port()
    log = open(cluster.dir / "serve.log", "ab")
    process = subprocess.Popen([sys.executable, "-m", "geo_urp", "serve", "--port", str(port),
                                "--workers", str(workers)], env=env, cwd=ROOT, stdout=log, stderr=log)
    for _ in range(300):
        if process.poll() is not None:
            raise RuntimeError("serve ended at start")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                conn.close()
                return process, f"http://127.0.0.1:{port}"
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError("serve never answered /healthz")


def _stop_serve(service: Service) -> None:
    service.process.terminate()
    try:
        service.process.wait(30)
    except subprocess.TimeoutExpired:
        service.process.kill()


def restart_serve(service: Service, workers: int) -> None:
    """Stop ``serve`` and start it again with ``workers`` workers, on the same cluster and town."""
    _stop_serve(service)
    service.process, service.base = _serve(service.cluster, workers)


def forget_calls(service: Service) -> None:
    """Every call and incident of the cluster gone (and what hangs on them), so that a step of a
    benchmark starts from the town as loaded rather than after the steps before it."""
    engine = create_engine(service.cluster.url())
    with engine.begin() as conn:
        conn.execute(text("TRUNCATE reports, incidents CASCADE"))
    engine.dispose()


def stop_service(service: Service) -> None:
    _stop_serve(service)
    service.cluster.stop()


@dataclass
class Answer:
    at: float          # seconds since the run began
    status: int        # 0: no answer (connection refused or cut)
    ms: float
    retry_after: str | None
    key: str
    request_id: str | None = None


@dataclass
class Run:
    answers: list[Answer] = field(default_factory=list)
    restart_at: float | None = None
    restart_s: float | None = None
    seconds: float = 0.0
    gave_up: int = 0
    tag: str = field(default_factory=lambda: uuid.uuid4().hex[:8])  # in every Idempotency-Key of the run

    def accepted(self) -> dict[str, str]:
        """Idempotency-Key -> service_request_id of every call the service accepted."""
        return {a.key: a.request_id for a in self.answers if a.status in (200, 201)}


def _points(url: str, n: int) -> list[tuple[float, float]]:
    engine = create_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(text("""
            SELECT ST_Y(p), ST_X(p) FROM (
                SELECT ST_Transform((ST_Dump(ST_GeneratePoints(ST_Buffer(boundary, -20), :n, 7))).geom, 4326) AS p
                FROM municipalities WHERE slug = 'borgo') q"""), {"n": n}).all()
    engine.dispose()
    return [(float(a), float(b)) for a, b in rows]


def _post(conn: http.client.HTTPConnection | None, port: int, body: str, idem: str
          ) -> tuple[http.client.HTTPConnection | None, int, str | None, str | None]:
    conn = conn or http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        conn.request("POST", "/open311/v2/requests.json", body,
                     {"Content-Type": "application/x-www-form-urlencoded", "Idempotency-Key": idem})
        resp = conn.getresponse()
        data = resp.read()
        rid = None
        if resp.status in (200, 201):
            rid = str(json.loads(data)[0]["service_request_id"])
        if resp.will_close:  # gunicorn's sync workers close after each answer
            conn.close()
            conn = None
        return conn, resp.status, resp.headers.get("Retry-After"), rid
    except (OSError, http.client.HTTPException):
        conn.close()
        return None, 0, None, None


def load(service: Service, callers: int, seconds: float, restart_after: float | None = None) -> Run:
    """``callers`` threads posting for ``seconds``; the cluster restarted ``restart_after`` seconds
    in (None: never). A call begun before the end is carried through to an answer (or 60 tries)."""
    run = Run()
    port = int(service.base.rsplit(":", 1)[1])
    where = _points(service.cluster.url(), 500)
    lock = threading.Lock()
    started = time.perf_counter()
    deadline = started + seconds

    def caller(c: int) -> None:
        conn = None
        i = 0
        while time.perf_counter() < deadline:
            lat, lon = where[(c * 7 + i) % len(where)]
            idem = f"load-{run.tag}-{c}-{i}"
            body = urlencode({"api_key": service.key, "jurisdiction_id": service.slug,
                              "service_code": DEFAULT_CATALOG.codes[(c + i) % len(DEFAULT_CATALOG.codes)],
                              "lat": f"{lat:.7f}", "long": f"{lon:.7f}", "description": f"carico {idem}"})
            for _try in range(60):
                t0 = time.perf_counter()
                conn, status, retry_after, rid = _post(conn, port, body, idem)
                answer = Answer(t0 - started, status, (time.perf_counter() - t0) * 1000.0, retry_after, idem, rid)
                with lock:
                    run.answers.append(answer)
                if status not in (0, 503):
                    break
                try:
                    wait = float(retry_after) if retry_after else 1.0
                except ValueError:
                    wait = 1.0
                time.sleep(wait)
            else:
                with lock:
                    run.gave_up += 1
            i += 1

    def restarter() -> None:
        time.sleep(restart_after)
        t0 = time.perf_counter()
        run.restart_at = t0 - started
        service.cluster.restart()
        run.restart_s = time.perf_counter() - t0

    threads = [threading.Thread(target=caller, args=(c,), daemon=True) for c in range(callers)]
    if restart_after is not None:
        threads.append(threading.Thread(target=restarter, daemon=True))
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    run.seconds = time.perf_counter() - started
    return run


@dataclass
class Stored:
    reports: int                 # reports of this run (by their description, which names their key)
    distinct_keys: int
    keys_stored_twice: int
    accepted_missing: int        # accepted ids not in the table
    accepted_not_once: int       # accepted ids whose key is stored other than once


def stored(service: Service, run: Run) -> Stored:
    """What the database holds of the run's calls, each report by the Idempotency-Key its
    description names (so that a second report of one call would show, whatever else the
    database keeps of it), against what was accepted."""
    engine = create_engine(service.cluster.url())
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT id, substr(description, 8) FROM reports WHERE description LIKE :keys"),
                            {"keys": f"carico load-{run.tag}-%"}).all()
    engine.dispose()
    per_key: dict[str, int] = {}
    ids = set()
    for rid, key in rows:
        per_key[key] = per_key.get(key, 0) + 1
        ids.add(str(rid))
    accepted = run.accepted()
    missing = sum(1 for rid in accepted.values() if rid not in ids)
    not_once = sum(1 for key in accepted if per_key.get(key) != 1)
    return Stored(len(rows), len(per_key), sum(1 for n in per_key.values() if n > 1), missing, not_once)


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100.0 * (len(ordered) - 1))))] if ordered else 0.0
