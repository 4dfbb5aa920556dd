"""Snapping points to streets, lamps and water mains on the Borgo fixture town.

Borgo, in metres from (660000, 5118000): lamps L01-L04 (circuit C1, cabinet Q1)
stand at y=505 from x=150 to 240, L08-L10 (C3, Q2) at x=505 from y=250 to 310;
main P1 runs at y=300 from x=100 to 300 with valve V1 at x=290 cutting it, P5
at y=450 from x=300 to 500, P7 alone far north-east at y=900. Via Roma runs at
y=500, Via IV Novembre at y=200.
"""
from __future__ import annotations

import pytest
from pyproj import Transformer
from sqlalchemy import select

from geo_urp.loading.loader import load_municipality
from geo_urp.locating.snapping import SnapLimits, project, snap
from geo_urp.models import METRIC_SRID, WGS84, Municipality, PipePart
from tests.conftest import BORGO

X0, Y0 = 660000, 5118000


def nearest_lamp(session, mid, x, y, max_m):
    return snap(session, mid, x, y, "lighting", SnapLimits(lamp_m=max_m)).lamp


def nearest_pipe(session, mid, x, y, max_m):
    return snap(session, mid, x, y, "water", SnapLimits(pipe_m=max_m)).pipe


def nearest_street(session, mid, x, y, max_m):
    return snap(session, mid, x, y, None, SnapLimits(street_m=max_m)).street


@pytest.mark.parametrize("x, y, lamp, circuit, cabinet", [
    (152, 500, "L01", "C1", "Q1"),
    (239, 530, "L04", "C1", "Q1"),
    (630, 480, "L06", "C2", "Q1"),
    (520, 281, "L09", "C3", "Q2"),
    (110, 660, "L11", "C4", "Q9"),  # Q9 is only named by its lamp: still the lamp's cabinet
])
def test_lamp_with_its_circuit_and_cabinet(session, borgo, x, y, lamp, circuit, cabinet):
    found = nearest_lamp(session, borgo, X0 + x, Y0 + y, 60)
    assert (found.lamp_id, found.circuit_id, found.cabinet_id) == (lamp, circuit, cabinet)


def test_lamp_distance_is_measured(session, borgo):
    found = nearest_lamp(session, borgo, X0 + 150, Y0 + 545, 60)
    assert found.lamp_id == "L01" and found.distance_m == pytest.approx(40.0, abs=0.1)


@pytest.mark.parametrize("limit, expected", [(39.9, None), (40.1, "L01")])
def test_lamp_beyond_the_distance_is_none(session, borgo, limit, expected):
    found = nearest_lamp(session, borgo, X0 + 150, Y0 + 545, limit)
    assert (found.lamp_id if found else None) == expected


def _segment_of(session, borgo, pipe_id: str, x: float) -> int:
    """The valve segment of the part of ``pipe_id`` that covers x (from the loader's topology)."""
    parts = session.execute(select(PipePart.segment_no, PipePart.geom.ST_XMin(), PipePart.geom.ST_XMax())
                            .where(PipePart.municipality_id == borgo, PipePart.pipe_id == pipe_id)).all()
    return next(seg for seg, lo, hi in parts if lo <= X0 + x <= hi)


@pytest.mark.parametrize("x, y, pipe", [(200, 320, "P1"), (295, 290, "P1"), (400, 460, "P5"),
                                        (850, 880, "P7")])
def test_pipe_and_its_valve_segment(session, borgo, x, y, pipe):
    found = nearest_pipe(session, borgo, X0 + x, Y0 + y, 80)
    assert found.pipe_id == pipe
    assert found.segment_no == _segment_of(session, borgo, pipe, x)


def test_valve_splits_a_pipe_into_two_segments(session, borgo):
    west = nearest_pipe(session, borgo, X0 + 200, Y0 + 305, 80)
    east = nearest_pipe(session, borgo, X0 + 295, Y0 + 305, 80)
    assert west.pipe_id == east.pipe_id == "P1"
    assert west.segment_no != east.segment_no  # V1 at x=290 cuts P1


def test_pipe_beyond_the_distance_is_none(session, borgo):
    assert nearest_pipe(session, borgo, X0 + 900, Y0 + 700, 80) is None  # P7 is 200 m away
    assert nearest_pipe(session, borgo, X0 + 900, Y0 + 700, 250).pipe_id == "P7"


@pytest.mark.parametrize("x, y, street", [(300, 520, "S1"), (505, 700, "S2"), (400, 210, "S5"),
                                          (95, 700, "S4")])
def test_street(session, borgo, x, y, street):
    assert nearest_street(session, borgo, X0 + x, Y0 + y, 150).street_id == street


def test_street_beyond_the_distance_is_none(session, borgo):
    assert nearest_street(session, borgo, X0 + 900, Y0 + 950, 150) is None


@pytest.mark.parametrize("network, lamp, pipe", [("lighting", "L04", None), ("water", None, "P5"),
                                                  ("streets", None, None), (None, None, None)])
def test_snap_looks_only_at_the_services_network(session, borgo, network, lamp, pipe):
    found = snap(session, borgo, X0 + 320, Y0 + 480, network, SnapLimits(100, 80, 150))
    assert found.street.street_id == "S1"
    assert (found.lamp.lamp_id if found.lamp else None) == lamp
    assert (found.pipe.pipe_id if found.pipe else None) == pipe
    fields = found.report_fields()
    assert fields["street_id"] == "S1" and fields.get("lamp_id") == lamp and fields.get("pipe_id") == pipe


def test_snap_of_another_municipality_finds_nothing(session, borgo):
    load_municipality(session, BORGO, "borgo-bis")
    other = session.scalar(select(Municipality.id).where(Municipality.slug == "borgo-bis"))
    session.execute(PipePart.__table__.delete().where(PipePart.municipality_id == other))
    assert nearest_pipe(session, other, X0 + 200, Y0 + 305, 80) is None
    assert nearest_pipe(session, borgo, X0 + 200, Y0 + 305, 80).pipe_id == "P1"


def _wgs84(x: float, y: float) -> tuple[float, float]:
    lon, lat = Transformer.from_crs(METRIC_SRID, WGS84, always_xy=True).transform(X0 + x, Y0 + y)
    return lat, lon


@pytest.mark.parametrize("x, y, outside", [(500, 500, 0), (1000, 500, 0), (1500, 500, 500), (500, -150, 150)])
def test_project_measures_outside_the_boundary(session, borgo, x, y, outside):
    point = project(session, borgo, *_wgs84(x, y))
    assert point.x == pytest.approx(X0 + x, abs=0.01) and point.y == pytest.approx(Y0 + y, abs=0.01)
    assert point.outside_m == pytest.approx(outside, abs=0.5)
