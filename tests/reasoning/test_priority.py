"""How urgent an incident is (``reasoning/priority.py``): the table's rules one by one, and the
facts as reasoning finds them on the Borgo fixture (the hour of the calls, a school near the fix)."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest
from geoalchemy2.shape import from_shape
from shapely.geometry import Point

from geo_urp.models import METRIC_SRID, Landmark
from geo_urp.reasoning import words
from geo_urp.reasoning.priority import Facts, priority_of
from tests.conftest import BORGO_ORIGIN

NIGHT = datetime(2026, 11, 27, 22, 0, tzinfo=timezone.utc)   # 23:00 in Rome
NOON = datetime(2026, 11, 28, 11, 0, tzinfo=timezone.utc)    # 12:00 in Rome
SUMMER_DUSK = datetime(2026, 7, 1, 17, 30, tzinfo=timezone.utc)  # 19:30 in Rome (summer time)


@pytest.mark.parametrize("facts, value, reasons", [
    (Facts("lamp", NOON, 1), 4, ()),
    (Facts("lamp", NIGHT, 1), 3, ("al buio di notte",)),
    (Facts("lighting_circuit", SUMMER_DUSK, 3), 1, ("al buio di notte",)),
    (Facts("road_damage", NIGHT, 1), 3, ()),                       # the night makes only darkness worse
    (Facts("road_damage", NOON, 1, sensitive_place="Scuola primaria"), 2, ("vicino a Scuola primaria",)),
    (Facts("noise", NOON, 1, sensitive_place="Scuola primaria"), 3, ()),   # about people, not places
    (Facts("road_damage", NOON, 5), 2, ("5 chiamate",)),
    (Facts("water_outage", NOON, 2, affected_addresses=120), 1, ("120 civici senz'acqua",)),
    (Facts("water_main_burst", NOON, 9, affected_addresses=300), 1, ("9 chiamate", "300 civici senz'acqua")),
    (Facts("lamp", NIGHT, 6, sensitive_place="Ospedale"), 1, ("al buio di notte", "vicino a Ospedale", "6 chiamate")),
    (Facts("other", None, 0), 3, ()),
])
def test_each_rule_that_holds_makes_it_one_step_more_urgent_never_past_1(facts, value, reasons):
    got = priority_of(facts)
    assert (got.value, tuple(words.render(r, "it") for r in got.reasons)) == (value, reasons)


def test_a_dark_lamp_is_more_urgent_at_night_than_at_noon(session, borgo, call):
    _, night = call("streetlight_out", 0, lamp="L05")           # 23:00 in Rome
    _, noon = call("streetlight_out", 13 * 60 + 60 * 24, lamp="L08")  # 12:00 in Rome, the day after
    session.flush()
    assert (night.priority, night.priority_reasons) == (3, ["al buio di notte"])
    assert words.worded(night.explanation_parts, "en")["priority_reasons"] == ["dark at night"]
    assert (noon.priority, noon.priority_reasons) == (4, [])


def test_road_damage_in_front_of_a_school_is_more_urgent(session, borgo, call):
    x0, y0 = BORGO_ORIGIN
    session.add(Landmark(municipality_id=borgo, name="Scuola primaria Dante", props={"kind": "school"},
                         geom=from_shape(Point(x0 + 110, y0 + 500), srid=METRIC_SRID)))
    session.add(Landmark(municipality_id=borgo, name="Bar Centrale", props={"kind": "cafe"},
                         geom=from_shape(Point(x0 + 805, y0 + 700), srid=METRIC_SRID)))
    session.flush()
    _, near_school = call("road_damage", 0, at=(100, 500))
    _, near_bar = call("road_damage", 0, at=(800, 700))
    _, far = call("road_damage", 0, at=(400, 900))
    session.flush()
    assert (near_school.priority, near_school.priority_reasons) == (2, ["vicino a Scuola primaria Dante"])
    assert words.worded(near_school.explanation_parts, "en")["priority_reasons"] == ["near Scuola primaria Dante"]
    assert (near_bar.priority, near_bar.priority_reasons) == (3, [])
    assert (far.priority, far.priority_reasons) == (3, [])
