"""The admin's page (SPEC §6): ``/admin``, what the service serves and who may use it.

Read-only: the municipalities with their counts, the logins and the API keys
(``reading.admin``: never a password hash, a key or its hash), and the way to every
other page and to the audit trail and the outbox. Logins and keys are still made with
``python -m geo_urp users add`` and ``keys add``. Every word is in the login's language
(``wording``, which names the roles on every page).
"""
from __future__ import annotations

from flask import Blueprint, g, render_template

from geo_urp.reading import admin
from geo_urp.showing.auth import require
from geo_urp.showing.database import get_session

bp = Blueprint("admin", __name__)


@bp.get("/admin")
@require("admin")
def overview():
    """The towns served, the logins, the API keys, and links to every page."""
    return render_template("admin.html", principal=g.principal,
                           overview=admin.overview(get_session(), g.principal.municipality_id))
