"""The council's trend counts kept up to date: reports per town, service, area, district, week, month.

``trend_weeks`` (migration 0012) holds, per municipality, service, crew area, district, ISO
week and month (Europe/Rome; a week straddling two months is two rows, so weeks and months
both add up exactly), how many reports were made, how many are closed, how many of those had
a due time (``expected_datetime``, ``acting.service_levels``) and how many were closed by it,
and ``hours``: the closed reports counted per bucket of hours to resolve
(``updated_datetime - requested_datetime``). The buckets are fixed (``BUCKET_EDGES_H``):
bucket 0 is under a quarter of an hour, each next edge is 2^(1/4) (about 1.19) times the one
before, up to 2048 hours, and a last bucket holds everything beyond; percentiles read from
them are good to that ratio. A report's area and district are found in PostGIS
(``ST_Intersects`` of its point with ``crew_areas`` and ``districts``, the first by id when
polygons overlap); "" when it lies in none.

``refresh`` brings one town up to date, as ``hotspot_counts.refresh`` does its hexagons: the
first time (and after a reload of the layers, which may move areas) it counts every report;
afterwards only the (service, week) groups holding a report written since the cursor
``trend_refreshes.upto_change`` (``reports.change_no`` past it, migration 0014), raising
``version`` when a count moved. The read side refreshes before it reads (``reading.trends``),
so an answer is never stale; the worker runs ``refresh_all`` so a reader seldom waits.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.orm import Session

from geo_urp.db import session_scope

TIME_ZONE = "Europe/Rome"
# Upper edges of the resolve-time buckets, in hours: 0.25 * 2^(k/4) for k = 0..52 (0.25 h to 2048 h).
BUCKET_EDGES_H = tuple(0.25 * 2 ** (k / 4) for k in range(53))
BUCKETS = len(BUCKET_EDGES_H) + 1  # and one beyond the last edge

_READ_ONLY = text("SELECT current_setting('transaction_read_only') = 'on'")
_VERSION = text("SELECT version FROM trend_refreshes WHERE municipality_id = :mid")
_START = text("""
    INSERT INTO trend_refreshes (municipality_id) VALUES (:mid) ON CONFLICT DO NOTHING
""")
# Locked so two refreshes never recount at once; the town's change number now is the next cursor.
_CURSOR = text("""
    SELECT t.upto_change AS upto, t.version, t.layers_loaded_at IS NOT DISTINCT FROM m.layers_loaded_at AS same_load,
           coalesce((SELECT c.change_no FROM town_changes c WHERE c.municipality_id = :mid), 0) AS now
    FROM trend_refreshes t JOIN municipalities m ON m.id = t.municipality_id
    WHERE t.municipality_id = :mid FOR UPDATE OF t
""")

_LOCAL = f"(r.requested_datetime AT TIME ZONE '{TIME_ZONE}')"
_WEEK = f"date_trunc('week', {_LOCAL})::date"

_CHANGED_GROUPS = text(f"""
    -- (NULL: written by this very transaction, not numbered until it commits)
    SELECT DISTINCT r.service_code, {_WEEK} AS week FROM reports r
    WHERE r.municipality_id = :mid AND (r.change_no > :upto OR r.change_no IS NULL)
""")

# Counts the reports the WHERE clause picks (``{where}``), per group, with the histogram made dense:
# each group's bucket counts go through a sparse pair of arrays, then one slot per bucket.
_COUNT = f"""
    INSERT INTO trend_weeks (municipality_id, service_code, area_id, district_id, week, month,
                             n, closed, with_due, on_time, hours)
    WITH r AS (
        SELECT r.service_code, coalesce(a.area_id, '') AS area_id, coalesce(d.district_id, '') AS district_id,
               {_WEEK} AS week, date_trunc('month', {_LOCAL})::date AS month,
               r.status = 'closed' AS closed,
               r.status = 'closed' AND r.expected_datetime IS NOT NULL AS with_due,
               r.status = 'closed' AND r.updated_datetime <= r.expected_datetime AS on_time,
               CASE WHEN r.status = 'closed' THEN width_bucket(
                   extract(epoch FROM r.updated_datetime - r.requested_datetime) / 3600.0,
                   CAST(:edges AS float8[])) END AS b
        FROM reports r
        LEFT JOIN LATERAL (SELECT a.area_id FROM crew_areas a WHERE a.municipality_id = :mid
                           AND ST_Intersects(a.geom, r.geom) ORDER BY a.area_id LIMIT 1) a ON true
        LEFT JOIN LATERAL (SELECT d.district_id FROM districts d WHERE d.municipality_id = :mid
                           AND ST_Intersects(d.geom, r.geom) ORDER BY d.district_id LIMIT 1) d ON true
        WHERE r.municipality_id = :mid {{where}}
    ), g AS (
        SELECT service_code, area_id, district_id, week, month, count(*) AS n, count(*) FILTER (WHERE closed) AS closed,
               count(*) FILTER (WHERE with_due) AS with_due, count(*) FILTER (WHERE on_time) AS on_time
        FROM r GROUP BY 1, 2, 3, 4, 5
    ), h AS (
        SELECT service_code, area_id, district_id, week, month, array_agg(b ORDER BY b) AS bs, array_agg(c ORDER BY b) AS cs
        FROM (SELECT service_code, area_id, district_id, week, month, b, count(*) AS c FROM r
              WHERE b IS NOT NULL GROUP BY 1, 2, 3, 4, 5, 6) s
        GROUP BY 1, 2, 3, 4, 5
    )
    SELECT :mid, g.service_code, g.area_id, g.district_id, g.week, g.month, g.n, g.closed, g.with_due, g.on_time,
           ARRAY(SELECT coalesce(h.cs[array_position(h.bs, s)], 0)::integer
                 FROM generate_series(0, {BUCKETS - 1}) s ORDER BY s)
    FROM g LEFT JOIN h USING (service_code, area_id, district_id, week, month)
"""
_COUNT_ALL = text(_COUNT.format(where=""))
_COUNT_GROUPS = text(_COUNT.format(where=f"""
        AND (r.service_code, {_WEEK}) IN (SELECT * FROM unnest(CAST(:codes AS text[]), CAST(:weeks AS date[])))"""))
_FORGET_ALL = text("DELETE FROM trend_weeks WHERE municipality_id = :mid")
_GROUP_ROWS = text("""
    SELECT t.* FROM trend_weeks t JOIN unnest(CAST(:codes AS text[]), CAST(:weeks AS date[])) AS g(code, week)
         ON t.service_code = g.code AND t.week = g.week
    WHERE t.municipality_id = :mid ORDER BY t.service_code, t.week, t.month, t.area_id, t.district_id
""")
_FORGET_GROUPS = text("""
    DELETE FROM trend_weeks t USING unnest(CAST(:codes AS text[]), CAST(:weeks AS date[])) AS g(code, week)
    WHERE t.municipality_id = :mid AND t.service_code = g.code AND t.week = g.week
""")
_ADVANCE = text("""
    UPDATE trend_refreshes t SET upto_change = :upto, version = version + :changed, refreshed_at = now(),
           layers_loaded_at = m.layers_loaded_at
    FROM municipalities m WHERE m.id = t.municipality_id AND t.municipality_id = :mid RETURNING t.version
""")


@dataclass(frozen=True)
class Counts:
    """The state of a town's trend counts after ``refresh``."""

    version: int    # raised whenever they change; 0 when none are kept yet
    writable: bool  # False on a read-only transaction: nothing could be written


def refresh(session: Session, municipality_id: int) -> Counts:
    """Bring the town's trend counts up to date (read as kept on a read-only transaction)."""
    params = {"mid": municipality_id, "edges": list(BUCKET_EDGES_H)}
    if session.execute(_READ_ONLY).scalar():
        return Counts(session.execute(_VERSION, params).scalar() or 0, writable=False)
    session.execute(_START, params)
    cursor = session.execute(_CURSOR, params).one()
    changed = 0
    if cursor.upto is None or not cursor.same_load:
        session.execute(_FORGET_ALL, params)
        session.execute(_COUNT_ALL, params)
        changed = 1
    else:
        groups = session.execute(_CHANGED_GROUPS, {**params, "upto": cursor.upto}).all()
        if groups:
            groups_params = {**params, "codes": [g.service_code for g in groups], "weeks": [g.week for g in groups]}
            before = session.execute(_GROUP_ROWS, groups_params).all()
            session.execute(_FORGET_GROUPS, groups_params)
            session.execute(_COUNT_GROUPS, groups_params)
            # The version rises only if a count moved.
            changed = int(session.execute(_GROUP_ROWS, groups_params).all() != before)
    version = session.execute(_ADVANCE, {**params, "upto": cursor.now, "changed": changed}).scalar_one()
    return Counts(version, writable=True)


_TOWNS = text("SELECT id FROM municipalities ORDER BY id")


def refresh_all(config) -> int:
    """The worker's job (and the step after ``simulate --history``): refresh every town; how many."""
    with session_scope(config["DATABASE_URL"]) as session:
        towns = session.execute(_TOWNS).scalars().all()
    for mid in towns:  # one transaction each: a long first count of one town holds no other's row
        with session_scope(config["DATABASE_URL"]) as session:
            refresh(session, mid)
    return len(towns)
