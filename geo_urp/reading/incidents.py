"""Incidents as each role may read them (SPEC §4, §6): one PostGIS query builds the GeoJSON."""
from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.orm import Session

from geo_urp.errors import BadInput, NotFound
from geo_urp.language import N_
from geo_urp.models.incidents import KINDS, OPEN_STATUSES
from geo_urp.reading.privacy import (
    COUNCIL_GRID_M,
    COUNCIL_HIDES,
    COUNCIL_MIN_CALLS,
    COUNCIL_PEOPLE_KINDS,
)
from geo_urp.reasoning import words

# ``next_since`` is this prefix and, per town read, "<municipality id>-<its change number>",
# comma-separated ("changes:1-52,3-7", ``cursor_text``); ``since`` takes it back (``cursor_of``).
CURSOR_PREFIX = "changes:"
_CURSOR = re.compile(r"(?:\d{1,9}-\d{1,18}(?:,\d{1,9}-\d{1,18})*)?", re.ASCII)

# What a map needs to draw an incident as what it is, beside its geometry (SPEC §4: the lamps,
# the main, the dry segments, the flooded hull): where each valve to close stands, in the order
# of ``valves_to_close`` (null coordinates for a valve the layers no longer have), and the
# cabinet feeding a dark circuit or cabinet (the layers have no cable: the circuit is its lamps).
_WGS = "ST_Transform({g}, 4326)"
_LAT_LON = ("'lat', round(CAST(ST_Y(" + _WGS + ") AS numeric), 7), "
            "'lon', round(CAST(ST_X(" + _WGS + ") AS numeric), 7)")
_VALVE_POINTS = (
    "(SELECT coalesce(jsonb_agg(jsonb_build_object('valve_id', o.valve_id, " + _LAT_LON.format(g="v.geom") + ")"
    " ORDER BY o.n), '[]'::jsonb) FROM unnest(i.valves_to_close) WITH ORDINALITY AS o(valve_id, n)"
    " LEFT JOIN water_valves v ON v.municipality_id = i.municipality_id AND v.valve_id = o.valve_id)")
_CABINET_POINTS = (
    "CASE WHEN i.kind IN ('lighting_circuit', 'lighting_cabinet') THEN (SELECT coalesce(jsonb_agg("
    "jsonb_build_object('cabinet_id', q.cabinet_id, " + _LAT_LON.format(g="q.geom") + ") ORDER BY q.cabinet_id),"
    " '[]'::jsonb) FROM lighting_cabinets q WHERE q.municipality_id = i.municipality_id AND q.geom IS NOT NULL"
    " AND ((i.kind = 'lighting_cabinet' AND q.cabinet_id = ANY(i.asset_ids)) OR q.cabinet_id IN ("
    "  SELECT c.cabinet_id FROM lighting_circuits c WHERE c.municipality_id = i.municipality_id"
    "  AND c.circuit_id = ANY(i.asset_ids)))) ELSE '[]'::jsonb END")


def incidents_geojson(session: Session, municipality_ids: list[int], status: str = "open",
                      kind: str | None = None, since: datetime | dict[int, int] | None = None,
                      crew_id: str | None = None, aggregate: bool = False, language: str = "it") -> dict:
    """Incidents as a WGS84 FeatureCollection, with ``next_since``: the cursor of the next poll.

    Without ``since``: the incidents matching the filters (absorbed ones left out). With it
    (a cursor, the ``next_since`` of the previous poll; or, less safely, a time): every incident
    changed since, those matching the filters in full (an absorbed one says by what,
    ``absorbed_into_id``), the others as a bare ``{"id", "removed": true}``, so that a map
    takes off what left its filter (closed, absorbed, another kind now, another crew's).
    A cursor misses nothing: it holds each town's change number read with the incidents, and
    every incident records the number of the change that last wrote it, handed out in commit
    order (migration 0014); a time can miss the changes of a transaction that was running when
    the poller read.

    Every feature counts its calls in ``report_count``, and carries what a map needs to draw it
    beside its geometry: ``valve_points`` (``{"valve_id", "lat", "lon"}`` of each valve to close,
    in closing order) and ``cabinet_points`` (``{"cabinet_id", "lat", "lon"}`` of the cabinets
    feeding a dark circuit or cabinet; empty for other kinds). ``aggregate`` is the council's view
    (SPEC §6: no individual caller): none of ``COUNCIL_HIDES`` (report ids, explanation, the
    drawing detail), times to the hour, and an incident
    placed by its callers' positions rather than on a lamp, cabinet or main (a cluster: noise,
    someone in distress, a flooded spot) shown at the centre of its ``COUNCIL_GRID_M`` grid cell;
    an incident about people (``COUNCIL_PEOPLE_KINDS``) of fewer than ``COUNCIL_MIN_CALLS``
    calls is not shown at all. A crew polling with ``since`` hears of removals only for
    incidents that were ever its own (history lines ``crew assigned``), a poller of one
    ``kind`` only for incidents that were ever of that kind.
    """
    if status not in ("open", "all"):
        raise BadInput(N_("status deve essere 'open' o 'all', non %(value)s"), value=repr(status),
                       details=[{"field": "status", "value": status}])
    if kind is not None and kind not in KINDS:
        raise BadInput(N_("kind deve essere uno tra %(kinds)s, non %(value)s"), kinds=", ".join(KINDS), value=repr(kind),
                       details=[{"field": "kind", "value": kind}])
    params: dict = {"mids": municipality_ids}
    matches = ["TRUE"]  # what the filters ask for
    if since is None:
        matches.append("i.absorbed_into_id IS NULL")
    if status == "open":
        matches.append("i.status = ANY(:open)")
        params["open"] = list(OPEN_STATUSES)
    if kind:
        matches.append("i.kind = :kind")
        params["kind"] = kind
    if crew_id is not None:
        matches.append("i.crew_id = :crew")
        params["crew"] = crew_id
    where = ["i.municipality_id = ANY(:mids)"]
    if aggregate:
        # Without since: never shown. With since: removed (it may have been shown before, and
        # have lost calls to a merge or a move since).
        matches.append("NOT (i.kind = ANY(:people) AND r.n < :min_calls)")
        params.update(people=list(COUNCIL_PEOPLE_KINDS), min_calls=COUNCIL_MIN_CALLS)
    if kind and since is not None:
        # Removals only for incidents that were ever of this kind (kinds change with history lines).
        where.append("(i.kind = :kind OR EXISTS (SELECT 1 FROM incident_events e "
                     "WHERE e.municipality_id = i.municipality_id AND e.incident_id = i.id "
                     "AND e.action IN ('created', 'upgraded', 'downgraded') AND e.detail ->> 'kind' = :kind))")
    if crew_id is not None and since is not None:
        # A crew hears of removals only for incidents that were ever its own.
        where.append("(i.crew_id = :crew OR EXISTS (SELECT 1 FROM incident_events e "
                     "WHERE e.municipality_id = i.municipality_id AND e.incident_id = i.id "
                     "AND e.action IN ('crew assigned', 'status kept') AND e.detail ->> 'crew_id' = :crew))")
    source = "incidents i"
    if isinstance(since, dict):
        # Per town read, its incidents numbered past the cursor's number (0 for a town it lacks).
        source = ("unnest(CAST(:since_towns AS integer[]), CAST(:since_nos AS bigint[])) AS c(mid, no) "
                  "JOIN incidents i ON i.municipality_id = c.mid AND i.change_no > c.no")
        params.update(since_towns=list(municipality_ids), since_nos=[since.get(m, 0) for m in municipality_ids])
    elif since is not None:
        where.append("i.updated_at >= :since")
        params["since"] = since
    else:
        where = [*where, *matches]
    sql = text(
        "SELECT coalesce(jsonb_agg(CASE WHEN " + " AND ".join(matches) + " THEN jsonb_build_object("
        " 'type', 'Feature', 'id', i.id,"
        " 'geometry', ST_AsGeoJSON(ST_Transform(CASE WHEN NOT CAST(:aggregate AS boolean)"
        "   OR cardinality(i.asset_ids) > 0 OR cardinality(i.affected_segment_nos) > 0 THEN i.geom"
        "   ELSE ST_SnapToGrid(ST_Centroid(i.geom), :cell / 2.0, :cell / 2.0, :cell, :cell) END, 4326), 7)::jsonb,"
        " 'properties', jsonb_build_object("
        "  'id', i.id, 'kind', i.kind, 'asset_ids', to_jsonb(i.asset_ids),"
        "  'valves_to_close', to_jsonb(i.valves_to_close),"
        "  'report_ids', r.ids, 'report_count', r.n,"
        "  'area_id', i.area_id, 'crew_id', i.crew_id, 'priority', i.priority, 'status', i.status,"
        "  'confidence', i.confidence, 'explanation', i.explanation,"
        "  'priority_reasons', to_jsonb(i.priority_reasons), 'dispatch_note', i.dispatch_note,"
        "  'affected_addresses', i.affected_addresses, 'municipality', m.slug,"
        "  'opened_at', CASE WHEN CAST(:aggregate AS boolean) THEN date_trunc('hour', i.opened_at) ELSE i.opened_at END,"
        "  'updated_at', CASE WHEN CAST(:aggregate AS boolean) THEN date_trunc('hour', i.updated_at) ELSE i.updated_at END,"
        "  'absorbed_into_id', i.absorbed_into_id,"
        "  'valve_points', " + _VALVE_POINTS + ", 'cabinet_points', " + _CABINET_POINTS +
        (", 'explanation_parts', i.explanation_parts" if language != "it" else "") +
        ") - CAST(:hidden AS text[]))"
        " ELSE jsonb_build_object('type', 'Feature', 'id', i.id, 'geometry', NULL,"
        "  'properties', jsonb_build_object('id', i.id, 'removed', TRUE)) END"
        " ORDER BY i.priority, i.opened_at, i.id), '[]'::jsonb), "
        # Read in the same statement, so with the same snapshot as the incidents above.
        " (SELECT coalesce(jsonb_object_agg(t.municipality_id, t.change_no), '{}'::jsonb)"
        "  FROM town_changes t WHERE t.municipality_id = ANY(:mids)) "
        "FROM " + source + " JOIN municipalities m ON m.id = i.municipality_id "
        "CROSS JOIN LATERAL (SELECT coalesce(jsonb_agg(ir.report_id::text ORDER BY ir.report_id), '[]'::jsonb) AS ids,"
        " count(*) AS n FROM incident_reports ir"
        " WHERE ir.municipality_id = i.municipality_id AND ir.incident_id = i.id) r WHERE " + " AND ".join(where))
    params.update(aggregate=aggregate, cell=COUNCIL_GRID_M, hidden=list(COUNCIL_HIDES) if aggregate else [])
    features, counters = session.execute(sql, params).one()
    now = {int(town): no for town, no in counters.items()}
    if isinstance(since, dict):
        ahead = sorted(m for m in municipality_ids if since.get(m, 0) > now.get(m, 0))
        if ahead:  # numbers this database never gave: it was restored from an older backup, say
            raise BadInput(N_("since è più avanti dei cambiamenti di questo database (ripristinato da un backup?): "
                              "rileggere senza since"), details=[{"field": "since", "municipality_ids": ahead}])
    return {"type": "FeatureCollection", "features": in_language(features, language),
            "next_since": cursor_text(now)}


def cursor_text(numbers: dict[int, int]) -> str:
    """The ``next_since`` cursor of each town's change number."""
    return CURSOR_PREFIX + ",".join(f"{town}-{no}" for town, no in sorted(numbers.items()))


def cursor_of(raw: str) -> dict[int, int] | None:
    """The change number per town of a ``next_since`` cursor; None if ``raw`` is not one."""
    if not raw.startswith(CURSOR_PREFIX) or not _CURSOR.fullmatch(body := raw[len(CURSOR_PREFIX):]):
        return None
    return {int(town): int(no) for town, no in (pair.split("-") for pair in body.split(",") if pair)}


def in_language(features: list[dict], language: str) -> list[dict]:
    """``features`` with the texts each one's ``explanation_parts`` words (those it shows: the
    council's have no explanation) in ``language``; the parts are taken off."""
    for feature in features:
        props = feature["properties"]
        parts = props.pop("explanation_parts", None)
        for key, text in words.worded(parts or {}, language).items():
            if key in props:
                props[key] = text
    return features


def history(session: Session, incident_id: int, municipality_ids: list[int] | set[int] | None = None) -> list[dict]:
    """An incident's history, oldest first; ``NotFound`` when it is not an incident of ``municipality_ids``."""
    mid = session.execute(text("SELECT municipality_id FROM incidents WHERE id = :i"), {"i": incident_id}).scalar()
    if mid is None or (municipality_ids is not None and mid not in set(municipality_ids)):
        raise NotFound(N_("nessun incidente %(id)s"), id=incident_id)
    rows = session.execute(text(
        "SELECT at, actor, action, detail FROM incident_events WHERE incident_id = :i ORDER BY at, id"),
        {"i": incident_id}).all()
    return [{"at": r.at.isoformat(), "actor": r.actor, "action": r.action, "detail": r.detail} for r in rows]
