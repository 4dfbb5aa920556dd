"""Space-time clusters for everything without a network (flooding, road damage, noise, ...).

Incremental ST-DBSCAN with one point enough to start a cluster: a new report
joins every open incident of its kind, not tied to an asset, that has a report
within the service's distance and time window; when it touches several, they merge (the report
bridges them). The neighbour search is one PostGIS query (``ST_DWithin`` on the
indexed report points), which also makes the incident's hull for the map: the
convex hull of its calls widened by 15 m (hull first, then buffer: the same
shape as buffering every call first, at a fraction of the cost for big clusters).
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import NamedTuple

from sqlalchemy import Row, bindparam, select, text
from sqlalchemy.orm import Session

from geo_urp.db import Prepared, as_loaded
from geo_urp.models import Incident, Report
from geo_urp.reasoning import responsibility, words
from geo_urp.reasoning import grouping
from geo_urp.reasoning.rules import Rules

# Service code -> incident kind (SPEC §4); anything else is "other".
KIND_OF = {"flooding": "flooding", "road_damage": "road_damage", "noise": "noise",
           "social_distress": "social_distress"}
NOUN = {"flooding": "flooding", "road_damage": "road damage", "noise": "noise",
        "social_distress": "a person in distress", "other": "the same problem",
        "water_outage": "water trouble"}
# What an operator should know about a cluster of this kind, beyond the calls.
CAVEAT = {"flooding": " (no water-network evidence: not a burst main)",
          "water_outage": " (no water main lies near enough to these calls: the cause is not located yet)"}


# The map shape of a cluster, over its calls' points ``g``: the point itself for one call.
WIDEN_M = 15
_SHAPE = f"CASE WHEN count(*) = 1 THEN ST_Collect(g) ELSE ST_Buffer(ST_ConvexHull(ST_Collect(g)), {WIDEN_M}) END"


def _inside_hull(shape: str, point: str) -> str:
    """SQL: whether a new call at ``point`` leaves ``shape``, a cluster's shape drawn by
    ``_SHAPE``, as it is, because it lies in the hull of the calls already in.

    The shape is that hull widened by ``WIDEN_M`` (a convex polygon, whatever the hull), and a
    point at least ``WIDEN_M`` inside it lies in the hull: the widened point fits in the
    widened hull only if the point is in the hull. Exact in that direction (the buffer's arcs
    are drawn inside the true ones); a call nearer the edge has the shape drawn again in full.
    """
    return (f"(GeometryType({shape}) = 'POLYGON' AND ST_Contains({shape}, {point}) "
            f"AND NOT ST_DWithin(ST_Boundary({shape}), {point}, {WIDEN_M}))")


def reshape(session: Session, inc: Incident) -> None:
    """Redraw a cluster's shape from the calls it holds now (after an operator's merge or move)."""
    shape = drawn_shape(session, inc.id)
    if shape is not None:
        inc.geom = shape


def drawn_shape(session: Session, incident_id: int) -> str | None:
    """A cluster's shape drawn in full from the calls it holds (hex EWKB; None: it holds none)."""
    return session.execute(text(
        "SELECT " + _SHAPE + " FROM (SELECT r.geom AS g FROM reports r JOIN incident_reports ir "
        "ON ir.report_id = r.id WHERE ir.incident_id = :i) s"), {"i": incident_id}).scalar()


# The other incidents a call bridges, to merge into the one it joined (built once).
_BY_IDS = (select(Incident).where(Incident.id.in_(bindparam("ids", expanding=True)))
           .order_by(Incident.opened_at, Incident.id))

_INCIDENT_COLUMNS = tuple(c.key for c in Incident.__table__.columns)


class Summary(NamedTuple):
    """What describing a cluster reads of its calls: how many, the times of the first and
    the last, and the streets they were placed on (each once, in the order of their first call)."""

    count: int
    first: datetime
    last: datetime
    streets: tuple[str, ...]


def summary(reports: list[Row]) -> Summary:
    """The ``Summary`` of calls as ``grouping.reports_of`` gives them (oldest first, at least one)."""
    return Summary(len(reports), reports[0].requested_datetime, reports[-1].requested_datetime,
                   tuple(dict.fromkeys(grouping.street_names(reports))))


# The crew area and crew of a cluster (``responsibility``'s rule): a cluster has no asset, so its
# fix point is a point of its shape, as ``responsibility.fix_point_sql`` gives for every kind here.
_AREA, _CREW = responsibility.area_and_crew_sql(
    ":mid", responsibility.fix_point_sql("other", ":mid", "NULL", "inc.geom"), ":skill", alias="w")

# One round trip for a call placed by place and time (most calls without a network asset). It
# finds the incidents the new report is near (oldest first), links the report to the oldest and
# redraws that one's shape over every call of them all and this one (unless the report joins one
# incident inside the hull of its calls: the shape stays), or, with none near, creates an
# incident for the report alone. Its one row holds:
# - the near incidents' ids;
# - the incident joined or created, as now stored (columns ``i_*``);
# - the crew area and crew its shape falls to (``_AREA``, ``_CREW``);
# - the ``Summary`` of its calls (``n_calls``, ``first_call``, ``last_call``, ``streets``), which
#   is all ``describe`` reads: the rows of a cluster of hundreds of calls (a storm, a long night)
#   never travel to Python (PostgreSQL still reads them all to sum them up).
# The report itself is already stored (intake's statement), so it is among the calls.
# Prepared: PostgreSQL took longer to plan the search than to run it.
_JOIN = Prepared(
    "WITH near AS (SELECT i.id, i.opened_at FROM incidents i JOIN incident_reports ir ON ir.incident_id = i.id "
    "JOIN reports r ON r.id = ir.report_id WHERE i.municipality_id = :mid AND i.kind = :kind "
    "AND i.status IN ('open', 'assigned', 'in_progress') AND r.service_code = ANY(:codes) "
    # Only incidents placed by place and time: a lamp or water incident on the network has its assets.
    "AND cardinality(i.asset_ids) = 0 AND cardinality(i.affected_segment_nos) = 0 "
    "AND r.requested_datetime BETWEEN :t0 AND :t1 AND ST_DWithin(r.geom, " + grouping.geom_param("g") + ", :d) "
    "GROUP BY i.id, i.opened_at), "
    "joined AS (SELECT id FROM near ORDER BY opened_at, id LIMIT 1), "
    "ids AS (SELECT ir.report_id AS id FROM incident_reports ir WHERE ir.incident_id IN (SELECT id FROM near) "
    "        UNION ALL SELECT CAST(:rid AS bigint)), "
    "calls AS (SELECT r.id, r.requested_datetime, r.geom, s.name AS street_name "
    "          FROM ids JOIN reports r ON r.id = ids.id "
    "          LEFT JOIN streets s ON s.municipality_id = r.municipality_id AND s.street_id = r.street_id), "
    # A call inside the hull of the one incident it joins leaves its shape as drawn: a cluster
    # of hundreds of calls is not drawn again over all of them for a call in its middle.
    "kept AS (SELECT i.geom FROM incidents i, (SELECT " + grouping.geom_param("g") + " AS g) p "
    "         WHERE i.id = (SELECT id FROM joined) AND (SELECT count(*) FROM near) = 1 "
    "         AND " + _inside_hull("i.geom", "p.g") + "), "
    "shape AS (SELECT CASE WHEN EXISTS (SELECT 1 FROM kept) THEN (SELECT geom FROM kept) "
    "          ELSE (SELECT " + _SHAPE + " FROM (SELECT geom AS g FROM calls) c) END AS g), "
    "grown AS (UPDATE incidents SET updated_at = :at, geom = (SELECT g FROM shape) "
    "          WHERE id = (SELECT id FROM joined) RETURNING *), "
    # As ``grouping.create`` makes one: open, priority 3, confidence 0.5, no asset, until described.
    "new AS (INSERT INTO incidents (municipality_id, kind, status, priority, confidence, explanation, "
    "        asset_ids, valves_to_close, affected_segment_nos, geom, opened_at, updated_at) "
    "        SELECT :mid, :kind, 'open', 3, 0.5, '', '{}', '{}', '{}', (SELECT g FROM shape), :opened, :at "
    "        WHERE NOT EXISTS (SELECT 1 FROM joined) RETURNING *), "
    "link AS (INSERT INTO incident_reports (report_id, incident_id) "
    "         SELECT :rid, id FROM joined UNION ALL SELECT :rid, id FROM new) "
    "SELECT ARRAY(SELECT id FROM near ORDER BY opened_at, id) AS near_ids, "
    + ", ".join(f"inc.{c} AS i_{c}" for c in _INCIDENT_COLUMNS) + ", "
    f"  w.area_id AS area_id, {_CREW} AS crew_id, c.n_calls, c.first_call, c.last_call, "
    # Each street once, at its first call (oldest first, as ``summary`` orders them).
    "  ARRAY(SELECT street_name FROM (SELECT DISTINCT ON (street_name) street_name, requested_datetime, id "
    "        FROM calls WHERE street_name IS NOT NULL ORDER BY street_name, requested_datetime, id) f "
    "        ORDER BY requested_datetime, id) AS streets "
    f"FROM (SELECT * FROM grown UNION ALL SELECT * FROM new) inc {_AREA} "
    "CROSS JOIN (SELECT count(*) AS n_calls, min(requested_datetime) AS first_call, "
    "            max(requested_datetime) AS last_call FROM calls) c",
    types={"rid": "bigint", "skill": "text"},
    # The incident's shape becomes what the ORM loads; psycopg2 reads every other column as the ORM would.
    result_types={"i_geom": Incident.__table__.c.geom.type})


def kind_for(service_code: str) -> str:
    return KIND_OF.get(service_code, "other")


def handle(session: Session, report: Report, rules: Rules, kind: str | None = None,
           codes: tuple[str, ...] | None = None, config: str | None = None,
           ) -> tuple[Incident, Summary, tuple[str | None, str | None]]:
    """Join the report to the incidents it is near in space and time, merging them if it bridges several;
    the incident, the ``Summary`` of its calls (for ``describe``), and the crew area and crew its
    shape falls to (for ``responsibility.assign_many``).

    ``kind`` defaults to the service's; ``codes``, the services whose calls may
    group together (default: the report's own); ``config``, the rules entry
    giving distance and window (default: the service's).
    """
    kind = kind or kind_for(report.service_code)
    cfg = rules.cluster(config or report.service_code)
    window = timedelta(hours=cfg["window_h"])
    session.flush()  # the statement writes incidents: nothing of theirs may be pending
    head = _JOIN.execute(session, {
        "mid": report.municipality_id, "kind": kind, "codes": list(codes or (report.service_code,)),
        "t0": report.requested_datetime - window, "t1": report.requested_datetime + window,
        "g": grouping.hexgeom(report.geom), "d": cfg["distance_m"], "rid": report.id, "at": grouping.now(),
        "opened": report.requested_datetime, "skill": responsibility.SKILL.get(kind, "general")}).one()
    inc = as_loaded(session, Incident, {c: getattr(head, f"i_{c}") for c in _INCIDENT_COLUMNS}, populate_existing=True)
    calls = Summary(head.n_calls, head.first_call, head.last_call, tuple(head.streets))
    where = (head.area_id, head.crew_id)
    if not head.near_ids:
        grouping.created(session, inc, first=report)
        return inc, calls, where
    others = list(session.scalars(_BY_IDS, {"ids": list(head.near_ids[1:])})) if len(head.near_ids) > 1 else []
    for other in others:
        grouping.absorb(session, other, inc, why=f"call {report.id} lies within {cfg['distance_m']} m of both")
    grouping.log(session, inc, "call joined", report_id=str(report.id))
    return inc, calls, where


def describe(session: Session, inc: Incident, calls: Summary) -> tuple[str, float]:
    """The sentence for the operator, and the confidence that these calls are one problem."""
    head = f"{words.calls(calls.count)} {words.between(calls.first, calls.last)}"
    where = f" in {words.places(list(calls.streets))}" if calls.streets else ""
    noun = NOUN.get(inc.kind, "the same problem")
    extra = CAVEAT.get(inc.kind, "")
    if calls.count == 1:
        return f"{head}{where} about {noun}; no other call nearby yet{extra}.", 0.5
    return (f"{head}{where} about {noun}, close together in space and time: one {noun} area{extra}.",
            min(0.9, 0.5 + 0.08 * calls.count))
