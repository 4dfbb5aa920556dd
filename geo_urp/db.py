"""The database: one pooled engine per URL, sessions, and the schema (extensions, Alembic migrations).

Knows nothing of Flask: the web layer opens one session per request from
``session_factory`` (``showing.database``); the command line and the worker use
``session_scope``. Statements go through SQLAlchemy's public API only.

Two roles reach the database: the owner, who creates the extensions and runs the
migrations (``init_db``, on ``DATABASE_ADMIN_URL``), and the service's own login role,
which may only read and write rows (``grant_app_role``; the service runs on
``DATABASE_URL`` as that role).
"""
from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from geo_urp.errors import GeoUrpError

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
# A database that does not answer a new connection within this is taken as unreachable
# (a request then answers 503 instead of waiting for the worker's own timeout).
CONNECT_TIMEOUT_S = 5
EXTENSIONS = ("postgis", "pg_trgm", "unaccent")
log = logging.getLogger(__name__)


@lru_cache(maxsize=8)
def engine_for(url: str) -> Engine:
    """One pooled engine per database URL for the whole process.

    ``pool_pre_ping`` tries a pooled connection before handing it out, so a
    connection the server dropped (a restart, a broken link) is replaced instead of
    failing a request; a connection not made within ``CONNECT_TIMEOUT_S``, or none free in
    the pool within 10 s, fails the request at once (the web layer answers 503). Statement parameters stay out of error messages and logs:
    they may hold a caller's contact. PostgreSQL's JIT compiler is off: every query
    here is short, and compiling one whose estimate looks big (a scan of years of
    calls) costs more than running it.
    """
    engine = create_engine(url, pool_size=10, max_overflow=20, pool_timeout=10, pool_pre_ping=True,
                           hide_parameters=True, connect_args={"connect_timeout": CONNECT_TIMEOUT_S})
    event.listen(engine, "connect", _session_settings)
    return engine


def _session_settings(dbapi_connection, _record) -> None:
    with dbapi_connection.cursor() as cursor:
        cursor.execute("SET jit = off")
    dbapi_connection.commit()  # a SET inside a transaction rolled back later would be undone


@lru_cache(maxsize=8)
def session_factory(url: str) -> sessionmaker[Session]:
    """The session factory bound to ``url``'s engine (made once: each is a new ``Session`` class)."""
    return sessionmaker(bind=engine_for(url), expire_on_commit=False)


@contextmanager
def session_scope(url: str) -> Iterator[Session]:
    """A session that commits on success and rolls back on any error."""
    with session_factory(url)() as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def alembic_config(url: str):
    """Alembic configuration pointing at the package's migrations."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


# The partitions of reports (migration 0016): PostgreSQL's, made by the database, not the models.
_PARTITION = re.compile(r"reports_(from_\d+|default)")


def compared(obj, name, type_, reflected, compare_to) -> bool:
    """Whether Alembic's autogenerate compares a schema object: GeoAlchemy2's rule (PostGIS's own
    tables left out), and none of the partitions of ``reports``, their indexes or the foreign
    keys PostgreSQL keeps to each of them (the models describe the partitioned table)."""
    from geoalchemy2 import alembic_helpers

    table = getattr(obj, "referred_table", None) if type_ == "foreign_key_constraint" else getattr(obj, "table", None)
    if type_ == "table" and _PARTITION.fullmatch(name or "") or table is not None and _PARTITION.fullmatch(table.name):
        return False
    return alembic_helpers.include_object(obj, name, type_, reflected, compare_to)


def init_db(url: str) -> None:
    """Create the extensions and migrate the schema to the latest revision (idempotent)."""
    from alembic import command

    with engine_for(url).begin() as conn:
        for ext in EXTENSIONS:
            conn.execute(text(f"CREATE EXTENSION IF NOT EXISTS {ext}"))
    command.upgrade(alembic_config(url), "head")


def analyze(admin_url: str, tables: Iterable[str]) -> bool:
    """Refresh PostgreSQL's statistics of ``tables`` after a bulk write of them (ANALYZE, as the
    schema's owner, each table committed on its own).

    Until autovacuum's next pass (within a minute on its defaults; never where it is turned off)
    the planner plans a freshly filled table blind: years of past reports just written were
    scanned whole to look up the valve segments of a water call's outages. PostgreSQL skips a table its caller does not own with a
    warning, never an error: autovacuum then does it later. What was written stays written when
    this cannot be done (the owner's database unreachable): a warning says so; False then.
    """
    engine, tables = engine_for(admin_url), tuple(tables)
    try:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            for table in tables:
                conn.execute(text(f"ANALYZE {engine.dialect.identifier_preparer.quote(table)}"))
    except DBAPIError as failed:
        log.warning("statistics of %s not refreshed (%s): autovacuum refreshes them later",
                    ", ".join(tables), str(failed.orig).strip().splitlines()[0] if failed.orig else failed)
        return False
    return True


# What the service's role may do: rows, never the schema. Tables made by later migrations get the
# same through the owner's default privileges.
APP_TABLE_PRIVILEGES = "SELECT, INSERT, UPDATE, DELETE"
APP_SEQUENCE_PRIVILEGES = "USAGE"
# The database functions that do for the service's role what it may not do itself, with their
# owner's rights: making the partitions of reports ahead (migration 0016, ``acting.partitions``).
APP_FUNCTIONS = ("report_partitions(bigint)",)
# Role attributes that would let the service's role do more than read and write rows.
_TOO_MIGHTY = {"rolsuper": "SUPERUSER", "rolcreatedb": "CREATEDB", "rolcreaterole": "CREATEROLE",
               "rolreplication": "REPLICATION", "rolbypassrls": "BYPASSRLS"}


def grant_app_role(admin_url: str, role: str, password: str | None = None) -> bool:
    """Make ``role`` the service's login role on ``admin_url``'s database (idempotent); True when created.

    Run as the schema's owner, after ``init_db``. A missing role is created with LOGIN and no
    other attribute (no superuser, CREATEDB, CREATEROLE, replication or RLS bypass); an existing
    one with any of those is refused, and its password changes only when ``password`` is given.
    The role gets CONNECT on the database, USAGE on schema ``public`` (no CREATE: nobody but
    the owner creates there), SELECT/INSERT/UPDATE/DELETE on every table and USAGE on every
    sequence, now and, through the owner's default privileges, on those later migrations make, and
    EXECUTE on ``APP_FUNCTIONS``.
    """
    engine = engine_for(admin_url)
    quoted = engine.dialect.identifier_preparer.quote(role)
    with engine.begin() as conn:
        found = conn.execute(text(f"SELECT {', '.join(_TOO_MIGHTY)} FROM pg_roles WHERE rolname = :r"),
                             {"r": role}).mappings().first()
        if found is not None and any(found.values()):
            mighty = ", ".join(_TOO_MIGHTY[k] for k, v in found.items() if v)
            raise GeoUrpError(f"role {role!r} may do more than read and write rows ({mighty}): "
                              "the service needs a role of its own")
        if found is None:
            conn.execute(text(f"CREATE ROLE {quoted} LOGIN"))
        if password is not None:
            # psycopg2 writes the parameter in as a quoted literal: utility statements take no binds.
            conn.execute(text(f"ALTER ROLE {quoted} PASSWORD :p"), {"p": password})
        database = engine.dialect.identifier_preparer.quote(conn.execute(text("SELECT current_database()")).scalar())
        for statement in (
                f"GRANT CONNECT ON DATABASE {database} TO {quoted}",
                f"GRANT USAGE ON SCHEMA public TO {quoted}",
                f"REVOKE CREATE ON SCHEMA public FROM PUBLIC, {quoted}",
                f"GRANT {APP_TABLE_PRIVILEGES} ON ALL TABLES IN SCHEMA public TO {quoted}",
                f"GRANT {APP_SEQUENCE_PRIVILEGES} ON ALL SEQUENCES IN SCHEMA public TO {quoted}",
                f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT {APP_TABLE_PRIVILEGES} ON TABLES TO {quoted}",
                f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT {APP_SEQUENCE_PRIVILEGES} ON SEQUENCES TO {quoted}",
                *(f"GRANT EXECUTE ON FUNCTION {function} TO {quoted}" for function in APP_FUNCTIONS)):
            conn.execute(text(statement))
    return found is None


def database_is_up(url: str) -> bool:
    """True when the database answers and has PostGIS."""
    try:
        with engine_for(url).connect() as conn:
            conn.execute(text("SELECT postgis_version()"))
        return True
    except Exception:  # any failure means "not up" for a health check
        return False
