"""``/api/hotspots``: where reports concentrate, per hexagon cell, for the council (SPEC §4)."""
from __future__ import annotations

from flask import Blueprint, g, jsonify, request

from geo_urp.reading import hotspots
from geo_urp.showing.auth import require
from geo_urp.showing.database import get_session

bp = Blueprint("api_hotspots", __name__, url_prefix="/api")


@bp.get("/hotspots")
@require("council", "operator")
def hotspot_cells():
    """Hexagon cells with count, Gi* and class: ?service_code=…&from=…&to=…&cell_m=…&trend=1&jurisdiction_id=…"""
    session = get_session()
    answer = hotspots.hotspots(session, hotspots.ask(session, request.args, g.principal.municipality_id))
    session.commit()  # the counts brought up to date and the answer kept
    return jsonify(answer)
