"""GET /api/incidents by role (SPEC §6): operators see the calls, council aggregates, a crew its own work."""
from __future__ import annotations

import pytest
from pyproj import Transformer
from sqlalchemy import select

from geo_urp.accounts import create_api_key, principal_for_key
from geo_urp.db import session_scope
from geo_urp.errors import BadInput
from geo_urp.loading.loader import load_municipality
from geo_urp.models import Municipality
from geo_urp.reading.incidents import COUNCIL_GRID_M
from tests.conftest import BORGO
from tests.showing.open311_support import latlong, post


@pytest.fixture()
def night(borgo_client, borgo_keys):
    """A leak on main P4 (water crew ACQUA), a pothole (roads crew STRADE), noise (no crew)."""
    ids = {}
    for code, where in (("water_leak", (503, 380)), ("road_damage", (200, 700)), ("noise", (800, 200))):
        resp = post(borgo_client, borgo_keys["operator"], service_code=code, **latlong(*where))
        assert resp.status_code == 201, resp.data
        ids[code] = resp.json[0]["service_request_id"]
    return ids


def _features(client, key) -> list[dict]:
    resp = client.get("/api/incidents", headers={"X-API-Key": key})
    assert resp.status_code == 200, resp.data
    return [f["properties"] for f in resp.json["features"]]


def test_the_operator_sees_every_incident_with_its_calls(borgo_client, borgo_keys, night):
    got = {p["kind"]: p for p in _features(borgo_client, borgo_keys["operator"])}
    assert set(got) == {"water_main_burst", "road_damage", "noise"}
    assert got["water_main_burst"]["report_ids"] == [night["water_leak"]]
    assert all(p["report_count"] == 1 for p in got.values())


def _collection(client, key) -> dict:
    return {f["properties"]["kind"]: f for f in client.get(
        "/api/incidents", headers={"X-API-Key": key}).json["features"]}


def test_the_council_sees_counts_but_no_call(borgo_client, borgo_keys, night):
    got = _features(borgo_client, borgo_keys["council"])
    # one call of noise is one household: not for the council's map (the pothole and the leak are)
    assert sorted(p["kind"] for p in got) == ["road_damage", "water_main_burst"]
    assert all(p["report_count"] == 1 for p in got)
    assert all("report_ids" not in p and "explanation" not in p for p in got)
    assert all(p["opened_at"].endswith(":00:00+00:00") for p in got), got


def test_the_council_sees_where_callers_were_only_to_a_grid_cell(borgo_client, borgo_keys, night):
    council = _collection(borgo_client, borgo_keys["council"])
    operator = _collection(borgo_client, borgo_keys["operator"])
    to_metres = Transformer.from_crs(4326, 32632, always_xy=True)
    for n in range(2):                                              # three calls of noise: a pattern now
        resp = post(borgo_client, borgo_keys["operator"], service_code="noise", **latlong(810 + 5 * n, 205))
        assert resp.status_code == 201, resp.data
    council = _collection(borgo_client, borgo_keys["council"])
    assert council["noise"]["properties"]["report_count"] == 3
    for kind in ("noise", "road_damage"):                           # placed where the caller was
        x, y = to_metres.transform(*council[kind]["geometry"]["coordinates"])
        cell = COUNCIL_GRID_M
        assert abs(x % cell - cell / 2) < 0.5 and abs(y % cell - cell / 2) < 0.5, (kind, x, y)
        assert council[kind]["geometry"] != operator[kind]["geometry"]
    # a burst main is the town's pipe, not anybody's doorstep: drawn as it is
    assert council["water_main_burst"]["geometry"] == operator["water_main_burst"]["geometry"]


def test_a_crew_sees_only_its_own_work(borgo_client, borgo_keys, night):
    got = _features(borgo_client, borgo_keys["crew"])                 # the ACQUA crew's key
    assert [(p["kind"], p["crew_id"]) for p in got] == [("water_main_burst", "ACQUA")]


def test_a_crew_key_needs_an_existing_crew(shared_db_url):
    with session_scope(shared_db_url) as s:
        with pytest.raises(BadInput, match="--crew"):
            create_api_key(s, "crew", "borgo")
        with pytest.raises(BadInput, match="no crew 'NESSUNA'"):
            create_api_key(s, "crew", "borgo", "NESSUNA")
        with pytest.raises(BadInput, match="only for the crew role"):
            create_api_key(s, "operator", "borgo", "ACQUA")
        with pytest.raises(BadInput, match="role must be one of"):
            create_api_key(s, "admin", "borgo")


def test_a_crew_key_is_bound_to_the_town_of_its_crew(borgo_db_url, borgo_client, night):
    with session_scope(borgo_db_url) as s:
        key = create_api_key(s, "crew", None, "ACQUA")                # only Borgo has an ACQUA crew
        assert principal_for_key(s, key).municipality_id == s.scalar(
            select(Municipality.id).where(Municipality.slug == "borgo"))
        load_municipality(s, BORGO, "borgo-bis")                      # a second town, with its own ACQUA
        with pytest.raises(BadInput, match="crew 'ACQUA' exists in borgo, borgo-bis: say which"):
            create_api_key(s, "crew", None, "ACQUA")
        bis = create_api_key(s, "crew", "borgo-bis", "ACQUA")
    assert [p["crew_id"] for p in _features(borgo_client, key)] == ["ACQUA"]
    assert _features(borgo_client, bis) == []                         # Borgo's burst is not theirs


def test_incidents_are_served_as_geojson(shared_client, borgo_keys):
    resp = shared_client.get("/api/incidents", headers={"X-API-Key": borgo_keys["operator"]})
    assert resp.mimetype == "application/geo+json" and resp.json["type"] == "FeatureCollection"
