"""The partitions of ``reports`` made ahead: a partition per block of a million ids (migration 0016).

``reports`` is partitioned by range of ``id`` (``reports_from_0``, ``reports_from_1000000``, ...),
ids following arrival, and a default partition takes any id no block holds, so no call is ever
refused for want of a partition. ``make_ahead`` (a worker job) keeps the block of the latest id
and the next one made, and ``make`` those an import of many calls is about to fill
(``simulate.history``), both through the database function ``report_partitions``, which runs
with the schema owner's rights: the service's own role may write rows, never make tables. A block
whose ids already sit in the default partition keeps none of its own and is named in a warning.
"""
from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session

from geo_urp.db import session_scope

_MAKE = text("SELECT report_partitions(:ids_to_come)")


def make(session: Session, ids_to_come: int = 0) -> int:
    """Make the missing blocks from the latest id's to the one ``ids_to_come`` ids further, and the
    block after it; how many were made."""
    return session.execute(_MAKE, {"ids_to_come": ids_to_come}).scalar_one()


def make_ahead(config) -> int:
    """The worker's job: the latest id's block and the next one made; how many were made."""
    with session_scope(config["DATABASE_URL"]) as session:
        return make(session)
