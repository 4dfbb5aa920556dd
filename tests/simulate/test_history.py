"""Past reports written straight into the database: closed, anonymous, inside the town, with a rhythm."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from geo_urp.db import engine_for
from geo_urp.errors import BadInput, NotFound
from geo_urp.loading.loader import load_municipality
from geo_urp.simulate import mix
from geo_urp.simulate.history import write_history

DEMO = Path(__file__).resolve().parents[2] / "layers" / "mezzolombardo"
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def _loaded(db_url):
    """Mezzolombardo loaded once for the module, in a transaction rolled back at its end."""
    conn = engine_for(db_url).connect()
    outer = conn.begin()
    with Session(bind=conn, join_transaction_mode="create_savepoint") as s:
        load_municipality(s, DEMO, "mezzolombardo")
        mid = s.execute(text("SELECT id FROM municipalities WHERE slug = 'mezzolombardo'")).scalar_one()
        s.commit()  # releases the session's savepoint: the load stays in the module's transaction
    yield conn, mid
    outer.rollback()
    conn.close()


@pytest.fixture()
def town(_loaded):
    """(session, municipality id) on the loaded town; whatever the test writes is rolled back."""
    conn, mid = _loaded
    point = conn.begin_nested()
    session = Session(bind=conn, join_transaction_mode="create_savepoint", expire_on_commit=False)
    yield session, mid
    session.close()
    point.rollback()


def _one(session, sql: str, **params):
    return session.execute(text(sql), params).one()


def test_writes_exactly_n_closed_anonymous_reports_inside_the_town(town):
    session, mid = town
    assert write_history(session, mid, 3000, years=2, seed=1, now=NOW) == 3000
    total, closed, with_contact, outside, tokens = _one(session, """
        SELECT count(*), count(*) FILTER (WHERE status = 'closed'),
               count(c.report_id), count(*) FILTER (WHERE NOT ST_Contains(m.boundary, r.geom)),
               count(DISTINCT r.token)
        FROM reports r JOIN municipalities m ON m.id = r.municipality_id
        LEFT JOIN caller_contacts c ON c.report_id = r.id WHERE r.municipality_id = :mid""", mid=mid)
    assert (total, closed, with_contact, outside, tokens) == (3000, 3000, 0, 0, 3000)
    assert session.execute(text("SELECT count(*) FROM reports WHERE municipality_id <> :mid"), {"mid": mid}).scalar() == 0
    first, last_request, last_close, bad_order, no_note = _one(session, """
        SELECT min(requested_datetime), max(requested_datetime), max(updated_datetime),
               count(*) FILTER (WHERE updated_datetime <= requested_datetime),
               count(*) FILTER (WHERE coalesce(status_notes, '') = '' OR attributes <> '{}'::jsonb)
        FROM reports WHERE municipality_id = :mid""", mid=mid)
    assert NOW - timedelta(days=732) <= first and last_request < NOW and last_close <= NOW
    assert bad_order == 0 and no_note == 0
    codes = set(session.execute(text("SELECT DISTINCT service_code FROM reports")).scalars())
    assert codes <= set(mix.load_mix().weights) and {"road_damage", "info_request", "flooding"} <= codes


def test_positions_are_real_addresses_with_small_jitter(town):
    session, mid = town
    write_history(session, mid, 500, seed=2, now=NOW)
    worst = session.execute(text("""
        SELECT max((SELECT ST_Distance(a.geom, r.geom) FROM addresses a WHERE a.municipality_id = :mid
                    ORDER BY a.geom <-> r.geom LIMIT 1)) FROM reports r WHERE r.municipality_id = :mid"""),
        {"mid": mid}).scalar()
    assert worst <= 8.01


def test_rhythm_of_day_season_and_time_to_close(town):
    session, mid = town
    write_history(session, mid, 6000, years=2, seed=3, now=NOW)
    night, morning = _one(session, """
        SELECT count(*) FILTER (WHERE extract(hour FROM requested_datetime AT TIME ZONE 'Europe/Rome') BETWEEN 2 AND 4),
               count(*) FILTER (WHERE extract(hour FROM requested_datetime AT TIME ZONE 'Europe/Rome') BETWEEN 9 AND 11)
        FROM reports WHERE municipality_id = :mid""", mid=mid)
    assert morning > 5 * night > 0
    may, december = _one(session, """
        SELECT count(*) FILTER (WHERE extract(month FROM requested_datetime) = 5),
               count(*) FILTER (WHERE extract(month FROM requested_datetime) = 12)
        FROM reports WHERE municipality_id = :mid""", mid=mid)
    assert may > 1.5 * december  # Alessandria's file: May is the busiest month, December the quietest
    lamps, holes = _one(session, """
        SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY updated_datetime - requested_datetime)
                   FILTER (WHERE service_code = 'streetlight_out'),
               percentile_cont(0.5) WITHIN GROUP (ORDER BY updated_datetime - requested_datetime)
                   FILTER (WHERE service_code = 'road_damage')
        FROM reports WHERE municipality_id = :mid""", mid=mid)
    assert lamps < timedelta(days=3) < holes  # lamps are fixed in a day or two, holes in a week or more


def test_same_seed_same_history(town):
    session, mid = town
    write_history(session, mid, 200, seed=5, now=NOW)
    write_history(session, mid, 200, seed=5, now=NOW)
    pairs = session.execute(text("""
        SELECT count(*) FROM (SELECT service_code, requested_datetime, address_id FROM reports
                              WHERE municipality_id = :mid GROUP BY 1, 2, 3 HAVING count(*) = 2) q"""),
        {"mid": mid}).scalar()
    assert pairs == 200


@pytest.mark.parametrize("n, years, error", [(-1, 2, BadInput), (10, 0, BadInput), (2.5, 2, BadInput)])
def test_bad_input_writes_nothing(town, n, years, error):
    session, mid = town
    with pytest.raises(error):
        write_history(session, mid, n, years=years, now=NOW)
    assert session.execute(text("SELECT count(*) FROM reports")).scalar() == 0


def test_unknown_municipality(session):
    with pytest.raises(NotFound):
        write_history(session, 999_999, 10, now=NOW)


def test_zero_is_nothing(town):
    session, mid = town
    assert write_history(session, mid, 0, now=NOW) == 0


def test_each_report_is_due_by_its_towns_service_level(town):
    """expected_datetime is the request plus the town's SLA hours for the service (its own where set)."""
    session, mid = town
    session.execute(text("UPDATE municipalities SET service_settings = '{\"road_damage\": {\"sla_hours\": 10}}' "
                         "WHERE id = :mid"), {"mid": mid})
    write_history(session, mid, 2000, seed=3, now=NOW)
    rows = session.execute(text("""
        SELECT service_code, count(*) AS n, count(expected_datetime) AS due,
               min(extract(epoch FROM expected_datetime - requested_datetime) / 3600) AS lo,
               max(extract(epoch FROM expected_datetime - requested_datetime) / 3600) AS hi
        FROM reports WHERE municipality_id = :mid GROUP BY service_code"""), {"mid": mid}).all()
    hours = {r.service_code: (r.lo, r.hi) for r in rows}
    assert all(r.n == r.due for r in rows)
    assert hours["road_damage"] == pytest.approx((10, 10))
    assert hours["streetlight_out"] == pytest.approx((72, 72))
    assert hours["info_request"] == pytest.approx((0, 0))
