"""The partitions of ``reports`` made ahead: a partition per block of four million ids (migration 0016).

``reports`` is partitioned by range of ``id`` (``reports_from_0``, ``reports_from_4000000``, ...),
ids following arrival, and a default partition takes any id no block holds, so no call is ever
refused for want of a partition. ``make_ahead`` (a worker job) keeps the block of the latest id
and the next one made, and ``make_apart`` those an import of many calls is about to fill
(``simulate.history``), both through the database function ``report_partitions``, which runs
with the schema owner's rights: the service's own role may write rows, never make tables. Each
makes them in a transaction of its own, committed at once: a partition being made locks
``reports`` until its transaction ends, and every call waits for that lock.
"""
from __future__ import annotations

import time

from sqlalchemy import text
from sqlalchemy.orm import Session

from geo_urp.db import engine_for
from geo_urp.errors import GeoUrpError

_MAKE = text("SELECT report_partitions(:ids_to_come)")  # NULL: another is making them
# How long an import waits for another maker (the worker's pass takes an instant).
BUSY_TRIES, BUSY_WAIT_S = 10, 0.2


def make_apart(session: Session, ids_to_come: int = 0) -> int:
    """Make the missing blocks from the latest id's to the one ``ids_to_come`` ids further (at most
    a block), and the block after it, on a connection of their own beside ``session``'s
    (committed before ``session`` writes its calls); how many were made. Call it before
    ``session`` reads ``reports``: a partition being made waits for every transaction reading
    the table, this one's too, and gives up after 200 ms (a lock timeout). Another maker busy (a
    worker's pass), it waits for it a little, then refuses rather than let the import's calls
    fill the default partition."""
    for _ in range(BUSY_TRIES):
        with session.get_bind().engine.begin() as conn:
            made = conn.execute(_MAKE, {"ids_to_come": ids_to_come}).scalar_one()
        if made is not None:
            return made
        time.sleep(BUSY_WAIT_S)
    raise GeoUrpError("the partitions of reports are being made by another process (a worker, another import) "
                      "for longer than this import waits: run it again")


def make_ahead(config) -> int:
    """The worker's job: the latest id's block and the next one made; how many were made."""
    with engine_for(config["DATABASE_URL"]).begin() as conn:
        return conn.execute(_MAKE, {"ids_to_come": 0}).scalar_one() or 0  # another busy: its pass makes them
