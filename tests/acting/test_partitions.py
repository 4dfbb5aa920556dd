"""Reports in a partition per month (migration 0016), and the worker's months made ahead."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import text

from geo_urp.acting import partitions
from geo_urp.db import engine_for, session_scope
from geo_urp.models import CallerContact, Municipality, Report
from tests.conftest import report_row


def _month(at: datetime) -> str:
    return f"reports_{at:%Y_%m}"


def _furthest_month() -> datetime:
    now = datetime.now(timezone.utc)
    k = now.year * 12 + now.month - 1 + partitions.MONTHS_AHEAD
    return datetime(k // 12, k % 12 + 1, 15, tzinfo=timezone.utc)


@pytest.fixture()
def town(fresh_db_url) -> int:
    with session_scope(fresh_db_url) as session:
        muni = Municipality(slug="alta", name="Alta")
        session.add(muni)
        session.flush()
        return muni.id


def _where(url: str, report_id: int) -> str:
    with engine_for(url).connect() as conn:
        return conn.execute(text("SELECT tableoid::regclass::text FROM reports WHERE id = :r"), {"r": report_id}).scalar()


def _drop(conn, partition: str) -> None:
    """Take an empty month's partition away (detached first: rows elsewhere point to reports)."""
    conn.execute(text(f"ALTER TABLE reports DETACH PARTITION {partition}"))
    conn.execute(text(f"DROP TABLE {partition}"))


def test_a_call_lands_in_its_months_partition_and_one_before_every_month_in_the_default(fresh_db_url, town):
    now = datetime.now(timezone.utc)
    with session_scope(fresh_db_url) as session:
        today, long_ago = report_row(town, when=now), report_row(town, when=now - timedelta(days=365 * 12))
        session.add_all([today, long_ago])
        session.flush()
        ids = today.id, long_ago.id
    assert _where(fresh_db_url, ids[0]) == _month(now)
    assert _where(fresh_db_url, ids[1]) == "reports_default"  # kept, never refused


def test_the_worker_makes_the_months_ahead_once(fresh_db_url, town):
    furthest = _month(_furthest_month())
    with engine_for(fresh_db_url).begin() as conn:
        _drop(conn, furthest)
    config = {"DATABASE_URL": fresh_db_url}
    assert partitions.make_ahead(config) == 1
    assert partitions.make_ahead(config) == 0  # nothing left to make
    with session_scope(fresh_db_url) as session:
        call = report_row(town, when=_furthest_month())
        session.add(call)
        session.flush()
        rid = call.id
    assert _where(fresh_db_url, rid) == furthest


def test_a_month_whose_calls_are_in_the_default_partition_is_left_as_it_is(fresh_db_url, town):
    furthest = _month(_furthest_month())
    with engine_for(fresh_db_url).begin() as conn:
        _drop(conn, furthest)
    with session_scope(fresh_db_url) as session:
        early = report_row(town, when=_furthest_month())  # comes before its month's partition
        session.add(early)
        session.flush()
        rid = early.id
    assert partitions.make_ahead({"DATABASE_URL": fresh_db_url}) == 0
    assert _where(fresh_db_url, rid) == "reports_default"


def test_a_call_whose_time_is_corrected_moves_month_with_what_points_to_it(fresh_db_url, town):
    now = datetime.now(timezone.utc)
    with session_scope(fresh_db_url) as session:
        call = report_row(town, when=now)
        call.contact = CallerContact(email="a@example.org")
        session.add(call)
        session.flush()
        rid = call.id
    earlier = now - timedelta(days=365 * 12)
    with engine_for(fresh_db_url).begin() as conn:
        conn.execute(text("UPDATE reports SET requested_datetime = :at WHERE id = :r"), {"at": earlier, "r": rid})
    assert _where(fresh_db_url, rid) == "reports_default"
    with session_scope(fresh_db_url) as session:
        contact = session.get(CallerContact, rid)
        assert contact.email == "a@example.org" and contact.report_requested_datetime == earlier
        assert session.get(Report, rid).requested_datetime == earlier


def test_an_import_of_past_calls_makes_their_months_first(fresh_db_url, town):
    past = datetime.now(timezone.utc) - timedelta(days=400)
    with session_scope(fresh_db_url) as session:
        assert partitions.make(session, past) >= 13  # the months from then to this one
        call = report_row(town, when=past)
        session.add(call)
        session.flush()
        rid = call.id
    assert _where(fresh_db_url, rid) == _month(past)
