"""Where the fix is, which crew area holds it, which crew goes, and how urgent it is.

The one place the rule lives (SPEC §3 skills x crew areas); work orders and
dispatch will grow from here. The point-in-area test runs in PostGIS.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from sqlalchemy.orm import Session

from geo_urp.db import Prepared
from geo_urp.models import METRIC_SRID, Incident
from geo_urp.reasoning.grouping import hexgeom, log

SENT = ("assigned", "in_progress")  # a crew is on its way or at work

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


def fix_point_sql(kind: str, mid: str, asset: str, geom: str) -> str:
    """SQL for the point the crew goes to: an expression over the municipality id ``mid``, the
    incident's first asset ``asset`` and its geometry ``geom`` (SQL expressions)."""
    if kind == "lamp":
        return (f"coalesce((SELECT geom FROM lamps WHERE municipality_id = {mid} AND lamp_id = {asset}), "
                f"ST_PointOnSurface({geom}))")
    if kind == "lighting_circuit":
        return ("coalesce((SELECT q.geom FROM lighting_cabinets q JOIN lighting_circuits c "
                "ON c.cabinet_id = q.cabinet_id AND c.municipality_id = q.municipality_id "
                f"WHERE c.municipality_id = {mid} AND c.circuit_id = {asset}), ST_Centroid({geom}))")
    if kind == "lighting_cabinet":
        return (f"coalesce((SELECT geom FROM lighting_cabinets WHERE municipality_id = {mid} "
                f"AND cabinet_id = {asset}), ST_Centroid({geom}))")
    if kind == "water_main_burst":
        return ("coalesce((SELECT ST_LineInterpolatePoint(geom, 0.5) FROM water_pipes "
                f"WHERE municipality_id = {mid} AND pipe_id = {asset}), ST_PointOnSurface({geom}))")
    return f"ST_PointOnSurface({geom})"


_FIX_KINDS = ("lamp", "lighting_circuit", "lighting_cabinet", "water_main_burst")  # the rest: the shape itself


def area_and_crew_sql(mid: str, point: str, skill: str, alias: str = "a") -> tuple[str, str]:
    """SQL for the crew area holding the fix ``point`` and the crew of ``skill`` covering it (SQL
    expressions, with the municipality id ``mid``): a lateral join naming the area ``alias.area_id``
    (null when no area holds the point), and the crew expression over it (the crew with the
    fewest areas first). The one form of the rule, for ``assign_many`` and for statements that
    place and assign at once (``clusters._JOIN``)."""
    area = (f"LEFT JOIN LATERAL (SELECT a.area_id FROM crew_areas a WHERE a.municipality_id = {mid} "
            f"AND ST_Intersects(a.geom, {point}) ORDER BY a.area_id LIMIT 1) {alias} ON true")
    crew = (f"(SELECT crew_id FROM crews WHERE municipality_id = {mid} AND {alias}.area_id = ANY(area_ids) "
            f"AND {skill} = ANY(skills) ORDER BY cardinality(area_ids), crew_id LIMIT 1)")
    return area, crew


@lru_cache(maxsize=64)
def _where_and_who(kinds: frozenset[str]) -> Prepared:
    """Every incident's fix point, crew area and crew in one (prepared) query, ``i`` holding one
    row per incident; only the fix-point rules of ``kinds`` (those in the batch) are written in."""
    cases = " ".join(f"WHEN '{kind}' THEN {fix_point_sql(kind, 'i.mid', 'i.asset', 'g.geom')}"
                     for kind in _FIX_KINDS if kind in kinds)
    other = fix_point_sql("other", "i.mid", "i.asset", "g.geom")
    point = f"CASE i.kind {cases} ELSE {other} END" if cases else other
    area, crew = area_and_crew_sql("p.mid", "p.geom", "p.skill")
    return Prepared(
        "WITH i AS (SELECT * FROM unnest(CAST(:ids AS bigint[]), CAST(:mids AS int[]), CAST(:kinds AS text[]), "
        "           CAST(:assets AS text[]), CAST(:skills AS text[]), CAST(:geoms AS text[])) "
        "           AS i(id, mid, kind, asset, skill, hex)), "
        f"p AS (SELECT i.id, i.mid, i.skill, {point} AS geom "
        f"      FROM i, LATERAL (SELECT ST_SetSRID(CAST(i.hex AS geometry), {METRIC_SRID}) AS geom) g) "
        f"SELECT p.id, a.area_id, {crew} FROM p {area}")


@dataclass(frozen=True)
class Assignment:
    """Who goes and how urgent it is; ``note``: the sentence for the operator when no crew can be named."""

    priority: int
    area_id: str | None
    crew_id: str | None
    note: str | None


def assign_many(session: Session, incidents: list[Incident],
                found: dict[int, tuple[str | None, str | None]] | None = None) -> dict[int, Assignment]:
    """Each incident's priority, crew area and crew (incident id -> ``Assignment``), for the
    caller to write with the rest of its description (``grouping.write_described``): the incidents
    themselves are not changed here. ``found``: incident id -> (area, crew) already worked out
    by the rule (``area_and_crew_sql``) for its fix point as it stands; the others are asked for.

    One query: for each incident, the crew area holding the fix point, and the crew with
    the skill that covers it (the fewest areas first). A crew already sent (``assigned``,
    ``in_progress``) stays on the job whatever the incident grows into: changing
    it is a dispatcher's decision. Every change of crew is a line of the history.
    """
    out: dict[int, Assignment] = {}
    todo = []
    for inc in incidents:
        if inc.status in SENT and inc.crew_id is not None:
            out[inc.id] = Assignment(PRIORITY.get(inc.kind, 3), inc.area_id, inc.crew_id, None)
        else:
            todo.append(inc)
    found = dict(found or {})
    ask = [i for i in todo if i.id not in found]
    if ask:
        found.update({row[0]: row[1:] for row in _where_and_who(frozenset(i.kind for i in ask)).execute(session, {
            "ids": [i.id for i in ask], "mids": [i.municipality_id for i in ask], "kinds": [i.kind for i in ask],
            "assets": [i.asset_ids[0] if i.asset_ids else None for i in ask],
            "skills": [SKILL.get(i.kind, "general") for i in ask], "geoms": [hexgeom(i.geom) for i in ask]})})
    for inc in todo:
        area_id, crew_id = found.get(inc.id, (None, None))
        out[inc.id] = _assignment(session, inc, area_id, SKILL.get(inc.kind, "general"), crew_id)
    return out


def _assignment(session: Session, inc: Incident, area_id: str | None, skill: str | None,
                crew_id: str | None) -> Assignment:
    priority = PRIORITY.get(inc.kind, 3)
    if skill is None:
        return Assignment(priority, area_id, _crew(session, inc, area_id, None),
                          "No municipal crew handles this: pass it to the local police.")
    if area_id is None:
        return Assignment(priority, None, _crew(session, inc, None, None),
                          "It lies in no crew area, so no crew is assigned: dispatch by hand.")
    crew_id = _crew(session, inc, area_id, crew_id)
    if crew_id is None:
        return Assignment(priority, area_id, None, f"No {skill} crew covers area {area_id}: dispatch by hand.")
    return Assignment(priority, area_id, crew_id, None)


def _crew(session: Session, inc: Incident, area_id: str | None, crew_id: str | None) -> str | None:
    """``crew_id``, with a line of the incident's history when it is not the crew it had."""
    if crew_id != inc.crew_id and (crew_id is not None or inc.crew_id is not None):
        log(session, inc, "crew assigned", crew_id=crew_id, was=inc.crew_id, area_id=area_id)
    return crew_id
