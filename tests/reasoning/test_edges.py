"""Edges of the incident rules on the Borgo fixture: calls not on the network, calls that come
back after the window, and operators' corrections that change what an incident is about."""
from __future__ import annotations

from sqlalchemy import func, select, text

from geo_urp.models import IncidentReport, Municipality, Report
from geo_urp.reasoning import corrections
from geo_urp.reasoning.rules import DEFAULTS
from tests.reasoning.conftest import incident_of, open_incidents, report_ids

HOURS = DEFAULTS["lighting"]["window_h"]


def _lamp_xy(session, mid, lamp):
    return tuple(session.execute(text("SELECT ST_X(geom), ST_Y(geom) FROM lamps WHERE municipality_id = :m "
                                      "AND lamp_id = :l"), {"m": mid, "l": lamp}).one())


def _each_report_linked_once(session, mid):
    reports = session.scalar(select(func.count()).select_from(Report).where(Report.municipality_id == mid))
    linked = session.scalar(select(func.count(func.distinct(IncidentReport.report_id))).select_from(IncidentReport))
    rows = session.scalar(select(func.count()).select_from(IncidentReport))
    return reports == linked == rows


def test_a_street_light_call_with_no_lamp_does_not_join_a_lamp_incident(session, borgo, call):
    _, lamp = call("streetlight_out", 0, lamp="L01")
    x, y = _lamp_xy(session, borgo, "L01")
    _, loose = call("streetlight_out", 5, at=(x + 10, y + 10))   # same spot, but no lamp snapped
    assert loose.id != lamp.id and loose.kind == "lamp" and loose.asset_ids == []
    assert lamp.asset_ids == ["L01"] and len(report_ids(session, lamp)) == 1
    assert loose.area_id == lamp.area_id == "A1" and loose.crew_id == "LUCI-O"  # placed by its own point


def test_an_unlocated_water_call_does_not_join_a_located_outage(session, borgo, call):
    _, located = call("no_water", 0, pipe="P6", at=(690, 455))
    _, loose = call("no_water", 10, at=(695, 460))              # no main snapped
    assert loose.id != located.id and loose.affected_segment_nos == [] and located.affected_segment_nos == [5]


def test_a_circuit_that_took_in_an_old_lamp_still_counts_for_its_cabinet(session, borgo, call):
    call("streetlight_out", 0, lamp="L01")                          # C1's first lamp
    _, c1 = call("streetlight_out", (HOURS - 1) * 60, lamp="L02")   # 2 of 4 in the window: circuit C1
    assert c1.kind == "lighting_circuit" and c1.opened_at.hour == 22  # opened with its first call
    call("streetlight_out", (HOURS + 1) * 60, lamp="L05")
    _, cab = call("streetlight_out", (HOURS + 1) * 60 + 5, lamp="L06")  # C2 fails while C1 is still dark
    assert (cab.kind, cab.asset_ids) == ("lighting_cabinet", ["Q1"])
    assert [i.id for i in open_incidents(session, borgo)] == [cab.id]
    assert len(report_ids(session, cab)) == 4


def test_a_circuit_does_not_take_in_a_lamp_reported_before_its_window(session, borgo, call):
    old, _ = call("streetlight_out", 0, lamp="L01")
    call("streetlight_out", (HOURS + 8) * 60, lamp="L02")
    r3, circuit = call("streetlight_out", (HOURS + 8) * 60 + 5, lamp="L03")
    assert (circuit.kind, circuit.asset_ids) == ("lighting_circuit", ["C1"])
    assert incident_of(session, old).kind == "lamp" and old.id not in report_ids(session, circuit)
    assert _each_report_linked_once(session, borgo)


def test_a_burst_still_open_takes_a_leak_call_on_its_main_after_the_window(session, borgo, call):
    _, burst = call("water_leak", 0, pipe="P4")
    r2, again = call("water_leak", (DEFAULTS["water"]["window_h"] + 6) * 60, pipe="P4")
    assert again.id == burst.id and len(report_ids(session, burst)) == 2
    r3, dry = call("no_water", (DEFAULTS["water"]["window_h"] + 7) * 60, pipe="P6", at=(690, 455))
    assert dry.id == burst.id                                       # segment 5 is in its dry area
    assert len([i for i in open_incidents(session, borgo) if i.kind == "water_main_burst"]) == 1


def test_a_burst_counts_the_addresses_its_dry_area_serves(session, borgo, call):
    _, burst = call("water_leak", 0, pipe="P4")
    # Via Roma 12/A and 14 bis stand 60 m from P5, in the dry area; the other civics are nearer
    # mains that stay wet (P1, P2) or farther than any call would be snapped (Piazza della Libertà).
    assert burst.affected_addresses == 2
    assert "about 2 addresses will be without water" in burst.explanation


def test_merging_a_lamp_into_a_circuit_keeps_the_circuit_and_both_assets(session, borgo, call):
    session.get(Municipality, borgo).rules = {"lighting": {"circuit_min_share": 0.9}}
    _, lamp = call("streetlight_out", 0, lamp="L08")                # Q2's circuit C3, older
    for m, l in ((5, "L01"), (10, "L02"), (15, "L03")):
        _, circuit = call("streetlight_out", m, lamp=l)
    assert circuit.kind == "lighting_circuit"
    merged = corrections.merge(session, [lamp.id, circuit.id], "user:anna")
    assert merged.id == circuit.id and merged.kind == "lighting_circuit"
    assert merged.asset_ids == ["C1", "L08"] and lamp.absorbed_into_id == circuit.id
    assert merged.opened_at == lamp.opened_at
    assert session.scalar(text("SELECT ST_NumGeometries(geom) FROM incidents WHERE id = :i"), {"i": merged.id}) >= 5
    assert _each_report_linked_once(session, borgo)


def test_merging_an_outage_into_a_burst_keeps_the_burst_and_its_valves(session, borgo, call):
    _, outage = call("no_water", 0, pipe="P7")
    _, burst = call("water_leak", 30, pipe="P4")
    assert outage.id != burst.id
    merged = corrections.merge(session, [outage.id, burst.id], "user:anna")
    assert merged.id == burst.id and merged.kind == "water_main_burst"
    assert merged.asset_ids == ["P4"] and merged.valves_to_close == ["V2", "V3", "V5"]
    assert len(report_ids(session, merged)) == 2


def test_moving_the_only_leak_call_out_makes_the_burst_an_outage_again(session, borgo, call):
    r1, _ = call("no_water", 0, pipe="P6", at=(690, 455))
    leak, burst = call("water_leak", 20, pipe="P4")
    assert burst.kind == "water_main_burst" and report_ids(session, burst) == {r1.id, leak.id}
    _, other = call("water_leak", 30, pipe="P7")                 # another burst, far away
    assert other.id != burst.id
    corrections.move(session, leak.id, other.id, "user:anna")
    assert burst.kind == "water_outage" and burst.asset_ids == [] and burst.valves_to_close == []
    assert 5 in burst.affected_segment_nos and "no leak reported yet" in burst.explanation
    assert _each_report_linked_once(session, borgo)


def test_moving_a_call_out_of_a_cluster_redraws_it(session, borgo, call):
    call("flooding", 0, at=(480, 310))
    r2, flood = call("flooding", 10, at=(560, 390))
    before = session.scalar(text("SELECT ST_Area(geom) FROM incidents WHERE id = :i"), {"i": flood.id})
    _, road = call("flooding", 20, at=(100, 500))                 # another flooded spot, far away
    corrections.move(session, r2.id, road.id, "user:anna")
    after = session.scalar(text("SELECT ST_Area(geom) FROM incidents WHERE id = :i"), {"i": flood.id})
    assert before > 1000 and after == 0                              # one call left: its point
    assert session.scalar(text("SELECT ST_Area(geom) FROM incidents WHERE id = :i"), {"i": road.id}) > 1000


def test_an_outage_that_becomes_a_burst_leaves_out_the_calls_it_does_not_explain(session, borgo, call):
    r1, out = call("no_water", 0, pipe="P6", at=(690, 455))      # segment 5, in P4's dry area
    r2, same = call("no_water", 10, pipe="P2")                   # upstream: one failure could explain both
    assert same.id == out.id
    leak, burst = call("water_leak", 20, pipe="P4")              # P4 isolated: 3, 4, 5 dry, P2 still wet
    assert burst.id == out.id and burst.kind == "water_main_burst"
    assert report_ids(session, burst) == {r1.id, leak.id}
    rest = incident_of(session, r2)
    assert rest.kind == "water_outage" and rest.id != burst.id and report_ids(session, rest) == {r2.id}
    assert rest.explanation and rest.crew_id == "ACQUA"
    assert not set(rest.affected_segment_nos) <= set(burst.affected_segment_nos)
    assert _each_report_linked_once(session, borgo)
