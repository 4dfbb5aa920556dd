"""The admin's page (SPEC §6): ``/admin``, what the service serves and who may use it.

The municipalities with their counts, the logins and the API keys (``reading.admin``:
never a password hash, a key or its hash), the way to every other page and to the audit
trail and the outbox, and each town's services: an admin sets whether a service's reports
are public (the public Open311 view and the council's maps) and its SLA hours
(``POST /admin/services``, ``acting.service_settings``). Logins and keys are still made with
``python -m geo_urp users add`` and ``keys add``. Every word is in the login's language
(``wording``, which names the roles on every page).
"""
from __future__ import annotations

from flask import Blueprint, g, redirect, render_template, request, url_for

from geo_urp.acting import service_settings
from geo_urp.errors import BadInput
from geo_urp.language import N_
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


def _hours(raw: str | None) -> float | None:
    """The form's SLA hours: blank for the catalog's; a number (comma or point) otherwise."""
    raw = (raw or "").strip().replace(",", ".")
    if not raw:
        return None
    try:
        value = float(raw)
    except ValueError:
        value = float("nan")
    if value != value or value in (float("inf"), float("-inf")):
        raise BadInput(N_("sla_hours deve essere un numero di ore, non %(value)s"), value=repr(raw),
                       details=[{"field": "sla_hours"}])
    return value


@bp.post("/admin/services")
@require("admin")
def set_service():
    """Set one service of a town: public or not (checkbox ``public``), its SLA hours (blank: the catalog's)."""
    form = request.form
    session = get_session()
    service_settings.set_service(session, g.principal, form.get("jurisdiction_id", ""), form.get("service_code", ""),
                                 form.get("public") == "1", _hours(form.get("sla_hours")))
    session.commit()
    return redirect(url_for("admin.overview") + "#services", code=303)
