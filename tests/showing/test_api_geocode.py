"""``GET /api/geocode`` (SPEC §4): best match and alternatives, 404 with a reason, credentials required."""
from __future__ import annotations

import pytest

from tests.showing.open311_support import keys  # noqa: F401


def test_needs_credentials(client, keys):
    assert client.get("/api/geocode?q=via+roma+12/A").status_code == 401
    assert client.get("/api/geocode?q=via+roma+12/A", headers={"X-API-Key": "gu_wrong"}).status_code == 401


@pytest.mark.parametrize("role", ["operator", "public", "council", "crew"])
def test_any_role_may_geocode(client, keys, role):
    resp = client.get("/api/geocode?q=via+roma+12/A", headers={"X-API-Key": keys[role]})
    assert resp.status_code == 200, resp.data
    body = resp.json
    assert body["match"] == {"kind": "address", "street": "Via Roma", "number": "12/A", "label": "Via Roma 12/A"}
    assert 46.1 < body["lat"] < 46.3 and 11.0 < body["lon"] < 11.2
    assert 0 < body["score"] <= 1 and isinstance(body["alternatives"], list)


def test_nothing_matches_is_404_with_reason(client, keys):
    resp = client.get("/api/geocode?q=via+romagnoli+3", headers={"X-API-Key": keys["public"]})
    assert resp.status_code == 404
    assert "romagnoli" in resp.json["error"] and resp.json["details"][0]["label"] == "Via Roma"


@pytest.mark.parametrize("query, status", [("q=", 400), ("q=via+roma&jurisdiction_id=atlantide", 404),
                                           ("q=via+roma&jurisdiction_id=borgo", 200)])
def test_bad_queries(client, keys, query, status):
    assert client.get(f"/api/geocode?{query}", headers={"X-API-Key": keys["public"]}).status_code == status
