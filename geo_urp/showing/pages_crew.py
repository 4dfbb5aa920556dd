"""The crews' pages (SPEC §6): ``/crew`` for a phone, ``/crew/print`` for paper, ``/crew.csv``.

A crew login sees its own crew's work list (``reading.work_list``), whatever it asks; an admin
picks a crew with ``?crew_id=`` (and ``jurisdiction_id`` where two towns share the id). Every
word a crew reads is in its login's language (``wording``: Italian unless it chose English),
the CSV's column names aside, and every text from callers or layers is escaped by Jinja.
The status buttons post to ``POST /api/incidents/{id}/status`` (``static/crew.js``).

The page refreshes its list by itself: ``crew.js`` fetches ``/crew/jobs``, the same jobs
rendered by the same template (``crew_jobs.html``), every ``poll_ms`` and whenever the phone
shows the page again. The fragment carries an ETag of what it shows; a refresh that sends it
back while nothing changed gets an empty 304, and only a fragment actually sent records the
call-back contacts it shows in the audit trail (a crew phone left open must not fill the trail
with the same reading every few seconds).

Each job's small map is drawn with Leaflet itself (served under ``/vendor``), not with
Folium: a list of jobs needs many small maps on one page, and a Folium map is a whole page
root of its own. The base map is the town's streets near the job (over ``MAP_TILES_URL``'s
tiles when set). A call-back contact shown on the page is audited; the CSV never holds one.
"""
from __future__ import annotations

import csv
import hashlib
import io
from datetime import datetime, timezone

from flask import Blueprint, Response, current_app, g, render_template, request
from flask_babel import gettext
from werkzeug.utils import secure_filename

from geo_urp import audit
from geo_urp.errors import BadInput, Forbidden
from geo_urp.reading import work_list
from geo_urp.showing import csv_cells
from geo_urp.showing.auth import municipality_ids, require
from geo_urp.showing.database import get_session
from geo_urp.showing.wording import CREW_STATUS, KIND, STEP, explained, local_time, named, names

bp = Blueprint("crew", __name__)

CSV_COLUMNS = ("incidente", "priorita", "motivi_priorita", "stato", "tipo", "indirizzo", "via", "da_riparare",
               "valvole_da_chiudere", "vie_interessate", "civici_interessati", "chiamate", "lat", "lon", "aperto_il")


def _crew_of_request():
    """The crew whose list this request reads: the login's own, or the one an admin names (None: not named)."""
    p = g.principal
    session = get_session()
    if p.role == "crew":
        if not p.crew_id or p.municipality_id is None:
            raise Forbidden(gettext("questo accesso non è legato a una squadra: chiedi all'amministratore"))
        return work_list.crew_in(session, [p.municipality_id], p.crew_id)
    crew_id = request.args.get("crew_id")
    if not crew_id:
        return None
    return work_list.crew_in(session, municipality_ids(p, request.args.get("jurisdiction_id")), crew_id)


def _read(audited: bool) -> work_list.WorkList | None:
    """The request's work list; with ``audited``, the reading of each call-back contact shown is recorded."""
    crew = _crew_of_request()
    if crew is None:
        return None
    found = work_list.read(get_session(), crew, g.principal)
    if audited:
        _audit(found)
    return found


def _audit(found: work_list.WorkList) -> None:
    """Record the reading of every call-back contact ``found`` shows."""
    if found.contacts_shown:
        session = get_session()
        audit.contact_viewed(session, g.principal.name, "report", found.contacts_shown)
        session.commit()


def _map_data(found: work_list.WorkList) -> dict:
    """What ``crew.js`` draws: per job its point, geometry, valves and nearby streets."""
    return {"tiles_url": current_app.config.get("MAP_TILES_URL") or "",
            "tiles_attribution": current_app.config.get("MAP_TILES_ATTRIBUTION") or "",
            "step_labels": names(STEP), "status_labels": names(CREW_STATUS),
            "jobs": {str(j.incident.id): {"lat": j.lat, "lon": j.lon, "priority": j.incident.priority,
                                          "geometry": j.geometry, "valves": j.valves, "streets": j.nearby_streets}
                     for j in found.jobs}}


@bp.get("/crew")
@require("crew")
def work_list_page():
    """The crew's work list for a phone: each job with a map, where, what, and its status steps."""
    found = _read(audited=True)
    if found is None:
        return render_template("crew.html", principal=g.principal, work=None,
                               crews=work_list.crews(get_session(), municipality_ids(
                                   g.principal, request.args.get("jurisdiction_id"))))
    return render_template("crew.html", principal=g.principal, work=found, map_data=_map_data(found))


@bp.get("/crew/jobs")
@require("crew")
def work_list_jobs():
    """The crew's jobs alone, as ``/crew`` shows them, for the page to refresh its list (304 when unchanged)."""
    found = _read(audited=False)
    if found is None:
        raise BadInput("crew_id is required: the crew whose jobs to show", details=[{"field": "crew_id"}])
    fragment = render_template("crew_jobs.html", work=found, map_data=_map_data(found))
    tag = hashlib.sha256(fragment.encode()).hexdigest()[:32]
    if request.if_none_match.contains(tag):
        return Response(status=304, headers={"ETag": f'"{tag}"'})
    _audit(found)
    resp = Response(fragment, mimetype="text/html")
    resp.set_etag(tag)
    return resp


@bp.get("/crew/print")
@require("crew")
def work_list_print():
    """The crew's work list on paper: every job with its valves, streets and calls, no map."""
    found = _read(audited=True)
    if found is None:
        raise BadInput("crew_id is required: the crew whose list to print", details=[{"field": "crew_id"}])
    return render_template("crew_print.html", principal=g.principal, work=found, printed_at=datetime.now(timezone.utc))


@bp.get("/crew.csv")
@require("crew")
def work_list_csv():
    """The crew's work list as CSV (``CSV_COLUMNS``), one job a row; no caller's contact."""
    found = _read(audited=False)
    if found is None:
        raise BadInput("crew_id is required: the crew whose list to download", details=[{"field": "crew_id"}])
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for j in found.jobs:
        inc = j.incident
        writer.writerow([csv_cells.cell(v) for v in (
            inc.id, inc.priority, "; ".join(explained(inc)["priority_reasons"]), named(CREW_STATUS, inc.status),
            named(KIND, inc.kind), "; ".join(j.addresses), j.street, " ".join(inc.asset_ids),
            " ".join(v["valve_id"] for v in j.valves), "; ".join(j.affected_streets),
            inc.affected_addresses if inc.affected_addresses is not None else "", len(j.calls),
            round(j.lat, 6), round(j.lon, 6), local_time(inc.opened_at))])
    name = secure_filename(f"lavori-{found.municipality.slug}-{found.crew.crew_id}.csv") or "lavori.csv"
    return Response(out.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})
