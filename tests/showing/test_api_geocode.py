"""``GET /api/geocode`` (SPEC §4): best match and alternatives, 404 with a reason, credentials required."""
from __future__ import annotations

import pytest


def test_geocoding_needs_a_valid_key(shared_client):
    assert shared_client.get("/api/geocode?q=via+roma+12/A").status_code == 401
    assert shared_client.get("/api/geocode?q=via+roma+12/A", headers={"X-API-Key": "gu_wrong"}).status_code == 401


@pytest.mark.parametrize("role", ["operator", "public", "council", "crew"])
def test_any_role_may_geocode(shared_client, borgo_keys, role):
    resp = shared_client.get("/api/geocode?q=via+roma+12/A", headers={"X-API-Key": borgo_keys[role]})
    assert resp.status_code == 200, resp.data
    body = resp.json
    assert body["match"] == {"kind": "address", "street": "Via Roma", "number": "12/A", "label": "Via Roma 12/A"}
    assert 46.1 < body["lat"] < 46.3 and 11.0 < body["lon"] < 11.2
    assert 0 < body["score"] <= 1 and isinstance(body["alternatives"], list)


def test_a_place_that_matches_nothing_is_a_404_naming_the_closest(shared_client, borgo_keys):
    resp = shared_client.get("/api/geocode?q=via+romagnoli+3", headers={"X-API-Key": borgo_keys["public"]})
    assert resp.status_code == 404
    assert "romagnoli" in resp.json["error"] and resp.json["details"][0]["label"] == "Via Roma"


@pytest.mark.parametrize("query, status", [("q=", 400), ("q=via+roma&jurisdiction_id=atlantide", 404),
                                           ("q=via+roma&jurisdiction_id=borgo", 200)])
def test_an_empty_query_or_an_unknown_town_is_refused(shared_client, borgo_keys, query, status):
    headers = {"X-API-Key": borgo_keys["public"]}
    assert shared_client.get(f"/api/geocode?{query}", headers=headers).status_code == status
