"""``/healthz``: 200 when the service and its database are up, 503 otherwise."""
from flask import Blueprint, current_app, jsonify

from geo_urp.db import database_is_up
from geo_urp.showing.errors import RETRY_AFTER_S

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    """Report whether the database answers."""
    if database_is_up(current_app.config["DATABASE_URL"]):
        return jsonify(status="ok")
    return jsonify(status="database unavailable"), 503, {"Retry-After": str(RETRY_AFTER_S)}
