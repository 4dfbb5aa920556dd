"""A night replayed end to end: planted faults through the Open311 API, found by the incident engine.

Runs on the demo town and on a second town with another layout (tests/towns.py),
so that nothing is tuned to one map: every planted cause must come out as one
incident with its kind, asset, valves, crew and exactly its calls.
"""
from __future__ import annotations

from pathlib import Path

import pytest
import requests
from sqlalchemy import select, text

from geo_urp.accounts import create_api_key
from geo_urp.db import session_scope
from geo_urp.loading.loader import load_municipality
from geo_urp.models import Municipality
from geo_urp.reasoning.responsibility import SKILL
from geo_urp.simulate.replay import replay
from geo_urp.simulate.scenario import plan_night
from tests.showing.live_server import live_server
from tests.towns import marcallo_town

DEMO = Path(__file__).resolve().parent.parent / "layers" / "mezzolombardo"
_AREAS = "SELECT area_id FROM crew_areas WHERE municipality_id = :m AND ST_Intersects(geom, ({}))"
FIX_AREAS = {  # kind -> the crew areas holding the thing a crew repairs (:a, the fault's asset)
    "lamp": _AREAS.format("SELECT geom FROM lamps WHERE municipality_id = :m AND lamp_id = :a"),
    "lighting_circuit": _AREAS.format(
        "SELECT q.geom FROM lighting_cabinets q JOIN lighting_circuits c ON c.cabinet_id = q.cabinet_id "
        "AND c.municipality_id = q.municipality_id WHERE c.municipality_id = :m AND c.circuit_id = :a"),
    "lighting_cabinet": _AREAS.format(
        "SELECT geom FROM lighting_cabinets WHERE municipality_id = :m AND cabinet_id = :a"),
    "water_main_burst": _AREAS.format(
        "SELECT ST_LineInterpolatePoint(geom, 0.5) FROM water_pipes WHERE municipality_id = :m AND pipe_id = :a"),
}


def _town(name: str, tmp_path: Path) -> Path:
    return DEMO if name == "mezzolombardo" else marcallo_town(tmp_path / "marcallo")


@pytest.mark.parametrize("town,seed", [("mezzolombardo", 1), ("mezzolombardo", 7), ("marcallo", 3)])
def test_every_planted_fault_is_one_incident(app, tmp_path, town, seed):
    url = app.config["DATABASE_URL"]
    with session_scope(url) as s:
        load_municipality(s, _town(town, tmp_path), town)
        key = create_api_key(s, "operator", town)
        mid = s.scalar(select(Municipality.id).where(Municipality.slug == town))
        night = plan_night(s, mid, seed)
        crews = {c: (set(a), set(k)) for c, a, k in s.execute(text(
            "SELECT crew_id, area_ids, skills FROM crews WHERE municipality_id = :m"), {"m": mid})}
        # Where each planted fault's fix is, asked of PostGIS apart from the engine: the crew areas holding it.
        fix_areas = {n: set(s.scalars(text(FIX_AREAS[f.kind]), {"m": mid, "a": f.asset_ids[0]}))
                     for n, f in enumerate(night.faults) if f.kind in FIX_AREAS}
    with live_server(app) as base:
        result = replay(night, base, key, jurisdiction_id=town)
        assert result.ok, result.errors
        fc = requests.get(f"{base}/api/incidents", params={"jurisdiction_id": town},
                          headers={"X-API-Key": key}, timeout=30).json()
    by_report = {rid: f["properties"] for f in fc["features"] for rid in f["properties"]["report_ids"]}
    # every report of the night is in exactly one open incident, info requests in none
    linked = [rid for f in fc["features"] for rid in f["properties"]["report_ids"]]
    assert len(linked) == len(set(linked))
    for i, c in enumerate(night.calls):
        assert (result.ids[i] in by_report) == (c.service_code != "info_request"), c
    for n, fault in enumerate(night.faults):
        calls = {result.ids[i] for i in fault.call_indexes}
        incidents = {by_report[r]["id"] for r in calls}
        assert len(incidents) == 1, (fault, incidents)
        inc = by_report[next(iter(calls))]
        assert inc["kind"] == fault.kind, (fault, inc)
        assert set(inc["report_ids"]) == calls, (fault, inc)
        if fault.asset_ids:
            assert inc["asset_ids"][:1] == list(fault.asset_ids[:1]), (fault, inc)
        assert inc["valves_to_close"] == list(fault.valves_to_close), (fault, inc)
        if n in fix_areas:
            assert inc["area_id"] in fix_areas[n], (fault, inc, fix_areas[n])
        skill = SKILL[inc["kind"]]
        if skill is None:
            assert inc["crew_id"] is None
        else:
            areas, skills = crews[inc["crew_id"]]
            assert inc["area_id"] in areas and skill in skills, inc
        assert inc["explanation"] and 0 < inc["confidence"] <= 1
    # scattered single lamps stay single lamps (checked per fault above); no circuit without a planted one
    planted_circuits = {a for f in night.faults if f.kind == "lighting_circuit" for a in f.asset_ids}
    found_circuits = {a for f in fc["features"] if f["properties"]["kind"] == "lighting_circuit"
                      for a in f["properties"]["asset_ids"]}
    assert found_circuits == planted_circuits
    # rain never makes a burst: the only bursts are the planted ones
    assert sorted(f["properties"]["asset_ids"][0] for f in fc["features"]
                  if f["properties"]["kind"] == "water_main_burst") == sorted(
        f.asset_ids[0] for f in night.faults if f.kind == "water_main_burst")
