"""Backup and restore: ``pg_dump`` of a Borgo database in use, ``pg_restore`` into a new one.

The commands are the ones docs/OPERATIONS.md gives (custom format, restore into a database
made empty, stop at the first error). What must survive: every row of the calls, incidents and
outbox, the PostGIS geometries as they were (same points, same SRID), and a working service on
the restored copy.
"""
from __future__ import annotations

import subprocess
import uuid

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from geo_urp.db import engine_for
from tests.conftest import _drop_db, _server_url, make_app
from tests.showing.open311_support import latlong

TABLES = ("reports", "caller_contacts", "incidents", "incident_reports", "incident_events", "outbox",
          "audit_log", "lamps", "water_pipes", "streets", "api_keys", "users")


def _libpq(url: str) -> str:
    """A SQLAlchemy URL as the PostgreSQL tools read it (``postgresql://user:pw@host:port/db``)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _facts(url: str) -> dict:
    with engine_for(url).connect() as conn:
        counts = {t: conn.execute(text(f"SELECT count(*) FROM {t}")).scalar() for t in TABLES}
        points = conn.execute(text("SELECT id, ST_AsEWKT(geom) FROM reports ORDER BY id")).all()
        pipes = conn.execute(text("SELECT ST_SRID(geom), sum(ST_Length(geom)) FROM water_pipes GROUP BY 1")).all()
        outbox = conn.execute(text("SELECT channel, status, count(*) FROM outbox GROUP BY 1, 2 ORDER BY 1, 2")).all()
    return {"counts": counts, "points": points, "pipes": pipes, "outbox": outbox}


@pytest.fixture()
def restored_name():
    name = f"geo_urp_restored_{uuid.uuid4().hex[:8]}"
    yield name
    _drop_db(name)


def test_a_dump_restored_into_a_new_database_keeps_every_row_and_geometry_and_serves(
        borgo_db_url, borgo_app, borgo_keys, restored_name, tmp_path):
    client, op = borgo_app.test_client(), borgo_keys["operator"]
    ids = []
    for n, contact in enumerate(({"email": "a@example.org"}, {"phone": "+39 333 1234567"}, {})):
        resp = client.post("/open311/v2/requests.json", data={
            "api_key": op, "service_code": "road_damage", "description": "buca", **contact,
            **latlong(200 + 300 * n, 400)})
        assert resp.status_code == 201, resp.get_data(as_text=True)
        ids.append(resp.json[0]["service_request_id"])
    features = client.get("/api/incidents", headers={"X-API-Key": op}).json["features"]
    first = next(f["properties"]["id"] for f in features if ids[0] in f["properties"]["report_ids"])
    for step in ("assigned", "in_progress", "resolved"):
        assert client.post(f"/api/incidents/{first}/status", json={"status": step, "note": "chiusa"},
                           headers={"X-API-Key": op}).status_code == 200
    before = _facts(borgo_db_url)
    assert before["counts"]["outbox"] >= 1 and before["counts"]["reports"] == 3 and before["pipes"]
    engine_for(borgo_db_url).dispose()

    dump = tmp_path / "geo_urp.dump"
    server = _server_url()
    restored = server.set(database=restored_name).render_as_string(hide_password=False)
    maintenance = _libpq(server.set(database="postgres").render_as_string(hide_password=False))
    for command in (
            ["pg_dump", "--format=custom", f"--file={dump}", _libpq(borgo_db_url)],
            ["createdb", f"--maintenance-db={maintenance}", restored_name],
            ["pg_restore", "--exit-on-error", f"--dbname={_libpq(restored)}", str(dump)]):
        done = subprocess.run(command, capture_output=True, text=True)
        assert done.returncode == 0, (command[0], done.stderr)

    assert _facts(restored) == before
    served = make_app(restored).test_client().get("/api/incidents", query_string={"status": "all"},
                                                  headers={"X-API-Key": op})
    assert served.status_code == 200
    assert {f["properties"]["id"] for f in served.json["features"]} >= {first}
    engine_for(restored).dispose()
