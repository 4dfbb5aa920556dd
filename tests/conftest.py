"""Test fixtures: a real PostGIS database made for this test session and dropped after.

``session`` runs each test inside a transaction that is rolled back;
``fresh_db_url`` gives a test its own database cloned from the migrated template,
for code that commits (the command line, the HTTP API).
"""
from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from geo_urp import create_app, settings
from geo_urp.db import engine_for, init_db

FIXTURES = Path(__file__).parent / "fixtures"
BORGO = FIXTURES / "borgo"


def _server_url():
    """The server to make test databases on: TEST_DATABASE_URL, else DATABASE_URL's, else the embedded one."""
    if os.environ.get("TEST_DATABASE_URL"):
        os.environ["DATABASE_URL"] = os.environ["TEST_DATABASE_URL"]
    return make_url(settings.database_url())


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
    """A database of its own for a test that commits, cloned from the session's template."""
    template = make_url(db_url).database
    engine_for(db_url).dispose()  # a template must have no open connections
    name = f"{template}_{uuid.uuid4().hex[:6]}"
    url = _create_db(name, template)
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


@pytest.fixture()
def app(fresh_db_url):
    """The Flask app on a database of its own."""
    return create_app({"DATABASE_URL": fresh_db_url, "TESTING": True, "WTF_CSRF_ENABLED": False,
                       "SECRET_KEY": "test"})


@pytest.fixture()
def client(app):
    return app.test_client()


@pytest.fixture()
def runner(app):
    return app.test_cli_runner()
