"""``GET /api/layers/<layer>``: one of the town's layers as GeoJSON, for a map that draws it only when asked."""
from __future__ import annotations

from flask import Blueprint, Response, g, request

from geo_urp import municipalities
from geo_urp.showing.auth import require
from geo_urp.showing.database import get_session
from geo_urp.showing.geojson import layer_json

bp = Blueprint("api_layers", __name__, url_prefix="/api")


@bp.get("/layers/<layer>")
@require("operator", "crew", "council")
def layer(layer: str):
    """The layer (``geojson.MAP_LAYERS``: addresses, lamps, ...) of ?jurisdiction_id=… as a FeatureCollection."""
    session = get_session()
    muni = municipalities.municipality_for(session, request.args.get("jurisdiction_id"), g.principal.municipality_id)
    return Response(layer_json(session, muni.id, layer), mimetype="application/geo+json")
