"""Keeping incidents and their reports consistent (``reasoning/grouping.py``), seen through the
calls and corrections that use it: a report belongs to exactly one incident, an absorbed
incident is closed pointing at its absorber, a split moves only the calls it names, every
change lands in the incidents' history, and a crew's progress goes with the calls."""
from __future__ import annotations

from sqlalchemy import select, text

from geo_urp.models import IncidentEvent
from geo_urp.reasoning import refresh
from geo_urp.reading import incidents as queries


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
