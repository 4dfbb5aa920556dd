"""``/api/audit``: the audit trail, for an admin."""
from __future__ import annotations

from flask import Blueprint

from geo_urp.showing.extensions import csrf

bp = Blueprint("api_audit", __name__, url_prefix="/api")
csrf.exempt(bp)
