"""Recomputing a town's open incidents (``reasoning/recompute.py``): the open incidents are closed
and their calls replayed, oldest first, through the live rules (the town's own), so the result is
what the live path would have built; each old incident points at its successor, a crew's
progress is kept, and operators' corrections, which are not replayed, are counted first."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from geo_urp.models import Incident, IncidentReport, Municipality, Report
from geo_urp.reasoning import corrections
from geo_urp.reasoning.recompute import operator_corrections, recompute_open
from geo_urp.reading import incidents as queries
from tests.reasoning.conftest import T0, open_incidents, operators_merge_and_move, report_ids


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


def _live(session, mid) -> list[tuple]:
    """What a town's open incidents are, whatever their ids: kind, assets, calls, status, area and crew."""
    return sorted((i.kind, tuple(i.asset_ids), tuple(sorted(report_ids(session, i))), i.status, i.area_id or "",
                   i.crew_id or "") for i in session.scalars(select(Incident).where(
                       Incident.municipality_id == mid, Incident.status.in_(("open", "assigned", "in_progress")))))


def test_recompute_rebuilds_what_calls_taken_live_built_under_the_towns_rules(session, borgo, take):
    # The town wants 3 dark lamps for a circuit (90 % of its lamps): by the defaults, 2 of C2's 3
    # lamps would make a circuit, and with C1 a dark cabinet. The replay must follow the town.
    session.get(Municipality, borgo).rules = {"lighting": {"circuit_min_share": 0.9}}
    session.flush()
    for m, (x, y) in enumerate([(152, 507), (182, 507), (212, 507), (602, 507), (632, 507)]):  # L01-L03, L05, L06
        take("streetlight_out", m, at=(x, y))
    take("streetlight_out", 6, at=(900, 900))                     # near no lamp
    take("no_water", 10, at=(690, 455))                           # P6: segment 5, in P4's dry area
    take("no_water", 12, at=(350, 303))                           # P2: wet when P4 is shut
    take("water_leak", 20, at=(503, 380))                         # P4
    take("flooding", 25, at=(100, 900))
    take("flooding", 26, at=(120, 900))
    take("noise", 30, at=(300, 700))
    take("info_request", 31, at=(300, 700))
    live = _live(session, borgo)
    kinds = sorted(k for k, *_ in live)
    assert kinds == ["flooding", "lamp", "lamp", "lamp", "lighting_circuit", "noise", "water_main_burst",
                     "water_outage"]
    replayed, now_open = recompute_open(session, borgo)
    # The operator's information request was answered during the call (stored closed): not replayed.
    assert (replayed, now_open) == (12, len(live))
    assert _live(session, borgo) == live


@pytest.mark.parametrize("xs, distance_m, groups", [
    ((100, 400), 400, [[0, 1]]),               # new rules join two floodings 300 m apart
    ((100, 140, 260), 100, [[0, 1], [2]]),     # and part one whose calls lie 120 m apart
], ids=["joined", "parted"])
def test_each_old_incident_points_at_the_new_one_holding_most_of_its_calls(session, borgo, call, xs, distance_m,
                                                                            groups):
    calls = [call("flooding", n, at=(x, 500)) for n, x in enumerate(xs)]
    old = {inc.id: inc for _, inc in calls}
    session.get(Municipality, borgo).rules = {"clusters": {"flooding": {"distance_m": distance_m}}}
    session.flush()
    recompute_open(session, borgo)
    new = open_incidents(session, borgo)
    assert sorted(sorted(report_ids(session, i)) for i in new) == sorted(
        sorted(calls[n][0].id for n in g) for g in groups)
    for old_id in old:
        gone = session.get(Incident, old_id)
        was = {r.id for r, inc in calls if inc.id == old_id}
        share = {i.id: len(report_ids(session, i) & was) for i in new}
        assert gone.status == "closed" and report_ids(session, gone) == set()
        assert gone.absorbed_into_id == max(share, key=lambda i: (share[i], -i))
        line = queries.history(session, old_id)[-1]
        assert (line["action"], line["detail"]["into"]) == ("rebuilt", gone.absorbed_into_id)
        assert sorted(line["detail"]["report_ids"]) == sorted(
            str(r) for r in report_ids(session, session.get(Incident, gone.absorbed_into_id)) & was)


@pytest.mark.parametrize("first, second, expected", [
    (("assigned", "FOGNE-1"), ("open", None), ("assigned", "FOGNE-1")),
    (("open", None), ("in_progress", "FOGNE-2"), ("in_progress", "FOGNE-2")),
    (("assigned", "FOGNE-1"), ("in_progress", "FOGNE-2"), ("in_progress", "FOGNE-2")),
    (("in_progress", "FOGNE-1"), ("assigned", "FOGNE-2"), ("in_progress", "FOGNE-1")),
    (("open", None), ("open", None), ("open", "STRADE")),          # nobody sent: the rule's crew
], ids=["assigned+open", "open+in_progress", "assigned+in_progress", "in_progress+assigned", "nobody-sent"])
def test_a_new_incident_keeps_the_most_advanced_progress_of_the_old_ones_and_its_crew(session, borgo, call,
                                                                                       first, second, expected):
    # Two floodings 300 m apart, joined into one by new rules.
    olds = [call("flooding", n, at=(x, 500))[1] for n, x in enumerate((100, 400))]
    for inc, (status, crew) in zip(olds, (first, second)):
        inc.status, inc.crew_id = status, crew or inc.crew_id
    session.get(Municipality, borgo).rules = {"clusters": {"flooding": {"distance_m": 400}}}
    session.flush()
    recompute_open(session, borgo)
    [new] = session.scalars(select(Incident).where(
        Incident.municipality_id == borgo, Incident.status.in_(("open", "assigned", "in_progress")))).all()
    assert (new.status, new.crew_id) == expected
    kept = [h["detail"] for h in queries.history(session, new.id) if h["action"] == "status kept"]
    assert [k["status"] for k in kept] == ([expected[0]] if expected[0] != "open" else [])


def _merge_then_a_circuit_takes_it(session, call):
    """An operator's merge of lamps of two circuits, taken since by the circuit one of them failed with."""
    _, a = call("streetlight_out", 0, lamp="L05")
    _, b = call("streetlight_out", 5, lamp="L01")
    merged = corrections.merge(session, [a.id, b.id], "user:anna")
    _, circuit = call("streetlight_out", 10, lamp="L02")
    assert merged.absorbed_into_id == circuit.id


def _merge_and_move(session, call):
    operators_merge_and_move(session, call)


def _move_into_an_incident_closed_since(session, call):
    _, a = call("road_damage", 0, at=(100, 500))
    r, _ = call("road_damage", 5, at=(600, 900))
    call("road_damage", 10, at=(602, 900))
    corrections.move(session, r.id, a.id, "user:anna")
    a.status, a.closed_at = "closed", T0                          # mended: what it holds is history
    session.flush()


def _only_calls(session, call):
    for n, x in enumerate((100, 120, 600)):
        call("road_damage", n, at=(x, 500))
    _, lamp = call("streetlight_out", 5, lamp="L01")
    call("streetlight_out", 6, lamp="L02")                        # the rules' own absorption: not an operator's


@pytest.mark.parametrize("corrected, count", [
    (_only_calls, 0), (_merge_and_move, 2), (_merge_then_a_circuit_takes_it, 1),
    (_move_into_an_incident_closed_since, 0)], ids=lambda v: getattr(v, "__name__", str(v)).strip("_"))
def test_operator_corrections_counts_the_merges_and_moves_a_recomputation_would_undo(session, borgo, call,
                                                                                      corrected, count):
    corrected(session, call)
    assert operator_corrections(session, borgo) == count
    recompute_open(session, borgo)
    assert operator_corrections(session, borgo) == 0               # the rebuilt incidents hold none


def test_recompute_leaves_incidents_closed_before_as_they_were(session, borgo, call):
    first, done = call("flooding", 0, at=(100, 900))
    done.status, done.closed_at = "closed", T0
    session.flush()
    second, _ = call("flooding", 5, at=(110, 900))                # after it was closed: an incident of its own
    replayed, now_open = recompute_open(session, borgo)
    assert (replayed, now_open) == (1, 1)
    done = session.get(Incident, done.id)
    assert (done.status, done.absorbed_into_id, report_ids(session, done)) == ("closed", None, {first.id})
    assert queries.history(session, done.id)[-1]["action"] != "rebuilt"
