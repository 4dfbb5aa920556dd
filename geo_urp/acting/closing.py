"""Closing an incident's reports and queueing one closing message (riscontro) per caller.

When an incident is resolved every report of it still open is closed (Open311
``status=closed``, ``status_notes`` = the crew's note), each with a line of its
Open311 updates, and each caller gets exactly one closing message in the outbox:
by e-mail when the caller left an address, by SMS to an Italian mobile number
(``3…`` or ``+39 3…``), otherwise as a call-back an operator makes (a landline
cannot take an SMS). A report marked "call back" is always called back. A caller
who left no contact hears nothing; the audit trail says so (the public update carries
only the crew's note). The unique
``(municipality_id, report_id, purpose)`` of the outbox holds "exactly one" even when a report is
closed again (its incident reopened and resolved once more).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from geo_urp import audit
from geo_urp.acting.messages import Reported, closing_message
from geo_urp.models import (
    CallerContact,
    Incident,
    IncidentReport,
    Municipality,
    OutboxMessage,
    Report,
    ReportUpdate,
    report_of,
)

_NOT_DIGITS = re.compile(r"[^\d]")


@dataclass(frozen=True)
class Channel:
    """Where a closing message goes: ``email``, ``sms`` or ``phone`` (a call-back), and to whom."""

    name: str
    to: str


def italian_mobile(phone: str) -> str | None:
    """``phone`` as ``+39…`` when it is an Italian mobile number (``3…``, ``+39 3…``, ``0039 3…``), else None."""
    plus = phone.strip().startswith("+")
    digits = _NOT_DIGITS.sub("", phone)
    if plus or digits.startswith("00"):
        digits = digits[2:] if digits.startswith("00") else digits
        if not digits.startswith("39"):
            return None  # a foreign number: no way to tell a mobile
        digits = digits[2:]
    if digits.startswith("3") and 9 <= len(digits) <= 10:
        return "+39" + digits
    return None


def channel_for(contact: CallerContact | None, call_back: bool = False) -> Channel | None:
    """The channel a caller hears back on, from what they left (None: they left no contact)."""
    if contact is None or contact.erased_at is not None:
        return None
    if call_back and contact.phone:
        return Channel("phone", contact.phone)
    if contact.email:
        return Channel("email", contact.email)
    if contact.phone:
        mobile = italian_mobile(contact.phone)
        return Channel("sms", mobile) if mobile else Channel("phone", contact.phone)
    return None


def close_reports(session: Session, inc: Incident, note: str, actor: str, at: datetime) -> list[int]:
    """Close every open report of ``inc`` with ``note`` and queue each caller's closing message;
    the ids of the messages queued (a report that already had one gets no second)."""
    town = session.get(Municipality, inc.municipality_id)
    rows = session.execute(
        select(Report, CallerContact).join(IncidentReport, report_of(IncidentReport))
        .outerjoin(CallerContact, report_of(CallerContact))
        .where(IncidentReport.municipality_id == inc.municipality_id, IncidentReport.incident_id == inc.id,
               Report.status == "open")
        .order_by(Report.id).with_for_update(of=Report)).all()
    messages = []
    for report, contact in rows:
        report.status, report.status_notes, report.updated_datetime = "closed", note, at
        channel = channel_for(contact, report.call_back)
        session.add(ReportUpdate(municipality_id=report.municipality_id, report_id=report.id, status="closed",
                                 stage="resolved", description=note, updated_datetime=at, actor=actor))
        if channel is None:
            audit.record(session, actor, "no closing message", "report", report.id, inc.municipality_id,
                         incident_id=inc.id, reason="the caller left no contact")
            continue
        about = Reported(report.service_request_id, report.service_code, report.requested_datetime, report.address,
                         contact.first_name, contact.last_name)
        text = closing_message(channel.name, report.language, town.name, about, note)
        messages.append(dict(municipality_id=report.municipality_id, report_id=report.id, incident_id=inc.id,
                             purpose="closing", channel=channel.name, to=channel.to, language=report.language,
                             subject=text.subject, text=text.text, status="pending", attempts=0, created_at=at,
                             next_attempt_at=at))
    if not messages:
        session.flush()
        return []
    queued = session.execute(insert(OutboxMessage).values(messages).on_conflict_do_nothing(
        constraint="uq_outbox_municipality_id_report_id_purpose").returning(
            OutboxMessage.id, OutboxMessage.report_id, OutboxMessage.channel)).all()
    for message_id, report_id, channel in queued:
        audit.record(session, actor, "closing queued", "outbox", message_id, inc.municipality_id,
                     report_id=report_id, incident_id=inc.id, channel=channel)
    session.flush()
    return [row[0] for row in queued]
