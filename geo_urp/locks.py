"""Who may change a municipality's calls and incidents at once: PostgreSQL advisory locks.

Three kinds of work meet on a town's data, each in one transaction:

- a call being taken: placed and snapped on the town's layers, stored, put in its
  incident. It holds the town's lock *shared* from before it reads the layers
  (``share_municipality``, or within intake's first statement), and the lock of its
  family of incidents (``lock_family``, or within the statement storing the report)
  while it changes them;
- an operator's merge or move, a recomputation of the open incidents, a reload of
  the layers: they hold the town's lock *exclusively* (``lock_municipality``), so
  they wait for the calls being taken and the calls arriving meanwhile wait for them.

Locks are taken in that order (town, then family) and before any row lock on the
town, so two transactions never wait for each other. All are released at commit.
"""
from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session

from geo_urp.db import Prepared

# Advisory lock classes: the whole municipality, and one family of incidents inside it.
_MUNICIPALITY_LOCK, _FAMILY_LOCK = 7311, 7312


def lock_municipality(session: Session, municipality_id: int) -> None:
    """Hold every call and incident of a municipality still: a correction, a recomputation, a reload."""
    session.execute(text("SELECT pg_advisory_xact_lock(:cls, :mid)"),
                    {"cls": _MUNICIPALITY_LOCK, "mid": municipality_id})


def share_municipality(session: Session, municipality_id: int) -> None:
    """A call is being taken in this municipality: its layers and incidents must not be replaced
    under it (calls share the lock with each other)."""
    session.execute(text(f"SELECT {shared_municipality_lock_sql(':mid')}"), {"mid": municipality_id})


def shared_municipality_lock_sql(municipality_id: str) -> str:
    """``share_municipality``'s lock in SQL text, over the SQL expression ``municipality_id``, for a
    statement that finds the municipality and takes its lock at once (none where the id is NULL)."""
    return f"pg_advisory_xact_lock_shared({_MUNICIPALITY_LOCK}, {municipality_id})"


def family_lock_sql(municipality_id: str, family: str) -> str:
    """``lock_family``'s lock of one family in SQL text, over the SQL expressions given (the
    town's lock is assumed held already), for a statement that takes it with its own work."""
    return f"pg_advisory_xact_lock({_FAMILY_LOCK}, hashtext(CAST({municipality_id} AS text) || '/' || {family}))"


# Prepared: it runs on every call that makes an incident and did not take it while stored.
_FAMILY = Prepared(f"SELECT pg_advisory_xact_lock_shared({_MUNICIPALITY_LOCK}, :mid), "
                   + family_lock_sql(":mid", ":family"), types={"mid": "int", "family": "text"})


def lock_family(session: Session, municipality_id: int, family: str) -> None:
    """Serialise live updates of one family of incidents of a municipality, until commit.

    Two calls of one family at once never split a group; calls of different families
    (the lighting and water networks, each kind of cluster) never touch the same
    incidents, so they go on side by side. The municipality lock is held shared as well (again,
    if the call already holds it), so a correction, a recomputation or a reload waits.
    """
    _FAMILY.execute(session, {"mid": municipality_id, "family": family})
