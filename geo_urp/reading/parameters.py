"""Query parameters the read side takes, checked in one way: a bad one is a ``BadInput`` that
names it (date-times: ``timestamps.parameter``)."""
from __future__ import annotations

from collections.abc import Mapping

from geo_urp.errors import BadInput
from geo_urp.language import N_


def whole_number(args: Mapping[str, str], name: str, low: int, high: int) -> int | None:
    """``name`` as a whole number from ``low`` to ``high`` in ASCII digits (None when absent)."""
    raw = (args.get(name) or "").strip()
    if not raw:
        return None
    if not raw.isascii() or not raw.isdigit() or not low <= int(raw) <= high:
        raise BadInput(N_("%(field)s deve essere un numero intero da %(low)s a %(high)s, non %(value)s"), field=name,
                       low=low, high=high, value=repr(raw),
                       details=[{"field": name, "value": raw}])
    return int(raw)
