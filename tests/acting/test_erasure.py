"""Callers' contact data erased when no longer needed, and a data subject's export and erasure
(``acting/erasure.py``, ``callers export|erase``), on Borgo."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from geo_urp import settings
from geo_urp.acting import erasure
from geo_urp.acting.worker import JOBS
from geo_urp.db import session_scope
from geo_urp.errors import BadInput
from geo_urp.models import AuditEntry, CallerContact, Municipality, OutboxMessage, Report
from tests.conftest import make_app, report_row

NOW = datetime.now(timezone.utc)
MARIA = dict(first_name="Maria", last_name="Rossi", email="Maria.Rossi@example.it", phone="+39 347 123 4567")


def _report(url: str, status: str, closed_days_ago: float, outbox: str | None = None, erase_after=None,
            contact=MARIA) -> int:
    with session_scope(url) as s:
        town = s.scalar(select(Municipality.id).where(Municipality.slug == "borgo"))
        when = NOW - timedelta(days=closed_days_ago)
        report = report_row(town, when=when, status=status, description="lampione spento davanti a casa")
        report.contact = CallerContact(**contact, erase_after=erase_after)
        s.add(report)
        s.flush()
        if outbox:
            s.add(OutboxMessage(municipality_id=town, report_id=report.id, channel="email", to=contact["email"],
                                subject="Segnalazione", text=f"Gentile {contact['first_name']}, grazie", status=outbox))
        return report.id


def _contact(url: str, rid: int) -> CallerContact:
    with session_scope(url) as s:
        return s.get(CallerContact, rid)


def test_a_contact_is_erased_30_days_after_closing_once_its_message_has_gone(borgo_db_url):
    old_sent = _report(borgo_db_url, "closed", 31, outbox="sent")
    old_waiting = _report(borgo_db_url, "closed", 31, outbox="pending")
    old_silent = _report(borgo_db_url, "closed", 45)
    recent = _report(borgo_db_url, "closed", 10, outbox="sent")
    still_open = _report(borgo_db_url, "open", 60)
    early = _report(borgo_db_url, "open", 1, erase_after=NOW - timedelta(hours=1))
    config = {**settings.from_env(), "DATABASE_URL": borgo_db_url}
    assert erasure.erase_due in JOBS and erasure.erase_due(config) == 3
    for rid in (old_sent, old_silent, early):
        gone = _contact(borgo_db_url, rid)
        assert gone.erased_at is not None and all(getattr(gone, f) is None for f in erasure.PERSONAL)
    for rid in (old_waiting, recent, still_open):
        assert _contact(borgo_db_url, rid).email == MARIA["email"]
    with session_scope(borgo_db_url) as s:
        sent = s.scalar(select(OutboxMessage).where(OutboxMessage.report_id == old_sent))
        assert (sent.to, sent.text, sent.status) == (erasure.ERASED, erasure.ERASED, "sent")
        assert s.get(Report, old_sent).description == "lampione spento davanti a casa"   # the report stays
        (entry,) = s.scalars(select(AuditEntry).where(AuditEntry.action == "contacts erased")).all()
        assert entry.actor == "erasure" and sorted(entry.detail["report_ids"]) == sorted([old_sent, old_silent, early])
    assert erasure.erase_due(config) == 0                       # nothing twice


def test_a_data_subject_is_found_by_email_or_phone_exported_and_erased(borgo_db_url):
    mine = [_report(borgo_db_url, "open", 1, outbox="pending"), _report(borgo_db_url, "closed", 3)]
    other = _report(borgo_db_url, "open", 1, contact=dict(first_name="Luca", phone="0461 123456"))
    with session_scope(borgo_db_url) as s:
        assert erasure.find(s, email="maria.rossi@EXAMPLE.it") == mine
        assert erasure.find(s, phone="347 1234567") == mine
        assert erasure.find(s, phone="0039 0461 123 456") == [other]
        with pytest.raises(BadInput):
            erasure.find(s)
        got = erasure.export(s, mine, "cli")
    assert [g["contact"]["email"] for g in got] == [MARIA["email"]] * 2 and got[0]["closing_message"]["to"]
    with session_scope(borgo_db_url) as s:
        assert erasure.erase(s, mine, "cli") == 2
    assert all(_contact(borgo_db_url, rid).email is None for rid in mine)
    assert _contact(borgo_db_url, other).phone == "0461 123456"
    with session_scope(borgo_db_url) as s:
        waiting = s.scalar(select(OutboxMessage).where(OutboxMessage.report_id == mine[0]))
        assert waiting.status == "failed" and "erased" in waiting.last_error      # never sent to no one
        actions = s.scalars(select(AuditEntry.action)).all()
        assert actions.count("contact exported") == 2 and actions.count("contacts erased") == 1


def test_the_command_line_exports_and_erases(borgo_db_url):
    rid = _report(borgo_db_url, "closed", 2)
    runner = make_app(borgo_db_url).test_cli_runner()
    out = runner.invoke(args=["callers", "export", "--email", MARIA["email"]])
    assert out.exit_code == 0 and json.loads(out.output)[0]["service_request_id"] == str(rid)
    assert runner.invoke(args=["callers", "erase", "--phone", MARIA["phone"], "--yes"]).exit_code == 0
    assert _contact(borgo_db_url, rid).erased_at is not None
    none = runner.invoke(args=["callers", "export", "--email", "nessuno@example.it"])
    assert none.exit_code == 1 and "no report" in none.output
