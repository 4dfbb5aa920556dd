"""Windows look both ways from a call's time, a cabinet takes all it feeds, and what the
incidents tell: the rules' less travelled paths on the Borgo fixture."""
from __future__ import annotations

import json

from sqlalchemy import func, select, text

from geo_urp.loading.loader import load_municipality
from geo_urp.models import IncidentEvent, IncidentReport, Municipality
from geo_urp.reasoning import corrections
from geo_urp.reasoning import grouping
from geo_urp.reading import incidents as queries
from geo_urp.reasoning.rules import DEFAULTS
from tests.reasoning.borgo_variants import borgo_copy
from tests.reasoning.conftest import incident_of, open_incidents, report_ids

HOURS = DEFAULTS["lighting"]["window_h"]


def test_a_call_logged_late_counts_with_the_calls_of_its_own_hours(session, borgo, call):
    _, a = call("streetlight_out", 0, lamp="L01")
    # Another lamp of circuit C1, logged now for a call taken a day and a half earlier: two of
    # the circuit's four lamps, but not in the same hours.
    late, b = call("streetlight_out", -(HOURS * 3) * 60, lamp="L02")
    assert a.kind == b.kind == "lamp" and a.id != b.id
    # A second lamp within the window of the first makes the circuit (2 of 4 lamps), without the old call.
    _, circuit = call("streetlight_out", 10, lamp="L03")
    assert circuit.kind == "lighting_circuit" and a.absorbed_into_id == circuit.id
    assert incident_of(session, late).id == b.id and b.status == "open"


def test_a_water_call_logged_late_does_not_join_an_outage_of_later_hours(session, borgo, call):
    _, outage = call("no_water", 0, pipe="P6", at=(690, 455))
    _, old = call("no_water", -(DEFAULTS["water"]["window_h"] * 3) * 60, pipe="P6", at=(680, 455))
    assert old.id != outage.id


def _borgo_with_c5(session, folder) -> int:
    """Borgo with a third circuit C5 (L50-L53) on cabinet Q1, its lamps beside those of C1."""
    def add_c5(features):
        extra = [{"type": "Feature", "properties": {"lamp_id": f"L5{n}", "circuit_id": "C5", "cabinet_id": "Q1"},
                  "geometry": {"type": "Point", "coordinates": [660150 + 30 * n, 5118560]}} for n in range(4)]
        return features + extra
    borgo_copy(folder, {"lamps": add_c5})
    load_municipality(session, folder, "borgo3")
    return session.scalar(select(Municipality.id).where(Municipality.slug == "borgo3"))


def test_a_dark_cabinet_takes_every_open_circuit_it_feeds(session, borgo, call, tmp_path):
    mid = _borgo_with_c5(session, tmp_path / "b3")
    for n, lamp in enumerate(("L50", "L51", "L52")):           # C5 dark, a day before
        _, c5 = call("streetlight_out", -(HOURS * 2) * 60 + n, lamp=lamp, mid=mid)
    assert c5.kind == "lighting_circuit"
    for n, lamp in enumerate(("L01", "L02", "L03")):           # C1 dark now
        call("streetlight_out", n, lamp=lamp, mid=mid)
    for n, lamp in enumerate(("L05", "L06")):                  # and C2: the cabinet has failed
        _, cabinet = call("streetlight_out", 10 + n, lamp=lamp, mid=mid)
    assert cabinet.kind == "lighting_cabinet" and cabinet.asset_ids == ["Q1"]
    assert c5.status == "closed" and c5.absorbed_into_id == cabinet.id
    assert len(report_ids(session, cabinet)) == 8


def test_a_dark_cabinet_leaves_an_older_circuit_a_crew_is_already_on(session, borgo, call, tmp_path):
    mid = _borgo_with_c5(session, tmp_path / "b3")
    for n, lamp in enumerate(("L50", "L51", "L52")):           # C5 dark, a day before; a crew is on it
        _, c5 = call("streetlight_out", -(HOURS * 2) * 60 + n, lamp=lamp, mid=mid)
    c5.status = "assigned"
    session.flush()
    for n, lamp in enumerate(("L01", "L02", "L05", "L06")):    # C1 and C2 dark now: cabinet Q1
        _, cabinet = call("streetlight_out", n, lamp=lamp, mid=mid)
    assert cabinet.kind == "lighting_cabinet" and c5.status == "assigned" and c5.absorbed_into_id is None
    assert len(report_ids(session, cabinet)) == 4


def test_a_lamp_an_operator_merged_into_another_cabinets_circuit_takes_its_next_calls_there(session, borgo, call):
    _, lamp = call("streetlight_out", 0, lamp="L08")               # cabinet Q2
    for n, name in ((5, "L01"), (10, "L02")):                      # circuit C1 of cabinet Q1
        _, circuit = call("streetlight_out", n, lamp=name)
    merged = corrections.merge(session, [lamp.id, circuit.id], "user:anna")
    again, same = call("streetlight_out", 30, lamp="L08")
    assert same.id == merged.id and len(open_incidents(session, borgo)) == 1


def test_a_dark_cabinet_takes_a_lamp_called_in_after_its_circuits_though_logged_before(session, borgo, call,
                                                                                       tmp_path):
    mid = _borgo_with_c5(session, tmp_path / "b3")
    _, lamp = call("streetlight_out", 90, lamp="L50", mid=mid)    # logged first, taken an hour after the rest
    assert lamp.kind == "lamp"
    for n, name in ((0, "L01"), (5, "L02"), (10, "L05")):          # C1 dark (2 of its 4 lamps)...
        call("streetlight_out", n, lamp=name, mid=mid)
    _, cabinet = call("streetlight_out", 12, lamp="L06", mid=mid)   # ...and C2: cabinet Q1 has failed
    assert cabinet.kind == "lighting_cabinet" and cabinet.asset_ids == ["Q1"]
    assert lamp.absorbed_into_id == cabinet.id and len(report_ids(session, cabinet)) == 5
    # A lamp of the cabinet called in later, while the cabinet is still open, joins it.
    _, later = call("streetlight_out", (HOURS + 1) * 60, lamp="L51", mid=mid)
    assert later.id == cabinet.id
    assert len(open_incidents(session, mid)) == 1


def test_a_single_lamp_tells_how_many_of_its_circuit_were_called_in(session, borgo, call):
    _, alone = call("streetlight_out", 0, lamp="L08")
    assert "no other lamp of circuit C3 reported within 12 h" in alone.explanation
    _, first = call("streetlight_out", 0, lamp="L01")
    assert "no other lamp of circuit C1" in first.explanation
    session.execute(text("UPDATE municipalities SET rules = :r WHERE id = :m"),
                    {"r": json.dumps({"lighting": {"circuit_min_share": 1.0, "circuit_min_lamps": 4}}), "m": borgo})
    session.expire_all()
    _, second = call("streetlight_out", 5, lamp="L02")
    assert second.kind == "lamp"
    assert "1 other lamp of circuit C1 reported within 12 h, not enough for a circuit fault" in second.explanation


def test_information_requests_make_no_incident_whatever_the_town_lists(session, borgo, call):
    session.execute(text("UPDATE municipalities SET rules = :r WHERE id = :m"),
                    {"r": json.dumps({"no_incident": ["noise"]}), "m": borgo})
    session.expire_all()
    info, inc = call("info_request", 0, at=(100, 500))
    noise, inc2 = call("noise", 0, at=(100, 500))
    assert inc is None and inc2 is None
    assert session.get(IncidentReport, info.id) is None and session.get(IncidentReport, noise.id) is None


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


def test_when_the_leak_calls_point_at_another_main_the_dry_calls_it_leaves_dry_stay_explained(session, borgo, call):
    _, burst = call("water_leak", 0, pipe="P2")
    assert burst.asset_ids == ["P2"] and 2 in burst.affected_segment_nos
    dry, same = call("no_water", 5, pipe="P2", segment=2)           # dry because P2 is shut off
    assert same.id == burst.id
    for minutes in (10, 15):                                        # two leak calls on P4, next to P2
        _, joined = call("water_leak", minutes, pipe="P4")
        assert joined.id == burst.id
    assert burst.asset_ids == ["P4", "P2"] and 2 not in burst.affected_segment_nos
    actions = [h["action"] for h in queries.history(session, burst.id)]
    assert "suspected main changed" in actions
    # Shutting P4 off leaves segment 2 wet: its dry call is an outage of its own.
    outage = incident_of(session, dry)
    assert outage.id != burst.id and outage.kind == "water_outage" and 2 in outage.affected_segment_nos
    assert session.scalar(select(func.count()).select_from(IncidentReport)) == 4


def test_a_leak_call_beside_another_main_far_from_the_burst_makes_its_own(session, borgo, call):
    _, burst = call("water_leak", 0, pipe="P4")
    _, other = call("water_leak", 5, pipe="P1")                     # P1: 200 m from P4, wet when P4 is shut
    assert other.id != burst.id and burst.asset_ids == ["P4"] and other.asset_ids == ["P1"]


def test_a_leak_call_on_another_main_near_the_oldest_burst_main_joins_that_burst(session, borgo, call):
    _, burst = call("water_leak", 0, pipe="P4")
    _, other = call("water_leak", 5, pipe="P1", segment=1)         # 302 m from P4: a burst of its own
    assert other.id != burst.id and 2 in other.affected_segment_nos
    # On P2, in segment 2: 147 m from P4 (within leak_join_m, 150 m) though neither on P4 nor in its
    # dry area; P1's burst would hold it too (its dry area has segment 2), but P4's is the older.
    _, joined = call("water_leak", 10, pipe="P2", segment=2)
    assert joined.id == burst.id and burst.asset_ids[0] == "P4" and "P2" in burst.asset_ids


def test_lamps_count_for_a_circuit_only_within_one_span_of_the_window(session, borgo, call):
    from geo_urp.reasoning.recompute import recompute_open

    session.execute(text("UPDATE municipalities SET rules = :r WHERE id = :m"),
                    {"r": json.dumps({"lighting": {"circuit_min_share": 1.0}}), "m": borgo})
    session.expire_all()
    call("streetlight_out", 0, lamp="L01")
    call("streetlight_out", (HOURS * 2 - 1) * 60, lamp="L03")       # 23 h later
    _, late = call("streetlight_out", (HOURS - 1) * 60, lamp="L02")  # logged last, for 11 h: 12 h from either
    assert late.kind == "lamp"
    kinds = lambda: sorted(i.kind for i in open_incidents(session, borgo))  # noqa: E731
    assert kinds() == ["lamp", "lamp", "lamp"]
    recompute_open(session, borgo)                                   # the replay, in time order, agrees
    assert kinds() == ["lamp", "lamp", "lamp"]


def test_lamps_an_operator_merged_go_with_the_circuit_their_calls_count_for(session, borgo, call):
    from geo_urp.reasoning import corrections

    r1, a = call("streetlight_out", 0, lamp="L05")                   # circuit C2
    r2, b = call("streetlight_out", 5, lamp="L01")                   # circuit C1
    merged = corrections.merge(session, [a.id, b.id], "user:anna")
    r3, circuit = call("streetlight_out", 10, lamp="L02")            # 2 of C1's 4 lamps
    assert circuit.kind == "lighting_circuit" and circuit.asset_ids == ["C1"]
    assert merged.status == "closed" and merged.absorbed_into_id == circuit.id
    assert report_ids(session, circuit) == {r1.id, r2.id, r3.id}


def test_a_move_that_empties_an_incident_is_seen_by_pollers(session, borgo, call):
    from geo_urp.reasoning import corrections

    _, a = call("road_damage", 0, at=(100, 500))
    r, b = call("road_damage", 5, at=(600, 900))
    before = grouping.now()                                             # after both were made
    corrections.move(session, r.id, a.id, "user:anna")
    changed = {f["id"]: f["properties"] for f in
               queries.incidents_geojson(session, [borgo], status="all", since=before)["features"]}
    assert changed[b.id]["status"] == "closed" and changed[b.id]["absorbed_into_id"] == a.id


def test_a_leak_call_moved_into_an_outage_makes_it_a_burst(session, borgo, call):
    from geo_urp.reasoning import corrections

    _, outage = call("no_water", 0, pipe="P6", at=(690, 455))
    leak, burst = call("water_leak", 5, pipe="P7")
    assert outage.kind == "water_outage" and burst.id != outage.id
    corrections.move(session, leak.id, outage.id, "user:anna")
    assert outage.kind == "water_main_burst" and outage.asset_ids == ["P7"]
    assert "probable burst" in outage.explanation and "no leak reported yet" not in outage.explanation
    assert "upgraded" in [h["action"] for h in queries.history(session, outage.id)]
