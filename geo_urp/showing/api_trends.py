"""``/api/trends``: reports per week and month, time to resolve and SLA share, for the council."""
from __future__ import annotations

from flask import Blueprint, g, jsonify, request

from geo_urp.reading import trends
from geo_urp.showing.auth import require
from geo_urp.showing.database import get_session

bp = Blueprint("api_trends", __name__, url_prefix="/api")


@bp.get("/trends")
@require("council", "operator")
def trend_tables():
    """Weekly, monthly, per-area and per-district figures, k-suppressed: ?service_code=…&from=…&to=…&jurisdiction_id=…"""
    session = get_session()
    answer = trends.trends(session, trends.ask(session, request.args, g.principal.municipality_id))
    session.commit()  # the trend counts brought up to date
    return jsonify(answer)
