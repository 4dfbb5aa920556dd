"""Where the fix is, which crew area holds it, which crew goes, and how urgent it is.

The one place the rule lives (SPEC §3 skills x crew areas); work orders and
dispatch will grow from here. The point-in-area test runs in PostGIS.
"""
from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session

from geo_urp.models import Incident
from geo_urp.reasoning.store import geom_param, hexgeom, log

SENT = ("assigned", "in_progress")  # a crew is on its way or at work

_GEOM = geom_param("geom")  # the incident's geometry, bound as :geom

# Incident kind -> the crew skill that fixes it; None: no municipal crew (local police).
SKILL = {
    "lamp": "lighting", "lighting_circuit": "lighting", "lighting_cabinet": "lighting",
    "water_main_burst": "water", "water_outage": "water", "flooding": "drains",
    "road_damage": "roads", "social_distress": "social", "noise": None, "other": "general",
}
# 1 most urgent .. 4; a starting point the dispatch work will refine.
PRIORITY = {
    "water_main_burst": 1, "flooding": 1, "social_distress": 1, "lighting_cabinet": 2,
    "lighting_circuit": 2, "water_outage": 2, "road_damage": 3, "noise": 3, "other": 3, "lamp": 4,
}


def fix_point_sql(kind: str) -> str:
    """SQL for the point the crew goes to, given :mid, :asset and :geom (the incident geometry)."""
    if kind == "lamp":
        return ("SELECT coalesce((SELECT geom FROM lamps WHERE municipality_id = :mid AND lamp_id = :asset), "
                "ST_PointOnSurface(" + _GEOM + "))")
    if kind == "lighting_circuit":
        return ("SELECT coalesce((SELECT q.geom FROM lighting_cabinets q JOIN lighting_circuits c "
                "ON c.cabinet_id = q.cabinet_id AND c.municipality_id = q.municipality_id "
                "WHERE c.municipality_id = :mid AND c.circuit_id = :asset), ST_Centroid(" + _GEOM + "))")
    if kind == "lighting_cabinet":
        return ("SELECT coalesce((SELECT geom FROM lighting_cabinets WHERE municipality_id = :mid "
                "AND cabinet_id = :asset), ST_Centroid(" + _GEOM + "))")
    if kind == "water_main_burst":
        return ("SELECT coalesce((SELECT ST_LineInterpolatePoint(geom, 0.5) FROM water_pipes "
                "WHERE municipality_id = :mid AND pipe_id = :asset), ST_PointOnSurface(" + _GEOM + "))")
    return "SELECT ST_PointOnSurface(" + _GEOM + ")"


def assign(session: Session, inc: Incident) -> str | None:
    """Set ``area_id``, ``crew_id`` and ``priority``; return a sentence when no crew can be named.

    One query: the crew area holding the fix point, and the crew with the skill
    that covers it (the fewest areas first). A crew already sent (``assigned``,
    ``in_progress``) stays on the job whatever the incident grows into: changing
    it is a dispatcher's decision. Every change of crew is a line of the history.
    """
    inc.priority = PRIORITY.get(inc.kind, 3)
    if inc.status in SENT and inc.crew_id is not None:
        return None
    asset = inc.asset_ids[0] if inc.asset_ids else None
    skill = SKILL.get(inc.kind, "general")
    row = session.execute(text(
        f"WITH p(geom) AS ({fix_point_sql(inc.kind)}), "
        "a AS (SELECT a.area_id FROM crew_areas a, p WHERE a.municipality_id = :mid "
        "AND ST_Intersects(a.geom, p.geom) ORDER BY a.area_id LIMIT 1) "
        "SELECT a.area_id, (SELECT crew_id FROM crews WHERE municipality_id = :mid AND a.area_id = ANY(area_ids) "
        "AND CAST(:skill AS text) = ANY(skills) ORDER BY cardinality(area_ids), crew_id LIMIT 1) FROM a"),
        {"mid": inc.municipality_id, "asset": asset, "geom": hexgeom(inc.geom), "skill": skill}).first()
    inc.area_id, crew_id = row if row else (None, None)
    if skill is None:
        _crew(session, inc, None)
        return "No municipal crew handles this: pass it to the local police."
    if inc.area_id is None:
        _crew(session, inc, None)
        return "It lies in no crew area, so no crew is assigned: dispatch by hand."
    _crew(session, inc, crew_id)
    if inc.crew_id is None:
        return f"No {skill} crew covers area {inc.area_id}: dispatch by hand."
    return None


def _crew(session: Session, inc: Incident, crew_id: str | None) -> None:
    if crew_id != inc.crew_id:
        if crew_id is not None or inc.crew_id is not None:
            log(session, inc, "crew assigned", crew_id=crew_id, was=inc.crew_id, area_id=inc.area_id)
        inc.crew_id = crew_id
