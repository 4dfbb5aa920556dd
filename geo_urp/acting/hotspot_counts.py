"""The council's hexagon counts kept up to date: reports per town, cell size, service, month, cell.

``hotspot_cells`` holds, per municipality, cell size (PostGIS ``ST_HexagonGrid`` hexagons of
edge ``cell_m``), service, month (Europe/Rome) and cell (``i``, ``j``), how many reports were
made there. ``refresh`` brings one town's counts at one cell size up to date: the first time it
counts every report; afterwards it recounts only the (service, month) groups that hold a
report written since the last refresh (``reports.change_no`` past the cursor
``hotspot_refreshes.upto_change``), and raises the counts' ``version`` when anything changed, so
answers worked out from older counts are not reused. The cursor is the town's change number
when the refresh began (migration 0014: every report numbered up to it is seen): a call being
taken meanwhile is counted by the next refresh, never missed. A report's cell is ``hotspot_of``
(migration 0011), arithmetic on its coordinates, so one pass over the reports counts them with
no join to the grid. An information
request logged without a place is in no cell.

The read side refreshes before it reads (``reading.hotspots``); the worker refreshes every
town at every cell size already kept (``refresh_kept``), so a question seldom waits for it.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.orm import Session

from geo_urp.db import session_scope

TIME_ZONE = "Europe/Rome"

_READ_ONLY = text("SELECT current_setting('transaction_read_only') = 'on'")
_VERSION = text("SELECT version FROM hotspot_refreshes WHERE municipality_id = :mid AND cell_m = :cell_m")
_START = text("""
    INSERT INTO hotspot_refreshes (municipality_id, cell_m) VALUES (:mid, :cell_m) ON CONFLICT DO NOTHING
""")
# The refresh's row, locked so two workers never recount at once, and the town's change number
# now: every report numbered up to it has committed, so the counts below see it.
_CURSOR = text("""
    SELECT h.upto_change AS upto, h.version,
           coalesce((SELECT c.change_no FROM town_changes c WHERE c.municipality_id = :mid), 0) AS now
    FROM hotspot_refreshes h WHERE h.municipality_id = :mid AND h.cell_m = :cell_m FOR UPDATE OF h
""")

_MONTH = f"date_trunc('month', r.requested_datetime AT TIME ZONE '{TIME_ZONE}')::date"

# The (service, month) groups holding a report written since the cursor.
_CHANGED_GROUPS = text(f"""
    -- (NULL: written by this very transaction, not numbered until it commits)
    SELECT DISTINCT r.service_code, {_MONTH} AS month FROM reports r
    WHERE r.municipality_id = :mid AND (r.change_no > :upto OR r.change_no IS NULL)
""")

_FORGET_ALL = text("DELETE FROM hotspot_cells WHERE municipality_id = :mid AND cell_m = :cell_m")
# Every report of the town counted per service, month and cell (the first refresh).
_COUNT_ALL = text(f"""
    INSERT INTO hotspot_cells (municipality_id, cell_m, service_code, month, i, j, n)
    SELECT :mid, :cell_m, r.service_code, {_MONTH}, c.i, c.j, count(*)
    FROM reports r, hotspot_of(ST_X(r.geom), ST_Y(r.geom), :cell_m) AS c
    WHERE r.municipality_id = :mid AND r.geom IS NOT NULL
    GROUP BY 3, 4, 5, 6
""")

_GROUP_CELLS = text("""
    SELECT h.service_code, h.month, h.i, h.j, h.n
    FROM hotspot_cells h JOIN unnest(CAST(:codes AS text[]), CAST(:months AS date[])) AS g(code, month)
         ON h.service_code = g.code AND h.month = g.month
    WHERE h.municipality_id = :mid AND h.cell_m = :cell_m
    ORDER BY 1, 2, 3, 4
""")
_FORGET_GROUPS = text("""
    DELETE FROM hotspot_cells h USING unnest(CAST(:codes AS text[]), CAST(:months AS date[])) AS g(code, month)
    WHERE h.municipality_id = :mid AND h.cell_m = :cell_m AND h.service_code = g.code AND h.month = g.month
""")
# The reports of the given (service, month) groups counted afresh per cell.
_COUNT_GROUPS = text(f"""
    INSERT INTO hotspot_cells (municipality_id, cell_m, service_code, month, i, j, n)
    SELECT :mid, :cell_m, r.service_code, g.month, c.i, c.j, count(*)
    FROM unnest(CAST(:codes AS text[]), CAST(:months AS date[])) AS g(code, month)
    JOIN reports r ON r.municipality_id = :mid AND r.service_code = g.code AND r.geom IS NOT NULL
         AND r.requested_datetime >= (g.month::timestamp AT TIME ZONE '{TIME_ZONE}')
         AND r.requested_datetime < ((g.month + interval '1 month')::timestamp AT TIME ZONE '{TIME_ZONE}'),
         hotspot_of(ST_X(r.geom), ST_Y(r.geom), :cell_m) AS c
    GROUP BY 3, 4, 5, 6
""")

_ADVANCE = text("""
    UPDATE hotspot_refreshes SET upto_change = :upto, version = version + :changed, refreshed_at = now()
    WHERE municipality_id = :mid AND cell_m = :cell_m RETURNING version
""")


@dataclass(frozen=True)
class Counts:
    """The state of a town's counts at one cell size after ``refresh``."""

    version: int    # raised whenever they change; 0 when none are kept yet
    writable: bool  # False on a read-only transaction: nothing could be written


def refresh(session: Session, municipality_id: int, cell_m: int) -> Counts:
    """Bring the town's counts at ``cell_m`` up to date.

    On a read-only transaction (a standby, a read-only database) the counts are read as the
    primary's worker keeps them: nothing is written.
    """
    params = {"mid": municipality_id, "cell_m": cell_m}
    if session.execute(_READ_ONLY).scalar():
        return Counts(session.execute(_VERSION, params).scalar() or 0, writable=False)
    session.execute(_START, params)
    cursor = session.execute(_CURSOR, params).one()
    changed = 0
    if cursor.upto is None:
        session.execute(_FORGET_ALL, params)
        session.execute(_COUNT_ALL, params)
        changed = 1
    else:
        groups = session.execute(_CHANGED_GROUPS, {**params, "upto": cursor.upto}).all()
        if groups:
            codes, months = [g.service_code for g in groups], [g.month for g in groups]
            groups_params = {**params, "codes": codes, "months": months}
            before = session.execute(_GROUP_CELLS, groups_params).all()
            session.execute(_FORGET_GROUPS, groups_params)
            session.execute(_COUNT_GROUPS, groups_params)
            # The version rises only if a count moved (a status change moves none).
            changed = int(session.execute(_GROUP_CELLS, groups_params).all() != before)
    return Counts(session.execute(_ADVANCE, {**params, "upto": cursor.now, "changed": changed}).scalar_one(),
                  writable=True)

_KEPT = text("SELECT municipality_id, cell_m FROM hotspot_refreshes ORDER BY municipality_id, cell_m")


def refresh_kept(config) -> int:
    """The worker's job: refresh every town's counts at every cell size kept; how many it refreshed."""
    with session_scope(config["DATABASE_URL"]) as session:
        kept = session.execute(_KEPT).all()
    for row in kept:  # one transaction each: a long recount of one town holds no other's row
        with session_scope(config["DATABASE_URL"]) as session:
            refresh(session, row.municipality_id, row.cell_m)
    return len(kept)
