"""The database connection: engine, sessions, schema migrations and ``db init``.

Services receive a SQLAlchemy ``Session`` and never touch Flask; views get one
per request from ``get_session()``, which is closed when the request ends.
"""
from __future__ import annotations

import hashlib
import re
import time
from collections import namedtuple
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Iterator, TypeVar

import click
from flask import Flask, current_app, g
from flask.cli import AppGroup
from sqlalchemy import Engine, create_engine, event, exc, text
from sqlalchemy.orm import Session, make_transient_to_detached, sessionmaker
from sqlalchemy.orm.attributes import set_committed_value

T = TypeVar("T")
MIGRATIONS = Path(__file__).resolve().parent / "migrations"
EXTENSIONS = ("postgis", "pg_trgm", "unaccent")


@lru_cache(maxsize=8)
def engine_for(url: str) -> Engine:
    """One pooled engine per database URL for the whole process.

    PostgreSQL's JIT compiler is off for these connections: every query here is
    short, and compiling one whose estimate looks big (a scan of years of calls)
    took longer (about 200 ms) than running it. ``Prepared`` statements are planned
    once, not again for each run (``plan_cache_mode``; besides them it only touches the
    statements inside PL/pgSQL functions, such as the incidents' trigger). Both are set
    with ``SET`` on each new connection, after the URL's and ``PGOPTIONS``' options (which
    still apply to everything else, and lose to these two).

    A connection taken from the pool after ``PING_AFTER_IDLE_S`` unused is tried first
    (``SELECT 1``) and replaced when the server has gone (a restart, a dropped link).
    One handed straight back and forth under load is not: SQLAlchemy's
    ``pool_pre_ping`` would try it before every request, a round trip that took
    about 8% of a call's time. So after a restart of PostgreSQL under load, the first
    request on each busy connection fails (a 500; the caller retries with its
    Idempotency-Key) and the pool replaces the connection.
    """
    # Statements' parameters stay out of error messages and logs: they may hold a caller's contact.
    engine = create_engine(url, pool_size=10, max_overflow=20, hide_parameters=True)
    event.listen(engine, "connect", _session_settings)
    event.listen(engine, "checkout", _ping_if_idle)
    event.listen(engine, "checkin", _note_checkin)
    return engine


PING_AFTER_IDLE_S = 2.0


def _session_settings(dbapi_connection, record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("SET jit = off; SET plan_cache_mode = force_generic_plan")
    cursor.close()
    dbapi_connection.commit()  # a SET inside a transaction rolled back later would be undone
    _note_checkin(dbapi_connection, record)  # just made: no need to try it


def _note_checkin(_dbapi_connection, record) -> None:
    record.info["returned_at"] = time.monotonic()


def _ping_if_idle(dbapi_connection, record, _proxy) -> None:
    if time.monotonic() - record.info.get("returned_at", 0.0) < PING_AFTER_IDLE_S:
        return
    try:
        cursor = dbapi_connection.cursor()
        cursor.execute("SELECT 1")
        cursor.close()
        dbapi_connection.rollback()
    except Exception as gone:  # any failure: the pool drops this connection and takes a new one
        raise exc.DisconnectionError(f"pooled connection did not answer: {gone}") from gone


def session_factory(url: str) -> sessionmaker[Session]:
    """The session factory bound to ``url``'s engine, made once per engine.

    Each ``sessionmaker`` is a new ``Session`` subclass, and SQLAlchemy sets up the
    event dispatch of a class the first time one of its sessions runs a statement:
    a factory made for every request cost about 2% of a call's CPU.
    """
    return _factory(engine_for(url))


@lru_cache(maxsize=8)  # as engine_for: an engine it let go of is let go of here too
def _factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False)


@contextmanager
def session_scope(url: str) -> Iterator[Session]:
    """A session that commits on success and rolls back on any error."""
    session = session_factory(url)()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def pin(session: Session, obj):
    """Keep ``obj`` in the session's identity map for the session's life, and return it.

    The ORM holds loaded objects weakly: once the code that read a row lets go of
    it, the next ``session.get`` for it reads it again. A strong reference in
    ``session.info`` makes those gets free (one request, or one recomputation).
    """
    session.info.setdefault("pinned", {})[(type(obj).__name__, session.identity_key(instance=obj))] = obj
    return obj


def as_loaded(session: Session, cls: type[T], values: dict, populate_existing: bool = False) -> T:
    """An instance of the mapped class ``cls`` as ``session`` would hold it had it just read a row
    of ``values`` (the primary key among them; a column left out is read on first use): in the
    session, with no history and nothing to flush, and no query made.

    For a row a statement has just read or written and returned. The values go straight into
    the instance's ``__dict__``, as the ORM's own loading puts them: through the instrumented
    constructor, each attribute's change was recorded only to be forgotten again, and a
    call made three such objects. An instance the session holds already is returned as it
    is, as the ORM's loading does, or, with ``populate_existing`` (the row was just changed),
    given the row's values as stored.
    """
    held = session.identity_map.get(session.identity_key(cls, values[_primary_key(cls)]))
    if held is not None:
        if populate_existing:
            for name, value in values.items():
                set_committed_value(held, name, value)
        return held
    obj = cls()
    obj.__dict__.update(values)
    make_transient_to_detached(obj)
    session.add(obj)
    return obj


@lru_cache(maxsize=None)
def _primary_key(cls: type) -> str:
    (column,) = cls.__mapper__.primary_key  # every table here has a one-column key
    return cls.__mapper__.get_property_by_column(column).key


def get_session() -> Session:
    """The current request's session."""
    if "db_session" not in g:
        g.db_session = session_factory(current_app.config["DATABASE_URL"])()
    return g.db_session


def close_session(_exc: BaseException | None = None) -> None:
    """Close the request's session, discarding anything uncommitted."""
    session = g.pop("db_session", None)
    if session is not None:
        session.close()


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


db_cli = AppGroup("db", help="Database schema commands.")


@db_cli.command("init")
def db_init_command() -> None:
    """Create or migrate the schema in DATABASE_URL (idempotent)."""
    url = current_app.config["DATABASE_URL"]
    init_db(url)
    click.echo("database schema is up to date")


def init_app(app: Flask) -> None:
    """Close sessions after each request and register ``db`` commands."""
    app.teardown_appcontext(close_session)
    app.cli.add_command(db_cli)


class Prepared:
    """A statement run many times a minute, planned once per connection: ``PREPARE``d on first use,
    then run with ``EXECUTE``.

    Planning a statement with lateral KNN look-ups took PostgreSQL longer than running it;
    a prepared one is parsed once per connection and, with ``plan_cache_mode`` set to
    ``force_generic_plan`` on the service's connections (``engine_for``), planned at its
    first ``EXECUTE`` only. ``sql`` is written as for ``text()``, with ``:name`` parameters
    (not inside string literals or comments, and without ``text()``'s ``\\:`` escape);
    ``types`` gives the SQL type of any parameter whose type PostgreSQL cannot tell from
    its place in the statement. The name comes from ``sql`` and ``types``. Prepared
    statements belong to the database connection (they outlive a rollback, and PostgreSQL
    plans them again when a table they read changes): a pooler in front of PostgreSQL must
    keep each client on one server connection (session pooling). Should one disappear from
    under a connection all the same (``DISCARD ALL``), that call fails and the next one on
    the connection prepares it again.
    """

    _PARAM = re.compile(r"(?<![:\w]):(\w+)")

    def __init__(self, sql: str, types: dict[str, str] | None = None, bind_types: tuple = (),
                 result_types: dict | None = None):
        names = list(dict.fromkeys(self._PARAM.findall(sql)))
        types = types or {}
        self.name = "geo_urp_" + hashlib.sha1(repr((sql, sorted(types.items()))).encode()).hexdigest()[:20]
        listed = f" ({', '.join(types.get(n, 'unknown') for n in names)})" if names and types else ""
        numbered = self._PARAM.sub(lambda m: f"${names.index(m.group(1)) + 1}", sql)
        self._prepare = f"PREPARE {self.name}{listed} AS {numbered}"
        arguments = f"({', '.join(f'%({n})s' for n in names)})" if names else ""
        self._execute = f"EXECUTE {self.name}{arguments}"
        self._bind_types = {b.key: b.type for b in bind_types}  # SQLAlchemy types of parameters, by name
        self._result_types = dict(result_types or {})  # of result columns, by name (e.g. a geometry)
        self._processors: tuple | None = None

    def execute(self, session: Session, params: dict) -> "PreparedResult":
        """Run the statement in ``session``'s transaction with ``params``; its rows.

        It runs on the connection's own psycopg2 cursor: SQLAlchemy's statement machinery
        cost about 0.1 ms of CPU a statement, several times what the cursor costs, on
        statements run several times a call. Errors come out as SQLAlchemy's, as from
        ``session.execute`` (without the parameters: they may hold a caller's contact), and a
        connection found dropped is invalidated with every other the pool made before it.
        """
        conn = _connection(session)
        dialect = conn.dialect
        if self._processors is None:  # the type conversions SQLAlchemy would apply, made once
            self._processors = (
                {k: t.dialect_impl(dialect).bind_processor(dialect) for k, t in self._bind_types.items()},
                {k: t.dialect_impl(dialect).result_processor(dialect, None) for k, t in self._result_types.items()})
        binds, results = self._processors
        if binds:
            params = dict(params)
            for key, process in binds.items():
                if process is not None and key in params:  # None too: JSON's None is 'null', as before
                    params[key] = process(params[key])
        raw = conn.connection.dbapi_connection
        done = conn.connection.info.setdefault("geo_urp_prepared", set())
        statement, sent = self._execute, params
        try:
            with raw.cursor() as cursor:
                if self.name not in done:
                    statement, sent = self._prepare, None
                    cursor.execute(statement)
                    done.add(self.name)
                    statement, sent = self._execute, params
                cursor.execute(statement, params)
                if cursor.description is None:
                    return PreparedResult([], cursor.rowcount)
                columns = tuple(d[0] for d in cursor.description)
                rows = cursor.fetchall()
        except dialect.loaded_dbapi.Error as failed:
            if getattr(failed, "pgcode", None) == "26000":  # invalid_sql_statement_name: it is gone
                done.discard(self.name)
            dropped = dialect.is_disconnect(failed, raw, None)
            if dropped:  # as SQLAlchemy does: the server went away, so did the pool's older links
                conn.engine.pool._invalidate(conn.connection, failed)
                conn.invalidate(failed)
            raise exc.DBAPIError.instance(statement, sent, failed, dialect.loaded_dbapi.Error,
                                          hide_parameters=conn.engine.hide_parameters,
                                          connection_invalidated=dropped, dialect=dialect) from failed
        convert = [(i, results[c]) for i, c in enumerate(columns) if results.get(c) is not None]
        if convert:
            rows = [list(r) for r in rows]
            for r in rows:
                for i, process in convert:
                    r[i] = process(r[i])
        make = row_type(columns)._make
        return PreparedResult([make(r) for r in rows], len(rows))


_LINK = "geo_urp.connection"


def _connection(session: Session):
    """``session.connection()``, kept for the rest of the transaction: asked again for every
    statement, SQLAlchemy walks its transaction states each time (about 30 µs)."""
    transaction = _innermost(session)
    kept = session.info.get(_LINK)
    if (transaction is not None and kept is not None and kept[0] is transaction and transaction.is_active
            and not kept[1].invalidated):
        return kept[1]
    conn = session.connection()
    session.info[_LINK] = (_innermost(session), conn)
    return conn


def _innermost(session: Session):
    """The transaction a statement of ``session`` runs in now: its savepoint, if one is open."""
    return session.get_nested_transaction() or session.get_transaction()


@lru_cache(maxsize=256)
def row_type(columns: tuple[str, ...]) -> type:
    """A row of these columns: a named tuple, and ``_mapping`` by the columns' own names, as
    SQLAlchemy's rows have. A column whose name cannot be an attribute (none given, repeated,
    a keyword, a leading ``_``) is read by position: its attribute is ``_<position>``."""
    base = namedtuple("PreparedRow", columns, rename=True)
    return type("PreparedRow", (base,), {"__slots__": (),
                                         "_mapping": property(lambda row: dict(zip(columns, row)))})


class PreparedResult:
    """The rows a ``Prepared`` statement returned (read at once), and how many rows it touched."""

    def __init__(self, rows: list, rowcount: int):
        self._rows = rows
        self.rowcount = rowcount

    def __iter__(self):
        return iter(self._rows)

    def all(self) -> list:
        return list(self._rows)

    def first(self):
        return self._rows[0] if self._rows else None

    def one(self):
        if len(self._rows) != 1:
            cls = exc.NoResultFound if not self._rows else exc.MultipleResultsFound
            raise cls(f"expected one row, got {len(self._rows)}")
        return self._rows[0]

    def scalar(self):
        return self._rows[0][0] if self._rows else None
