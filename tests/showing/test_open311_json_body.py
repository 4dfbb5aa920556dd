"""A JSON POST body is read as strictly as a form: wrong types, broken JSON and odd dates are 400s, never 500s."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from geo_urp.db import session_scope
from geo_urp.models import Report
from tests.showing.open311_support import API, latlong, validate


def _count(url: str) -> int:
    with session_scope(url) as s:
        return s.scalar(select(func.count()).select_from(Report))


def _post_json(client, body, raw: str | None = None):
    data = raw if raw is not None else json.dumps(body)
    return client.post(f"{API}/requests.json", data=data, content_type="application/json")


def _error(resp, status: int) -> str:
    assert resp.status_code == status, resp.data
    validate(resp.json, "errors.json")
    return resp.json[0]["description"]


def test_numbers_are_accepted_for_lat_and_long(borgo_db_url, borgo_client, borgo_keys):
    where = {k: float(v) for k, v in latlong(500, 500).items()}
    resp = _post_json(borgo_client, {"api_key": borgo_keys["public"], "service_code": "noise", **where})
    assert resp.status_code == 201, resp.data
    assert _count(borgo_db_url) == 1


@pytest.mark.parametrize("field, value, words", [
    ("api_key", 12345678, "api_key is invalid"),
    ("api_key", ["gu_x"], "api_key must be text or a number, not a list"),
    ("service_code", {"code": "noise"}, "service_code must be text or a number, not an object"),
    ("description", True, "description must be text or a number, not true/false"),
    ("lat", [45.1, 45.2], "lat must be text or a number, not a list"),
    ("attributes", ["source"], "attributes must be an object"),
])
def test_a_field_of_the_wrong_type_is_named(shared_db_url, shared_client, borgo_keys, field, value, words):
    body = {"api_key": borgo_keys["public"], "service_code": "noise", **latlong(500, 500), field: value}
    status = 403 if words.startswith("api_key is invalid") else 400
    assert words in _error(_post_json(shared_client, body), status)
    assert _count(shared_db_url) == 0


@pytest.mark.parametrize("raw, words", [
    ('{"service_code": "noise",', "not valid JSON"),
    ('["noise"]', "must be a JSON object"),
    ('"noise"', "must be a JSON object"),
])
def test_a_body_that_is_not_a_json_object_is_refused(shared_db_url, shared_client, raw, words):
    assert words in _error(_post_json(shared_client, None, raw), 400)
    assert _count(shared_db_url) == 0


@pytest.mark.parametrize("when, words", [
    ("0001-01-01T00:00:00+01:00", "days ago"),
    ("1900-05-01T10:00:00+01:00", "days ago"),
    ("9999-12-31T23:59:59-01:00", "in the future"),
])
def test_a_requested_datetime_out_of_range_is_refused(shared_db_url, shared_client, borgo_keys, when, words):
    body = {"api_key": borgo_keys["operator"], "service_code": "noise", **latlong(500, 500),
            "requested_datetime": when}
    assert words in _error(_post_json(shared_client, body), 400)
    assert _count(shared_db_url) == 0


def test_an_overlong_address_names_address_string(shared_db_url, shared_client, borgo_keys):
    body = {"api_key": borgo_keys["public"], "service_code": "noise", "address_string": "via roma " * 60}
    description = _error(_post_json(shared_client, body), 400)
    assert description.startswith("address_string is") and "'q'" not in description
    assert _count(shared_db_url) == 0


def test_json_nested_too_deeply_is_refused_not_a_crash(shared_db_url, shared_client):
    raw = '{"service_code": ' + "[" * 100_000 + "]" * 100_000 + "}"
    assert "nests too deeply" in _error(_post_json(shared_client, None, raw), 400)
    assert _count(shared_db_url) == 0


@pytest.mark.parametrize("lat", ["4_5.1", "nan", "inf", "٤٦.١", "４６.１", "46.1\u200b"])
def test_a_coordinate_python_would_read_but_no_one_writes_is_refused(shared_db_url, shared_client, borgo_keys,
                                                                     lat):
    body = {"api_key": borgo_keys["public"], "service_code": "noise", **latlong(500, 500), "lat": lat}
    assert "lat must be a number" in _error(_post_json(shared_client, body), 400)
    assert _count(shared_db_url) == 0
