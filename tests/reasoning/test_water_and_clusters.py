"""Water reasoning and space-time clusters on the Borgo fixture (see tests/loading/test_loader.py
for the drawing of its network: P4 isolates with V2, V3, V5 and leaves segment 5 (P6's tail) dry)."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select, text

from geo_urp.errors import BadInput, NotFound
from geo_urp.models import Incident, IncidentReport, Report
from geo_urp.reasoning import corrections
from geo_urp.reasoning import grouping
from geo_urp.reading import incidents as queries
from geo_urp.reasoning.rules import rules_for
from tests.reasoning.conftest import T0, X0, Y0, incident_of, open_incidents, report_ids


def test_a_leak_call_makes_a_burst_with_its_valves(session, borgo, call):
    r, inc = call("water_leak", 0, pipe="P4")
    assert (inc.kind, inc.asset_ids, inc.valves_to_close) == ("water_main_burst", ["P4"], ["V2", "V3", "V5"])
    assert inc.affected_segment_nos == [3, 4, 5]
    assert inc.crew_id == "ACQUA"
    assert "close valves V2, V3, V5" in inc.explanation


def test_no_water_calls_then_a_leak_become_one_burst(session, borgo, call):
    r1, out = call("no_water", 0, pipe="P6", at=(690, 455))   # segment 5, the dead end
    assert out.kind == "water_outage" and out.affected_segment_nos == [5]
    r2, out2 = call("no_water", 10, pipe="P5")               # segment 3 or 4
    assert out2.id == out.id and out.kind == "water_outage"
    assert set(out.affected_segment_nos) >= {3, 4, 5} and out.valves_to_close == []
    r3, burst = call("water_leak", 20, pipe="P4")
    assert burst.id == out.id and burst.kind == "water_main_burst"
    assert burst.asset_ids == ["P4"] and burst.valves_to_close == ["V2", "V3", "V5"]
    assert report_ids(session, burst) == {r1.id, r2.id, r3.id}
    assert len(open_incidents(session, borgo)) == 1


def test_more_leak_calls_make_their_pipe_most_likely(session, borgo, call):
    call("water_leak", 0, pipe="P4")
    call("water_leak", 5, pipe="P5")
    _, inc = call("water_leak", 9, pipe="P5")
    assert inc.asset_ids == ["P5", "P4"]


def test_flooding_clusters_and_never_becomes_a_burst(session, borgo, call):
    incs = [call("flooding", m, at=(480 + d, 310 + d))[1] for m, d in ((0, 0), (30, 40), (60, 90))]
    assert len({i.id for i in incs}) == 1 and incs[0].kind == "flooding"
    _, far = call("flooding", 70, at=(100, 900))
    assert far.id != incs[0].id
    _, late = call("flooding", 60 * 8, at=(480, 310))
    assert late.id != incs[0].id
    kinds = {i.kind for i in open_incidents(session, borgo)}
    assert kinds == {"flooding"}
    assert incs[0].crew_id == "STRADE"


def test_a_call_bridging_two_clusters_merges_them(session, borgo, call):
    _, a = call("road_damage", 0, at=(100, 500))
    _, b = call("road_damage", 10, at=(150, 500))
    assert a.id != b.id
    _, c = call("road_damage", 20, at=(125, 500))
    assert c.id == a.id and len(open_incidents(session, borgo)) == 1


def test_noise_has_no_crew_and_says_so(session, borgo, call):
    _, inc = call("noise", 0, at=(300, 510))
    assert inc.kind == "noise" and inc.crew_id is None and "local police" in inc.explanation


def test_information_requests_make_no_incident(session, borgo, call):
    r, inc = call("info_request", 0, at=(300, 510))
    assert inc is None and session.get(IncidentReport, r.id) is None


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


def test_recompute_rebuilds_the_same_open_incidents(session, borgo, call):
    from geo_urp.reasoning.recompute import recompute_open

    for m, lamp in ((0, "L01"), (5, "L02"), (10, "L05"), (15, "L06")):
        call("streetlight_out", m, lamp=lamp)
    call("water_leak", 20, pipe="P4")
    call("flooding", 25, at=(100, 900))
    call("flooding", 26, at=(120, 900))

    def summary():
        fc = queries.incidents_geojson(session, [borgo])
        return sorted((f["properties"]["kind"], tuple(f["properties"]["asset_ids"]),
                       len(f["properties"]["report_ids"])) for f in fc["features"])

    def every_incident():
        return session.scalar(select(func.count()).select_from(Incident))

    before, built = summary(), every_incident()   # what the live path built, absorbed ones included
    assert ("lighting_cabinet", ("Q1",), 4) in before and ("water_main_burst", ("P4",), 1) in before
    for _ in range(2):
        old = {i.id: i.kind for i in open_incidents(session, borgo)}
        rows_before = every_incident()
        replayed, now_open = recompute_open(session, borgo)
        assert replayed == 7 and now_open == 3
        assert summary() == before
        # The old incidents stay, closed, each pointing at the new one of its kind that took its calls.
        for old_id, kind in old.items():
            gone = session.get(Incident, old_id)
            new = session.get(Incident, gone.absorbed_into_id)
            assert gone.status == "closed" and new.status == "open" and new.kind == kind
            assert queries.history(session, old_id)[-1]["action"] == "rebuilt"
        assert every_incident() == rows_before + built  # the replay builds the same, absorbed ones again


def test_water_calls_far_from_any_main_are_a_water_problem_for_the_water_crew(session, borgo, call):
    # No pipe snapped (the main is farther than SNAP_PIPE_MAX_M): the calls still go to water.
    first, inc = call("no_water", 0, at=(40, 960))
    second, again = call("low_pressure", 20, at=(90, 980))
    assert again.id == inc.id and report_ids(session, inc) == {first.id, second.id}
    assert inc.kind == "water_outage" and inc.asset_ids == [] and inc.affected_segment_nos == []
    assert "not located" in inc.explanation
    assert (inc.area_id, inc.crew_id) == ("A1", "ACQUA")
    # A leak call on a real main elsewhere makes its own burst; the unlocated cluster stays apart.
    _, burst = call("water_leak", 30, pipe="P4")
    assert burst.kind == "water_main_burst" and burst.id != inc.id


def test_recompute_keeps_a_crew_at_work_on_the_rebuilt_incident(session, borgo, call):
    from geo_urp.reasoning.recompute import recompute_open

    _, flood = call("flooding", 0, at=(100, 900))
    call("flooding", 5, at=(120, 900))
    _, road = call("road_damage", 0, at=(600, 100))
    flood.status, flood.crew_id = "in_progress", "FOGNE-2"
    session.flush()
    recompute_open(session, borgo)
    rebuilt = {i.kind: i for i in session.scalars(select(Incident).where(
        Incident.municipality_id == borgo, Incident.status.in_(("open", "in_progress"))))}
    assert rebuilt["flooding"].status == "in_progress" and rebuilt["road_damage"].status == "open"
    assert rebuilt["flooding"].crew_id == "FOGNE-2"
    assert session.get(Incident, flood.id).absorbed_into_id == rebuilt["flooding"].id


def test_recompute_gives_back_an_incident_to_a_closed_call_of_an_open_one(session, borgo, call):
    from geo_urp.reasoning.recompute import recompute_open

    first, flood = call("flooding", 0, at=(100, 900))
    second, _ = call("flooding", 5, at=(120, 900))
    session.get(Report, first.id).status = "closed"                 # answered on its own, the flood not yet
    session.flush()
    recompute_open(session, borgo)
    assert {r for r in (first.id, second.id) if session.get(IncidentReport, r)} == {first.id, second.id}


def test_recompute_tells_where_each_call_of_an_old_incident_went(session, borgo, call):
    from geo_urp.reasoning.recompute import recompute_open

    r1, a = call("streetlight_out", 0, lamp="L01")
    r2, b = call("streetlight_out", 5, lamp="L08")
    merged = corrections.merge(session, [a.id, b.id], "user:anna")     # two lamps of two cabinets
    recompute_open(session, borgo)
    line = queries.history(session, merged.id)[-1]
    assert line["action"] == "rebuilt"
    went = {line["detail"]["into"]: line["detail"]["report_ids"],
            **{int(k): v for k, v in line["detail"]["others"].items()}}
    assert sorted(sum(went.values(), [])) == sorted([str(r1.id), str(r2.id)]) and len(went) == 2
    for new_id, reports in went.items():
        assert report_ids(session, session.get(Incident, new_id)) == {int(r) for r in reports}


def test_what_a_call_works_out_is_stored_not_only_held_by_the_session(session, borgo, call):
    # refresh writes explanation, confidence, priority, area and crew with one statement of its own:
    # read them back with SQL, past the session's objects, and the call's history with them.
    for minutes, at, code in ((0, (400, 455), "no_water"), (5, (300, 300), "flooding"), (9, (310, 305), "flooding")):
        report, inc = call(code, minutes, at=at)
        stored = session.execute(text(
            "SELECT priority, explanation, confidence, area_id, crew_id FROM incidents WHERE id = :i"),
            {"i": inc.id}).one()
        assert tuple(stored) == (inc.priority, inc.explanation, inc.confidence, inc.area_id, inc.crew_id)
        assert inc.explanation and not session.dirty
        lines = session.execute(text("SELECT action, detail FROM incident_events WHERE incident_id = :i ORDER BY id"),
                                {"i": inc.id}).all()
        assert lines[0].action == "created"
        assert ("call joined", {"report_id": str(report.id)}) in [tuple(line) for line in lines]


def test_a_description_written_again_unchanged_touches_nothing(session, borgo, call):
    # An incident left as it was keeps its change stamp: pollers asking "what changed since" are not told.
    _report, inc = call("flooding", 0, at=(300, 300))
    assert grouping.write_described(session, [inc]) == 0
    inc.explanation += " Checked again."
    assert grouping.write_described(session, [inc]) == 1
    assert session.scalar(text("SELECT explanation FROM incidents WHERE id = :i"), {"i": inc.id}) == inc.explanation


def test_a_cluster_is_described_by_the_summary_of_all_its_calls(session, borgo, call):
    # The cluster statement sums the calls up in SQL (count, first and last time, each street once
    # in the order of its first call); it must agree with the summary of the rows, and the sentence
    # must speak of every call.
    from geo_urp.reasoning import clusters

    streets = session.execute(text("SELECT street_id, name FROM streets WHERE municipality_id = :m "
                                   "ORDER BY name DESC LIMIT 4"), {"m": borgo}).all()
    assert len(streets) == 4
    # By time; streets 0 and 1 first come in the same minute: the call stored first counts first.
    order = [3, 0, 1, 3, None, 0, 2]
    minutes = [0, 5, 5, 12, 14, 20, 20]
    for n, (s, m) in enumerate(zip(order, minutes)):
        report, inc = call("flooding", m, at=(300 + 10 * n, 300), street=None if s is None else streets[s][0])
    calls = clusters.summary(grouping.reports_of(session, inc.id))
    assert calls == (7, T0, T0 + timedelta(minutes=20), tuple(streets[i][1] for i in (3, 0, 1, 2)))
    assert inc.explanation.startswith(
        f"7 calls in 20 minutes in {streets[3][1]}, {streets[0][1]} and 2 more streets about flooding")
    # The statement's own summary, for one more call, stored but not yet placed.
    t = T0 + timedelta(minutes=30)
    more = Report(municipality_id=borgo, token="one more", service_code="flooding", requested_datetime=t,
                  updated_datetime=t, attributes={}, street_id=streets[1][0],
                  geom=f"SRID=32632;POINT({X0 + 310} {Y0 + 300})")
    session.add(more)
    session.flush()
    session.refresh(more)
    inc, got, _ = clusters.handle(session, more, rules_for(None))
    assert got == clusters.summary(grouping.reports_of(session, inc.id))
    assert got == (8, T0, t, calls.streets)


def test_a_call_inside_a_cluster_keeps_its_shape_and_one_outside_redraws_it_as_in_full(session, borgo, call):
    # A call in the hull of the cluster's calls leaves the shape as drawn (not drawn again over
    # every call); one beyond it, or near the shape's edge, has it drawn again. Either way the
    # shape is what drawing it in full from all its calls gives (clusters.drawn_shape).
    from geo_urp.reasoning import clusters

    def shape(inc):
        return session.scalar(text("SELECT ST_AsEWKB(geom) FROM incidents WHERE id = :i"), {"i": inc.id})

    def in_full(inc):
        return session.scalar(text("SELECT ST_AsEWKB(CAST(:g AS geometry))"),
                              {"g": clusters.drawn_shape(session, inc.id)})

    for n, (x, y) in enumerate([(200, 200), (300, 200), (300, 300), (200, 300)]):
        _, inc = call("flooding", n, at=(x, y))
    square = shape(inc)
    assert square == in_full(inc)
    for n, (x, y) in enumerate([(250, 250), (220, 280), (300, 200)]):  # inside; the last on a corner
        _, inc = call("flooding", 10 + n, at=(x, y))
        assert shape(inc) == square == in_full(inc)
    # To see which calls keep the shape, it is made 3 m narrower than a drawing would make it: a
    # call 15 m or more inside it keeps it so; one nearer its edge has it drawn again.
    session.execute(text("UPDATE incidents SET geom = ST_Buffer(geom, -3) WHERE id = :i"), {"i": inc.id})
    narrower = shape(inc)
    _, inc = call("flooding", 20, at=(260, 240))
    assert shape(inc) == narrower != in_full(inc)  # kept, not drawn again
    _, inc = call("flooding", 21, at=(298, 202))  # in the hull, 2 m from two sides: under 15 m from the edge
    assert shape(inc) == square == in_full(inc)  # drawn again
    # Beyond the hull but inside the shape (the 15 m band it is widened by): the shape grows.
    _, inc = call("flooding", 22, at=(310, 250))
    assert shape(inc) != square and shape(inc) == in_full(inc)
    assert session.scalar(text("SELECT ST_Area(geom) > ST_Area(ST_GeomFromEWKB(:s)) FROM incidents WHERE id = :i"),
                          {"s": square, "i": inc.id})
    assert len(report_ids(session, inc)) == 10 and len(open_incidents(session, borgo)) == 1


def test_a_cluster_call_reads_its_incident_and_calls_once_and_they_match_what_is_stored(session, borgo, call):
    # One statement finds, links and redraws the cluster, and returns the summary of its calls the
    # description reads: it must be what reports_of's rows give afterwards, and the incident as the
    # database now holds it.
    from geo_urp.reasoning import clusters, responsibility
    from geo_urp.reasoning.rules import rules_for

    call("road_damage", 0, at=(100, 500))
    call("road_damage", 10, at=(150, 500))
    report, alone = call("road_damage", 15, at=(600, 900))  # a cluster of its own, for the bridge below to leave alone
    # Created by the same statement that found nothing near: as stored, and told in its history.
    row = session.execute(text("SELECT kind, status, opened_at, updated_at, asset_ids FROM incidents WHERE id = :i"),
                          {"i": alone.id}).one()
    assert tuple(row) == ("road_damage", "open", report.requested_datetime, alone.updated_at, [])
    assert (alone.kind, alone.status, alone.opened_at, alone.asset_ids) == tuple(row[:3]) + ([],)
    actions = session.scalars(text("SELECT action FROM incident_events WHERE incident_id = :i ORDER BY id"),
                              {"i": alone.id}).all()
    assert actions[:2] == ["created", "call joined"]
    assert session.scalar(text("SELECT incident_id FROM incident_reports WHERE report_id = :r"),
                          {"r": report.id}) == alone.id
    bridge = Report(municipality_id=borgo, token="bridge", service_code="road_damage",
                    requested_datetime=report.requested_datetime, updated_datetime=report.requested_datetime,
                    attributes={}, geom=f"SRID=32632;POINT({660000 + 125} {5118000 + 500})")
    session.add(bridge)
    session.flush()
    session.refresh(bridge)
    inc, calls, where = clusters.handle(session, bridge, rules_for(None))
    session.flush()
    # The crew area and crew found with it are what responsibility's own query finds.
    asked = responsibility.assign_many(session, [inc])[inc.id]
    assert where == (asked.area_id, asked.crew_id) and asked.crew_id is not None
    assert calls == clusters.summary(grouping.reports_of(session, inc.id))
    assert calls.count == 3 and calls.last == bridge.requested_datetime
    stored = session.execute(text("SELECT opened_at, updated_at, ST_AsText(geom) FROM incidents WHERE id = :i"),
                             {"i": inc.id}).one()
    assert (inc.opened_at, inc.updated_at) == tuple(stored[:2])
    assert session.scalar(text("SELECT ST_AsText(:g)"), {"g": inc.geom.desc}) == stored[2]
    assert not session.dirty and len(open_incidents(session, borgo)) == 2
