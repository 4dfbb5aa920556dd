"""The audit trail as an admin reads it (``audit`` writes it): who, when, what, newest first.

Filters, each an exact match and each optional: ``jurisdiction_id`` (a municipality's
slug), ``object_type`` with ``object_id``, ``actor``, ``action``, and the time window
``since`` / ``until`` (ISO 8601 with an offset, both ends included). A reader bound to
one municipality sees that municipality's entries only; one bound to none sees every
entry, those of no municipality included (unless it names one).

Times are given in UTC to the microsecond they were stored with, so that an entry's
``at`` handed back as ``since`` or ``until`` takes that entry in.

Pages by keyset, not offset: entries come by time, newest first, then by id, at most
``limit`` (``DEFAULT_LIMIT``, up to ``MAX_LIMIT``); when more are left, ``next_before``
is the id of the last one given, and ``before`` set to it asks for the page after it.
A keyset page stays right while entries are written (an offset would shift by every
entry written since the first page) and starts from the index on ``at`` however deep.
An unknown ``jurisdiction_id`` is not found (404), another town's is forbidden (403),
as everywhere (``municipalities.ids_within``).
"""
from __future__ import annotations

from collections.abc import Mapping
from datetime import timezone

from sqlalchemy import Select, select, tuple_
from sqlalchemy.orm import Session

from geo_urp import municipalities
from geo_urp.errors import BadInput
from geo_urp.language import N_
from geo_urp.models import AuditEntry, Municipality
from geo_urp.reading.parameters import whole_number
from geo_urp.timestamps import parameter

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
# The filters that match a column's text as given.
_TEXT_FILTERS = ("object_type", "actor", "action")
# Ids are bigint: a larger one is no entry's, and PostgreSQL would refuse to compare it.
_MAX_ID = 2**63 - 1


def _bad(name: str, raw: str, expected: str) -> BadInput:
    return BadInput(f"{name} must be {expected}, not {raw!r}", details=[{"field": name, "value": raw}])


def _scope(session: Session, args: Mapping[str, str], bound_to: int | None) -> list[int] | None:
    """The municipality ids the read covers, None for every entry (a reader bound to none,
    naming none)."""
    named = (args.get("jurisdiction_id") or "").strip() or None
    if named is None and bound_to is None:
        return None
    return municipalities.ids_within(session, bound_to, named)


def _query(session: Session, args: Mapping[str, str], bound_to: int | None) -> tuple[Select, int]:
    """The entries asked for in ``args`` (``BadInput`` naming a bad parameter) and the page size."""
    since, until = parameter(args, "since"), parameter(args, "until")
    if since is not None and until is not None and since > until:
        raise BadInput(N_("until %(until)s è prima di since %(since)s"), until=repr(args["until"]),
                       since=repr(args["since"]),
                       details=[{"field": "since"}, {"field": "until"}])
    limit = whole_number(args, "limit", 1, MAX_LIMIT) or DEFAULT_LIMIT
    object_id = whole_number(args, "object_id", 0, _MAX_ID)
    before = whole_number(args, "before", 1, _MAX_ID)
    query = (select(AuditEntry, Municipality.slug)
             .outerjoin(Municipality, Municipality.id == AuditEntry.municipality_id)
             .order_by(AuditEntry.at.desc(), AuditEntry.id.desc()).limit(limit + 1))
    scope = _scope(session, args, bound_to)
    if scope is not None:
        query = query.where(AuditEntry.municipality_id.in_(scope))
    for name in _TEXT_FILTERS:
        if args.get(name):
            query = query.where(getattr(AuditEntry, name) == args[name])
    if object_id is not None:
        query = query.where(AuditEntry.object_id == object_id)
    if since is not None:
        query = query.where(AuditEntry.at >= since)
    if until is not None:
        query = query.where(AuditEntry.at <= until)
    if before is not None:
        at = session.scalar(select(AuditEntry.at).where(AuditEntry.id == before))
        if at is None:
            raise _bad("before", args["before"], "the next_before of an earlier answer")
        query = query.where(tuple_(AuditEntry.at, AuditEntry.id) < tuple_(at, before))
    return query, limit


def entries(session: Session, args: Mapping[str, str], bound_to: int | None = None) -> dict:
    """The audit entries ``args`` asks for (filters and paging in the module's docstring) as
    ``{"items": [...], "next_before": id or None}``, newest first, for a reader bound to
    municipality ``bound_to`` (None: to none)."""
    query, limit = _query(session, args, bound_to)
    rows = session.execute(query).all()
    page = rows[:limit]
    return {"items": [_item(entry, slug) for entry, slug in page],
            "next_before": page[-1][0].id if len(rows) > limit else None}


def _item(entry: AuditEntry, slug: str | None) -> dict:
    return {"id": entry.id, "at": entry.at.astimezone(timezone.utc).isoformat(), "municipality": slug,
            "actor": entry.actor, "action": entry.action, "object_type": entry.object_type,
            "object_id": entry.object_id, "detail": entry.detail}
