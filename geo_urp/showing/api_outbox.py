"""``/api/outbox``: the closing messages and their delivery state; call-backs marked done (SPEC §4)."""
from __future__ import annotations

from flask import Blueprint

from geo_urp.showing.extensions import csrf

bp = Blueprint("api_outbox", __name__, url_prefix="/api")
csrf.exempt(bp)
