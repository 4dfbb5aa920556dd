"""The database connection as callers feel it: a restarted server costs no request, an unreachable
one answers 503 with Retry-After, never 500, and a failed unit of work leaves nothing behind."""
from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from geo_urp import create_app
from geo_urp.db import analyze, engine_for, session_scope
from geo_urp.loading.loader import load_municipality
from tests.conftest import BORGO


def _drop_every_connection(url: str) -> int:
    """What a restart of PostgreSQL does to the service's pooled connections: the server ends them."""
    name = make_url(url).database
    admin = make_url(url).set(database="postgres").render_as_string(hide_password=False)
    with engine_for(admin).connect() as conn:
        return conn.execute(text("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                                 "WHERE datname = :d AND pid <> pg_backend_pid()"), {"d": name}).scalar()


def test_session_scope_commits_on_success_and_keeps_nothing_on_error(fresh_db_url):
    with session_scope(fresh_db_url) as s:
        s.execute(text("CREATE TABLE kept (n int)"))
        s.execute(text("INSERT INTO kept VALUES (1)"))
    with pytest.raises(RuntimeError), session_scope(fresh_db_url) as s:
        s.execute(text("INSERT INTO kept VALUES (2)"))
        raise RuntimeError("the unit of work fails half-way")
    with session_scope(fresh_db_url) as s:
        assert s.scalars(text("SELECT n FROM kept")).all() == [1]


def test_connections_the_server_dropped_are_replaced_before_use(fresh_db_url):
    engine = engine_for(fresh_db_url)
    held = [engine.connect() for _ in range(3)]  # three connections in the pool, as after a busy minute
    for conn in held:
        conn.execute(text("SELECT 1"))
        conn.close()
    assert _drop_every_connection(fresh_db_url) >= 3
    for _ in range(3):  # each pooled connection is tried, found dead and replaced: no error
        with session_scope(fresh_db_url) as s:
            assert s.scalar(text("SELECT 1")) == 1


@pytest.fixture()
def borgo_app(fresh_db_url):
    from geo_urp.accounts import create_api_key

    with session_scope(fresh_db_url) as s:
        load_municipality(s, BORGO, "borgo")
        key = create_api_key(s, "operator", "borgo")
    app = create_app({"DATABASE_URL": fresh_db_url, "TESTING": True, "SECRET_KEY": "test"})
    return app, key


def _post(client, key):
    return client.post("/open311/v2/requests.json", data={
        "api_key": key, "service_code": "noise", "lat": "46.2", "long": "11.1", "jurisdiction_id": "borgo"})


def test_a_restart_of_postgresql_between_calls_costs_no_call(borgo_app, fresh_db_url):
    app, key = borgo_app
    client = app.test_client()
    assert client.get("/open311/v2/services.json").status_code == 200
    _drop_every_connection(fresh_db_url)
    assert client.get("/open311/v2/services.json").status_code == 200
    assert client.get("/api/incidents", headers={"X-API-Key": key}).status_code == 200


@pytest.mark.parametrize("path, method, machine", [
    ("/open311/v2/requests.json", "post", "open311"),
    ("/open311/v2/services.xml", "get", "open311"),
    ("/api/incidents", "get", "api"),
    ("/operator", "get", "page"),
])
def test_an_unreachable_database_answers_503_with_retry_after(borgo_app, path, method, machine):
    app, key = borgo_app
    # The same service pointed at a port where no database listens: what a caller meets while
    # PostgreSQL restarts.
    gone = make_url(app.config["DATABASE_URL"]).set(port=1).render_as_string(hide_password=False)
    down = create_app({"DATABASE_URL": gone, "TESTING": True, "SECRET_KEY": "test"})
    client = down.test_client()
    data = {"api_key": key, "service_code": "noise", "lat": "46.2", "long": "11.1"} if method == "post" else None
    resp = getattr(client, method)(path, data=data, headers={"X-API-Key": key})
    assert resp.status_code == 503, resp.data
    assert int(resp.headers["Retry-After"]) > 0
    if machine == "open311" and path.endswith(".json"):
        assert resp.json[0]["code"] == 503 and "database" in resp.json[0]["description"]
    if machine == "open311" and path.endswith(".xml"):
        assert b"<code>503</code>" in resp.data
    if machine == "api":
        assert "database" in resp.json["error"]
    if machine == "page":   # a page's reader is told in Italian (no login can be read now)
        assert "il database non è raggiungibile" in resp.get_data(as_text=True)
    health = client.get("/healthz")
    assert health.status_code == 503 and int(health.headers["Retry-After"]) > 0


def _error_of(url: str, *statements: str) -> Exception:
    """The error SQLAlchemy raises running ``statements`` on ``url`` (one connection, in order)."""
    try:
        with engine_for(url).connect() as conn:
            for sql in statements:
                conn.execute(text(sql))
    except Exception as failed:  # the error is what the test looks at
        return failed
    raise AssertionError(f"{statements} raised nothing")


def test_only_an_unreachable_database_counts_as_unavailable_a_faulty_statement_does_not(fresh_db_url):
    from geo_urp.showing.errors import database_unreachable

    closed_port = make_url(fresh_db_url).set(port=1).render_as_string(hide_password=False)
    assert database_unreachable(_error_of(closed_port, "SELECT 1"))
    assert database_unreachable(_error_of(fresh_db_url, "SELECT pg_terminate_backend(pg_backend_pid())"))
    # A statement cancelled by its timeout, a wrong statement: faults of their own (a 500, logged).
    assert not database_unreachable(_error_of(fresh_db_url, "SET statement_timeout = 10", "SELECT pg_sleep(1)"))
    assert not database_unreachable(_error_of(fresh_db_url, "SELECT 1 / 0"))
    assert not database_unreachable(_error_of(fresh_db_url, "SELECT * FROM no_such_table"))


@pytest.mark.parametrize("path, method", [
    ("/open311/v2/services.json", "get"), ("/open311/v2/requests.json", "get"),
    ("/open311/v2/requests.json", "post"), ("/api/incidents", "get"), ("/operator", "get"),
])
def test_a_logged_in_operator_meets_503_too_while_the_database_is_unreachable(borgo_app, path, method):
    # The console reads and posts with its login's session: the answer's language comes from the
    # login, whose row cannot be read while the database is down; the answer is still a 503.
    from geo_urp.accounts import create_user

    app, _ = borgo_app
    with session_scope(app.config["DATABASE_URL"]) as s:
        create_user(s, "anna", "password-anna", "operator", language="it")
    client = create_app({"DATABASE_URL": app.config["DATABASE_URL"], "TESTING": True, "SECRET_KEY": "test",
                         "WTF_CSRF_ENABLED": False}).test_client()
    assert client.post("/login", data={"username": "anna", "password": "password-anna"}).status_code == 302
    gone = make_url(app.config["DATABASE_URL"]).set(port=1).render_as_string(hide_password=False)
    down = create_app({"DATABASE_URL": gone, "TESTING": True, "SECRET_KEY": "test", "WTF_CSRF_ENABLED": False})
    same_login = down.test_client()
    same_login.set_cookie(app.config.get("SESSION_COOKIE_NAME", "session"),
                          client.get_cookie(app.config.get("SESSION_COOKIE_NAME", "session")).value)
    data = {"service_code": "noise", "lat": "46.2", "long": "11.1"} if method == "post" else None
    resp = getattr(same_login, method)(path, data=data)
    assert resp.status_code == 503, resp.data[:500]
    assert int(resp.headers["Retry-After"]) > 0


def test_statistics_that_cannot_be_refreshed_leave_a_warning_and_what_was_written(caplog):
    # After a load has committed, an unreachable owner's database is no reason to fail the command.
    nowhere = "postgresql+psycopg2://postgres@127.0.0.1:1/geo_urp"
    with caplog.at_level("WARNING", logger="geo_urp.db"):
        assert analyze(nowhere, (t for t in ("streets", "lamps"))) is False
    assert "statistics of streets, lamps not refreshed" in caplog.text


def test_statistics_are_refreshed_as_the_owner(fresh_db_url):
    assert analyze(fresh_db_url, ["reports", "incident_reports"]) is True
    with session_scope(fresh_db_url) as s:
        analysed = set(s.scalars(text("SELECT relname FROM pg_stat_user_tables WHERE last_analyze IS NOT NULL")))
    assert {"reports_from_0", "incident_reports"} <= analysed
