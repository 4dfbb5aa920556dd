"""An operator's corrections (``reasoning/corrections.py``): merge and move keep every report
linked once, stay inside one family, work the incidents out again from their calls (a call on
the network moved into a cluster of calls near nothing, a burst left with no leak call), keep
a crew's progress, are respected by the live rules afterwards, and are audited (who, which ids)."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select, text

from geo_urp.errors import BadInput, NotFound
from geo_urp.models import AuditEntry, IncidentEvent, IncidentReport, Municipality, Report
from geo_urp.reasoning import corrections
from geo_urp.reasoning import grouping
from geo_urp.reading import incidents as queries
from tests.reasoning.conftest import each_report_linked_once, incident_of, open_incidents, report_ids
from tests.explained import in_english


def test_merge_and_move_keep_every_report_linked_once(session, borgo, call):
    r1, a = call("road_damage", 0, at=(100, 500))
    r2, b = call("road_damage", 5, at=(600, 900))
    r3, c = call("road_damage", 10, at=(900, 100))
    for bad in ([a.id, a.id], [True, a.id], [a.id], "1,2"):
        with pytest.raises(BadInput):
            corrections.merge(session, bad, "user:anna")
    merged = corrections.merge(session, [b.id, a.id], "user:anna")
    assert merged.id == a.id and report_ids(session, a) == {r1.id, r2.id}
    assert b.status == "closed" and b.absorbed_into_id == a.id
    moved = corrections.move(session, r3.id, a.id, "user:anna")
    assert moved.id == a.id and incident_of(session, r3).id == a.id
    assert c.status == "closed"  # emptied
    linked = session.scalar(select(func.count()).select_from(IncidentReport))
    reports = session.scalar(select(func.count()).select_from(Report).where(Report.municipality_id == borgo))
    assert linked == reports == 3
    actions = [h["action"] for h in queries.history(session, a.id)]
    assert "merged" in actions and "report moved in" in actions
    assert queries.history(session, a.id, {borgo})  # its own town may read it
    with pytest.raises(NotFound):  # another town's operator may not, and an unknown id is no incident
        queries.history(session, a.id, {borgo + 1})
    with pytest.raises(NotFound):
        queries.history(session, 987654321)
    fc = queries.incidents_geojson(session, [borgo])
    assert [f["properties"]["id"] for f in fc["features"]] == [a.id]
    assert sorted(fc["features"][0]["properties"]["report_ids"]) == sorted(str(r.id) for r in (r1, r2, r3))


def test_merge_and_move_stay_within_what_the_calls_are_about(session, borgo, call):
    r1, road = call("road_damage", 0, at=(100, 500))
    r2, flood = call("flooding", 5, at=(110, 510))
    r3, lamp = call("streetlight_out", 10, lamp="L01")
    r4, _ = call("info_request", 15, at=(100, 500))
    for ids in ([road.id, flood.id], [lamp.id, flood.id]):
        with pytest.raises(BadInput, match="different things"):
            corrections.merge(session, ids, "user:anna")
    with pytest.raises(BadInput, match="cannot join"):
        corrections.move(session, r2.id, road.id, "user:anna")
    with pytest.raises(BadInput, match="belongs to no incident"):
        corrections.move(session, r4.id, road.id, "user:anna")
    assert [incident_of(session, r).id for r in (r1, r2, r3)] == [road.id, flood.id, lamp.id]
    assert session.get(IncidentReport, r4.id) is None
    assert all(i.status == "open" for i in (road, flood, lamp))


def test_a_report_of_a_closed_incident_does_not_move(session, borgo, call):
    r1, a = call("road_damage", 0, at=(100, 500))
    _, b = call("road_damage", 5, at=(600, 900))
    a.status, a.closed_at = "closed", b.opened_at
    session.flush()
    with pytest.raises(BadInput, match="no longer open"):
        corrections.move(session, r1.id, b.id, "user:anna")
    assert incident_of(session, r1).id == a.id


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
    assert each_report_linked_once(session, borgo)


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
    assert 5 in burst.affected_segment_nos and "nessuna perdita segnalata finora" in burst.explanation
    assert each_report_linked_once(session, borgo)


def test_moving_a_call_out_of_a_cluster_redraws_it(session, borgo, call):
    call("flooding", 0, at=(480, 310))
    r2, flood = call("flooding", 10, at=(560, 390))
    before = session.scalar(text("SELECT ST_Area(geom) FROM incidents WHERE id = :i"), {"i": flood.id})
    _, road = call("flooding", 20, at=(100, 500))                 # another flooded spot, far away
    corrections.move(session, r2.id, road.id, "user:anna")
    after = session.scalar(text("SELECT ST_Area(geom) FROM incidents WHERE id = :i"), {"i": flood.id})
    assert before > 1000 and after == 0                              # one call left: its point
    assert session.scalar(text("SELECT ST_Area(geom) FROM incidents WHERE id = :i"), {"i": road.id}) > 1000


def test_a_leak_call_moved_into_an_outage_makes_it_a_burst(session, borgo, call):
    from geo_urp.reasoning import corrections

    _, outage = call("no_water", 0, pipe="P6", at=(690, 455))
    leak, burst = call("water_leak", 5, pipe="P7")
    assert outage.kind == "water_outage" and burst.id != outage.id
    corrections.move(session, leak.id, outage.id, "user:anna")
    assert outage.kind == "water_main_burst" and outage.asset_ids == ["P7"]
    assert "probabile rottura" in outage.explanation and "nessuna perdita segnalata" not in outage.explanation
    assert "probable burst" in in_english(outage) and "no leak reported yet" not in in_english(outage)
    assert "upgraded" in [h["action"] for h in queries.history(session, outage.id)]


def test_a_move_that_empties_an_incident_is_seen_by_pollers(session, borgo, call):
    from geo_urp.reasoning import corrections

    _, a = call("road_damage", 0, at=(100, 500))
    r, b = call("road_damage", 5, at=(600, 900))
    before = grouping.now()                                             # after both were made
    corrections.move(session, r.id, a.id, "user:anna")
    changed = {f["id"]: f["properties"] for f in
               queries.incidents_geojson(session, [borgo], status="all", since=before)["features"]}
    assert changed[b.id]["status"] == "closed" and changed[b.id]["absorbed_into_id"] == a.id


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
    assert "non è ancora localizzata" in merged.explanation


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


def test_a_lamp_an_operator_merged_into_another_cabinets_circuit_takes_its_next_calls_there(session, borgo, call):
    _, lamp = call("streetlight_out", 0, lamp="L08")               # cabinet Q2
    for n, name in ((5, "L01"), (10, "L02")):                      # circuit C1 of cabinet Q1
        _, circuit = call("streetlight_out", n, lamp=name)
    merged = corrections.merge(session, [lamp.id, circuit.id], "user:anna")
    again, same = call("streetlight_out", 30, lamp="L08")
    assert same.id == merged.id and len(open_incidents(session, borgo)) == 1


def test_lamps_an_operator_merged_go_with_the_circuit_their_calls_count_for(session, borgo, call):
    from geo_urp.reasoning import corrections

    r1, a = call("streetlight_out", 0, lamp="L05")                   # circuit C2
    r2, b = call("streetlight_out", 5, lamp="L01")                   # circuit C1
    merged = corrections.merge(session, [a.id, b.id], "user:anna")
    r3, circuit = call("streetlight_out", 10, lamp="L02")            # 2 of C1's 4 lamps
    assert circuit.kind == "lighting_circuit" and circuit.asset_ids == ["C1"]
    assert merged.status == "closed" and merged.absorbed_into_id == circuit.id
    assert report_ids(session, circuit) == {r1.id, r2.id, r3.id}


def _audited(session, action: str) -> list[tuple]:
    session.flush()
    return [tuple(row) for row in session.execute(
        select(AuditEntry.actor, AuditEntry.object_type, AuditEntry.object_id, AuditEntry.municipality_id,
               AuditEntry.detail).where(AuditEntry.action == action).order_by(AuditEntry.id))]


def test_a_merge_and_a_move_are_audited_with_the_operator_and_the_ids(session, borgo, call):
    _, a = call("road_damage", 0, at=(100, 500))
    _, b = call("road_damage", 5, at=(600, 900))
    r, c = call("road_damage", 10, at=(900, 100))
    _, flood = call("flooding", 15, at=(480, 310))
    with pytest.raises(BadInput):                                   # refused: nothing changed, nothing audited
        corrections.merge(session, [a.id, flood.id], "user:anna")
    corrections.merge(session, [b.id, a.id], "user:anna")
    corrections.move(session, r.id, a.id, "user:anna")
    corrections.move(session, r.id, a.id, "user:bruno")            # already there: no change, no entry
    assert _audited(session, "merged") == [
        ("user:anna", "incident", a.id, borgo, {"merged": [b.id], "kind": "road_damage"})]
    assert _audited(session, "moved") == [
        ("user:anna", "report", r.id, borgo, {"from_incident": c.id, "to_incident": a.id, "emptied": True})]


def test_an_audited_merge_says_which_crew_and_status_it_carried_over(session, borgo, call):
    _, outage = call("no_water", 0, pipe="P7")
    _, burst = call("water_leak", 30, pipe="P4")
    outage.status = "in_progress"                                  # a crew is already there
    session.flush()
    was_crew = burst.crew_id
    corrections.merge(session, [outage.id, burst.id], "user:anna")
    [(_, _, object_id, _, detail)] = _audited(session, "merged")
    assert object_id == burst.id and detail == {
        "merged": [outage.id], "kind": "water_main_burst", "status": "in_progress", "crew_id": "ACQUA",
        "was_status": "open", "was_crew": was_crew}


def test_an_audited_move_that_empties_an_assigned_incident_says_it_handed_the_crew_on(session, borgo, call):
    first, flood = call("flooding", 0, at=(480, 310))
    _, other = call("flooding", 10, at=(100, 500))
    flood.status = "assigned"
    session.flush()
    corrections.move(session, first.id, other.id, "user:anna")
    [(_, _, _, _, detail)] = _audited(session, "moved")
    assert detail == {"from_incident": flood.id, "to_incident": other.id, "emptied": True, "status": "assigned",
                      "crew_id": other.crew_id, "was_status": "open", "was_crew": other.crew_id}
