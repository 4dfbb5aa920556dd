"""No request is read past its limits (``MAX_REQUEST_BYTES``, ``MAX_FORM_FIELDS``): a 413 in the
path's own format, and nothing stored."""
from __future__ import annotations

from sqlalchemy import func, select

from geo_urp.db import session_scope
from geo_urp.models import Report
from tests.acting.test_intake import latlong

POST = "/open311/v2/requests.json"


def _reports(url: str) -> int:
    with session_scope(url) as s:
        return s.scalar(select(func.count()).select_from(Report))


def test_a_huge_body_is_refused_unread(borgo_client, borgo_keys, borgo_db_url):
    body = {"api_key": borgo_keys["public"], "service_code": "noise", **latlong(500, 500),
            "description": "x" * 3_000_000}
    resp = borgo_client.post(POST, data=body)
    assert resp.status_code == 413 and "too large" in resp.json[0]["description"]
    assert _reports(borgo_db_url) == 0


def test_thousands_of_form_fields_are_refused(borgo_client, borgo_keys, borgo_db_url):
    body = {"api_key": borgo_keys["public"], "service_code": "noise", **latlong(500, 500),
            **{f"attribute[x{n}]": "1" for n in range(5000)}}
    resp = borgo_client.post(POST, data=body)
    assert resp.status_code == 413 and _reports(borgo_db_url) == 0
    xml = borgo_client.post("/open311/v2/requests.xml", data=body)
    assert xml.status_code == 413 and b"<errors>" in xml.data


def test_an_api_body_past_the_limit_is_a_json_413(borgo_client, borgo_keys):
    resp = borgo_client.post("/api/incidents/merge", data=b"[" + b"1," * 600_000 + b"1]",
                             content_type="application/json", headers={"X-API-Key": borgo_keys["operator"]})
    assert resp.status_code == 413 and resp.json["details"] == [{"field": "request"}]


def test_an_ordinary_call_is_well_within_the_limits(borgo_client, borgo_keys):
    body = {"api_key": borgo_keys["public"], "service_code": "noise", **latlong(500, 500),
            "description": "musica alta " * 300, "first_name": "Maria", "email": "maria@example.it"}
    assert borgo_client.post(POST, data=body).status_code == 201


def test_a_query_of_thousands_of_parameters_is_refused(borgo_client):
    query = "&".join(f"p{n}=1" for n in range(1000))
    assert borgo_client.get(f"/open311/v2/requests.json?{query}").status_code == 413
