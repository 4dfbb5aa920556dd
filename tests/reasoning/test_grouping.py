"""Keeping incidents and their reports consistent (``reasoning/grouping.py``), seen through the
calls and corrections that use it: a report belongs to exactly one incident, an absorbed
incident is closed pointing at its absorber, a split moves only the calls it names, every
change lands in the incidents' history, and a crew's progress goes with the calls."""
from __future__ import annotations

import pytest
from sqlalchemy import select, text

from geo_urp.models import IncidentEvent, Report
from geo_urp.reasoning import corrections, refresh
from geo_urp.reading import incidents as queries
from tests.reasoning.conftest import incident_of, operators_merge_and_move, report_ids


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


def test_every_call_that_joins_and_every_absorption_is_told_and_seen_by_pollers(session, borgo, call):
    r1, a = call("streetlight_out", 0, lamp="L01")
    r2, same = call("streetlight_out", 5, lamp="L01")
    assert same.id == a.id
    joined = session.scalars(select(IncidentEvent.detail).where(
        IncidentEvent.incident_id == a.id, IncidentEvent.action == "call joined").order_by(IncidentEvent.id)).all()
    assert joined == [{"report_id": str(r1.id)}, {"report_id": str(r2.id)}]
    before = a.updated_at
    call("streetlight_out", 10, lamp="L02")
    _, circuit = call("streetlight_out", 20, lamp="L03")
    assert circuit.kind == "lighting_circuit" and a.absorbed_into_id == circuit.id and a.updated_at > before
    changed = queries.incidents_geojson(session, [borgo], status="all", since=before)
    props = {f["properties"]["id"]: f["properties"] for f in changed["features"]}
    assert props[a.id]["absorbed_into_id"] == circuit.id and props[a.id]["report_count"] == 0
    assert props[circuit.id]["absorbed_into_id"] is None and props[circuit.id]["report_count"] == 4
    # Without ``since`` absorbed incidents stay out of the list.
    assert a.id not in {f["id"] for f in queries.incidents_geojson(session, [borgo], status="all")["features"]}


def test_a_circuit_that_takes_a_lamp_a_crew_works_on_keeps_that_crew(session, borgo, call):
    _, lamp = call("streetlight_out", 0, lamp="L05")
    lamp.status, lamp.crew_id = "in_progress", "LUCE-7"
    session.flush()
    _, circuit = call("streetlight_out", 10, lamp="L06")         # 2 of C2's 3 lamps: the circuit
    assert circuit.kind == "lighting_circuit" and lamp.absorbed_into_id == circuit.id
    assert circuit.status == "in_progress" and circuit.crew_id == "LUCE-7"


def test_a_description_that_comes_out_unchanged_is_not_written_again(session, borgo, call):
    # An incident worked out again as it was is not written: its row (and the change stamp a
    # trigger puts on every write) stays as it was, so pollers asking "what changed since" are
    # not told. Worked out again after something changed, it is written.
    _report, inc = call("flooding", 0, at=(300, 300))

    def stored():
        return session.execute(text("SELECT ctid, explanation FROM incidents WHERE id = :i"), {"i": inc.id}).one()

    before = stored()
    refresh(session, inc)
    assert stored() == before
    session.execute(text("UPDATE incidents SET explanation = 'stale' WHERE id = :i"), {"i": inc.id})
    session.expire(inc)
    stale = stored()
    refresh(session, inc)
    assert stored().explanation == before.explanation and stored().ctid != stale.ctid


def _links(session, mid) -> list[tuple]:
    """(report id, service, how many incidents hold it, how many of those are live: not closed, not
    absorbed) for every report of a municipality."""
    return [tuple(row) for row in session.execute(text(
        "SELECT r.id, r.service_code, count(i.id) AS links, count(i.id) FILTER (WHERE i.absorbed_into_id IS NULL "
        "       AND i.status IN ('open', 'assigned', 'in_progress')) AS live "
        "FROM reports r LEFT JOIN incident_reports ir ON ir.report_id = r.id LEFT JOIN incidents i ON i.id = ir.incident_id "
        "WHERE r.municipality_id = :m GROUP BY r.id, r.service_code ORDER BY r.id"), {"m": mid})]


# Steps: a call (service, minutes, where), or an operator's ("merge", i, j): the incidents of the
# i-th and j-th calls, or ("move", i, j): the i-th call into the incident of the j-th.
_ON_THE_WAY = {
    "lamps into a circuit, circuits into a cabinet": [
        ("streetlight_out", 0, {"lamp": "L01"}), ("streetlight_out", 5, {"lamp": "L02"}),
        ("streetlight_out", 10, {"lamp": "L03"}), ("streetlight_out", 15, {"lamp": "L05"}),
        ("streetlight_out", 20, {"lamp": "L06"}), ("streetlight_out", 25, {"lamp": "L07"})],
    "an outage that becomes a burst and sheds a call": [
        ("no_water", 0, {"pipe": "P6", "at": (690, 455)}), ("no_water", 10, {"pipe": "P2"}),
        ("water_leak", 20, {"pipe": "P4"}), ("no_water", 30, {"pipe": "P6", "at": (680, 455)})],
    "a call that bridges two clusters, and a question": [
        ("road_damage", 0, {"at": (100, 500)}), ("road_damage", 10, {"at": (150, 500)}),
        ("road_damage", 20, {"at": (125, 500)}), ("info_request", 25, {"at": (125, 500)})],
    "an operator's merge and moves": [
        ("road_damage", 0, {"at": (100, 500)}), ("road_damage", 5, {"at": (600, 900)}),
        ("road_damage", 10, {"at": (900, 100)}), ("road_damage", 15, {"at": (902, 100)}),
        ("merge", 0, 1), ("move", 2, 0), ("move", 3, 0)],
}


@pytest.mark.parametrize("steps", _ON_THE_WAY.values(), ids=_ON_THE_WAY.keys())
def test_a_report_always_belongs_to_exactly_one_live_incident(session, borgo, call, steps):
    reports = []
    for step in steps:
        if step[0] == "merge":
            corrections.merge(session, [incident_of(session, reports[i]).id for i in step[1:]], "user:anna")
        elif step[0] == "move":
            corrections.move(session, reports[step[1]].id, incident_of(session, reports[step[2]]).id, "user:anna")
        else:
            reports.append(call(step[0], step[1], **step[2])[0])
        for report_id, service, links, live in _links(session, borgo):
            expected = 0 if service == "info_request" else 1
            assert (links, live) == (expected, expected), (step, report_id)
    assert len(reports) == len([s for s in steps if s[0] not in ("merge", "move")])


def _lamps_into_their_circuit(session, call):
    r1, lamp = call("streetlight_out", 0, lamp="L01")
    r2, _ = call("streetlight_out", 2, lamp="L01")
    _, circuit = call("streetlight_out", 5, lamp="L02")
    return lamp, circuit, {r1.id, r2.id}, "system"


def _circuits_into_their_cabinet(session, call):
    r1, _ = call("streetlight_out", 0, lamp="L01")
    r2, circuit = call("streetlight_out", 5, lamp="L02")
    call("streetlight_out", 10, lamp="L05")
    _, cabinet = call("streetlight_out", 15, lamp="L06")
    return circuit, cabinet, {r1.id, r2.id}, "system"


def _a_cluster_a_call_bridges(session, call):
    _, older = call("road_damage", 0, at=(100, 500))
    r, newer = call("road_damage", 10, at=(150, 500))
    _, bridge = call("road_damage", 20, at=(125, 500))
    assert bridge.id == older.id
    return newer, older, {r.id}, "system"


def _an_outage_inside_a_bursts_dry_area(session, call):
    r, outage = call("no_water", 0, pipe="P6", at=(690, 455))   # segment 5
    _, burst = call("water_leak", 20, pipe="P4")                # a burst of its own that leaves 3, 4, 5 dry
    return outage, burst, {r.id}, "system"


def _an_operators_merge(session, call):
    _, older = call("road_damage", 0, at=(100, 500))
    r1, newer = call("road_damage", 5, at=(600, 900))
    r2, _ = call("road_damage", 6, at=(602, 900))
    corrections.merge(session, [newer.id, older.id], "user:anna")
    return newer, older, {r1.id, r2.id}, "user:anna"


@pytest.mark.parametrize("absorption", [_lamps_into_their_circuit, _circuits_into_their_cabinet,
                                        _a_cluster_a_call_bridges, _an_outage_inside_a_bursts_dry_area,
                                        _an_operators_merge], ids=lambda f: f.__name__.strip("_"))
def test_an_absorbed_incident_gives_every_report_to_its_absorber_and_closes_pointing_at_it(session, borgo, call,
                                                                                           absorption):
    small, big, moved, actor = absorption(session, call)
    session.flush()
    session.expire_all()                                          # as stored, not as the session holds them
    assert small.id != big.id
    assert (small.status, small.absorbed_into_id) == ("closed", big.id) and small.closed_at is not None
    assert big.status == "open" and big.absorbed_into_id is None
    assert report_ids(session, small) == set() and moved <= report_ids(session, big)
    assert big.opened_at <= small.opened_at                      # the absorber opened with the earliest call
    told = [(h["actor"], h["detail"]) for h in queries.history(session, small.id)
            if h["action"] == "absorbed" and "into" in h["detail"]]   # not the lines of what it absorbed itself
    assert [(a, d["into"], sorted(d["report_ids"])) for a, d in told] == [(actor, big.id, sorted(map(str, moved)))]
    took = [(h["actor"], h["detail"]) for h in queries.history(session, big.id)
            if h["action"] == "absorbed" and h["detail"]["incident"] == small.id]
    assert [(a, d["kind"], sorted(d["report_ids"])) for a, d in took] == [(actor, small.kind, sorted(map(str, moved)))]


def _burst_from_an_outage(session, call):
    r1, _ = call("no_water", 0, pipe="P6", at=(690, 455))       # segment 5, in P4's dry area
    r2, _ = call("no_water", 10, pipe="P2")                     # upstream: wet when P4 is shut
    leak, burst = call("water_leak", 20, pipe="P4")
    return burst, {r1.id, leak.id}, {r2.id}


def _suspected_main_changed(session, call):
    leak, burst = call("water_leak", 0, pipe="P2")
    dry, _ = call("no_water", 5, pipe="P2", segment=2)         # dry because P2 is shut
    more = [call("water_leak", m, pipe="P4")[0] for m in (10, 15)]  # P4 now: segment 2 keeps its water
    return burst, {leak.id, *(r.id for r in more)}, {dry.id}


@pytest.mark.parametrize("splitting", [_burst_from_an_outage, _suspected_main_changed],
                         ids=lambda f: f.__name__.strip("_"))
def test_a_split_moves_only_the_calls_it_names_into_a_new_incident_and_both_histories_say_so(session, borgo, call,
                                                                                              splitting):
    source, kept, stray = splitting(session, call)
    session.flush()
    session.expire_all()
    [new] = {incident_of(session, session.get(Report, r)) for r in stray}
    assert new.id != source.id and new.status == "open" and new.absorbed_into_id is None
    assert report_ids(session, source) == kept and report_ids(session, new) == stray
    out = [h["detail"] for h in queries.history(session, source.id) if h["action"] == "split"]
    assert [(d["into"], sorted(d["report_ids"])) for d in out] == [(new.id, sorted(map(str, stray)))]
    came = [h["detail"] for h in queries.history(session, new.id) if h["action"] == "split from"]
    assert [(d["incident"], sorted(d["report_ids"])) for d in came] == [(source.id, sorted(map(str, stray)))]
    assert queries.history(session, new.id)[0]["action"] == "created"


def _first_call(session, call):
    r, inc = call("flooding", 0, at=(300, 300))
    return [(inc, "system", "created", {"kind": "flooding", "asset_ids": []}),
            (inc, "system", "call joined", {"report_id": str(r.id)}),
            (inc, "system", "crew assigned", {"crew_id": "STRADE", "was": None, "area_id": "A1"})]


def _a_call_joins(session, call):
    _, inc = call("flooding", 0, at=(300, 300))
    r, _ = call("flooding", 5, at=(320, 300))
    return [(inc, "system", "call joined", {"report_id": str(r.id)})]


def _an_outage_upgraded(session, call):
    _, outage = call("no_water", 0, pipe="P6", at=(690, 455))
    call("no_water", 10, pipe="P5")                              # the outage now holds segments 3, 4, 5
    _, burst = call("water_leak", 20, pipe="P4")
    assert burst.id == outage.id
    return [(outage, "system", "upgraded", {"kind": "water_main_burst"})]


def _the_suspected_main_changes(session, call):
    _, burst = call("water_leak", 0, pipe="P2")
    for m in (10, 15):
        call("water_leak", m, pipe="P4")
    return [(burst, "system", "suspected main changed", {"main": "P4", "was": "P2"})]


def _an_operators_merge_and_move(session, call):
    a, b, c, r = operators_merge_and_move(session, call)
    return [(a, "user:anna", "merged", {"incidents": [b.id]}),
            (a, "user:anna", "report moved in", {"report_id": str(r.id), "from_incident": c.id}),
            (c, "user:anna", "report moved out", {"report_id": str(r.id), "to_incident": a.id}),
            (c, "user:anna", "emptied", {"into": a.id})]


def _the_last_leak_call_moved_out(session, call):
    call("no_water", 0, pipe="P6", at=(690, 455))
    leak, burst = call("water_leak", 20, pipe="P4")
    _, other = call("water_leak", 30, pipe="P7")
    corrections.move(session, leak.id, other.id, "user:anna")
    return [(burst, "system", "downgraded", {"kind": "water_outage"})]


@pytest.mark.parametrize("change", [_first_call, _a_call_joins, _an_outage_upgraded, _the_suspected_main_changes,
                                    _an_operators_merge_and_move, _the_last_leak_call_moved_out],
                         ids=lambda f: f.__name__.strip("_"))
def test_every_change_lands_in_the_incidents_history(session, borgo, call, change):
    for inc, actor, action, detail in change(session, call):
        lines = [h for h in queries.history(session, inc.id) if (h["actor"], h["action"]) == (actor, action)]
        assert any(detail.items() <= h["detail"].items() for h in lines), (action, [h["detail"] for h in lines])


@pytest.mark.parametrize("way", ["merge", "move"])
@pytest.mark.parametrize("kept, taken, expected", [
    (("open", None), ("in_progress", "FOGNE-2"), ("in_progress", "FOGNE-2")),
    (("open", None), ("assigned", "FOGNE-2"), ("assigned", "FOGNE-2")),
    (("assigned", "STRADE-1"), ("in_progress", "FOGNE-2"), ("in_progress", "FOGNE-2")),
    (("in_progress", "STRADE-1"), ("assigned", "FOGNE-2"), ("in_progress", "STRADE-1")),
    (("assigned", "STRADE-1"), ("open", None), ("assigned", "STRADE-1")),
], ids=["open+in_progress", "open+assigned", "assigned+in_progress", "in_progress+assigned", "assigned+open"])
def test_an_incident_taking_the_calls_of_one_a_crew_is_on_keeps_the_more_advanced_status_and_its_crew(
        session, borgo, call, way, kept, taken, expected):
    # Two floodings far apart, each with one call; None: the crew the rule named (STRADE).
    _, target = call("flooding", 0, at=(480, 310))
    r, source = call("flooding", 10, at=(100, 900))
    for inc, (status, crew) in ((target, kept), (source, taken)):
        inc.status, inc.crew_id = status, crew or inc.crew_id
    session.flush()
    crew_before = target.crew_id
    if way == "merge":
        corrections.merge(session, [target.id, source.id], "user:anna")
    else:
        corrections.move(session, r.id, target.id, "user:anna")   # its only call: the source is emptied
    session.flush()
    session.expire_all()
    assert (source.status, source.absorbed_into_id) == ("closed", target.id)
    assert (target.status, target.crew_id) == expected
    history = queries.history(session, target.id)
    kept_lines = [h["detail"] for h in history if h["action"] == "status kept"]
    crew_lines = [h["detail"] for h in history if h["action"] == "crew assigned" and h["detail"]["was"] is not None]
    if expected[0] == taken[0] != kept[0]:                        # the source's progress won
        assert kept_lines == [{"status": taken[0], "incident": source.id, "crew_id": expected[1]}]
        assert [(d["crew_id"], d["was"]) for d in crew_lines] == [(expected[1], crew_before)]
    else:
        assert kept_lines == [] and crew_lines == []
