"""Small pieces of the sentences an operator reads aloud (Italian towns, English UI)."""
from __future__ import annotations

from datetime import datetime

from geo_urp.settings import local_zone


def calls(n: int) -> str:
    return "1 call" if n == 1 else f"{n} calls"


def span(times: list[datetime]) -> str:
    """'at 23:10' (the towns' local time), 'in 40 minutes', 'in 2 hours', 'over 3 days'."""
    return between(min(times), max(times)) if times else ""


def between(first: datetime, last: datetime) -> str:
    """``span`` of calls from ``first`` to ``last``."""
    first_local = first.astimezone(local_zone()) if first.tzinfo else first
    minutes = (last - first).total_seconds() / 60
    if minutes < 1:
        return f"at {first_local:%H:%M}"
    if minutes < 90:
        return f"in {round(minutes)} minutes"
    if minutes < 48 * 60:
        return f"in {round(minutes / 60)} hours"
    return f"over {round(minutes / 1440)} days"


def places(names: list[str], limit: int = 3) -> str:
    """'Via Roma', 'Via Roma and Via Trento', 'Via Roma, Via Trento and 2 more streets'."""
    names = list(dict.fromkeys(n for n in names if n))
    if not names:
        return ""
    if len(names) == 1:
        return names[0]
    if len(names) <= limit:
        return ", ".join(names[:-1]) + " and " + names[-1]
    return ", ".join(names[:limit - 1]) + f" and {len(names) - limit + 1} more streets"


def ids(values: list[str], limit: int = 6) -> str:
    values = list(values)
    shown = ", ".join(values[:limit])
    return shown + (f" and {len(values) - limit} more" if len(values) > limit else "")
