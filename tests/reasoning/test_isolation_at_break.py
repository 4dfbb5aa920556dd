"""Isolation at the break: a burst main with an in-line valve is shut off on the leak's side of it.

The Borgo fixture with its water network replaced by this one (metres from (660000, 5118000)):

    W1=A(100,300) --P1--V1-- J(200,300) --P2-- V2 --P2-- K(400,300) --V4--P3-- W2=(600,300)
                             |V3        (300,300)         |V5
                             P4                           P5
                             |                            |
                           (200,450)                    (400,450)

V2 sits in the middle of P2, which it splits between two valve segments: J's (P1's tail, P2's
west half, P4's head) and K's (P2's east half, P3's head, P5's head). P4 and P5 are dead ends;
W2 feeds P3 from the east. Civics, each 20 m from the part of the main that serves it:
a1 on P1, a2 on P2's west half, a3 and a7 on P4, a4 on P2's east half, a5 on P5, a6 on P3.

Shutting off the whole of P2 closes V1, V3, V4, V5 and leaves a2, a3, a4, a5, a7 dry. A leak
east of V2 needs V2, V4, V5 only (a4 and a5 dry); one west of it V1, V2, V3 (a2, a3, a7 dry).
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from pyproj import Transformer
from sqlalchemy import select, text

from geo_urp.accounts import create_api_key
from geo_urp.errors import NotFound
from geo_urp.acting.calls import take_call
from geo_urp.loading.loader import load_municipality
from geo_urp.models import METRIC_SRID, WGS84, Incident, IncidentReport, Municipality
from geo_urp.reasoning.isolation import isolate_break, isolate_pipes
from geo_urp.reasoning.rules import DEFAULTS
from geo_urp.reasoning.water import addresses_per_segment, breaks_at
from tests.conftest import BORGO_ORIGIN
from tests.reasoning.borgo_variants import borgo_copy
from tests.explained import in_english

X0, Y0 = BORGO_ORIGIN
T0 = datetime(2026, 11, 27, 22, 0, tzinfo=timezone.utc)
TOWN = "borgo-inline"


def _feature(props: dict, kind: str, *xy: tuple[float, float]) -> dict:
    coords = [[X0 + x, Y0 + y] for x, y in xy]
    return {"type": "Feature", "properties": props,
            "geometry": {"type": kind, "coordinates": coords if kind == "LineString" else coords[0]}}


PIPES = [("P1", (100, 300), (200, 300)), ("P2", (200, 300), (400, 300)), ("P3", (400, 300), (600, 300)),
         ("P4", (200, 300), (200, 450)), ("P5", (400, 300), (400, 450))]
VALVES = [("V1", (190, 300)), ("V2", (300, 300)), ("V3", (200, 310)), ("V4", (410, 300)), ("V5", (400, 310))]
SOURCES = [("W1", (100, 300)), ("W2", (600, 300))]
CIVICS = [("a1", (150, 280)), ("a2", (250, 280)), ("a3", (180, 400)), ("a4", (350, 280)), ("a5", (420, 400)),
          ("a6", (500, 280)), ("a7", (220, 420))]
WHOLE_MAIN = (["V1", "V3", "V4", "V5"], 5)  # shutting off every part of P2: valves, dry civics


def _town(session, folder, stuck: tuple[str, ...] = ()) -> int:
    """The network above loaded as ``TOWN`` (valves in ``stuck`` inoperable); its municipality id."""
    borgo_copy(folder, {
        "water_pipes": lambda _: [_feature({"pipe_id": p, "diameter_mm": 100}, "LineString", a, b)
                                  for p, a, b in PIPES],
        "water_valves": lambda _: [_feature({"valve_id": v, "operable": v not in stuck}, "Point", at)
                                   for v, at in VALVES],
        "water_sources": lambda _: [_feature({"source_id": s}, "Point", at) for s, at in SOURCES],
        "addresses": lambda _: [_feature({"street": "Via Roma", "number": n[1:]}, "Point", at) for n, at in CIVICS],
    })
    load_municipality(session, folder, TOWN)
    return session.scalar(select(Municipality.id).where(Municipality.slug == TOWN))


@pytest.fixture()
def leak_calls(session):
    """leak_calls(mid, points) -> the incident of leak calls taken at ``points`` (metres from the
    origin) through the intake, as an operator's Open311 POSTs, five minutes apart."""
    to_wgs84 = Transformer.from_crs(METRIC_SRID, WGS84, always_xy=True)

    def take(mid: int, points: list[tuple[float, float]]) -> Incident:
        key = create_api_key(session, "operator", TOWN)
        for n, (x, y) in enumerate(points):
            lon, lat = to_wgs84.transform(X0 + x, Y0 + y)
            receipt = take_call(session, key, {
                "service_code": "water_leak", "lat": f"{lat:.8f}", "long": f"{lon:.8f}",
                "requested_datetime": (T0 + timedelta(minutes=5 * n)).isoformat()}, now=T0 + timedelta(days=1))
            assert receipt.report.pipe_id == "P2", receipt.report.pipe_id
        incidents = {session.get(IncidentReport, r).incident_id for r in session.scalars(
            select(IncidentReport.report_id))}
        assert len(incidents) == 1, incidents
        return session.get(Incident, incidents.pop())
    return take


def _segments_of(session, mid: int, civics: list[str]) -> list[int]:
    """The valve segments serving those civics (``a1``...): those of the main parts nearest them."""
    return sorted(set(session.scalars(text(
        "SELECT p.segment_no FROM addresses a CROSS JOIN LATERAL ("
        " SELECT segment_no FROM water_pipe_parts WHERE municipality_id = :m ORDER BY geom <-> a.geom LIMIT 1) p "
        "WHERE a.municipality_id = :m AND 'a' || a.number = ANY(:civics)"), {"m": mid, "civics": civics})))


# Leak calls either side of V2, across the street from P2; and two east of it with a stray
# caller far to the west, whom the leak's position must not follow (the calls' centroid lies
# west of V2, their median position along P2 east of it).
EAST = [(350, 305), (360, 296)]
WEST = [(240, 305), (255, 296)]
EAST_WITH_A_STRAY = [(330, 305), (340, 296), (210, 304)]


@pytest.mark.parametrize("calls,valves,dry_civics", [
    (EAST, ["V2", "V4", "V5"], ["a4", "a5"]),
    (WEST, ["V1", "V2", "V3"], ["a2", "a3", "a7"]),
    (EAST_WITH_A_STRAY, ["V2", "V4", "V5"], ["a4", "a5"]),
], ids=["leak-east-of-V2", "leak-west-of-V2", "two-east-one-stray-west"])
def test_the_crew_closes_the_in_line_valve_on_the_leaks_side(session, tmp_path, leak_calls, calls, valves,
                                                             dry_civics):
    mid = _town(session, tmp_path / "town")
    burst = leak_calls(mid, calls)
    assert (burst.kind, burst.asset_ids) == ("water_main_burst", ["P2"])
    assert burst.valves_to_close == valves
    assert f"chiudere le valvole {', '.join(valves)};" in burst.explanation
    assert f"close valves {', '.join(valves)};" in in_english(burst)
    assert burst.affected_segment_nos == _segments_of(session, mid, dry_civics)
    assert burst.affected_addresses == len(dry_civics)


def test_isolating_at_the_break_leaves_fewer_households_dry_than_the_whole_main(session, tmp_path, leak_calls):
    mid = _town(session, tmp_path / "town")
    whole = isolate_pipes(session, mid, "P2")
    served = addresses_per_segment(session, mid, DEFAULTS["water"]["address_buffer_m"])
    whole_dry = sum(served.get(no, 0) for no in whole.affected_segment_nos)
    assert (list(whole.valves_to_close), whole_dry) == WHOLE_MAIN
    burst = leak_calls(mid, EAST)
    assert set(burst.affected_segment_nos) < set(whole.affected_segment_nos)
    assert len(burst.valves_to_close) < len(whole.valves_to_close)
    assert burst.affected_addresses == 2 < whole_dry
    # The segments left wet are those beyond the junction on the far side of V2 (J's, and P4's
    # dead end behind it), whose valves V1 and V3 stay open.
    assert set(burst.affected_segment_nos).isdisjoint(_segments_of(session, mid, ["a2", "a3", "a7"]))


def test_an_inoperable_in_line_valve_is_passed_and_the_whole_main_shut_off(session, tmp_path, leak_calls):
    mid = _town(session, tmp_path / "town", stuck=("V2",))
    burst = leak_calls(mid, EAST)
    assert (burst.valves_to_close, burst.affected_addresses) == WHOLE_MAIN
    assert burst.affected_segment_nos == _segments_of(session, mid, ["a2", "a3", "a4", "a5", "a7"])


def test_a_break_in_a_segment_the_main_does_not_cross_is_refused(session, tmp_path):
    mid = _town(session, tmp_path / "town")
    [p1_head] = _segments_of(session, mid, ["a1"])  # P1's head, behind V1: no part of P2 there
    with pytest.raises(NotFound, match=f"water pipe P2 has no part in valve segment {p1_head}"):
        isolate_break(session, mid, "P2", p1_head)
    with pytest.raises(NotFound, match="no water pipe P9"):
        isolate_break(session, mid, "P9", p1_head)


def test_breaks_at_tells_the_segment_and_the_room_to_its_valves(session, tmp_path):
    """What the night planner asks before planting a burst: where along P2 a break lies, by the
    rule the leak calls are placed by, and how far it is from the valves either side."""
    mid = _town(session, tmp_path / "town")
    [west], [east] = _segments_of(session, mid, ["a2"]), _segments_of(session, mid, ["a4"])
    spots = [(250, 300), (360, 304), (390, 300), (300, 300)]  # the last one on V2 itself
    rows = breaks_at(session, mid, "P2", [(X0 + x, Y0 + y) for x, y in spots])
    assert [(r.segment_no, round(r.clear_m, 6)) for r in rows] == [(west, 50), (east, 40), (east, 10), (west, 0)]
    assert breaks_at(session, mid, "P9", [(X0 + 250, Y0 + 300)]) == []
    assert breaks_at(session, mid, "P2", []) == []
