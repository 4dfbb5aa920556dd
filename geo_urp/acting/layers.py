"""Loading a municipality's layers while calls are open: the layers, then the open calls on them.

Lamp, pipe and street ids, and valve-segment numbers, belong to one load of the
layers. Replacing the layers therefore also snaps every open report again and
rebuilds the open incidents from them, in the same transaction, holding the
municipality's lock so that no call is placed on half-replaced layers. A load
that fails changes nothing, the open incidents included.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session

from geo_urp import locks, municipalities
from geo_urp.catalog import catalog_for
from geo_urp.loading.loader import LoadOptions, LoadReport, load_municipality
from geo_urp.loading.write_layers import LAYER_TABLES
from geo_urp.locating.snapping import SnapLimits, resnap_open_reports
from geo_urp.reasoning.recompute import recompute_open

# What a load writes in bulk, whose statistics are refreshed once it is committed (``db.analyze``).
LOADED_TABLES = tuple(model.__tablename__ for model in LAYER_TABLES)


@dataclass
class Reload:
    """What a load did to a municipality's open calls (all zero for a new municipality)."""

    resnapped: int = 0
    replayed: int = 0
    open_incidents: int = 0

    def lines(self) -> list[str]:
        return [f"open calls: {self.replayed} placed again on the new layers ({self.resnapped} moved to "
                f"another street, lamp or main): {self.open_incidents} open incidents"]


def load_layers(session: Session, folder: Path, slug: str, name: str | None = None,
                options: LoadOptions | None = None,
                limits: SnapLimits = SnapLimits()) -> tuple[LoadReport, Reload]:
    """Load or replace the layers of ``slug``; an existing municipality's open calls follow.

    Nothing is committed here (the caller commits, or rolls back on error).
    """
    known = municipalities.find(session, slug)
    mid = known.id if known is not None else None
    if mid is not None:
        locks.lock_municipality(session, mid)  # waits for calls being placed; holds new ones
    report = load_municipality(session, folder, slug, name, options)
    if mid is None:
        return report, Reload()
    catalog = catalog_for(session, mid)
    moved = resnap_open_reports(session, mid, {s.code: s.network for s in catalog.services}, limits)
    replayed, now_open = recompute_open(session, mid)
    return report, Reload(moved, replayed, now_open)
