"""Test fixtures: real PostGIS databases made for this test session and dropped after.

- ``session`` runs a test inside a transaction that is rolled back (``db_url``: migrated, empty);
  ``fresh_db_url`` / ``app`` give a test an empty migrated database of its own, for code that commits.
- ``borgo_template`` is the Borgo fixture town loaded and committed once per session, with an API
  key per role (``borgo_keys``) and two logins (``BORGO_LOGINS``). It is only ever cloned:
  ``borgo_db_url`` / ``borgo_app`` / ``borgo_client`` give a test that writes a clone of its own
  (cloning the loaded town is much cheaper than loading it again).
- ``shared_db_url`` / ``shared_app`` / ``shared_client`` / ``shared_session`` are one Borgo
  database for every test that only reads. PostgreSQL holds it read-only, so a test that writes
  there fails instead of changing what the next test reads.
- ``joins_equate_towns`` (every test): each statement the service sends joins a town's rows on
  their town (``tests/one_town.py``).
"""
from __future__ import annotations

import os
import sys
import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import NamedTuple

import pytest
import sqlglot
from flask import Flask
from geoalchemy2.shape import from_shape
from shapely.geometry import Point
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

import geo_urp
from geo_urp import create_app, settings
from geo_urp.db import engine_for, init_db, session_scope
from geo_urp.models import METRIC_SRID, Report
from tests.one_town import towns_of

FIXTURES = Path(__file__).parent / "fixtures"
BORGO = FIXTURES / "borgo"
# The fixture town's layers are drawn in metres from this point (UTM 32N).
BORGO_ORIGIN = (660000, 5118000)
# The logins of every Borgo database: user name -> role; each one's password is "password-<name>".
BORGO_LOGINS = {"anna": "operator", "carla": "council"}


def _server_url():
    """The server to make test databases on, as its owner: TEST_DATABASE_URL, else the admin URL of the settings."""
    if os.environ.get("TEST_DATABASE_URL"):
        os.environ["DATABASE_URL"] = os.environ["TEST_DATABASE_URL"]
    return make_url(settings.admin_database_url())


def _admin_engine():
    return create_engine(_server_url().set(database="postgres"), isolation_level="AUTOCOMMIT")


def _create_db(name: str, template: str | None = None) -> str:
    with _admin_engine().connect() as conn:
        tmpl = f' TEMPLATE "{template}"' if template else ""
        conn.execute(text(f'CREATE DATABASE "{name}"{tmpl}'))
    return _server_url().set(database=name).render_as_string(hide_password=False)


def _drop_db(name: str) -> None:
    with _admin_engine().connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def _clone(template_url: str, suffix: str) -> tuple[str, str]:
    """A new database copied from ``template_url``'s; its name and URL."""
    template = make_url(template_url).database
    engine_for(template_url).dispose()  # a template must have no open connections
    # Nor one an earlier test of this process left open outside the pool (its tests run one at a
    # time, so none is in use now): PostgreSQL refuses to copy a database anyone is connected to.
    with _admin_engine().connect() as conn:
        conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                          "WHERE datname = :t AND pid <> pg_backend_pid()"), {"t": template})
    name = f"{template}_{suffix}"
    return name, _create_db(name, template)


def make_app(url: str, **config) -> Flask:
    """The app as tests run it (CSRF off unless ``config`` turns it on) on the database at ``url``."""
    return create_app({"DATABASE_URL": url, "TESTING": True, "WTF_CSRF_ENABLED": False,
                       "SECRET_KEY": "test", **config})


def report_row(municipality_id: int, at: tuple[float, float] = (500, 500), when: datetime | None = None,
               **fields) -> Report:
    """A report (a call) as intake would store it, not yet added to a session.

    ``at``: metres east and north of ``BORGO_ORIGIN``; ``when``: its requested and updated time
    (now by default); ``fields``: any other column of ``Report``.
    """
    when = when or datetime.now(timezone.utc)
    point = Point(BORGO_ORIGIN[0] + at[0], BORGO_ORIGIN[1] + at[1])
    return Report(**{"municipality_id": municipality_id, "token": uuid.uuid4().hex, "service_code": "noise",
                     "requested_datetime": when, "updated_datetime": when, "attributes": {},
                     "geom": from_shape(point, srid=METRIC_SRID), **fields})


# The service's own code, whose statements the check below reads (the migrations run before a
# database is distributed, and the tests' own SQL is theirs).
_SERVICE = Path(geo_urp.__file__).resolve().parent
_MIGRATIONS = _SERVICE / "migrations"


def _service_line(frame) -> str | None:
    """Where in the service a statement was sent from: the innermost frame of geo_urp's code."""
    while frame is not None:
        path = Path(frame.f_code.co_filename)
        if path.is_relative_to(_SERVICE):
            return None if path.is_relative_to(_MIGRATIONS) else f"{path.relative_to(_SERVICE.parent)}:{frame.f_lineno}"
        frame = frame.f_back
    return None


# What the check below found while the current test ran. The listener is registered once for the
# process: adding and removing it around each test raced with statements other threads were
# sending (SQLAlchemy iterates its listeners), such as a live server's request threads. A
# statement such a thread of an earlier test sends late is charged to the test running then.
_UNJOINED: list[str] = []


def _check_towns(_conn, _cursor, statement, *_):
    try:
        towns = towns_of(statement)
    except (sqlglot.errors.SqlglotError, RecursionError) as unread:  # never an error in the service's execute
        if where := _service_line(sys._getframe(1)):
            _UNJOINED.append(f"{where}: the check cannot read {statement} ({unread})")
        return
    if not towns.joined and (where := _service_line(sys._getframe(1))):
        _UNJOINED.append(f"{where}: {', '.join(sorted(towns.unjoined))} not joined on their town in {statement}")


event.listen(Engine, "before_cursor_execute", _check_towns)


@pytest.fixture(autouse=True)
def joins_equate_towns():
    """Every statement the service sends in this process while a test runs joins the rows of a
    town's calls on their town (docs/SCALING.md: on Citus a join of co-located tables that does
    not equate their ``municipality_id`` is refused, or moves rows between workers). Checked on
    whatever each test makes the service do (a worker or server the test starts as a process of
    its own is not seen); the test fails naming the statement and where it was sent."""
    _UNJOINED.clear()
    yield
    found, _UNJOINED[:] = list(dict.fromkeys(_UNJOINED)), []
    assert not found, "\n".join(found)


@pytest.fixture(scope="session")
def db_url():
    """A migrated database for this test session, dropped at the end."""
    name = f"geo_urp_test_{uuid.uuid4().hex[:8]}"
    url = _create_db(name)
    init_db(url)
    yield url
    engine_for(url).dispose()
    _drop_db(name)


@pytest.fixture()
def session(db_url):
    """A session whose every change is rolled back after the test."""
    conn = engine_for(db_url).connect()
    outer = conn.begin()
    sess = Session(bind=conn, join_transaction_mode="create_savepoint", expire_on_commit=False)
    yield sess
    sess.close()
    outer.rollback()
    conn.close()


@pytest.fixture()
def fresh_db_url(db_url):
    """An empty migrated database of its own for a test that commits, cloned from the session's template."""
    name, url = _clone(db_url, uuid.uuid4().hex[:6])
    yield url
    engine_for(url).dispose()
    _drop_db(name)


@pytest.fixture()
def borgo(session):
    """The Borgo fixture town loaded in the test's rolled-back transaction; its municipality id."""
    from sqlalchemy import select

    from geo_urp.loading.loader import load_municipality
    from geo_urp.models import Municipality

    load_municipality(session, BORGO, "borgo")
    return session.scalar(select(Municipality.id).where(Municipality.slug == "borgo"))


class LoadedTemplate(NamedTuple):
    """A database to clone, with the API keys (role -> key) made in it."""

    url: str
    keys: dict[str, str]


@pytest.fixture(scope="session")
def borgo_template(db_url) -> LoadedTemplate:
    """Borgo loaded and committed, with an API key per role (the crew's is crew ACQUA's) and the
    ``BORGO_LOGINS``; never used but to be cloned."""
    from geo_urp.accounts import create_api_key, create_user
    from geo_urp.loading.loader import load_municipality

    name, url = _clone(db_url, "borgo")
    with session_scope(url) as s:
        load_municipality(s, BORGO, "borgo")
        for user, role in BORGO_LOGINS.items():
            create_user(s, user, f"password-{user}", role)
        keys = {role: create_api_key(s, role, "borgo", "ACQUA" if role == "crew" else None)
                for role in ("operator", "public", "council", "crew")}
    engine_for(url).dispose()
    yield LoadedTemplate(url, keys)
    _drop_db(name)


@pytest.fixture(scope="session")
def borgo_keys(borgo_template) -> dict[str, str]:
    """An API key per role (operator, public, council, crew ACQUA), valid in every Borgo database."""
    return borgo_template.keys


@pytest.fixture()
def borgo_db_url(borgo_template):
    """A Borgo database of its own, for a test that writes."""
    name, url = _clone(borgo_template.url, uuid.uuid4().hex[:6])
    yield url
    engine_for(url).dispose()
    _drop_db(name)


@pytest.fixture()
def borgo_app(borgo_db_url):
    """The app on a Borgo database of its own."""
    return make_app(borgo_db_url)


@pytest.fixture()
def borgo_client(borgo_app):
    return borgo_app.test_client()


@pytest.fixture(scope="session")
def shared_db_url(borgo_template):
    """The one Borgo database of the tests that only read; PostgreSQL refuses every write to it."""
    name, url = _clone(borgo_template.url, "shared")
    with _admin_engine().connect() as conn:
        conn.execute(text(f'ALTER DATABASE "{name}" SET default_transaction_read_only = on'))
    yield url
    engine_for(url).dispose()
    _drop_db(name)


@pytest.fixture(scope="session")
def shared_app(shared_db_url):
    """The app on the shared Borgo database. A test that changes an app's config or routes makes
    its own (``make_app(shared_db_url, ...)``)."""
    return make_app(shared_db_url)


@pytest.fixture()
def shared_client(shared_app):
    """A client of the shared app (its own cookies); the test must leave the app's config as it was."""
    config = dict(shared_app.config)
    yield shared_app.test_client()
    assert dict(shared_app.config) == config, "the test changed the shared app's config: use make_app"


@pytest.fixture()
def shared_session(shared_db_url):
    """A session on the shared Borgo database (a write fails)."""
    with Session(engine_for(shared_db_url)) as sess:
        yield sess


@pytest.fixture()
def app(fresh_db_url):
    """The Flask app on an empty database of its own."""
    return make_app(fresh_db_url)


@pytest.fixture()
def client(app):
    return app.test_client()


@pytest.fixture()
def runner(app):
    return app.test_cli_runner()
