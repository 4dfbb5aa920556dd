"""The outbox as operators read it (SPEC §4 ``GET /api/outbox``): every closing message with
its delivery state, the call-backs with the text to read out.

The items hold the caller's contact (``to``): only operators and admins read them, and the
view that serves them records each reading in the audit trail.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from geo_urp.errors import BadInput
from geo_urp.language import N_
from geo_urp.models import Municipality, OutboxMessage
from geo_urp.models.work import CHANNELS, OUTBOX_STATUSES
from geo_urp.reading.open311 import iso
from geo_urp.reading.parameters import whole_number

DEFAULT_LIMIT, MAX_LIMIT = 200, 1000
ITEM_FIELDS = ("id", "report_id", "incident_id", "channel", "to", "text", "status", "attempts", "last_error",
               "created_at", "sent_at")


def _choice(args: Mapping[str, str], name: str, allowed: tuple[str, ...]) -> str | None:
    value = args.get(name) or None
    if value is not None and value not in allowed:
        raise BadInput(N_("%(field)s deve essere uno tra %(allowed)s, non %(value)s"), field=name,
                       allowed=", ".join(allowed), value=repr(value),
                       details=[{"field": name, "value": value, "expected": list(allowed)}])
    return value


@dataclass(frozen=True)
class Item:
    """One message as an operator reads it (``view``), and the town it belongs to."""

    view: dict
    municipality_id: int


def items(session: Session, municipality_ids: list[int], args: Mapping[str, str]) -> list[Item]:
    """The messages of ``municipality_ids`` filtered by ``status`` and ``channel``, oldest first
    (a call-back waiting longest is on top), at most ``limit``."""
    status = _choice(args, "status", OUTBOX_STATUSES)
    channel = _choice(args, "channel", CHANNELS)
    limit = whole_number(args, "limit", 1, MAX_LIMIT) or DEFAULT_LIMIT
    query = (select(OutboxMessage, Municipality.slug).join(Municipality)
             .where(OutboxMessage.municipality_id.in_(municipality_ids))
             .order_by(OutboxMessage.created_at, OutboxMessage.id).limit(limit))
    if status:
        query = query.where(OutboxMessage.status == status)
    if channel:
        query = query.where(OutboxMessage.channel == channel)
    out = []
    for msg, slug in session.execute(query):
        item = {name: getattr(msg, name) for name in ITEM_FIELDS}
        item["created_at"], item["sent_at"] = iso(msg.created_at), iso(msg.sent_at)
        item.update(jurisdiction_id=slug, subject=msg.subject, language=msg.language, done_by=msg.done_by,
                    note=msg.note, next_attempt_at=iso(msg.next_attempt_at) if msg.status == "pending" else None)
        out.append(Item(item, msg.municipality_id))
    return out
