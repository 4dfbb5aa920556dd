"""``/api/incidents``: the live incidents (SPEC §4) and an operator's corrections."""
from __future__ import annotations

from datetime import datetime

from flask import Blueprint, g, jsonify, request
from flask_babel import get_locale

from geo_urp.acting import work_orders
from geo_urp.errors import BadInput
from geo_urp.language import N_
from geo_urp.reading import incidents, nearby
from geo_urp.reasoning import corrections
from geo_urp.showing.auth import municipality_ids, require
from geo_urp.showing.database import get_session
from geo_urp.showing.extensions import csrf
from geo_urp.timestamps import with_offset

bp = Blueprint("api_incidents", __name__, url_prefix="/api")
csrf.exempt(bp)


def _since(raw: str | None) -> datetime | dict[int, int] | None:
    """``since``: the ``next_since`` cursor of the previous answer, or an ISO 8601 date-time."""
    if not raw:
        return None
    cursor = incidents.cursor_of(raw)
    if cursor is not None:
        return cursor
    at = with_offset(raw)
    if at is None:
        raise BadInput(N_("since deve essere il next_since di una risposta precedente (%(prefix)s…) o una data e "
                          "ora ISO 8601 con lo scarto dall'UTC, non %(value)s"), prefix=incidents.CURSOR_PREFIX,
                       value=repr(raw), details=[{"field": "since", "value": raw}])
    return at


def _json_body() -> dict:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise BadInput(N_("il corpo deve essere un oggetto JSON"), details=[{"field": "request"}])
    return body


@bp.get("/incidents")
@require("operator", "crew", "council")
def list_incidents():
    """Incidents as GeoJSON: ?status=open|all&kind=…&since=…&jurisdiction_id=…"""
    p = g.principal
    crew = None
    if p.role == "crew":  # a crew key bound to no crew, or to no town (crews are a town's own), sees nothing
        crew = p.crew_id if p.crew_id and p.municipality_id is not None else ""
    resp = jsonify(incidents.incidents_geojson(
        get_session(), municipality_ids(p, request.args.get("jurisdiction_id")),
        request.args.get("status", "open"), request.args.get("kind") or None,
        _since(request.args.get("since")), crew, aggregate=p.role == "council", language=str(get_locale())))
    resp.mimetype = "application/geo+json"
    return resp


@bp.get("/incidents/nearby")
@require("operator")
def incidents_nearby():
    """Open incidents a call being taken may join: ?service_code=…&lat=…&long=…[&radius_m=…&jurisdiction_id=…]"""
    return jsonify(nearby.open_incidents_near(get_session(), g.principal.municipality_id, request.args,
                                              str(get_locale())))


@bp.get("/incidents/<int:incident_id>/history")
@require("operator")
def incident_history(incident_id: int):
    """Every change of one incident, oldest first."""
    return jsonify(incidents.history(get_session(), incident_id, set(municipality_ids(g.principal, None))))


@bp.post("/incidents/<int:incident_id>/status")
@require("operator", "crew")
def move_incident(incident_id: int):
    """One step of the work order: {"status": "assigned|in_progress|resolved|closed", "note": "…", "crew_id": "…"}"""
    body = _json_body()
    session = get_session()
    inc = work_orders.move(session, incident_id, body.get("status"), g.principal, body.get("note"),
                           body.get("crew_id"), set(municipality_ids(g.principal, None)))
    session.commit()
    return jsonify(id=inc.id, status=inc.status, crew_id=inc.crew_id,
                   allowed=work_orders.allowed_steps(inc, g.principal))


@bp.post("/incidents/merge")
@require("operator")
def merge_incidents():
    """Merge incidents: {"ids": [...]}"""
    session = get_session()
    inc = corrections.merge(session, _json_body().get("ids"), g.principal.name,
                            set(municipality_ids(g.principal, None)))
    session.commit()
    return jsonify(id=inc.id, kind=inc.kind)


@bp.post("/reports/<int:report_id>/move")
@require("operator")
def move_report(report_id: int):
    """Move a report to another incident: {"incident_id": …}"""
    target = _json_body().get("incident_id")
    if not isinstance(target, int) or isinstance(target, bool):
        raise BadInput(N_('"incident_id" deve essere un numero intero'), details=[{"field": "incident_id"}])
    session = get_session()
    inc = corrections.move(session, report_id, target, g.principal.name, set(municipality_ids(g.principal, None)))
    session.commit()
    return jsonify(id=inc.id, kind=inc.kind)
