"""``/api/audit``: the audit trail, for an admin."""
from __future__ import annotations

from flask import Blueprint, g, jsonify, request

from geo_urp.reading import audit
from geo_urp.showing.auth import require
from geo_urp.showing.database import get_session
from geo_urp.showing.extensions import csrf

bp = Blueprint("api_audit", __name__, url_prefix="/api")
csrf.exempt(bp)


@bp.get("/audit")
@require("admin")
def list_audit():
    """Audit entries, newest first, filtered and paged as ``reading.audit`` says."""
    return jsonify(audit.entries(get_session(), request.args, g.principal.municipality_id))
