"""Dispatch: where the fix is, which crew area holds it, which crew goes (SPEC §3 skills x crew areas).

The one place the rule lives. Each kind of incident needs a skill (``SKILL``):
lighting for lamps, circuits and cabinets, water for water incidents, drains for
flooding, roads for road damage, social for a person in distress; noise goes to
the local police, an outside agency (no municipal crew). An incident no crew can
take (no area, no crew of the skill there, an outside agency) keeps a
``dispatch_note`` that the operators see: it is flagged, never dropped.
Information requests make no incident: the operator answers them
(``acting.intake``). The point-in-area test runs in PostGIS, and the same
statement finds the sensitive place near the fix that ``reasoning.priority`` weighs.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.orm import Session

from geo_urp import audit
from geo_urp.models import Incident
from geo_urp.reasoning import priority, words
from geo_urp.reasoning.grouping import log, towns

SENT = ("assigned", "in_progress")  # a crew is on its way or at work

# Incident kind -> the crew skill that fixes it; None: no municipal crew (local police).
SKILL = {
    "lamp": "lighting", "lighting_circuit": "lighting", "lighting_cabinet": "lighting",
    "water_main_burst": "water", "water_outage": "water", "flooding": "drains",
    "road_damage": "roads", "social_distress": "social", "noise": None, "other": "general",
}
POLICE = words.part("police")


# For each incident (``:ids``, with the skill each needs, ``:skills``): the point the crew goes
# to, the crew area holding it and the crew of that skill covering the area (the crew with the
# fewest areas first, then by id), and the nearest school, kindergarten, hospital or clinic within
# reach (``priority.SENSITIVE_KINDS`` / ``SENSITIVE_M``). The point is the incident's asset where the layers have it
# (the lamp; a circuit's or a cabinet's cabinet; the middle of a burst main), else a point of
# its shape (its centroid for lighting, on its surface otherwise). The point-in-area test is
# PostGIS's (``ST_Intersects`` on the indexed crew areas).
_WHERE_AND_WHO = text("""
    WITH asked AS (SELECT * FROM unnest(CAST(:ids AS bigint[]), CAST(:skills AS text[])) AS a(id, skill)),
    fix AS (
        SELECT i.id, i.municipality_id AS mid, asked.skill, coalesce(
            CASE i.kind
                WHEN 'lamp' THEN (SELECT l.geom FROM lamps l
                                  WHERE l.municipality_id = i.municipality_id AND l.lamp_id = i.asset_ids[1])
                WHEN 'lighting_circuit' THEN (
                    SELECT q.geom FROM lighting_cabinets q JOIN lighting_circuits c
                      ON c.cabinet_id = q.cabinet_id AND c.municipality_id = q.municipality_id
                    WHERE c.municipality_id = i.municipality_id AND c.circuit_id = i.asset_ids[1])
                WHEN 'lighting_cabinet' THEN (
                    SELECT q.geom FROM lighting_cabinets q
                    WHERE q.municipality_id = i.municipality_id AND q.cabinet_id = i.asset_ids[1])
                WHEN 'water_main_burst' THEN (
                    SELECT ST_LineInterpolatePoint(p.geom, 0.5) FROM water_pipes p
                    WHERE p.municipality_id = i.municipality_id AND p.pipe_id = i.asset_ids[1])
            END,
            CASE WHEN i.kind IN ('lighting_circuit', 'lighting_cabinet') THEN ST_Centroid(i.geom)
                 ELSE ST_PointOnSurface(i.geom) END) AS point
        FROM asked JOIN incidents i ON i.municipality_id = ANY(:mids) AND i.id = asked.id)
    SELECT fix.id, area.area_id, crew.crew_id, place.name AS sensitive_place
    FROM fix
    LEFT JOIN LATERAL (SELECT a.area_id FROM crew_areas a WHERE a.municipality_id = fix.mid
                       AND ST_Intersects(a.geom, fix.point) ORDER BY a.area_id LIMIT 1) area ON true
    LEFT JOIN LATERAL (SELECT c.crew_id FROM crews c WHERE c.municipality_id = fix.mid
                       AND area.area_id = ANY(c.area_ids) AND fix.skill = ANY(c.skills)
                       ORDER BY cardinality(c.area_ids), c.crew_id LIMIT 1) crew ON true
    LEFT JOIN LATERAL (SELECT lm.name FROM landmarks lm WHERE lm.municipality_id = fix.mid
                       AND lm.props ->> 'kind' = ANY(CAST(:sensitive AS text[]))
                       AND ST_DWithin(lm.geom, fix.point, :sensitive_m)
                       ORDER BY lm.geom <-> fix.point LIMIT 1) place ON true""")


@dataclass(frozen=True)
class Assignment:
    """Who goes; ``note``: why no crew can be named, as a message part (``words``; None when one
    is); ``sensitive_place``: the school or hospital near the fix, if any, for the priority."""

    area_id: str | None
    crew_id: str | None
    note: words.Part | None
    sensitive_place: str | None = None


def assign_many(session: Session, incidents: list[Incident]) -> dict[int, Assignment]:
    """Each incident's crew area and crew (incident id -> ``Assignment``), for the caller to set
    with the rest of its description: the incidents are not changed here.

    One query for all (``_WHERE_AND_WHO``). A crew already sent (``assigned``,
    ``in_progress``) stays on the job whatever the incident grows into: changing
    it is a dispatcher's decision. Every change of crew is a line of the history
    and of the audit trail.
    """
    if not incidents:
        return {}
    session.flush()  # the statement reads the incidents as they stand
    found = {row.id: row for row in session.execute(_WHERE_AND_WHO, {
        "mids": towns(incidents), "ids": [i.id for i in incidents],
        "skills": [SKILL.get(i.kind, "general") for i in incidents],
        "sensitive": list(priority.SENSITIVE_KINDS), "sensitive_m": priority.SENSITIVE_M})}
    out: dict[int, Assignment] = {}
    for inc in incidents:
        row = found.get(inc.id)
        area_id, crew_id, place = (row.area_id, row.crew_id, row.sensitive_place) if row else (None, None, None)
        if inc.status in SENT and inc.crew_id is not None:
            out[inc.id] = Assignment(inc.area_id, inc.crew_id, None, place)
        else:
            out[inc.id] = _assignment(session, inc, area_id, SKILL.get(inc.kind, "general"), crew_id, place)
    return out


def _assignment(session: Session, inc: Incident, area_id: str | None, skill: str | None,
                crew_id: str | None, place: str | None) -> Assignment:
    if skill is None:
        return Assignment(area_id, _crew(session, inc, area_id, None), POLICE, place)
    if area_id is None:
        return Assignment(None, _crew(session, inc, None, None), words.part("no_area"), place)
    crew_id = _crew(session, inc, area_id, crew_id)
    if crew_id is None:
        return Assignment(area_id, None, words.part("no_crew", skill=words.part(f"skill_{skill}"), area=area_id),
                          place)
    return Assignment(area_id, crew_id, None, place)


def _crew(session: Session, inc: Incident, area_id: str | None, crew_id: str | None) -> str | None:
    """``crew_id``, with a line of the incident's history and of the audit trail when it is not the
    crew it had."""
    if crew_id != inc.crew_id and (crew_id is not None or inc.crew_id is not None):
        log(session, inc, "crew assigned", crew_id=crew_id, was=inc.crew_id, area_id=area_id)
        audit.record(session, "system", "crew assigned", "incident", inc.id, inc.municipality_id,
                     crew_id=crew_id, was=inc.crew_id, area_id=area_id)
    return crew_id
