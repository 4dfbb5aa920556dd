"""``acting.hotspot_counts``: each report counted once, in the hexagon PostGIS draws around it and
in its month in Rome; a refresh recounts what changed only, and never misses a call that was
being taken while it ran."""
from __future__ import annotations

from datetime import datetime, timezone

import numpy as np
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from geo_urp.acting import hotspot_counts
from geo_urp.db import engine_for, session_scope
from geo_urp.models import HotspotCell, Municipality
from tests.conftest import BORGO_ORIGIN, report_row

# 23:30 UTC on the last day of March is already April in Rome.
LATE_MARCH = datetime(2026, 3, 31, 23, 30, tzinfo=timezone.utc)
MID_MARCH = datetime(2026, 3, 15, 12, 0, tzinfo=timezone.utc)


def _cells(session: Session, mid: int, cell_m: int = 100) -> dict[tuple, int]:
    """(service, month, i, j) -> reports, as kept."""
    rows = session.scalars(select(HotspotCell).where(HotspotCell.municipality_id == mid, HotspotCell.cell_m == cell_m))
    return {(c.service_code, c.month.isoformat(), c.i, c.j): c.n for c in rows}


def _cell_of(session: Session, x: float, y: float, cell_m: int) -> tuple[int, int]:
    """The (i, j) of the ST_HexagonGrid hexagon that holds the point, found by PostGIS's own grid."""
    row = session.execute(text(
        "SELECT h.i, h.j FROM ST_HexagonGrid(:s, ST_Buffer(ST_SetSRID(ST_Point(:x, :y), 32632), 1)) h "
        "WHERE ST_Intersects(h.geom, ST_SetSRID(ST_Point(:x, :y), 32632)) ORDER BY h.i, h.j LIMIT 1"),
        {"s": cell_m, "x": x, "y": y}).one()
    return row.i, row.j


def test_hotspot_of_names_the_hexagon_postgis_draws_around_each_point(session):
    rng = np.random.default_rng(5)
    for cell_m in (100, 137, 250):
        for x, y in rng.uniform([650_000, 5_100_000], [670_000, 5_120_000], size=(60, 2)):
            found = session.execute(text("SELECT i, j FROM hotspot_of(:x, :y, :s)"),
                                    {"x": float(x), "y": float(y), "s": cell_m}).one()
            assert (found.i, found.j) == _cell_of(session, float(x), float(y), cell_m), (x, y, cell_m)


def test_the_first_refresh_counts_every_report_once_by_cell_and_month_in_rome(session, borgo):
    session.add_all([report_row(borgo, (500, 500), MID_MARCH, service_code="road_damage"),
                     report_row(borgo, (505, 502), MID_MARCH, service_code="road_damage"),
                     report_row(borgo, (505, 502), LATE_MARCH, service_code="road_damage"),
                     report_row(borgo, (505, 502), MID_MARCH, service_code="flooding"),
                     report_row(borgo, (900, 100), MID_MARCH, service_code="road_damage")])
    session.flush()
    counts = hotspot_counts.refresh(session, borgo, 100)
    assert counts.version == 1 and counts.writable
    here = _cell_of(session, BORGO_ORIGIN[0] + 500, BORGO_ORIGIN[1] + 500, 100)
    there = _cell_of(session, BORGO_ORIGIN[0] + 900, BORGO_ORIGIN[1] + 100, 100)
    assert _cells(session, borgo) == {
        ("road_damage", "2026-03-01", *here): 2, ("road_damage", "2026-04-01", *here): 1,
        ("flooding", "2026-03-01", *here): 1, ("road_damage", "2026-03-01", *there): 1}


def test_a_refresh_recounts_only_what_changed_and_raises_the_version_only_then(borgo_db_url):
    with session_scope(borgo_db_url) as s:
        mid = s.scalar(select(Municipality.id).where(Municipality.slug == "borgo"))
        s.add(report_row(mid, (500, 500), MID_MARCH, service_code="road_damage"))
    with session_scope(borgo_db_url) as s:
        first = hotspot_counts.refresh(s, mid, 100).version
    with session_scope(borgo_db_url) as s:
        assert hotspot_counts.refresh(s, mid, 100).version == first
        s.add(report_row(mid, (500, 500), MID_MARCH, service_code="road_damage"))
    with session_scope(borgo_db_url) as s:
        assert hotspot_counts.refresh(s, mid, 100).version == first + 1
        assert sum(_cells(s, mid).values()) == 2


def test_a_call_being_taken_while_the_counts_refresh_is_counted_by_the_next_refresh(borgo_db_url):
    engine = engine_for(borgo_db_url)
    with session_scope(borgo_db_url) as s:
        mid = s.scalar(select(Municipality.id).where(Municipality.slug == "borgo"))
        s.add(report_row(mid, (500, 500), MID_MARCH, service_code="road_damage"))
    with session_scope(borgo_db_url) as s:
        hotspot_counts.refresh(s, mid, 100)
    taking = Session(engine)  # a call's transaction, begun before the refresh and committed after it
    taking.add(report_row(mid, (500, 500), MID_MARCH, service_code="road_damage"))
    taking.flush()
    with session_scope(borgo_db_url) as s:
        hotspot_counts.refresh(s, mid, 100)
        assert sum(_cells(s, mid).values()) == 1  # not visible yet
    taking.commit()
    taking.close()
    with session_scope(borgo_db_url) as s:
        hotspot_counts.refresh(s, mid, 100)
        assert sum(_cells(s, mid).values()) == 2


def test_a_read_only_database_reads_the_counts_kept_and_writes_nothing(borgo_db_url):
    with session_scope(borgo_db_url) as s:
        mid = s.scalar(select(Municipality.id).where(Municipality.slug == "borgo"))
        s.add(report_row(mid, (500, 500), MID_MARCH, service_code="road_damage"))
        s.flush()
        kept = hotspot_counts.refresh(s, mid, 100).version
        s.add(report_row(mid, (500, 500), MID_MARCH, service_code="road_damage"))
    with session_scope(borgo_db_url) as s:
        s.execute(text("SET TRANSACTION READ ONLY"))
        counts = hotspot_counts.refresh(s, mid, 100)
        assert (counts.version, counts.writable) == (kept, False)
        assert sum(_cells(s, mid).values()) == 1


def test_the_worker_refreshes_every_town_and_cell_size_already_kept(borgo_db_url):
    with session_scope(borgo_db_url) as s:
        mid = s.scalar(select(Municipality.id).where(Municipality.slug == "borgo"))
        hotspot_counts.refresh(s, mid, 100)
        hotspot_counts.refresh(s, mid, 250)
        s.add(report_row(mid, (500, 500), MID_MARCH, service_code="road_damage"))
    assert hotspot_counts.refresh_kept({"DATABASE_URL": borgo_db_url}) == 2
    with session_scope(borgo_db_url) as s:
        assert sum(_cells(s, mid, 100).values()) == 1 and sum(_cells(s, mid, 250).values()) == 1
