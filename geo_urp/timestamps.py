"""Date-times as callers and clients send them: ISO 8601 with an offset (``Z`` for UTC)."""
from __future__ import annotations

from datetime import datetime


def with_offset(raw: str) -> datetime | None:
    """``raw`` as an aware date-time, or None when it is not ISO 8601 or carries no offset."""
    try:
        value = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        return None
    return value if value.tzinfo is not None else None
