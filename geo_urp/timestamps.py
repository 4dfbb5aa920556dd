"""Date-times as callers and clients send them: ISO 8601 with an offset (``Z`` for UTC)."""
from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timezone

from geo_urp.errors import BadInput
from geo_urp.language import N_


def aware(raw: str) -> datetime | None:
    """``raw`` as an aware date-time at its own offset, or None when it is not ISO 8601 or has no offset."""
    try:
        value = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        return None
    return value if value.tzinfo is not None else None


def with_offset(raw: str) -> datetime | None:
    """``raw`` as a date-time in UTC, or None when it is not ISO 8601, carries no offset or leaves
    the calendar once read in UTC. In UTC, any offset Python reads (up to ±23:59) is one
    PostgreSQL takes too (it refuses offsets past ±15:59)."""
    value = aware(raw)
    try:
        return value.astimezone(timezone.utc) if value is not None else None
    except OverflowError:
        return None


def parameter(args: Mapping[str, str], name: str) -> datetime | None:
    """The query parameter ``name`` as a date-time in UTC (None when absent); a value that is not
    ISO 8601 with its offset is a ``BadInput`` naming the parameter."""
    raw = (args.get(name) or "").strip()
    if not raw:
        return None
    value = with_offset(raw)
    if value is None and aware(raw) is not None:
        raise BadInput(N_("%(field)s %(value)s è fuori dal calendario una volta letto in UTC"), field=name,
                       value=repr(raw), details=[{"field": name, "value": raw}])
    if value is None:
        # A "+" left unencoded in a URL arrives as a space: say so, it is the usual slip.
        text = (N_("%(field)s deve essere una data e ora ISO 8601 con lo scarto dall'UTC, come "
                   "2026-11-27T22:00:00+01:00, non %(value)s (un + in un URL arriva come spazio: invialo come %%2B)")
                if " " in raw else
                N_("%(field)s deve essere una data e ora ISO 8601 con lo scarto dall'UTC, come "
                   "2026-11-27T22:00:00+01:00, non %(value)s"))
        raise BadInput(text, field=name, value=repr(raw), details=[{"field": name, "value": raw}])
    return value
