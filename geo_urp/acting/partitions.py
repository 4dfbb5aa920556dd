"""The months of ``reports`` made ahead: a partition per calendar month (migration 0016).

``reports`` is partitioned by range of ``requested_datetime``, a partition per UTC month
(``reports_YYYY_MM``) and a default one that takes any call no month holds, so no call is ever
refused for want of a partition. ``make_ahead`` (a worker job) keeps this month's and the next
``MONTHS_AHEAD`` months' partitions made, and ``make`` those of past calls about to be imported
(``simulate.history``), both through the database function ``report_partitions`` (migration
0016), which runs with the schema owner's rights: the service's own role may write rows, never
make tables. A month whose calls already sit in the default partition (they came before its
partition was made) keeps none of its own and is named in a warning.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import text
from sqlalchemy.orm import Session

from geo_urp.db import session_scope

MONTHS_AHEAD = 3

_MAKE = text("SELECT report_partitions(coalesce(:since, now()), :months)")


def make(session: Session, since: datetime | None = None) -> int:
    """Make the missing partitions from ``since``'s month (this one by default; at most ten years
    back) to ``MONTHS_AHEAD`` months ahead; how many it made."""
    return session.execute(_MAKE, {"since": since, "months": MONTHS_AHEAD}).scalar_one()


def make_ahead(config) -> int:
    """The worker's job: make the missing partitions up to ``MONTHS_AHEAD`` months ahead; how many it made."""
    with session_scope(config["DATABASE_URL"]) as session:
        return make(session)
