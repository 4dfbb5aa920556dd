"""The admin's page (SPEC §6): ``/admin``, what the service serves and who may use it.

Read-only: the municipalities with their counts, the logins and the API keys
(``reading.admin``: never a password hash, a key or its hash), and the way to every
other page and to the audit trail and the outbox. Logins and keys are still made with
``python -m geo_urp users add`` and ``keys add``. Every word is Italian; the roles' Italian
names (``role_it``) are a template global of every page.
"""
from __future__ import annotations

from flask import Blueprint, g, render_template

from geo_urp.reading import admin
from geo_urp.showing.auth import require
from geo_urp.showing.database import get_session
from geo_urp.showing.pages_crew import local_time

bp = Blueprint("admin", __name__)

ROLE_IT = {"operator": "operatore", "crew": "squadra", "council": "consiglio comunale", "admin": "amministratore",
           "public": "pubblico"}


@bp.app_template_global("role_it")
def role_it(role: str) -> str:
    """A role's name in Italian, for every page (the header of ``base.html`` names the login's role)."""
    return ROLE_IT.get(role, role)


@bp.get("/admin")
@require("admin")
def overview():
    """The towns served, the logins, the API keys, and links to every page."""
    return render_template("admin.html", principal=g.principal,
                           overview=admin.overview(get_session(), g.principal.municipality_id),
                           local_time=local_time)
