"""``GET /api/audit``: an admin reads who did what (a status step, a merge) newest first; every other
role is refused, bad parameters are a 400 naming the parameter."""
from __future__ import annotations

import pytest

from geo_urp.accounts import create_user
from geo_urp.db import session_scope
from tests.conftest import BORGO_LOGINS
from tests.showing.open311_support import latlong, post


def _log_in(client, username: str) -> None:
    resp = client.post("/login", data={"username": username, "password": f"password-{username}"})
    assert resp.status_code == 302, resp.data


@pytest.fixture()
def admin(borgo_client, borgo_db_url):
    """The Borgo client logged in as an admin of every town."""
    with session_scope(borgo_db_url) as s:
        create_user(s, "ada", "password-ada", "admin")
    _log_in(borgo_client, "ada")
    return borgo_client


def _incident_of(client, key: str, code: str, where: tuple[float, float]) -> int:
    resp = post(client, key, service_code=code, **latlong(*where))
    assert resp.status_code == 201, resp.data
    report_id = resp.json[0]["service_request_id"]
    features = client.get("/api/incidents", headers={"X-API-Key": key}).json["features"]
    (inc,) = [f["properties"]["id"] for f in features if report_id in f["properties"]["report_ids"]]
    return inc


def test_an_admin_reads_a_status_step_and_a_merge_newest_first(admin, borgo_keys):
    operator = {"X-API-Key": borgo_keys["operator"]}
    a = _incident_of(admin, borgo_keys["operator"], "road_damage", (100, 500))
    b = _incident_of(admin, borgo_keys["operator"], "road_damage", (600, 900))
    resp = admin.post(f"/api/incidents/{a}/status", json={"status": "assigned", "note": "squadra allertata"},
                      headers=operator)
    assert resp.status_code == 200, resp.data
    resp = admin.post("/api/incidents/merge", json={"ids": [a, b]}, headers=operator)
    assert resp.status_code == 200, resp.data

    resp = admin.get("/api/audit", query_string={"object_type": "incident", "object_id": a})
    assert resp.status_code == 200, resp.data
    items = [i for i in resp.json["items"] if i["action"] in ("status", "merged")]
    assert [(i["action"], i["actor"][:4], i["municipality"]) for i in items] == [
        ("merged", "key:", "borgo"), ("status", "key:", "borgo")]
    assert items[0]["detail"]["merged"] == [b] and items[1]["detail"]["note"] == "squadra allertata"
    assert set(items[0]) == {"id", "at", "municipality", "actor", "action", "object_type", "object_id", "detail"}
    paged = admin.get("/api/audit", query_string={"limit": 1}).json
    assert len(paged["items"]) == 1 and paged["next_before"] == paged["items"][0]["id"]
    assert paged["items"][0]["action"] == "merged"                  # the newest of all


@pytest.mark.parametrize("role", ["operator", "crew", "council", "public"])
def test_a_key_of_any_role_is_refused(shared_client, borgo_keys, role):
    resp = shared_client.get("/api/audit", headers={"X-API-Key": borgo_keys[role]})
    assert resp.status_code == 403 and role in resp.json["error"]


@pytest.mark.parametrize("username", sorted(BORGO_LOGINS))
def test_a_login_of_any_role_but_admin_is_refused(shared_client, username):
    _log_in(shared_client, username)
    assert shared_client.get("/api/audit").status_code == 403


def test_nobody_logged_in_is_asked_to_log_in(shared_client):
    assert shared_client.get("/api/audit").status_code == 401


@pytest.mark.parametrize("name, value", [("since", "yesterday"), ("until", "2026-03-10T09:00:00"),
                                         ("limit", "5000"), ("object_id", "seven"), ("before", "x")])
def test_a_bad_parameter_is_a_400_naming_it(admin, name, value):
    resp = admin.get("/api/audit", query_string={name: value})
    assert resp.status_code == 400 and name in resp.json["error"], resp.json
