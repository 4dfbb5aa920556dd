"""The audit trail: who did what, when, to which object (``models.AuditEntry``).

Every assignment, status step, merge, move and outbox action is written here in
the transaction that makes the change, so the trail and the change commit
together; so is every reading of a caller's contact data (SPEC §6, GDPR).
Only an admin reads it (``reading.audit``).
"""
from __future__ import annotations

from sqlalchemy import insert
from sqlalchemy.orm import Session

from geo_urp.models import AuditEntry


def record(session: Session, actor: str, action: str, object_type: str, object_id: int,
           municipality_id: int | None, **detail) -> None:
    """Add one entry (written with the session's next flush)."""
    session.add(AuditEntry(actor=actor or "system", action=action, object_type=object_type,
                           object_id=object_id, municipality_id=municipality_id, detail=detail))


def contact_viewed(session: Session, actor: str, object_type: str, viewed: list[tuple[int, int]]) -> None:
    """One "contact viewed" entry per ``(object_id, municipality_id)`` whose caller's contact was
    shown to ``actor`` (one statement for the lot)."""
    if viewed:
        session.execute(insert(AuditEntry), [
            dict(actor=actor or "system", action="contact viewed", object_type=object_type, object_id=oid,
                 municipality_id=mid, detail={}) for oid, mid in viewed])
