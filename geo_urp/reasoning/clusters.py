"""Space-time clusters for everything without a network (flooding, road damage, noise, ...).

Incremental ST-DBSCAN with one point enough to start a cluster: a new report
joins every open incident of its kind, not tied to an asset, that has a report
within the service's distance and time window; when it touches several, they merge (the report
bridges them). The neighbour search is one PostGIS query (``ST_DWithin`` on the
indexed report points); the incident's map shape is the convex hull of its
calls widened by ``WIDEN_M``, drawn in PostGIS.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import NamedTuple

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from geo_urp.models import Incident, Report
from geo_urp.models.incidents import OPEN_STATUSES
from geo_urp.reasoning import grouping, words
from geo_urp.reasoning.rules import Rules

# Service code -> incident kind (SPEC §4); anything else is "other".
KIND_OF = {"flooding": "flooding", "road_damage": "road_damage", "noise": "noise",
           "social_distress": "social_distress"}
# The kinds whose clusters are named by their own noun (``words.MESSAGES``' ``noun_<kind>``) and
# those with a caveat an operator should know beyond the calls (``caveat_<kind>``).
NOUNS = ("flooding", "road_damage", "noise", "social_distress", "water_outage")
CAVEATS = ("flooding", "water_outage")


# The map shape of a cluster over its calls' points: the point itself for one call, else the
# convex hull of the calls widened by ``WIDEN_M`` (hull first, then buffer: the shape of buffering
# every call, at a fraction of the cost for big clusters).
WIDEN_M = 15
_DRAWN_SHAPE = text(
    f"SELECT CASE WHEN count(*) = 1 THEN ST_Collect(r.geom) "
    f"ELSE ST_Buffer(ST_ConvexHull(ST_Collect(r.geom)), {WIDEN_M}) END AS shape "
    "FROM reports r JOIN incident_reports ir ON ir.municipality_id = r.municipality_id AND ir.report_id = r.id "
    "WHERE ir.municipality_id = :mid AND ir.incident_id = :incident_id"
).columns(shape=Incident.__table__.c.geom.type)


def reshape(session: Session, inc: Incident) -> None:
    """Draw a cluster's shape again from the calls it holds now."""
    session.flush()
    shape = session.execute(_DRAWN_SHAPE, {"mid": inc.municipality_id, "incident_id": inc.id}).scalar()
    if shape is not None:
        inc.geom = shape


# The open clusters of a kind with a call of ``:codes`` within ``:distance_m`` of the new call's
# point and within its time window, oldest first. Only incidents placed by place and time: a
# lamp or water incident on the network has its assets. The way is left to the planner: from
# the town's few open clusters to their calls while its statistics know the links (autovacuum
# keeps them). Starting from the calls near in space and time instead, forced by a MATERIALIZED
# CTE, reads every past call near the point, years of them.
_NEAR = text(
    "SELECT i.id FROM incidents i JOIN incident_reports ir ON ir.municipality_id = i.municipality_id "
    "AND ir.incident_id = i.id JOIN reports r ON r.municipality_id = ir.municipality_id AND r.id = ir.report_id "
    "WHERE i.municipality_id = :mid AND i.kind = :kind AND i.status = ANY(:open) "
    "AND cardinality(i.asset_ids) = 0 AND cardinality(i.affected_segment_nos) = 0 "
    "AND r.service_code = ANY(:codes) AND r.requested_datetime BETWEEN :since AND :until "
    "AND ST_DWithin(r.geom, " + grouping.geom_param("point") + ", :distance_m) "
    "GROUP BY i.id, i.municipality_id ORDER BY i.opened_at, i.id")

# What describing a cluster reads of its calls, per incident: how many, the first and last
# times, and the streets in the order of their first call. Summed up in PostGIS: a cluster of
# hundreds of calls (a storm, a long night) never travels to Python.
_SUMMARIES = text(
    "WITH calls AS (SELECT ir.incident_id, r.id, r.requested_datetime, s.name AS street_name "
    "               FROM incident_reports ir "
    "               JOIN reports r ON r.municipality_id = ir.municipality_id AND r.id = ir.report_id "
    "               LEFT JOIN streets s ON s.municipality_id = r.municipality_id AND s.street_id = r.street_id "
    "               WHERE ir.municipality_id = ANY(:mids) AND ir.incident_id = ANY(:ids)), "
    "firsts AS (SELECT DISTINCT ON (incident_id, street_name) incident_id, street_name, requested_datetime, id "
    "           FROM calls WHERE street_name IS NOT NULL ORDER BY incident_id, street_name, requested_datetime, id) "
    "SELECT c.incident_id, count(*) AS count, min(c.requested_datetime) AS first, "
    "       max(c.requested_datetime) AS last, "
    "       ARRAY(SELECT f.street_name FROM firsts f WHERE f.incident_id = c.incident_id "
    "             ORDER BY f.requested_datetime, f.id) AS streets "
    "FROM calls c GROUP BY c.incident_id")


class Summary(NamedTuple):
    """What describing a cluster reads of its calls: how many, the times of the first and
    the last, and the streets they were placed on (each once, in the order of their first call)."""

    count: int
    first: datetime
    last: datetime
    streets: tuple[str, ...]


def summaries(session: Session, incidents: list[Incident]) -> dict[int, Summary]:
    """Incident id -> the ``Summary`` of its calls, for every one of ``incidents`` that has calls."""
    if not incidents:
        return {}
    rows = session.execute(_SUMMARIES, {"mids": grouping.towns(incidents), "ids": [inc.id for inc in incidents]})
    return {r.incident_id: Summary(r.count, r.first, r.last, tuple(r.streets)) for r in rows}


def kind_for(service_code: str) -> str:
    """The incident kind of a service's clusters (SPEC §4); "other" for a service without one."""
    return KIND_OF.get(service_code, "other")


def handle(session: Session, report: Report, rules: Rules, kind: str | None = None,
           codes: tuple[str, ...] | None = None, config: str | None = None) -> Incident:
    """Join the report to the incidents it is near in space and time, merging them if it bridges
    several (into the oldest), or start an incident of its own.

    ``kind`` defaults to the service's; ``codes``, the services whose calls may
    group together (default: the report's own); ``config``, the rules entry
    giving distance and window (default: the service's).
    """
    kind = kind or kind_for(report.service_code)
    cfg = rules.cluster(config or report.service_code)
    window = timedelta(hours=cfg["window_h"])
    session.flush()
    near = session.scalars(_NEAR, {
        "mid": report.municipality_id, "kind": kind, "open": list(OPEN_STATUSES),
        "codes": list(codes or (report.service_code,)), "since": report.requested_datetime - window,
        "until": report.requested_datetime + window,
        "point": grouping.hexgeom(report.geom), "distance_m": cfg["distance_m"]}).all()
    if not near:  # a cluster of one call: drawn as that call's point
        return grouping.create(session, report.municipality_id, kind, report.geom, report.requested_datetime,
                               first=report)
    found = {inc.id: inc for inc in session.scalars(
        select(Incident).where(Incident.municipality_id == report.municipality_id, Incident.id.in_(near)))}
    joined, *bridged = [found[incident_id] for incident_id in near]
    grouping.attach(session, report, joined)
    for other in bridged:
        grouping.absorb(session, other, joined, why=f"call {report.id} lies within {cfg['distance_m']} m of both")
    reshape(session, joined)
    return joined


def describe(inc: Incident, calls: Summary) -> tuple[words.Part, float]:
    """The sentence for the operator (a message part, ``words``), and the confidence that these calls
    are one problem."""
    head = words.part("head", calls=words.calls(calls.count), span=words.between(calls.first, calls.last))
    where = words.part("in", streets=words.places(list(calls.streets))) if calls.streets else ""
    noun = words.part(f"noun_{inc.kind}" if inc.kind in NOUNS else "noun_other")
    caveat = words.part(f"caveat_{inc.kind}") if inc.kind in CAVEATS else ""
    if calls.count == 1:
        return words.part("cluster_one", head=head, where=where, noun=noun, caveat=caveat), 0.5
    return (words.part("cluster", head=head, where=where, noun=noun, caveat=caveat),
            min(0.9, 0.5 + 0.08 * calls.count))
