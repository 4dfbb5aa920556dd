"""Loading a layer folder: clean load, reload, two towns side by side, lighting hierarchy.

The Borgo fixture's water network (tests/fixtures/borgo), in metres from (660000, 5118000):

    W1=A(100,300) --P1--V1-- B(300,300) --P2--V2-- C(500,300)
                              |V3                     |
                              P3                      P4
                              |                       |
                             D(300,450) --P5--V4x-- E(500,450) --V5--P6-- F(700,450)

    V4 is inoperable; V2 sits in the middle of P2; P6 starts 0.3 m from E (joined);
    P7 lies apart, fed by nothing; V6 lies on no pipe.
"""
from __future__ import annotations

import pytest
from sqlalchemy import func, select, text

from geo_urp.loading.loader import load_municipality
from geo_urp.models import (Address, Cabinet, Circuit, Crew, CrewArea, Lamp, Municipality, Pipe,
                            Street, Valve, ValveSegment)
from tests.conftest import BORGO

LAYER_COUNTS = {Street: 5, Address: 8, Lamp: 11, Circuit: 4, CrewArea: 2, Crew: 4, Pipe: 7, Valve: 6}


def _count(session, model, mid):
    return session.scalar(select(func.count()).select_from(model).where(model.municipality_id == mid))


def _snapshot(session, mid):
    """Every layer row of a municipality, without surrogate keys, for comparisons."""
    out = {}
    for table in ("streets", "addresses", "landmarks", "lamps", "lighting_circuits", "lighting_cabinets",
                  "water_pipes", "water_valves", "water_valve_segments", "water_pipe_parts", "crew_areas", "crews"):
        rows = session.execute(text(
            f"SELECT to_jsonb(t) - 'id' - 'municipality_id' AS r FROM {table} t "
            "WHERE municipality_id = :mid ORDER BY 1::text"), {"mid": mid}).scalars().all()
        out[table] = sorted(map(str, rows))
    return out


def test_clean_load_keeps_every_valid_feature(session):
    report = load_municipality(session, BORGO, "borgo")
    muni = session.scalar(select(Municipality).where(Municipality.slug == "borgo"))
    assert muni.name == "Borgo Prova" and muni.istat_code == "099001"
    for model, expected in LAYER_COUNTS.items():
        assert _count(session, model, muni.id) == expected, model.__name__
    assert all(not r.rejections for r in report.results.values())
    assert muni.layer_summary["layers"]["lamps"] == {"read": 11, "kept": 11, "rejected": 0, "outside_boundary": 0}
    assert any("P7" in p for p in report.problems), report.problems
    assert any("V6" in p for p in report.problems), report.problems


def test_reload_gives_the_same_database(session):
    mid = load_municipality(session, BORGO, "borgo") and session.scalar(
        select(Municipality.id).where(Municipality.slug == "borgo"))
    first = _snapshot(session, mid)
    load_municipality(session, BORGO, "borgo")
    assert _snapshot(session, mid) == first
    assert session.scalar(select(func.count()).select_from(Municipality)) == 1


def test_lighting_hierarchy(session):
    report = load_municipality(session, BORGO, "borgo")
    mid = session.scalar(select(Municipality.id).where(Municipality.slug == "borgo"))
    circuits = {c.circuit_id: (c.cabinet_id, c.lamp_count) for c in
                session.scalars(select(Circuit).where(Circuit.municipality_id == mid))}
    assert circuits == {"C1": ("Q1", 4), "C2": ("Q1", 3), "C3": ("Q2", 3), "C4": ("Q9", 1)}
    cabinets = {c.cabinet_id: (c.circuit_count, c.lamp_count, c.located) for c in
                session.scalars(select(Cabinet).where(Cabinet.municipality_id == mid))}
    assert cabinets == {"Q1": (2, 7, True), "Q2": (1, 3, True), "Q9": (1, 1, False)}
    assert any("Q9" in p and "not in lighting_cabinets" in p for p in report.problems)


def test_two_municipalities_do_not_leak(session, tmp_path):
    load_municipality(session, BORGO, "borgo")
    load_municipality(session, BORGO, "borgo-bis", name="Borgo Bis")
    ids = dict(session.execute(select(Municipality.slug, Municipality.id)).all())
    before = _snapshot(session, ids["borgo"])
    # Replacing one town with a folder lacking lamps leaves the other town's lamps alone.
    folder = tmp_path / "nolamps"
    folder.mkdir()
    for f in BORGO.iterdir():
        if f.name not in ("lamps.geojson",):
            (folder / f.name).write_bytes(f.read_bytes())
    report = load_municipality(session, folder, "borgo-bis")
    assert _count(session, Lamp, ids["borgo-bis"]) == 0
    assert any(o.startswith("lamps:") for o in report.off)
    assert _snapshot(session, ids["borgo"]) == before
    assert _count(session, Lamp, ids["borgo"]) == 11


# pipe -> (valves to close, segments cut off, segments left without a source); see the drawing above.
ISOLATION = {
    "P1": (("V2", "V3"), (1, 2), (3, 4, 5)),        # the source's own main: everything downstream dries
    "P4": (("V2", "V3", "V5"), (3, 4), (5,)),       # V4 is inoperable: trace goes on to V3
    "P2": (("V1", "V5"), (2, 3, 4), (5,)),          # V2 in mid-pipe: both halves' segments go
    "P6": (("V2", "V3"), (3, 4, 5), ()),
    "P7": ((), (6,), ()),                           # fed by nothing: nothing to close
}


@pytest.mark.parametrize("pipe_id", sorted(ISOLATION))
def test_valves_to_close_on_the_hand_checked_network(session, pipe_id):
    from geo_urp.reasoning.isolation import isolate_pipes

    load_municipality(session, BORGO, "borgo")
    mid = session.scalar(select(Municipality.id).where(Municipality.slug == "borgo"))
    iso = isolate_pipes(session, mid, pipe_id)
    assert (iso.valves_to_close, iso.isolated_segment_nos, iso.unsupplied_segment_nos) == ISOLATION[pipe_id]


def test_isolating_a_set_of_pipes_traces_them_together(session):
    from geo_urp.reasoning.isolation import isolate_pipes

    load_municipality(session, BORGO, "borgo")
    mid = session.scalar(select(Municipality.id).where(Municipality.slug == "borgo"))
    iso = isolate_pipes(session, mid, ["P4", "P6"])
    assert iso.valves_to_close == ("V2", "V3")
    assert iso.isolated_segment_nos == (3, 4, 5) and iso.unsupplied_segment_nos == ()


def test_valve_segments_and_valve_snapping(session):
    load_municipality(session, BORGO, "borgo")
    mid = session.scalar(select(Municipality.id).where(Municipality.slug == "borgo"))
    segs = {s.segment_no: (tuple(s.pipe_ids), tuple(s.valve_ids), s.has_source) for s in
            session.scalars(select(ValveSegment).where(ValveSegment.municipality_id == mid))}
    assert segs == {
        1: (("P1",), ("V1",), True),
        2: (("P1", "P2", "P3"), ("V1", "V2", "V3"), False),
        3: (("P2", "P4", "P5", "P6"), ("V2", "V4", "V5"), False),
        4: (("P3", "P5"), ("V3", "V4"), False),
        5: (("P6",), ("V5",), False),
        6: (("P7",), (), False),
    }
    valves = {v.valve_id: (v.pipe_id, tuple(v.segment_nos)) for v in
              session.scalars(select(Valve).where(Valve.municipality_id == mid))}
    assert valves["V2"] == ("P2", (2, 3)) and valves["V6"] == (None, ())
