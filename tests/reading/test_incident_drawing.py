"""What ``GET /api/incidents`` adds for drawing an incident as what it is (``reading.incidents``):
the valves to close with their positions in closing order, the cabinet feeding a dark circuit;
the council gets neither (``privacy.COUNCIL_HIDES``).

Positions are checked against Borgo's layer files, transformed here with pyproj, not against
what the service stored.
"""
from __future__ import annotations

import json

import pytest
from pyproj import Transformer

from tests.conftest import BORGO
from tests.showing.intake_support import DARK_LAMPS, LEAKS, call

_TO_WGS = Transformer.from_crs(32632, 4326, always_xy=True)


def _layer_points(layer: str, id_field: str) -> dict[str, tuple[float, float]]:
    """``id -> (lat, lon)`` of a Borgo point layer, from its file."""
    doc = json.loads((BORGO / f"{layer}.geojson").read_text(encoding="utf-8"))
    out = {}
    for f in doc["features"]:
        lon, lat = _TO_WGS.transform(*f["geometry"]["coordinates"][:2])
        out[f["properties"][id_field]] = (lat, lon)
    return out


def _incidents(client, key: str) -> dict[str, dict]:
    resp = client.get("/api/incidents", headers={"X-API-Key": key})
    assert resp.status_code == 200, resp.data
    return {f["properties"]["kind"]: f["properties"] for f in resp.json["features"]}


@pytest.fixture()
def night(borgo_client, borgo_keys):
    """A burst of main P5 (four leak calls) and the dark circuit C1 (three lamp calls)."""
    for at in LEAKS:
        call(borgo_client, borgo_keys["operator"], "water_leak", at)
    for at in DARK_LAMPS:
        call(borgo_client, borgo_keys["operator"], "streetlight_out", at)


def test_a_burst_carries_its_valves_to_close_in_order_where_they_stand(borgo_client, borgo_keys, night):
    burst = _incidents(borgo_client, borgo_keys["operator"])["water_main_burst"]
    assert burst["valves_to_close"], burst
    valves = _layer_points("water_valves", "valve_id")
    points = burst["valve_points"]
    assert [p["valve_id"] for p in points] == burst["valves_to_close"]
    for p in points:
        lat, lon = valves[p["valve_id"]]
        assert (p["lat"], p["lon"]) == pytest.approx((lat, lon), abs=1e-6), p
    assert burst["cabinet_points"] == []


def test_a_dark_circuit_carries_the_cabinet_that_feeds_it(borgo_client, borgo_keys, night):
    circuit = _incidents(borgo_client, borgo_keys["operator"])["lighting_circuit"]
    assert circuit["asset_ids"] == ["C1"]
    (cabinet,) = circuit["cabinet_points"]
    lat, lon = _layer_points("lighting_cabinets", "cabinet_id")["Q1"]
    assert cabinet["cabinet_id"] == "Q1"
    assert (cabinet["lat"], cabinet["lon"]) == pytest.approx((lat, lon), abs=1e-6)
    assert circuit["valve_points"] == []


def test_the_council_gets_no_drawing_detail(borgo_client, borgo_keys, night):
    council = _incidents(borgo_client, borgo_keys["council"])
    assert set(council) == {"water_main_burst", "lighting_circuit"}
    for props in council.values():
        assert not {"valve_points", "cabinet_points", "report_ids", "explanation"} & set(props), props
