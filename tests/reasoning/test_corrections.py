"""Operators' corrections that change where an incident is or how far its work has gone:
a call on the network moved into a cluster of calls near nothing, and a crew's progress
surviving a merge or a move."""
from __future__ import annotations

from sqlalchemy import select, text

from geo_urp.models import IncidentEvent
from geo_urp.reasoning import corrections
from tests.reasoning.conftest import incident_of, report_ids


def test_a_leak_call_moved_into_an_unlocated_cluster_places_it_on_its_main(session, borgo, call):
    far, cluster = call("no_water", 0, at=(100, 500))            # near no main: a cluster
    assert cluster.kind == "water_outage" and cluster.asset_ids == [] and cluster.affected_segment_nos == []
    leak, burst = call("water_leak", 20, pipe="P4")
    assert burst.id != cluster.id
    corrections.move(session, leak.id, cluster.id, "user:anna")
    assert report_ids(session, cluster) == {far.id, leak.id}
    assert cluster.kind == "water_main_burst" and cluster.asset_ids == ["P4"]
    assert cluster.valves_to_close == ["V2", "V3", "V5"] and cluster.affected_addresses > 0
    assert burst.status == "closed" and burst.absorbed_into_id == cluster.id


def test_the_last_call_on_a_main_moved_out_leaves_a_cluster_near_nothing(session, borgo, call):
    far, cluster = call("no_water", 0, at=(100, 500))
    dry, outage = call("no_water", 5, pipe="P6", at=(690, 455))
    merged = corrections.merge(session, [cluster.id, outage.id], "user:anna")
    assert merged.affected_segment_nos and report_ids(session, merged) == {far.id, dry.id}
    _, other = call("no_water", 10, pipe="P7")
    corrections.move(session, dry.id, other.id, "user:anna")
    assert report_ids(session, merged) == {far.id}
    assert merged.kind == "water_outage" and merged.asset_ids == [] and merged.affected_segment_nos == []
    assert merged.valves_to_close == [] and merged.affected_addresses is None
    assert "not located yet" in merged.explanation


def test_a_merged_water_incident_is_drawn_as_its_dry_segments(session, borgo, call):
    """A cluster of calls near no main, merged with an outage on the network: the map shows the
    merged incident as the valve segments it leaves dry, not as the cluster's old shape."""
    _, cluster = call("no_water", 0, at=(100, 500))
    _, outage = call("no_water", 5, pipe="P6", at=(690, 455))
    merged = corrections.merge(session, [cluster.id, outage.id], "user:anna")
    session.flush()
    assert merged.affected_segment_nos
    assert session.execute(text(
        "SELECT ST_Equals(i.geom, (SELECT ST_Multi(ST_Union(s.geom)) FROM water_valve_segments s "
        " WHERE s.municipality_id = i.municipality_id AND s.segment_no = ANY(i.affected_segment_nos))) "
        "FROM incidents i WHERE i.id = :i"), {"i": merged.id}).scalar()


def test_a_lamp_call_moved_into_a_cluster_of_calls_near_no_lamp_gives_it_the_lamp(session, borgo, call):
    _, cluster = call("streetlight_out", 0, at=(100, 500))
    assert cluster.kind == "lamp" and cluster.asset_ids == []
    lamp_call, lamp = call("streetlight_out", 5, lamp="L08")
    corrections.move(session, lamp_call.id, cluster.id, "user:anna")
    assert cluster.asset_ids == ["L08"] and lamp.status == "closed"


def test_a_merge_keeps_the_crew_already_at_work(session, borgo, call):
    _, outage = call("no_water", 0, pipe="P7")
    _, burst = call("water_leak", 30, pipe="P4")
    outage.status = "in_progress"                                  # a crew is already there
    session.flush()
    merged = corrections.merge(session, [outage.id, burst.id], "user:anna")
    assert merged.id == burst.id and merged.status == "in_progress"
    kept = session.scalars(select(IncidentEvent.detail).where(
        IncidentEvent.incident_id == merged.id, IncidentEvent.action == "status kept")).all()
    assert kept == [{"status": "in_progress", "incident": outage.id, "crew_id": "ACQUA"}]


def test_a_merge_never_sets_back_a_crew(session, borgo, call):
    _, outage = call("no_water", 0, pipe="P7")
    _, burst = call("water_leak", 30, pipe="P4")
    outage.status, burst.status = "assigned", "in_progress"
    session.flush()
    merged = corrections.merge(session, [outage.id, burst.id], "user:anna")
    assert merged.status == "in_progress"


def test_moving_the_last_call_of_an_assigned_incident_hands_its_crew_on(session, borgo, call):
    first, flood = call("flooding", 0, at=(480, 310))
    _, other = call("flooding", 10, at=(100, 500))
    flood.status = "assigned"
    session.flush()
    corrections.move(session, first.id, other.id, "user:anna")
    assert flood.status == "closed" and flood.absorbed_into_id == other.id
    assert other.status == "assigned" and incident_of(session, first).id == other.id


def test_moving_one_call_of_several_leaves_progress_where_it_was(session, borgo, call):
    first, flood = call("flooding", 0, at=(480, 310))
    call("flooding", 5, at=(500, 330))
    _, other = call("flooding", 10, at=(100, 500))
    flood.status = "in_progress"
    session.flush()
    corrections.move(session, first.id, other.id, "user:anna")
    assert flood.status == "in_progress" and other.status == "open"


def test_a_call_an_operator_moved_into_a_burst_stays_there_when_more_evidence_comes(session, borgo, call):
    _, burst = call("water_leak", 0, pipe="P4")                   # dry area: segments 3, 4, 5
    dry, outage = call("no_water", 5, pipe="P7")                 # segment 6: not explained by P4
    assert outage.id != burst.id
    corrections.move(session, dry.id, burst.id, "user:anna")      # the operator knows better
    call("water_leak", 20, pipe="P4")                             # a second leak call on the same main
    assert incident_of(session, dry).id == burst.id
    merged_dry, other = call("no_water", 25, pipe="P7")
    corrections.merge(session, [burst.id, other.id], "user:anna")
    call("water_leak", 30, pipe="P4")
    assert incident_of(session, merged_dry).id == burst.id


def test_a_crew_already_sent_stays_on_the_job_as_the_incident_grows(session, borgo, call):
    _, flood = call("flooding", 0, at=(480, 310))
    flood.status, flood.crew_id = "assigned", "FOGNE-2"           # the dispatcher chose this crew
    session.flush()
    _, same = call("flooding", 10, at=(500, 330))
    assert same.id == flood.id and flood.crew_id == "FOGNE-2" and flood.status == "assigned"


def test_a_circuit_that_takes_a_lamp_a_crew_works_on_keeps_that_crew(session, borgo, call):
    _, lamp = call("streetlight_out", 0, lamp="L05")
    lamp.status, lamp.crew_id = "in_progress", "LUCE-7"
    session.flush()
    _, circuit = call("streetlight_out", 10, lamp="L06")         # 2 of C2's 3 lamps: the circuit
    assert circuit.kind == "lighting_circuit" and lamp.absorbed_into_id == circuit.id
    assert circuit.status == "in_progress" and circuit.crew_id == "LUCE-7"


def test_every_change_of_crew_is_in_the_history(session, borgo, call):
    _, burst = call("water_leak", 0, pipe="P4")
    lines = session.scalars(select(IncidentEvent.detail).where(
        IncidentEvent.incident_id == burst.id, IncidentEvent.action == "crew assigned")).all()
    assert lines == [{"crew_id": "ACQUA", "was": None, "area_id": burst.area_id}]
