"""The Open311 POST from the operator's console: a logged-in operator posts without an api_key, with
the page's CSRF token; any other login, a post without the token, or no credentials is refused and
stores nothing. An api_key POST is unchanged (it needs no token, whatever cookie rides along)."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from geo_urp.db import session_scope
from geo_urp.models import Report
from tests.conftest import make_app
from tests.showing.open311_support import latlong, validate

URL = "/open311/v2/requests.json"
CALL = {"service_code": "road_damage", "description": "buca profonda", "first_name": "Maria",
        "phone": "+39 347 123 4567", **latlong(300, 500)}


@pytest.fixture()
def console(borgo_db_url):
    """A client of an app that checks CSRF tokens, on a Borgo database of its own."""
    return make_app(borgo_db_url, WTF_CSRF_ENABLED=True).test_client()


def _log_in(client, user: str) -> str:
    """Log ``user`` in through the real form; the token of the page it lands on."""
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', client.get("/login").get_data(as_text=True))[1]
    resp = client.post("/login", data={"username": user, "password": f"password-{user}", "csrf_token": token})
    assert resp.status_code == 302, resp.data
    return token


def _reports(db_url: str) -> int:
    with session_scope(db_url) as s:
        return s.scalar(select(func.count()).select_from(Report))


def test_a_logged_in_operator_posts_a_call_with_the_page_token(console, borgo_db_url):
    token = _log_in(console, "anna")
    resp = console.post(URL, json=CALL, headers={"X-CSRFToken": token})
    assert resp.status_code == 201, resp.data
    validate(resp.json, "post.json")
    rid = int(resp.json[0]["service_request_id"])
    with session_scope(borgo_db_url) as s:
        report = s.get(Report, rid)
        assert (report.service_code, report.description, report.status, report.api_key_id) == (
            "road_damage", "buca profonda", "open", None)
        assert (report.contact.first_name, report.contact.phone) == ("Maria", "+39 347 123 4567")
    # and it is in an incident at once, as a call through a key is
    incidents = console.get("/api/incidents").json["features"]
    assert [f["properties"]["kind"] for f in incidents if str(rid) in f["properties"]["report_ids"]] == [
        "road_damage"]


def test_an_operator_logs_an_information_request_closed_with_the_answer(console, borgo_db_url):
    token = _log_in(console, "anna")
    resp = console.post(URL, headers={"X-CSRFToken": token}, json={
        "service_code": "info_request", "address_string": "municipio", "attribute[topic]": "anagrafe",
        "attribute[answer]": "L'anagrafe apre alle 8:30."})
    assert resp.status_code == 201, resp.data
    with session_scope(borgo_db_url) as s:
        report = s.get(Report, int(resp.json[0]["service_request_id"]))
        assert (report.status, report.status_notes, report.geocode_kind) == (
            "closed", "L'anagrafe apre alle 8:30.", "landmark")


def test_a_session_post_without_the_token_is_refused_and_stores_nothing(console, borgo_db_url):
    _log_in(console, "anna")
    resp = console.post(URL, json=CALL)
    assert resp.status_code == 400 and "CSRF" in resp.json[0]["description"], resp.data
    validate(resp.json, "errors.json")
    assert _reports(borgo_db_url) == 0


def test_a_council_login_may_not_post(console, borgo_db_url):
    token = _log_in(console, "carla")
    resp = console.post(URL, json=CALL, headers={"X-CSRFToken": token})
    assert resp.status_code == 403 and "council" in resp.json[0]["description"], resp.data
    assert _reports(borgo_db_url) == 0


def test_without_a_login_the_api_key_is_still_required(console, borgo_db_url):
    resp = console.post(URL, json=CALL)
    assert resp.status_code == 403 and "api_key was not provided" in resp.json[0]["description"], resp.data
    assert _reports(borgo_db_url) == 0


def test_an_api_key_post_needs_no_token_even_beside_a_session(console, borgo_keys, borgo_db_url):
    _log_in(console, "anna")
    assert console.post(URL, json={**CALL, "api_key": borgo_keys["public"]}).status_code == 201
    assert console.post(URL, json=CALL, headers={"X-API-Key": borgo_keys["operator"]}).status_code == 201
    # a key decides, not the login: a council key is refused although anna is logged in
    assert console.post(URL, json={**CALL, "api_key": borgo_keys["council"]}).status_code == 403
    assert _reports(borgo_db_url) == 2
