"""A night replayed end to end: planted faults through the Open311 API, found by the incident engine.

Runs on the demo town and on a second town with another layout (tests/towns.py),
so that nothing is tuned to one map: every planted cause must come out as one
incident with its kind, asset, valves, crew and exactly its calls. A burst main's
valves and dry area (the planned ones and the engine's) are checked against
tests/water_truth.py, which derives them from the layer files and where the leak
calls were made alone, not from the engine's isolation code.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import requests
import shapely
from pyproj import Transformer
from shapely.geometry import LineString, MultiLineString, Point, mapping
from sqlalchemy import select, text

from geo_urp.accounts import create_api_key
from geo_urp.db import session_scope
from geo_urp.loading.loader import load_municipality
from geo_urp.models import Municipality
from geo_urp.reasoning.responsibility import SKILL
from geo_urp.reasoning.rules import rules_for
from geo_urp.simulate.replay import replay
from geo_urp.simulate.scenario import plan_night
from tests.showing.live_server import live_server
from tests.towns import marcallo_town
from tests.water_truth import BurstTruth, burst_truth

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


def _engine_dry(url: str, incident_id: int, srid: int) -> dict[str, list]:
    """The pipe parts of an incident's dry segments, by pipe: the engine's answer, read to compare."""
    with session_scope(url) as s:
        rows = s.execute(text(
            "SELECT p.pipe_id, ST_AsGeoJSON(ST_Transform(p.geom, :srid)) FROM incidents i "
            "JOIN water_pipe_parts p ON p.municipality_id = i.municipality_id "
            "AND p.segment_no = ANY(i.affected_segment_nos) WHERE i.id = :i"), {"i": incident_id, "srid": srid})
        dry: dict[str, list] = {}
        for pipe_id, geojson in rows:
            dry.setdefault(pipe_id, []).append(shapely.from_geojson(geojson))
    return dry


def _dry_differences(truth: BurstTruth, engine: dict[str, list]) -> list[str]:
    """Pipes whose dry stretches differ by more than 1 cm between the truth and the engine."""
    out = []
    for pipe_id in sorted(truth.dry.keys() | engine.keys()):
        if pipe_id not in engine or pipe_id not in truth.dry:
            out.append(f"{pipe_id}: dry only per the {'truth' if pipe_id in truth.dry else 'engine'}")
            continue
        ours, theirs = MultiLineString(truth.dry[pipe_id]), MultiLineString(engine[pipe_id])
        if abs(ours.length - theirs.length) > 0.01 or ours.hausdorff_distance(theirs) > 0.01:
            out.append(f"{pipe_id}: {ours.length:.2f} m dry per the truth, {theirs.length:.2f} m per the engine")
    return out


@pytest.mark.parametrize("town,seed", [("mezzolombardo", 1), ("mezzolombardo", 7), ("marcallo", 3)])
def test_every_planted_fault_is_one_incident(app, tmp_path, town, seed):
    url = app.config["DATABASE_URL"]
    folder = _town(town, tmp_path)
    with session_scope(url) as s:
        report = load_municipality(s, folder, town)
        # The water truth reads the layer files whole: the loader must have kept every feature.
        for layer in ("water_pipes", "water_valves", "water_sources", "addresses"):
            assert report.results[layer].kept == report.results[layer].read, (layer, report.results[layer])
        key = create_api_key(s, "operator", town)
        mid = s.scalar(select(Municipality.id).where(Municipality.slug == town))
        address_buffer_m = rules_for(s.get(Municipality, mid).rules).water["address_buffer_m"]
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
        # Exactly the fault's calls: this also keeps every background call (``fault`` None, so in
        # no fault's ``call_indexes``) out of the planted faults' incidents; no separate check needed.
        assert set(inc["report_ids"]) == calls, (fault, inc)
        if fault.asset_ids:
            assert inc["asset_ids"][:1] == list(fault.asset_ids[:1]), (fault, inc)
        if fault.kind == "water_main_burst":
            leaks = [(night.calls[i].lon, night.calls[i].lat) for i in fault.call_indexes
                     if night.calls[i].service_code == "water_leak"]
            truth = _check_burst(url, folder, fault.asset_ids[0], leaks, inc, address_buffer_m)
            # what the plan says the crew closes is the truth too
            assert set(fault.valves_to_close) == truth.valves_to_close, (fault, sorted(truth.valves_to_close))
        else:
            assert inc["valves_to_close"] == [] and fault.valves_to_close == (), (fault, inc)
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


def _check_burst(url: str, folder: Path, pipe_id: str, leaks: list[tuple[float, float]], inc: dict,
                 address_buffer_m: float) -> BurstTruth:
    """A burst incident's valves, dry area and address count against the truth from the layer files
    for a break where its leak calls were made (``leaks``: WGS84 longitude, latitude); the truth."""
    truth = burst_truth(folder, pipe_id, leaks, address_buffer_m)
    assert truth.valves_to_close, truth  # a planted burst needs shutting off
    valves = inc["valves_to_close"]
    assert len(valves) == len(set(valves)), inc
    assert set(valves) == truth.valves_to_close, (pipe_id, sorted(valves), sorted(truth.valves_to_close))
    assert pipe_id in truth.dry
    differences = _dry_differences(truth, _engine_dry(url, inc["id"], truth.srid))
    assert not differences, (pipe_id, differences)
    # An address counts for its nearest pipe part within the buffer; one equally near a dry and a
    # wet part (or at the buffer's edge) may go either way in PostGIS's nearest-neighbour query,
    # so the truth is a (low, high) bound, equal when there is no such tie.
    low, high = truth.addresses
    count = inc["affected_addresses"]
    assert count > 0 and low <= count <= high, (pipe_id, count, truth.addresses)
    return truth


def _write_layer(folder: Path, name: str, features: list[tuple[object, dict]]) -> None:
    """A GeoJSON layer from metric (UTM 32N) geometries, written in WGS84 like the towns' files."""
    to_wgs = Transformer.from_crs(32632, 4326, always_xy=True)
    folder.joinpath(f"{name}.geojson").write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": props,
         "geometry": mapping(shapely.transform(g, lambda xy: np.column_stack(to_wgs.transform(*xy.T))))}
        for g, props in features]}))


@pytest.fixture()
def hand_made_line(tmp_path):
    """Source - P1 - P2 (valve V1 mid-way) - P3 (inoperable V2 mid-way, valve V3 at its dead end),
    with P4 branching off the P2/P3 junction behind valve V4 at the junction itself; ``at(x, y)``
    gives a spot that many metres east and north of the source in WGS84, as a call carries it."""
    def pt(x: float, y: float = 0.0) -> Point:  # metres east and north of a spot in UTM 32N
        return Point(660_000.0 + x, 5_120_000.0 + y)

    _write_layer(tmp_path, "water_pipes", [
        (LineString([pt(a), pt(a + 100)]), {"pipe_id": f"P{n}"}) for n, a in ((1, 0), (2, 100), (3, 200))]
        + [(LineString([pt(200), pt(200, 100)]), {"pipe_id": "P4"})])
    _write_layer(tmp_path, "water_valves", [
        (pt(150), {"valve_id": "V1", "operable": True}), (pt(250), {"valve_id": "V2", "operable": False}),
        (pt(300), {"valve_id": "V3"}), (pt(200, 0.0005), {"valve_id": "V4"})])
    _write_layer(tmp_path, "water_sources", [(pt(0), {"source_id": "S1"})])
    _write_layer(tmp_path, "addresses", [(pt(20, 10), {}), (pt(280, 10), {}), (pt(200, 60), {}),
                                         (pt(150, 200), {})])
    to_wgs = Transformer.from_crs(32632, 4326, always_xy=True)
    return tmp_path, lambda x, y=0.0: to_wgs.transform(*pt(x, y).coords[0])


ALL_DRY = {"P1": 100, "P2": 100, "P3": 100, "P4": 100}
PAST_V1 = {"P2": 50, "P3": 100, "P4": 100}  # everything beyond V1 from the source


@pytest.mark.parametrize("pipe_id,leaks,valves,dry_m,addresses", [
    # P1: V1 stops the walk, everything beyond it loses the only source. The fourth address
    # is 100 m from any pipe.
    ("P1", [(50, 5)], {"V1"}, ALL_DRY, 3),
    # P3, on either side of inoperable V2: past it to the dead end; V3 faces nothing, so it is
    # not shut. V4 (on P4, the nearest pipe) keeps P4 apart from the cut-off junction, so P4
    # is dry but not cut off.
    ("P3", [(220, 3), (230, -4)], {"V1", "V4"}, PAST_V1, 2),
    ("P3", [(280, 3)], {"V1", "V4"}, PAST_V1, 2),
    # P4 behind V4; nothing else loses water.
    ("P4", [(205, 50)], {"V4"}, {"P4": 100}, 1),
    # P2 east of V1: V1 is shut and P2's west half keeps its water.
    ("P2", [(175, 3), (180, -3)], {"V1", "V4"}, PAST_V1, 2),
    # ...also with a stray caller far west: the median of the positions stays east of V1
    # (their mean, 146.7 m, would not).
    ("P2", [(160, 3), (170, -3), (110, 4)], {"V1", "V4"}, PAST_V1, 2),
    # P2 west of V1: the broken piece runs back to the source, so shutting V1 leaves all dry.
    ("P2", [(125, 3), (130, -3)], {"V1"}, ALL_DRY, 3),
], ids=["P1", "P3-west-of-inoperable-V2", "P3-east-of-it", "P4", "P2-east-of-V1", "P2-east-with-a-stray",
        "P2-west-of-V1"])
def test_water_truth_on_a_hand_made_line(hand_made_line, pipe_id, leaks, valves, dry_m, addresses):
    folder, at = hand_made_line
    truth = burst_truth(folder, pipe_id, [at(x, y) for x, y in leaks], 80)
    assert truth.srid == 32632 and truth.valves_to_close == valves
    assert {p: round(sum(g.length for g in gs)) for p, gs in truth.dry.items()} == dry_m
    assert truth.addresses == (addresses, addresses)


def test_water_truth_needs_the_leak_calls(hand_made_line):
    folder, _ = hand_made_line
    with pytest.raises(ValueError, match="a burst on P2 needs the positions of its leak calls"):
        burst_truth(folder, "P2", [])
    with pytest.raises(KeyError, match="no pipe P9"):
        burst_truth(folder, "P9", [(11.0, 46.0)])
