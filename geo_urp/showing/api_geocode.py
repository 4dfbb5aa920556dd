"""``GET /api/geocode``: place operator text on the town's layers (SPEC §4)."""
from __future__ import annotations

from flask import Blueprint, g, jsonify, request

from geo_urp.locating.placing import locate_text
from geo_urp.showing.auth import require
from geo_urp.showing.database import get_session

bp = Blueprint("api_geocode", __name__, url_prefix="/api")


@bp.get("/geocode")
@require("operator", "crew", "council", "public")
def geocode():
    """Best match and alternatives for ?q=…[&jurisdiction_id=…]; 404 with the reason when nothing matches."""
    return jsonify(locate_text(get_session(), request.args.get("jurisdiction_id"),
                               g.principal.municipality_id, request.args.get("q")))
