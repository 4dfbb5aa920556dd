"""Callers' contact data kept only as long as needed (GDPR, SPEC §6), and a data subject's rights.

- **On schedule** (``erase_due``, a worker job): the contact of a report closed more than
  ``CONTACT_RETENTION_DAYS`` ago (default 30) is erased — names, phone, e-mail, device and
  account ids set to null, ``erased_at`` stamped — once its closing message is no longer
  waiting (a pending e-mail, SMS or call-back keeps the number it needs until it is sent,
  failed or done). The closing message's copy of the contact (its address or number, and its
  text, which greets the caller by name) is erased with it. A report's contact may be given
  an earlier or later date of its own in ``erase_after``.
- **On request** (``find``, ``export``, ``erase``; ``callers export|erase`` on the command
  line): everything kept about whoever left an e-mail address or phone number, and its
  erasure now, waiting messages included.

The report itself stays (what was reported, where, when, and what was done), with no person
in it. Every erasure and every export is in the audit trail.
"""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import Session

from geo_urp import audit
from geo_urp.db import session_scope
from geo_urp.errors import BadInput
from geo_urp.models import CallerContact, OutboxMessage, Report, report_of

WORKER = "erasure"
ERASED = "[cancellato]"
PERSONAL = ("first_name", "last_name", "phone", "email", "device_id", "account_id")
_DIGITS = re.compile(r"\D")


def _digits_sql(column):
    return func.regexp_replace(column, r"\D", "", "g")


def _erase(session: Session, report_ids: list[int], actor: str, reason: str, at: datetime) -> int:
    """Erase the contacts of ``report_ids`` and their closing messages' copies; how many contacts."""
    if not report_ids:
        return 0
    erased = session.execute(update(CallerContact).where(CallerContact.report_id.in_(report_ids),
                                                         CallerContact.erased_at.is_(None))
                             .values(erased_at=at, **{name: None for name in PERSONAL})
                             .returning(CallerContact.report_id)).scalars().all()
    if erased:
        session.execute(update(OutboxMessage).where(OutboxMessage.report_id.in_(erased))
                        .values(to=ERASED, text=ERASED, subject=""))
        towns = dict(session.execute(select(Report.id, Report.municipality_id).where(Report.id.in_(erased))).all())
        for town in sorted(set(towns.values())):
            ids = sorted(r for r, t in towns.items() if t == town)
            audit.record(session, actor, "contacts erased", "report", ids[0], town, report_ids=ids, reason=reason)
    return len(erased)


def due(session: Session, retention_days: float, now: datetime) -> list[int]:
    """Reports whose contact is due for erasure now (see the module's rules)."""
    closed_before = now - timedelta(days=retention_days)
    waiting = select(OutboxMessage.report_id).where(report_of(OutboxMessage), OutboxMessage.status == "pending")
    return list(session.scalars(
        select(CallerContact.report_id).join(Report, report_of(CallerContact))
        .where(CallerContact.erased_at.is_(None),
               or_(CallerContact.erase_after <= now,
                   and_(CallerContact.erase_after.is_(None), Report.status == "closed",
                        Report.updated_datetime < closed_before)),
               ~waiting.exists())
        .order_by(CallerContact.report_id)))


def erase_due(config) -> int:
    """The worker's job: erase every contact due; how many."""
    now = datetime.now(timezone.utc)
    with session_scope(config["DATABASE_URL"]) as session:
        ids = due(session, float(config["CONTACT_RETENTION_DAYS"]), now)
        return _erase(session, ids, WORKER, f"{config['CONTACT_RETENTION_DAYS']:g} days after closing", now)


def find(session: Session, email: str | None = None, phone: str | None = None) -> list[int]:
    """The reports whose caller left this e-mail address (any case) or phone number (any spacing)."""
    if not email and not phone:
        raise BadInput("name the data subject by --email or --phone", details=[{"field": "email"}])
    match = []
    if email:
        match.append(func.lower(CallerContact.email) == email.strip().lower())
    if phone:
        digits = _DIGITS.sub("", phone)
        if len(digits) < 6:
            raise BadInput(f"phone {phone!r} has too few digits to name one person", details=[{"field": "phone"}])
        match.append(func.right(_digits_sql(CallerContact.phone), 9) == digits[-9:])
    return list(session.scalars(select(CallerContact.report_id).where(or_(*match)).order_by(CallerContact.report_id)))


def export(session: Session, report_ids: list[int], actor: str) -> list[dict]:
    """Everything kept about the data subject of ``report_ids``: each report with its contact and
    closing message (the export itself is audited)."""
    rows = session.execute(
        select(Report, CallerContact, OutboxMessage).join(CallerContact, report_of(CallerContact))
        .outerjoin(OutboxMessage, report_of(OutboxMessage))
        .where(Report.id.in_(report_ids)).order_by(Report.id)).all()
    out = []
    for report, contact, message in rows:
        out.append({
            "service_request_id": str(report.id), "service_code": report.service_code,
            "requested_datetime": report.requested_datetime.isoformat(), "status": report.status,
            "address": report.address, "description": report.description,
            "contact": {name: getattr(contact, name) for name in PERSONAL},
            "erased_at": contact.erased_at.isoformat() if contact.erased_at else None,
            "closing_message": None if message is None else {
                "channel": message.channel, "to": message.to, "status": message.status, "text": message.text}})
        audit.record(session, actor, "contact exported", "report", report.id, report.municipality_id)
    return out


def erase(session: Session, report_ids: list[int], actor: str) -> int:
    """Erase the data subject's contacts now, closing messages still waiting included."""
    now = datetime.now(timezone.utc)
    waiting = update(OutboxMessage).where(OutboxMessage.report_id.in_(report_ids), OutboxMessage.status == "pending")
    session.execute(waiting.values(status="failed", last_error="the caller's contact was erased on request"))
    return _erase(session, report_ids, actor, "on the data subject's request", now)
