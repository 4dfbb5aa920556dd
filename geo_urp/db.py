"""The database: one pooled engine per URL, sessions, and the schema (extensions, Alembic migrations).

Knows nothing of Flask: the web layer opens one session per request from
``session_factory`` (``showing.database``); the command line and the worker use
``session_scope``. Statements go through SQLAlchemy's public API only.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
# A database that does not answer a new connection within this is taken as unreachable
# (a request then answers 503 instead of waiting for the worker's own timeout).
CONNECT_TIMEOUT_S = 5
EXTENSIONS = ("postgis", "pg_trgm", "unaccent")


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


def init_db(url: str) -> None:
    """Create the extensions and migrate the schema to the latest revision (idempotent)."""
    from alembic import command

    with engine_for(url).begin() as conn:
        for ext in EXTENSIONS:
            conn.execute(text(f"CREATE EXTENSION IF NOT EXISTS {ext}"))
    command.upgrade(alembic_config(url), "head")


def database_is_up(url: str) -> bool:
    """True when the database answers and has PostGIS."""
    try:
        with engine_for(url).connect() as conn:
            conn.execute(text("SELECT postgis_version()"))
        return True
    except Exception:  # any failure means "not up" for a health check
        return False
