"""``GET /open311/v2/servicerequestupdates.{json,xml}`` in FixMyStreet's format: fields, window, towns, errors, privacy.

FixMyStreet's shape, as mySociety's open311-adapter serves it: JSON is a list of
updates, XML a ``service_request_updates`` root of ``request_update`` items, each
with ``update_id``, ``service_request_id``, ``status``, ``updated_datetime`` (W3C
date-time with offset), ``description`` and ``media_url``. These tests read as an operator, who sees
each update's note and time to the second; the public view is tests/showing/test_open311_privacy.py.
"""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from typing import NamedTuple
from urllib.parse import urlencode

import pytest
from jsonschema import Draft7Validator
from sqlalchemy import select

from geo_urp.db import session_scope
from geo_urp.loading.loader import load_municipality
from geo_urp.models import CallerContact, Municipality, ReportUpdate
from tests.conftest import BORGO, report_row
from tests.showing.open311_support import API, FORMATS as DATE_FORMATS, xml_of

FORMATS = ("json", "xml")
FIELDS = ("update_id", "service_request_id", "status", "updated_datetime", "description", "media_url")
W3C_SECONDS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(Z|[+-]\d\d:\d\d)$")
# One request_update as open311-adapter's schema has it (its status_extended words).
UPDATE_SCHEMA = {"type": "array", "items": {
    "type": "object", "required": list(FIELDS), "additionalProperties": False, "properties": {
        "update_id": {"type": "string", "minLength": 1}, "service_request_id": {"type": "string", "minLength": 1},
        "status": {"enum": ["open", "closed", "fixed", "in_progress", "planned", "action_scheduled",
                            "investigating", "duplicate", "not_councils_responsibility", "no_further_action",
                            "internal_referral", "cancelled", "reopen", "for_triage"]},
        "updated_datetime": {"type": "string", "format": "date-time"}, "description": {"type": "string"},
        "media_url": {"type": "string"}}}}
PERSON = {"first_name": "Giuseppina", "last_name": "Zanoni", "email": "giuseppina.zanoni@example.it",
          "phone": "+39 347 9876543", "device_id": "device-7f3a9", "account_id": "account-55821"}
CALLER_SAID = "Il signore del terzo piano grida e mi fa paura"
OPERATOR = "operator"  # the key role these tests read with (``borgo_keys``)


class Story(NamedTuple):
    """Two Borgo reports and their updates: (update_id, report_id, FixMyStreet status, note) oldest first."""

    updates: list[tuple[str, str, str, str]]
    at: list[datetime]


def _borgo_id(session, slug: str = "borgo") -> int:
    return session.scalar(select(Municipality.id).where(Municipality.slug == slug))


def _add_updates(url: str, steps: list[tuple[str, str, str]], at: list[datetime], slug: str = "borgo") -> Story:
    """Two reports of the town ``slug``, each with a caller's contact and words, and one update per
    step (``stage``, report status, note) at the times ``at``, the reports taking turns."""
    with session_scope(url) as s:
        mid = _borgo_id(s, slug)
        reports = [report_row(mid, when=at[0] - timedelta(hours=1), description=CALLER_SAID) for _ in range(2)]
        s.add_all(reports)
        s.flush()
        s.add_all(CallerContact(municipality_id=r.municipality_id, report_id=r.id, **PERSON) for r in reports)
        rows = [ReportUpdate(municipality_id=mid, report_id=reports[n % 2].id, stage=stage, status=status,
                             description=note, updated_datetime=when, actor="key:operator")
                for n, ((stage, status, note), when) in enumerate(zip(steps, at))]
        s.add_all(rows)
        s.flush()
        words = {"assigned": "action_scheduled", "in_progress": "in_progress", "resolved": "fixed", "closed": "closed"}
        return Story([(str(r.id), str(r.report_id), words[r.stage], r.description) for r in rows], at)


STEPS = [("assigned", "open", "Squadra ACQUA allertata"), ("assigned", "open", "Squadra ACQUA allertata"),
         ("in_progress", "open", "Sul posto"), ("resolved", "closed", "Sostituito un tratto di tubo"),
         ("closed", "closed", "")]


@pytest.fixture()
def borgo_client(borgo_app, borgo_keys):
    """A client of a Borgo of its own whose every request carries the operator key."""
    client = borgo_app.test_client()
    client.environ_base["HTTP_X_API_KEY"] = borgo_keys[OPERATOR]
    return client


@pytest.fixture()
def story(borgo_db_url) -> Story:
    """Five updates of two Borgo reports within the last 24 hours (two at the same moment)."""
    now = datetime.now(timezone.utc).replace(microsecond=0)
    at = [now - timedelta(hours=3, microseconds=-250_000), now - timedelta(hours=2), now - timedelta(hours=2),
          now - timedelta(hours=1), now - timedelta(minutes=1)]
    return _add_updates(borgo_db_url, STEPS, at)


def _get(client, fmt: str = "json", **params):
    return client.get(f"{API}/servicerequestupdates.{fmt}" + (f"?{urlencode(params)}" if params else ""))


def _json(client, **params) -> list[dict]:
    resp = _get(client, **params)
    assert resp.status_code == 200, resp.data
    Draft7Validator(UPDATE_SCHEMA, format_checker=DATE_FORMATS).validate(resp.json)
    return resp.json


def _ids(client, **params) -> list[str]:
    return [u["update_id"] for u in _json(client, **params)]


def test_json_lists_every_update_in_fixmystreet_form_oldest_first(borgo_client, story):
    got = _json(borgo_client)
    assert [(u["update_id"], u["service_request_id"], u["status"], u["description"]) for u in got] == story.updates
    assert [list(u) for u in got] == [list(FIELDS)] * len(STEPS)
    assert {u["media_url"] for u in got} == {""}
    assert all(W3C_SECONDS.match(u["updated_datetime"]) for u in got)
    # To the second, in UTC with its offset: the first update's quarter second is cut.
    assert got[0]["updated_datetime"] == story.at[0].replace(microsecond=0).isoformat()
    assert got[0]["updated_datetime"].endswith("+00:00")


def test_xml_has_the_service_request_updates_root_and_one_request_update_per_update(borgo_client, story):
    resp = _get(borgo_client, "xml")
    assert resp.status_code == 200
    root = xml_of(resp)
    assert root.tag == "service_request_updates"
    assert [item.tag for item in root] == ["request_update"] * len(STEPS)
    as_json = _json(borgo_client)
    for item, expected in zip(root, as_json):
        assert [child.tag for child in item] == list(FIELDS)
        assert {child.tag: child.text or "" for child in item} == expected
    assert root.find("request_update/media_url") is not None


def test_an_empty_window_is_an_empty_list_and_an_empty_root(borgo_client):
    assert _json(borgo_client) == []
    root = xml_of(_get(borgo_client, "xml"))
    assert root.tag == "service_request_updates" and len(root) == 0


def test_the_window_takes_start_and_end_with_offsets_both_ends_included(borgo_db_url, borgo_client):
    at = [datetime(2026, 3, 1, 8, 0, tzinfo=timezone.utc) + timedelta(hours=n) for n in range(5)]
    story = _add_updates(borgo_db_url, STEPS, at)
    ids = [u[0] for u in story.updates]
    # 09:00 to 11:00 UTC, written in Italian winter time.
    assert _ids(borgo_client, start_date="2026-03-01T10:00:00+01:00", end_date="2026-03-01T12:00:00+01:00") \
        == ids[1:4]
    assert _ids(borgo_client, start_date="2026-03-01T09:00:01Z", end_date="2026-03-01T10:59:59Z") == ids[2:3]
    assert _ids(borgo_client, start_date="2026-03-01T10:00:00Z") == ids[2:]          # start + 24 hours
    assert _ids(borgo_client, end_date="2026-03-01T09:00:00Z") == ids[:2]           # end - 24 hours
    assert _ids(borgo_client) == []                                                  # the last 24 hours


def test_the_default_window_is_the_last_24_hours(borgo_db_url, borgo_client):
    now = datetime.now(timezone.utc)
    story = _add_updates(borgo_db_url, STEPS[:2], [now - timedelta(hours=25), now - timedelta(hours=23)])
    assert _ids(borgo_client) == [story.updates[1][0]]


def test_a_jurisdiction_lists_only_its_own_updates(borgo_db_url, borgo_client):
    with session_scope(borgo_db_url) as s:
        load_municipality(s, BORGO, "borgo-due")
    at = [datetime.now(timezone.utc) - timedelta(hours=1)] * 2
    mine = _add_updates(borgo_db_url, STEPS[:1], at[:1])
    theirs = _add_updates(borgo_db_url, STEPS[:1], at[:1], slug="borgo-due")
    assert _ids(borgo_client, jurisdiction_id="borgo") == [mine.updates[0][0]]
    assert _ids(borgo_client, jurisdiction_id="borgo-due") == [theirs.updates[0][0]]
    for fmt in FORMATS:
        _assert_error(_get(borgo_client, fmt), 400, fmt, "jurisdiction_id")
        _assert_error(_get(borgo_client, fmt, jurisdiction_id="atlantide"), 404, fmt, "'atlantide' was not found")


def _assert_error(resp, status: int, fmt: str, words: str) -> None:
    assert resp.status_code == status, resp.data
    if fmt == "json":
        [error] = resp.json
        assert error["code"] == status and words in error["description"], error
    else:
        root = xml_of(resp)
        assert root.tag == "errors" and [c.tag for c in root] == ["error"]
        assert root.findtext("error/code") == str(status) and words in root.findtext("error/description")


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("params, words", [
    ({"start_date": "ieri"}, "start_date must be an ISO 8601 date-time with its offset"),
    ({"end_date": "2026-03-01T10:00:00"}, "end_date must be an ISO 8601 date-time with its offset"),
    ({"start_date": "2026-03-01T10:00:00 01:00"}, "start_date must be"),
    ({"start_date": "2026-03-02T00:00:00Z", "end_date": "2026-03-01T00:00:00Z"}, "end_date"),
    ({"start_date": "2026-03-01T00:00:00Z", "end_date": "2026-03-09T00:00:00Z"}, "at most 7 days"),
    ({"end_date": "0001-01-01T00:00:00Z"}, "end_date"),
])
def test_a_bad_window_is_a_400_in_the_open311_error_format_naming_the_parameter(shared_client, fmt, params, words):
    _assert_error(_get(shared_client, fmt, **params), 400, fmt, words)


@pytest.mark.parametrize("fmt", FORMATS)
def test_no_update_shows_the_caller_or_what_the_caller_said(borgo_client, story, fmt):
    resp = _get(borgo_client, fmt)
    assert resp.status_code == 200
    body = resp.get_data(as_text=True)
    assert "Sostituito un tratto di tubo" in body and story.updates[0][0] in body   # the updates are there
    for value in (*PERSON.values(), CALLER_SAID, "Zanoni", "9876543", "terzo piano"):
        assert value not in body, value
