"""``reading.open311_updates``: FixMyStreet's status words, the window and its bounds, order, towns, the cap.

Read as an operator (``OPERATOR``), who sees each update as stored; the public view is
``tests/reading/test_open311_privacy.py``."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import insert, select

from geo_urp.accounts import Principal
from geo_urp.errors import BadInput
from geo_urp.loading.loader import load_municipality
from geo_urp.models import Municipality, ReportUpdate
from geo_urp.models.incidents import STATUSES as INCIDENT_STATUSES
from geo_urp.reading import open311_updates as updates
from geo_urp.reading.privacy import OPEN311_UPDATE_FIELDS
from tests.conftest import BORGO, report_row

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=timezone.utc)
T = datetime(2026, 3, 10, 9, 0, tzinfo=timezone.utc)
OPERATOR = Principal("operator")  # of every municipality
# The status words FixMyStreet reads in a request_update (mySociety open311-adapter's status_extended).
FIXMYSTREET_WORDS = {"unchanged", "open", "closed", "fixed", "in_progress", "planned", "action_scheduled",
                     "investigating", "duplicate", "not_councils_responsibility", "no_further_action",
                     "internal_referral", "cancelled", "reopen", "for_triage"}


def _report(session, mid: int, **fields) -> int:
    report = report_row(mid, when=T - timedelta(days=1), **fields)
    session.add(report)
    session.flush()
    return report.id


def _update(session, mid: int, report_id: int, at: datetime, stage: str = "assigned", status: str = "open",
            note: str = "") -> int:
    row = ReportUpdate(municipality_id=mid, report_id=report_id, stage=stage, status=status, description=note,
                       updated_datetime=at)
    session.add(row)
    session.flush()
    return row.id


def _ids(session, args: dict, jurisdiction: str | None = None) -> list[str]:
    return [u["update_id"] for u in updates.search_updates(session, jurisdiction, args, now=NOW, reader=OPERATOR)]


def _iso(at: datetime) -> str:
    return at.isoformat()


@pytest.mark.parametrize("stage, status, word", [
    ("assigned", "open", "action_scheduled"),
    ("in_progress", "open", "in_progress"),
    ("resolved", "closed", "fixed"),
    ("closed", "closed", "closed"),
    ("reopened", "open", "open"),
    ("merged", "open", "open"),        # a step the table does not know: the report's own status
    ("merged", "closed", "closed"),
])
def test_each_stage_reads_as_a_fixmystreet_status_word(stage, status, word):
    assert updates.fixmystreet_status(stage, status) == word


def test_every_step_an_incident_takes_has_a_fixmystreet_word():
    steps = (set(INCIDENT_STATUSES) - {"open"}) | {"reopened"}
    assert steps <= set(updates.FIXMYSTREET_STATUS)
    assert set(updates.FIXMYSTREET_STATUS.values()) <= FIXMYSTREET_WORDS


@pytest.mark.parametrize("args, start, end", [
    ({}, NOW - timedelta(hours=24), NOW),
    ({"start_date": "2026-03-01T10:00:00+01:00"}, datetime(2026, 3, 1, 9, tzinfo=timezone.utc),
     datetime(2026, 3, 2, 9, tzinfo=timezone.utc)),
    ({"end_date": "2026-03-01T10:00:00Z"}, datetime(2026, 2, 28, 10, tzinfo=timezone.utc),
     datetime(2026, 3, 1, 10, tzinfo=timezone.utc)),
    ({"start_date": "2026-03-01T00:00:00-02:00", "end_date": "2026-03-08T02:00:00+00:00"},
     datetime(2026, 3, 1, 2, tzinfo=timezone.utc), datetime(2026, 3, 8, 2, tzinfo=timezone.utc)),   # 7 days
    ({"start_date": "2026-03-01T10:00:00Z", "end_date": "2026-03-01T11:00:00+01:00"},
     datetime(2026, 3, 1, 10, tzinfo=timezone.utc), datetime(2026, 3, 1, 10, tzinfo=timezone.utc)),
])
def test_the_window_defaults_to_24_hours_and_is_read_in_utc(args, start, end):
    got = updates.window(args, NOW)
    assert got == (start, end)
    assert all(t.utcoffset() == timedelta(0) for t in got)


@pytest.mark.parametrize("args, field, words", [
    ({"start_date": "yesterday"}, "start_date", "ISO 8601 date-time with its offset"),
    ({"end_date": "2026-03-01T10:00:00"}, "end_date", "with its offset"),
    ({"start_date": "2026-03-01"}, "start_date", "with its offset"),
    ({"start_date": "2026-03-01T10:00:00 01:00"}, "start_date", "%2B"),
    ({"start_date": "2026-03-02T00:00:00Z", "end_date": "2026-03-01T23:59:59Z"}, "end_date", "is before start_date"),
    ({"start_date": "2026-03-01T00:00:00Z", "end_date": "2026-03-08T00:00:01Z"}, "start_date", "spans 7 days, 0:00:01; at most 7 days"),
    ({"end_date": "0001-01-01T00:00:00Z"}, "end_date", "inside the calendar"),
    ({"start_date": "9999-12-31T12:00:00Z"}, "start_date", "inside the calendar"),
    ({"start_date": "9999-12-31T23:00:00-05:00"}, "start_date", "outside the calendar"),
    ({"end_date": "0001-01-01T00:30:00+01:00"}, "end_date", "outside the calendar"),
])
def test_a_bad_window_is_refused_naming_the_parameter(args, field, words):
    with pytest.raises(BadInput) as refused:
        updates.window(args, NOW)
    assert words in refused.value.message and field in refused.value.message
    assert {"field": field} in [{"field": d["field"]} for d in refused.value.details]


def test_both_bounds_are_inclusive_to_the_second_an_update_shows(session, borgo):
    rid = _report(session, borgo)
    end = T + timedelta(seconds=10)
    before = _update(session, borgo, rid, T - timedelta(microseconds=1))
    at_start = _update(session, borgo, rid, T)
    at_end = _update(session, borgo, rid, end + timedelta(microseconds=999_999))   # shows as `end`
    after = _update(session, borgo, rid, end + timedelta(seconds=1))
    got = updates.search_updates(session, None, {"start_date": _iso(T), "end_date": _iso(end)}, now=NOW,
                                 reader=OPERATOR)
    assert [u["update_id"] for u in got] == [str(at_start), str(at_end)]
    assert got[-1]["updated_datetime"] == _iso(end)
    # A start inside a second takes the next whole one: the update shown at T is before it.
    assert _ids(session, {"start_date": _iso(T + timedelta(milliseconds=500)), "end_date": _iso(end)}) \
        == [str(at_end)]
    assert _ids(session, {"start_date": _iso(T - timedelta(seconds=1)), "end_date": _iso(end)}) \
        == [str(before), str(at_start), str(at_end)]
    assert str(after) in _ids(session, {"start_date": _iso(end + timedelta(seconds=1))})


def test_updates_come_oldest_first_then_by_update_id(session, borgo):
    a, b = _report(session, borgo), _report(session, borgo)
    late = _update(session, borgo, a, T + timedelta(minutes=5))
    first = _update(session, borgo, b, T)
    second = _update(session, borgo, a, T)      # the same moment: the lower update_id first
    assert first < second
    assert _ids(session, {"end_date": _iso(NOW)}) == [str(first), str(second), str(late)]


def test_an_update_shows_its_own_note_and_the_fixmystreet_fields_only(session, borgo):
    rid = _report(session, borgo, description="Il vicino del terzo piano urla", status="closed",
                  status_notes="chiusa", address="Via Roma 12")
    uid = _update(session, borgo, rid, T, stage="resolved", status="closed", note="Intervento concluso")
    [got] = updates.search_updates(session, None, {}, now=NOW, reader=OPERATOR)
    assert tuple(got) == OPEN311_UPDATE_FIELDS
    assert got == {"update_id": str(uid), "service_request_id": str(rid), "status": "fixed",
                   "updated_datetime": "2026-03-10T09:00:00+00:00", "description": "Intervento concluso",
                   "media_url": ""}


def test_a_jurisdiction_lists_only_its_own_updates(session, borgo):
    load_municipality(session, BORGO, "borgo-due")
    other = session.scalar(select(Municipality.id).where(Municipality.slug == "borgo-due"))
    mine = _update(session, borgo, _report(session, borgo), T)
    theirs = _update(session, other, _report(session, other), T)
    assert _ids(session, {}, "borgo") == [str(mine)]
    assert _ids(session, {}, "borgo-due") == [str(theirs)]
    with pytest.raises(BadInput, match="jurisdiction_id was not provided"):
        _ids(session, {})


def test_a_window_of_more_than_max_updates_is_refused_not_cut(session, borgo):
    rid = _report(session, borgo)
    row = {"municipality_id": borgo, "report_id": rid, "stage": "assigned", "status": "open", "description": "",
           "actor": "system"}
    session.execute(insert(ReportUpdate), [{**row, "updated_datetime": T}] * updates.MAX_UPDATES
                    + [{**row, "updated_datetime": T + timedelta(hours=1)}])
    with pytest.raises(BadInput, match=f"more than {updates.MAX_UPDATES} updates"):
        _ids(session, {})
    assert len(_ids(session, {"end_date": _iso(T + timedelta(minutes=30))})) == updates.MAX_UPDATES
