"""Where the fix is, which crew area holds it, which crew goes, how urgent (``reasoning/responsibility.py``):
the area x skill rule on the Borgo fixture, whose crew areas are A1 (x < 500) and A2 (x > 500),
with crews LUCI-O (lighting, A1), LUCI-E (lighting, A2), ACQUA (water, A1 A2) and STRADE (roads
and drains, A1 A2); and a crew already sent staying on the job."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from geo_urp.loading.loader import load_municipality
from geo_urp.models import Crew, IncidentEvent, Municipality
from geo_urp.reasoning import responsibility, words
from tests.reasoning.borgo_variants import borgo_copy

POLICE = "Nessuna squadra comunale se ne occupa: passarlo alla polizia locale."
NO_AREA = "Non è in nessuna zona delle squadre, quindi nessuna squadra è assegnata: inviarla a mano."


def _stored(session, inc):
    """The incident as stored (not as the session holds it)."""
    session.flush()
    session.expire(inc)
    return inc


def test_every_change_of_crew_is_in_the_history(session, borgo, call):
    _, burst = call("water_leak", 0, pipe="P4")
    lines = session.scalars(select(IncidentEvent.detail).where(
        IncidentEvent.incident_id == burst.id, IncidentEvent.action == "crew assigned")).all()
    assert lines == [{"crew_id": "ACQUA", "was": None, "area_id": burst.area_id}]


def _calls(call, calls):
    """Make the calls ((service, minutes, where) each); the incident of the last."""
    for service, minutes, where in calls:
        _, inc = call(service, minutes, **where)
    return inc


def _lamps(*names):
    return [("streetlight_out", 5 * n, {"lamp": name}) for n, name in enumerate(names)]


# What the rule names for each kind: (calls, kind, area, crew, the note for the operator, priority).
# The calls come at 23:00 in Rome: a lighting fault is one step more urgent than its kind (dark at night).
_BY_KIND = {
    "a lamp in A2": (_lamps("L05"), "lamp", "A2", "LUCI-E", None, 3),
    "a lamp in A1": (_lamps("L01"), "lamp", "A1", "LUCI-O", None, 3),
    # C2's lamps stand in A2, its cabinet Q1 in A1: the crew goes to the cabinet.
    "a circuit, at its cabinet": (_lamps("L05", "L06"), "lighting_circuit", "A1", "LUCI-O", None, 1),
    "a cabinet": (_lamps("L01", "L02", "L05", "L06"), "lighting_cabinet", "A1", "LUCI-O", None, 1),
    # Called in from A1, beside the main's end; the main's middle lies in A2.
    "a burst, at the middle of its main": ([("water_leak", 0, {"pipe": "P6", "at": (490, 455)})],
                                           "water_main_burst", "A2", "ACQUA", None, 1),
    "water trouble near no main": ([("no_water", 0, {"at": (40, 960)})], "water_outage", "A1", "ACQUA", None, 2),
    "flooding": ([("flooding", 0, {"at": (700, 300)})], "flooding", "A2", "STRADE", None, 1),
    "road damage": ([("road_damage", 0, {"at": (100, 500)})], "road_damage", "A1", "STRADE", None, 3),
    "a person in distress, no social crew": ([("social_distress", 0, {"at": (300, 700)})], "social_distress", "A1",
                                             None, "Nessuna squadra dei servizi sociali copre la zona A1: inviarla a mano.", 1),
    "anything else, no general crew": ([("graffiti", 0, {"at": (800, 700)})], "other", "A2", None,
                                       "Nessuna squadra per lavori generici copre la zona A2: inviarla a mano.", 3),
    "noise, the local police's": ([("noise", 0, {"at": (300, 510)})], "noise", "A1", None, POLICE, 3),
}


@pytest.mark.parametrize("calls, kind, area, crew, note, priority", _BY_KIND.values(), ids=_BY_KIND.keys())
def test_the_crew_of_the_kinds_skill_in_the_area_holding_the_fix_point_goes(session, borgo, call, calls, kind,
                                                                            area, crew, note, priority):
    inc = _stored(session, _calls(call, calls))
    assert (inc.kind, inc.area_id, inc.crew_id, inc.priority) == (kind, area, crew, priority)
    if note:
        assert inc.explanation.endswith(" " + note)
    else:
        assert "inviarla a mano" not in inc.explanation and "polizia" not in inc.explanation
    # The incident asked for again, by itself: the same answer (the call's own statement found it first).
    again = responsibility.assign_many(session, [inc])[inc.id]
    assert (again.area_id, again.crew_id, words.render(again.note, "it") or None) == (area, crew, note)
    assert inc.dispatch_note == note


def test_the_crew_of_a_dark_cabinet_goes_to_the_cabinet_not_to_where_its_lamps_are(session, borgo, call, tmp_path):
    # Borgo with ten more lamps on C2, in A2: most of what cabinet Q1 (in A1) feeds now lies in A2.
    def more_c2(features):
        return features + [{"type": "Feature", "properties": {"lamp_id": f"L2{n}", "circuit_id": "C2",
                                                              "cabinet_id": "Q1"},
                            "geometry": {"type": "Point", "coordinates": [660700 + 20 * n, 5118505]}}
                           for n in range(10)]
    load_municipality(session, borgo_copy(tmp_path / "b", {"lamps": more_c2}), "borgo-c2")
    mid = session.scalar(select(Municipality.id).where(Municipality.slug == "borgo-c2"))
    for n, lamp in enumerate(("L01", "L02", "L05", "L06", "L07")):   # C1 (2 of 4) and C2 (3 of 13) dark
        _, inc = call("streetlight_out", n, lamp=lamp, mid=mid)
    inc = _stored(session, inc)
    assert (inc.kind, inc.asset_ids, inc.area_id, inc.crew_id) == ("lighting_cabinet", ["Q1"], "A1", "LUCI-O")


@pytest.mark.parametrize("crews, calls, crew", [
    # Sorted first by name, but it covers both areas: LUCI-O, of A1 alone, goes.
    ([("LUCI-A", ["A1", "A2"], ["lighting"])], _lamps("L01"), "LUCI-O"),
    # A drains crew of A1 alone goes before STRADE, which covers both areas (and roads too).
    ([("TOMBINI-O", ["A1"], ["drains"])], [("flooding", 0, {"at": (300, 300)})], "TOMBINI-O"),
    # Two water crews of one area each: the one of the area holding the main's middle.
    ([("ACQUA-O", ["A1"], ["water"]), ("ACQUA-E", ["A2"], ["water"])], [("water_leak", 0, {"pipe": "P6"})],
     "ACQUA-E"),
], ids=["lighting", "drains", "water"])
def test_the_crew_with_the_fewest_areas_goes_first(session, borgo, call, crews, calls, crew):
    for crew_id, areas, skills in crews:
        session.add(Crew(municipality_id=borgo, crew_id=crew_id, name=crew_id, area_ids=areas, skills=skills))
    session.flush()
    inc = _stored(session, _calls(call, calls))
    assert inc.crew_id == crew
    assert responsibility.assign_many(session, [inc])[inc.id].crew_id == crew


@pytest.mark.parametrize("service, at, kind, note", [
    ("flooding", (1100, 500), "flooding", NO_AREA),         # beyond the town's edge, inside the intake's margin
    ("road_damage", (-100, 500), "road_damage", NO_AREA),
    ("streetlight_out", (500, 1100), "lamp", NO_AREA),      # near no lamp either
    ("no_water", (500, -100), "water_outage", NO_AREA),     # near no main either
    ("noise", (1100, 500), "noise", POLICE),                # nobody's, wherever it is
])
def test_an_incident_in_no_crew_area_gets_no_crew_and_the_operator_is_told_what_to_do(session, borgo, call,
                                                                                      service, at, kind, note):
    _, inc = call(service, 0, at=at)
    inc = _stored(session, inc)
    assert (inc.kind, inc.area_id, inc.crew_id) == (kind, None, None)
    assert inc.explanation.endswith(" " + note)
    assert words.render(responsibility.assign_many(session, [inc])[inc.id].note, "it") == note
    assert words.worded(inc.explanation_parts, "en")["dispatch_note"] == {
        POLICE: "No municipal crew handles this: pass it to the local police.",
        NO_AREA: "It lies in no crew area, so no crew is assigned: dispatch by hand."}[note]


# A first call or calls, and a call that makes the incident grow.
_GROWING = {
    "flooding": ([("flooding", 0, {"at": (480, 310)})], ("flooding", 10, {"at": (500, 330)})),
    "a lamp called again": (_lamps("L08"), ("streetlight_out", 10, {"lamp": "L08"})),
    "a circuit, one lamp more": (_lamps("L01", "L02"), ("streetlight_out", 10, {"lamp": "L03"})),
    "a burst, a dry call more": ([("water_leak", 0, {"pipe": "P4"})],
                                 ("no_water", 10, {"pipe": "P6", "at": (690, 455)})),
    "road damage over days": ([("road_damage", 0, {"at": (100, 500)})], ("road_damage", 60 * 24 * 3, {"at": (110, 500)})),
}


@pytest.mark.parametrize("status", ["assigned", "in_progress"])
@pytest.mark.parametrize("first, then", _GROWING.values(), ids=_GROWING.keys())
def test_a_crew_already_sent_stays_on_the_job_as_the_incident_grows(session, borgo, call, first, then, status):
    inc = _calls(call, first)
    inc.status, inc.crew_id = status, "FOGNE-2"                   # the dispatcher chose this crew
    session.flush()
    chosen = [h.detail for h in session.scalars(select(IncidentEvent).where(
        IncidentEvent.incident_id == inc.id, IncidentEvent.action == "crew assigned"))]
    service, minutes, where = then
    _, same = call(service, minutes, **where)
    same = _stored(session, same)
    assert same.id == inc.id and same.crew_id == "FOGNE-2" and same.status == status
    assert [h.detail for h in session.scalars(select(IncidentEvent).where(
        IncidentEvent.incident_id == inc.id, IncidentEvent.action == "crew assigned"))] == chosen
