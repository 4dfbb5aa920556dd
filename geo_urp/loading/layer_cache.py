"""Facts derived from one load of a municipality's layers, kept in the process until the next load.

A lamp's position, how many lamps a circuit has, how many addresses a valve
segment serves, the valve-segment graph, the geocoder's index of the town: they
change only when the layers are reloaded, so each is worked out once and kept,
keyed by database, municipality and ``layers_loaded_at`` (a reload stamps a new
one, so the next reader works them out again). The one cache of layer-derived data.
"""
from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy.orm import Session

from geo_urp.models import Municipality

T = TypeVar("T")

_MAX_ENTRIES = 256  # a few towns, a few facts each, a few reloads: beyond that start afresh
_CACHE: dict[tuple, object] = {}
_LOCK = threading.Lock()


def cached(session: Session, municipality_id: int, name: str, build: Callable[[], T]) -> T:
    """``build()`` for this load of the municipality's layers, worked out on first use only.

    ``name`` tells facts apart (and carries any setting they depend on, e.g. a distance).
    The load is the one the session sees (``Municipality.layers_loaded_at``).
    """
    muni = session.get(Municipality, municipality_id)  # usually already in the session: no query
    key = (session.get_bind().engine.url.render_as_string(), municipality_id,
           muni.layers_loaded_at if muni is not None else None, name)
    found = _CACHE.get(key, _CACHE)
    if found is _CACHE:
        found = build()
        with _LOCK:
            if len(_CACHE) >= _MAX_ENTRIES:
                _CACHE.clear()
            _CACHE[key] = found
    return found  # type: ignore[return-value]
