"""Who may change a municipality's calls and incidents at once: PostgreSQL advisory locks.

Three kinds of work meet on a town's data, each in one transaction:

- a call being taken: placed and snapped on the town's layers, stored, put in its
  incident. It holds the town's lock *shared* from before it reads the layers
  (``share_municipality``), and the lock of its route of incidents (``lock_route``)
  while it changes them;
- an operator's merge or move, a recomputation of the open incidents, a reload of
  the layers: they hold the town's lock *exclusively* (``lock_municipality``), so
  they wait for the calls being taken and the calls arriving meanwhile wait for them.

Locks are taken in that order (town, then route) and before any row lock on the
town, so two transactions never wait for each other. All are released at commit.
"""
from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session

# Advisory lock classes: the whole municipality, and one route of incidents inside it.
_MUNICIPALITY_LOCK, _ROUTE_LOCK = 7311, 7312


def lock_municipality(session: Session, municipality_id: int) -> None:
    """Hold every call and incident of a municipality still: a correction, a recomputation, a reload."""
    session.execute(text("SELECT pg_advisory_xact_lock(:cls, :mid)"),
                    {"cls": _MUNICIPALITY_LOCK, "mid": municipality_id})


def share_municipality(session: Session, municipality_id: int) -> None:
    """A call is being taken in this municipality: its layers and incidents must not be replaced
    under it (calls share the lock with each other)."""
    session.execute(text("SELECT pg_advisory_xact_lock_shared(:cls, :mid)"),
                    {"cls": _MUNICIPALITY_LOCK, "mid": municipality_id})


def lock_route(session: Session, municipality_id: int, route: str) -> None:
    """Serialise live updates of the incidents of one route (``reasoning.route``) of a municipality,
    until commit.

    Two calls of one route at once never split a group; calls of different routes
    (the lighting and water networks, each kind of cluster) never touch the same
    incidents, so they go on side by side. The municipality lock is held shared as well (again,
    if the call already holds it), so a correction, a recomputation or a reload waits.
    """
    session.execute(text("SELECT pg_advisory_xact_lock_shared(:town_cls, :mid), "
                         "pg_advisory_xact_lock(:route_cls, hashtext(CAST(:mid AS text) || '/' || :route))"),
                    {"town_cls": _MUNICIPALITY_LOCK, "route_cls": _ROUTE_LOCK, "mid": municipality_id,
                     "route": route})
