"""The service's own database role (``db grant-app``): it does what the service does, and no more.

A Borgo database of the test's own gets a login role made by ``python -m geo_urp db grant-app``
run as the owner; the app and the worker then run on that role alone: they take calls through
Open311, move a call, resolve the incident (closing messages queued), reload the layers and
deliver nothing (no SMTP, no gateway). The role cannot create or drop a table nor read
``pg_authid``.
"""
from __future__ import annotations

import uuid

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ProgrammingError

from geo_urp.acting.worker import run_once
from geo_urp.db import engine_for
from tests.conftest import BORGO, _admin_engine, make_app
from tests.showing.open311_support import latlong


@pytest.fixture()
def app_role_url(borgo_db_url):
    """The Borgo database's URL as a service role ``db grant-app`` made (password auth or trust)."""
    role, password = f"geo_urp_app_{uuid.uuid4().hex[:8]}", uuid.uuid4().hex
    app_url = make_url(borgo_db_url).set(username=role, password=password).render_as_string(hide_password=False)
    owner = make_app(app_url, DATABASE_ADMIN_URL=borgo_db_url)
    result = owner.test_cli_runner().invoke(args=["db", "grant-app"])
    assert result.exit_code == 0, result.output
    assert f"role {role} created" in result.output
    again = owner.test_cli_runner().invoke(args=["db", "grant-app"])
    assert f"role {role} kept" in again.output
    yield app_url
    engine_for(app_url).dispose()
    with engine_for(borgo_db_url).begin() as conn:
        conn.execute(text(f'DROP OWNED BY "{role}"'))
    engine_for(borgo_db_url).dispose()
    with _admin_engine().connect() as conn:
        conn.execute(text(f'DROP ROLE "{role}"'))


def _call(client, key: str, at: tuple[int, int], email: str) -> int:
    resp = client.post("/open311/v2/requests.json", data={
        "api_key": key, "service_code": "road_damage", "email": email, "description": "buca", **latlong(*at)})
    assert resp.status_code == 201, resp.get_data(as_text=True)
    return int(resp.json[0]["service_request_id"])


def _incident_of(client, key: str, report_id: int) -> int:
    features = client.get("/api/incidents", headers={"X-API-Key": key}).json["features"]
    (found,) = [f["properties"]["id"] for f in features if str(report_id) in f["properties"]["report_ids"]]
    return found


def test_the_service_runs_on_its_role_alone(app_role_url, borgo_keys):
    app = make_app(app_role_url)
    client, op = app.test_client(), borgo_keys["operator"]
    here, there = _call(client, op, (300, 300), "a@example.org"), _call(client, op, (700, 700), "b@example.org")
    target = _incident_of(client, op, here)
    assert _incident_of(client, op, there) != target
    moved = client.post(f"/api/reports/{there}/move", json={"incident_id": target}, headers={"X-API-Key": op})
    assert moved.status_code == 200, moved.get_data(as_text=True)
    assert _incident_of(client, op, there) == target
    for step in ("assigned", "in_progress", "resolved"):
        resp = client.post(f"/api/incidents/{target}/status", headers={"X-API-Key": op},
                           json={"status": step, "note": "fatto"})
        assert resp.status_code == 200, resp.get_data(as_text=True)
    run_once(app.config)  # no SMTP server, no gateway: the e-mails wait in the outbox
    with engine_for(app_role_url).connect() as conn:
        assert conn.execute(text("SELECT current_user")).scalar() == make_url(app_role_url).username
        waiting = conn.execute(text("SELECT status, count(*) FROM outbox GROUP BY status")).all()
    assert waiting == [("pending", 2)]
    reload = app.test_cli_runner().invoke(args=["layers", "load", str(BORGO), "--municipality", "borgo"])
    assert reload.exit_code == 0, reload.output


@pytest.mark.parametrize("statement", [
    "CREATE TABLE intruder (id int)",
    "DROP TABLE reports",
    "ALTER TABLE reports ADD COLUMN intruder int",
    "TRUNCATE outbox",
    "SELECT rolpassword FROM pg_authid",
    "CREATE ROLE intruder",
    "CREATE EXTENSION IF NOT EXISTS hstore",
])
def test_the_services_role_cannot_change_the_schema_or_read_passwords(app_role_url, statement):
    with engine_for(app_role_url).connect() as conn:
        with pytest.raises(ProgrammingError, match="permission denied|must be owner|must be superuser"):
            conn.execute(text(statement))


def test_the_owner_is_refused_as_the_services_role(borgo_db_url):
    result = make_app(borgo_db_url).test_cli_runner().invoke(args=["db", "grant-app", "--role", "postgres"])
    assert result.exit_code == 1
    assert "must not be the owner's ('postgres')" in result.output


@pytest.mark.parametrize("attribute", ["CREATEDB", "CREATEROLE", "SUPERUSER"])
def test_a_role_that_may_do_more_than_rows_is_refused_and_left_as_it_was(borgo_db_url, attribute):
    role = f"geo_urp_mighty_{uuid.uuid4().hex[:8]}"
    with _admin_engine().connect() as conn:
        conn.execute(text(f'CREATE ROLE "{role}" LOGIN {attribute}'))
    try:
        result = make_app(borgo_db_url).test_cli_runner().invoke(args=["db", "grant-app", "--role", role])
        assert result.exit_code == 1
        assert f"may do more than read and write rows ({attribute})" in result.output
        with engine_for(borgo_db_url).connect() as conn:
            granted = conn.execute(text("SELECT has_table_privilege(:r, 'reports', 'SELECT')"), {"r": role}).scalar()
        assert granted == (attribute == "SUPERUSER")  # a superuser may do anything anyway
    finally:
        engine_for(borgo_db_url).dispose()
        with _admin_engine().connect() as conn:
            conn.execute(text(f'DROP ROLE "{role}"'))


def test_the_worker_makes_the_partitions_of_reports_ahead_on_its_role(app_role_url, borgo_db_url):
    from geo_urp.acting import partitions

    with engine_for(borgo_db_url).begin() as conn:  # calls up to the next block, as the owner sets it
        conn.execute(text("SELECT setval('reports_id_seq', 6000000)"))
    # the role may make no table, yet the database function makes the block ahead for it
    with pytest.raises(ProgrammingError):
        with engine_for(app_role_url).begin() as conn:
            conn.execute(text("CREATE TABLE reports_from_40000000 PARTITION OF reports "
                              "FOR VALUES FROM (40000000) TO (44000000)"))
    assert partitions.make_ahead({"DATABASE_URL": app_role_url}) == 1
    # and it may not name the ids itself: the blocks anywhere are the owner's alone
    with pytest.raises(ProgrammingError, match="permission denied"):
        with engine_for(app_role_url).begin() as conn:
            conn.execute(text("SELECT report_blocks(40000000, 44000000)"))
    with engine_for(borgo_db_url).connect() as conn:
        assert conn.execute(text("SELECT to_regclass('reports_from_8000000') IS NOT NULL")).scalar()
