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

from datetime import timedelta

from sqlalchemy import Row, bindparam, select, text
from sqlalchemy.orm import Session

from geo_urp.db import Prepared
from geo_urp.models import Incident, Report
from geo_urp.reasoning import store, words
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
_SHAPE = "CASE WHEN count(*) = 1 THEN ST_Collect(g) ELSE ST_Buffer(ST_ConvexHull(ST_Collect(g)), 15) END"


def reshape(session: Session, inc: Incident) -> None:
    """Redraw a cluster's shape from the calls it holds now (after an operator's merge or move)."""
    shape = session.execute(text(
        "SELECT " + _SHAPE + " FROM (SELECT r.geom AS g FROM reports r JOIN incident_reports ir "
        "ON ir.report_id = r.id WHERE ir.incident_id = :i) s"), {"i": inc.id}).scalar()
    if shape is not None:
        inc.geom = shape


_BY_IDS = (select(Incident).where(Incident.id.in_(bindparam("ids", expanding=True)))
           .order_by(Incident.opened_at, Incident.id))  # built once: it runs on most calls


# One round trip: the incidents a new report is near, oldest first, and the shape of the
# incident they become with it (every report of theirs, and this one). Prepared: it runs on
# most calls, and PostgreSQL took longer to plan it than to run it.
_NEAR = Prepared((
    "WITH near AS (SELECT i.id, i.opened_at FROM incidents i JOIN incident_reports ir ON ir.incident_id = i.id "
    "JOIN reports r ON r.id = ir.report_id WHERE i.municipality_id = :mid AND i.kind = :kind "
    "AND i.status IN ('open', 'assigned', 'in_progress') AND r.service_code = ANY(:codes) "
    # Only incidents placed by place and time: a lamp or water incident on the network has its assets.
    "AND cardinality(i.asset_ids) = 0 AND cardinality(i.affected_segment_nos) = 0 "
    "AND r.requested_datetime BETWEEN :t0 AND :t1 AND ST_DWithin(r.geom, " + store.geom_param("g") + ", :d) "
    "GROUP BY i.id, i.opened_at) "
    "SELECT ARRAY(SELECT id FROM near ORDER BY opened_at, id), "
    "(SELECT " + _SHAPE + " FROM (SELECT r.geom AS g FROM reports r JOIN incident_reports ir ON ir.report_id = r.id "
    "       WHERE ir.incident_id IN (SELECT id FROM near) "
    "       UNION ALL SELECT geom FROM reports WHERE id = :rid) s)"))


def kind_for(service_code: str) -> str:
    return KIND_OF.get(service_code, "other")


def handle(session: Session, report: Report, rules: Rules, kind: str | None = None,
           codes: tuple[str, ...] | None = None, config: str | None = None) -> Incident:
    """Join the report to the incidents it is near in space and time, merging them if it bridges several.

    ``kind`` defaults to the service's; ``codes``, the services whose calls may
    group together (default: the report's own); ``config``, the rules entry
    giving distance and window (default: the service's).
    """
    kind = kind or kind_for(report.service_code)
    cfg = rules.cluster(config or report.service_code)
    window = timedelta(hours=cfg["window_h"])
    ids, shape = _NEAR.execute(session, {
        "mid": report.municipality_id, "kind": kind, "codes": list(codes or (report.service_code,)),
        "t0": report.requested_datetime - window, "t1": report.requested_datetime + window,
        "g": store.hexgeom(report.geom), "d": cfg["distance_m"], "rid": report.id}).one()
    if not ids:
        return store.create(session, report.municipality_id, kind, shape, report.requested_datetime, first=report)
    inc, *others = session.scalars(_BY_IDS, {"ids": list(ids)})
    for other in others:
        store.absorb(session, other, inc, why=f"call {report.id} lies within {cfg['distance_m']} m of both")
    store.attach(session, report, inc, geom=shape)
    return inc


def describe(session: Session, inc: Incident, reports: list[Row]) -> tuple[str, float]:
    """The sentence for the operator, and the confidence that these calls are one problem."""
    head = f"{words.calls(len(reports))} {words.span([r.requested_datetime for r in reports])}"
    streets = store.street_names(reports)
    where = f" in {words.places(streets)}" if streets else ""
    noun = NOUN.get(inc.kind, "the same problem")
    extra = CAVEAT.get(inc.kind, "")
    if len(reports) == 1:
        return f"{head}{where} about {noun}; no other call nearby yet{extra}.", 0.5
    return (f"{head}{where} about {noun}, close together in space and time: one {noun} area{extra}.",
            min(0.9, 0.5 + 0.08 * len(reports)))
