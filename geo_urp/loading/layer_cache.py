"""Facts of a municipality's layers that reasoning reads over and over, read once per load.

A lamp's position, how many lamps a circuit has, how many addresses a valve
segment serves: they change only when the layers are reloaded, so each is read
in one query and kept, per database, municipality and ``layers_loaded_at``. A
reload stamps a new ``layers_loaded_at``, so the next call reads them again.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from sqlalchemy.orm import Session

from geo_urp.models import Municipality

T = TypeVar("T")

_MAX_ENTRIES = 64  # a few towns, a few reloads: beyond that start afresh
_CACHE: dict[tuple, object] = {}


def cached(session: Session, municipality_id: int, name: str, build: Callable[[], T]) -> T:
    """``build()`` for this load of the municipality's layers, computed on first use only.

    ``name`` tells facts apart (and carries any setting they depend on, e.g. a distance).
    """
    muni = session.get(Municipality, municipality_id)  # pinned to the session: no query
    bind = session.get_bind()
    key = (getattr(bind, "engine", bind).url.render_as_string(), municipality_id,
           muni.layers_loaded_at if muni is not None else None, name)
    if key not in _CACHE:
        if len(_CACHE) >= _MAX_ENTRIES:
            _CACHE.clear()
        _CACHE[key] = build()
    return _CACHE[key]  # type: ignore[return-value]
