"""Windows are spans of the calls' own times: a cross-cutting rule (docs/INCIDENTS.md, "Windows
are spans of the calls' own times") that lighting, water and the clusters each apply, so its
tests are kept together here rather than split by module: a call logged late counts with the
calls of its own hours, whatever the family, and the result does not depend on the order calls
are logged in (a replay in time order agrees)."""
from __future__ import annotations

import json

import pytest

from sqlalchemy import text

from geo_urp.reasoning.rules import DEFAULTS
from tests.reasoning.borgo_variants import borgo_with_c5
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


def test_a_dark_cabinet_takes_a_lamp_called_in_after_its_circuits_though_logged_before(session, borgo, call,
                                                                                       tmp_path):
    mid = borgo_with_c5(session, tmp_path / "b3")
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


@pytest.mark.parametrize("hours, joins", [(-2, True), (2, True), (-4, False), (4, False)])
def test_a_cluster_call_joins_the_calls_within_its_window_before_or_after_its_own_time(session, borgo, call,
                                                                                       hours, joins):
    # Flooding groups calls within 3 h of each other: a call logged late, for 2 h before the
    # first one, joins it as one 2 h after would; 4 h either way is another flooding.
    assert DEFAULTS["clusters"]["flooding"]["window_h"] == 3
    _, flood = call("flooding", 0, at=(300, 300))
    _, other = call("flooding", hours * 60, at=(320, 300))
    assert (other.id == flood.id) is joins
