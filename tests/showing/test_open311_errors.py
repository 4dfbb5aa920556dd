"""Open311 errors as GeoReport v2 says (400/403/404 with the error list, JSON and XML), privacy, retries, roles."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from geo_urp.db import session_scope
from geo_urp.loading.loader import load_municipality
from geo_urp.models import CallerContact, Report
from tests.conftest import BORGO
from tests.showing.open311_support import API, latlong, post, validate, xml_of

FORMATS = ("json", "xml")
PERSON = {"first_name": "Giuseppina", "last_name": "Zanoni", "email": "giuseppina.zanoni@example.it",
          "phone": "+39 347 9876543", "device_id": "device-7f3a9", "account_id": "account-55821"}


def assert_error(resp, status: int, fmt: str, words: str = "") -> str:
    """The answer is the GeoReport v2 error list with ``status``; returns its description."""
    assert resp.status_code == status, resp.data
    if fmt == "json":
        validate(resp.json, "errors.json")
        assert resp.json[0]["code"] == status
        description = resp.json[0]["description"]
    else:
        root = xml_of(resp)
        assert root.tag == "errors" and [c.tag for c in root] == ["error"]
        assert root.findtext("error/code") == str(status)
        description = root.findtext("error/description")
    assert words in description
    return description


def _count(url: str, model=Report) -> int:
    with session_scope(url) as s:
        return s.scalar(select(func.count()).select_from(model))


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("key, fields, status, words", [
    (None, {"service_code": "noise"}, 403, "api_key was not provided"),
    ("gu_not-a-key", {"service_code": "noise"}, 403, "api_key is invalid"),
    ("council", {"service_code": "noise"}, 403, "may not submit"),
    ("public", {}, 400, "service_code is required"),
    ("public", {"service_code": "potholes"}, 400, "'potholes' is not offered"),
    ("public", {"service_code": "noise", "lat": "", "long": ""}, 400, "a location is required"),
    ("public", {"service_code": "noise", "address_string": "via romagnoli 3"}, 400, "closest: Via Roma"),
    ("public", {"service_code": "noise", **latlong(3000, 500)}, 400, "outside Borgo Prova"),
    ("public", {"service_code": "noise", "jurisdiction_id": "atlantide"}, 404, "'atlantide' was not found"),
    ("public", {"service_code": "noise", "requested_datetime": "2026-01-01T00:00:00+01:00",
                **latlong(500, 500)}, 403, "requested_datetime"),
    ("public", {"service_code": "noise", "attribute[source]": "tuba", **latlong(500, 500)}, 400,
     "attribute[source]"),
])
def test_a_refused_post_gets_the_open311_error_and_stores_nothing(shared_db_url, shared_client, borgo_keys,
                                                                  fmt, key, fields, status, words):
    resp = post(shared_client, borgo_keys.get(key, key), fmt, **fields)
    assert_error(resp, status, fmt, words)
    assert _count(shared_db_url) == 0


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("path, status, words", [
    ("/services/potholes", 404, "'potholes' was not found"),
    ("/requests/999999", 404, "'999999' was not found"),
    ("/requests/abc", 404, "'abc' was not found"),
    ("/requests/\u00b2", 404, "was not found"),  # a superscript two is a digit to str.isdigit, not an id
    ("/tokens/nope", 404, "token 'nope' was not found"),
    ("/requests?status=pending", 400, "status must be open or closed"),
    ("/requests?service_code=potholes", 400, "potholes"),
    ("/requests?start_date=yesterday", 400, "start_date must be an ISO 8601"),
    ("/requests?start_date=2026-01-01T00:00:00Z&end_date=2026-06-01T00:00:00Z", 400, "at most 90"),
    ("/requests?start_date=2026-06-01T00:00:00Z&end_date=2026-01-01T00:00:00Z", 400, "is after"),
    ("/requests?end_date=0001-01-01T00:00:00Z", 400, "inside the calendar"),
    ("/requests?start_date=9999-12-30T00:00:00Z", 400, "inside the calendar"),
    ("/requests?service_request_id=1,x", 400, "comma-separated"),
    ("/services?jurisdiction_id=atlantide", 404, "'atlantide' was not found"),
    ("/nonsense", 404, "no Open311 endpoint"),
])
def test_a_refused_read_gets_the_open311_error(shared_client, fmt, path, status, words):
    base, _, query = path.partition("?")
    url = f"{API}{base}.{fmt}" + (f"?{query}" if query else "")
    assert_error(shared_client.get(url), status, fmt, words)


def test_unknown_format_is_a_404_in_open311_form(shared_client):
    assert_error(shared_client.get(f"{API}/services.html"), 404, "json", "no Open311 endpoint")


def test_jurisdiction_is_required_when_several_towns_are_served(borgo_db_url, borgo_client, borgo_keys):
    with session_scope(borgo_db_url) as s:
        load_municipality(s, BORGO, "borgo-due")
    assert_error(borgo_client.get(f"{API}/services.json"), 400, "json", "jurisdiction_id was not provided")
    assert borgo_client.get(f"{API}/services.json?jurisdiction_id=borgo-due").status_code == 200
    # The key is bound to borgo: it may not post for another town.
    resp = post(borgo_client, borgo_keys["public"], service_code="noise", jurisdiction_id="borgo-due",
                **latlong(500, 500))
    assert_error(resp, 403, "json", "borgo-due")


def test_no_read_shows_the_callers_personal_data(borgo_db_url, borgo_client, borgo_keys):
    rid = post(borgo_client, borgo_keys["operator"], service_code="no_water", **latlong(400, 455), **PERSON,
               **{"attribute[extent]": "via"}).json[0]["service_request_id"]
    with session_scope(borgo_db_url) as s:
        contact = s.get(CallerContact, int(rid))
        assert contact.email == PERSON["email"] and contact.account_id == PERSON["account_id"]
        token = s.get(Report, int(rid)).token
    paths = ["/requests", f"/requests/{rid}", f"/tokens/{token}", "/services", "/services/no_water",
             f"/requests?service_request_id={rid}", "/requests?status=open&service_code=no_water", "/discovery"]
    for path in paths:
        base, _, query = path.partition("?")
        for fmt in ("json", "xml"):
            resp = borgo_client.get(f"{API}{base}.{fmt}" + (f"?{query}" if query else ""))
            assert resp.status_code == 200, (path, fmt)
            body = resp.get_data(as_text=True)
            for value in PERSON.values():
                assert value not in body, (path, fmt, value)
            assert "Zanoni" not in body and "9876543" not in body
    assert rid in borgo_client.get(f"{API}/requests.json").get_data(as_text=True)  # the loop did look at it


def test_an_idempotency_key_with_a_control_character_is_a_400_naming_it_and_stores_nothing(
        borgo_db_url, borgo_client, borgo_keys):
    resp = post(borgo_client, borgo_keys["public"], "json", {"Idempotency-Key": "call-1\x00"},
                service_code="noise", **latlong(500, 500))
    assert resp.status_code == 400 and "Idempotency-Key" in resp.get_data(as_text=True)
    assert _count(borgo_db_url) == 0


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_retry_with_the_same_idempotency_key_gets_the_first_answer_and_stores_one_row(
        borgo_db_url, borgo_client, borgo_keys, fmt):
    key, headers = borgo_keys["public"], {"Idempotency-Key": "call-2026-11-27-0042"}
    first = post(borgo_client, key, fmt, headers, service_code="noise", **latlong(500, 500), **PERSON)
    again = post(borgo_client, key, fmt, headers, service_code="noise", **latlong(500, 500), **PERSON)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.data == again.data
    assert _count(borgo_db_url) == 1 and _count(borgo_db_url, CallerContact) == 1
    other = post(borgo_client, key, fmt, {"Idempotency-Key": "call-2026-11-27-0043"},
                 service_code="noise", **latlong(500, 500))
    assert other.status_code == 201 and _count(borgo_db_url) == 2


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("change", [{"description": "un'altra chiamata"}, {"service_code": "road_damage"},
                                    {"first_name": "Giulia"}, {"phone": "+39 347 000 1111"}])
def test_an_idempotency_key_reused_for_another_call_is_refused_and_loses_nothing(
        borgo_db_url, borgo_client, borgo_keys, fmt, change):
    key, headers = borgo_keys["public"], {"Idempotency-Key": "call-2026-11-27-0050"}
    call = dict(service_code="noise", description="musica alta", **latlong(500, 500), **PERSON)
    assert post(borgo_client, key, fmt, headers, **call).status_code == 201
    other = post(borgo_client, key, fmt, headers, **{**call, **change})
    assert other.status_code == 422
    assert "Idempotency-Key" in other.get_data(as_text=True) and next(iter(change)) in other.get_data(as_text=True)
    assert _count(borgo_db_url) == 1
    # the same call again, its place typed a little differently, is still the retry it is
    again = post(borgo_client, key, fmt, headers, **{**call, **latlong(501, 500)})
    assert again.status_code == 200 and _count(borgo_db_url) == 1


def test_an_operator_key_may_set_requested_datetime(borgo_client, borgo_keys):
    day = (datetime.now(timezone.utc) - timedelta(days=300)).date()
    rid = post(borgo_client, borgo_keys["operator"], service_code="noise",
               requested_datetime=f"{day}T03:10:00+01:00", **latlong(500, 500)).json[0]["service_request_id"]
    got = borgo_client.get(f"{API}/requests/{rid}.json", headers={"X-API-Key": borgo_keys["operator"]}).json[0]
    assert got["requested_datetime"] == f"{day}T02:10:00+00:00"
    assert got["updated_datetime"] > got["requested_datetime"]


def test_a_public_key_may_not_set_requested_datetime(shared_db_url, shared_client, borgo_keys):
    resp = post(shared_client, borgo_keys["public"], service_code="noise",
                requested_datetime="2026-01-10T03:10:00+01:00", **latlong(500, 500))
    assert_error(resp, 403, "json", "operator")
    assert _count(shared_db_url) == 0


@pytest.mark.parametrize("path, fmt", [("/open311/v2/requests.json", "json"), ("/open311/v2/services.xml", "xml")])
def test_a_wrong_method_gets_an_open311_error(shared_client, path, fmt):
    resp = shared_client.put(path)
    assert resp.status_code == 405
    body = resp.get_data(as_text=True)
    if fmt == "json":
        assert resp.get_json() == [{"code": 405, "description": "PUT is not allowed here"}]
    else:
        assert "<errors>" in body and "<code>405</code>" in body
