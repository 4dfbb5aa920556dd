"""Water reasoning (``reasoning/water.py``) on the Borgo fixture: bursts and outages on the mains
and valve segments (see tests/loading/test_loader.py for the drawing of its network: P4 isolates
with V2, V3, V5 and leaves segment 5 (P6's tail) dry). Water calls near no main are clusters:
tests/reasoning/test_clusters.py."""
from __future__ import annotations

from sqlalchemy import func, select

from geo_urp.models import IncidentReport
from geo_urp.reading import incidents as queries
from geo_urp.reasoning.rules import DEFAULTS
from tests.reasoning.conftest import each_report_linked_once, incident_of, open_incidents, report_ids
from tests.explained import in_english


def test_a_leak_call_makes_a_burst_with_its_valves(session, borgo, call):
    r, inc = call("water_leak", 0, pipe="P4")
    assert (inc.kind, inc.asset_ids, inc.valves_to_close) == ("water_main_burst", ["P4"], ["V2", "V3", "V5"])
    assert inc.affected_segment_nos == [3, 4, 5]
    assert inc.crew_id == "ACQUA"
    assert "Per isolarla chiudere le valvole V2, V3, V5;" in inc.explanation
    assert "To isolate it close valves V2, V3, V5;" in in_english(inc)


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
    assert "circa 2 civici resteranno senz'acqua" in burst.explanation
    assert "about 2 addresses will be without water" in in_english(burst)


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
    assert each_report_linked_once(session, borgo)


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
