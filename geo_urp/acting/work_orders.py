"""Work orders: an incident moved on, step by step, to the end (SPEC §4 ``POST /api/incidents/{id}/status``).

The steps, and who may take each (an operator or an admin may take every step; a
crew only those marked ``crew``, and only on its own work):

==============  ==============  ========  =============================================
from            to              who       what it means
==============  ==============  ========  =============================================
open            assigned        operator  a crew is sent (``crew_id``, or the one named)
open            resolved        operator  handled without a crew (the police, a phone call)
assigned        assigned        operator  another crew is sent
assigned        in_progress     crew      the crew is at work
in_progress     resolved        crew      fixed: every report closes, every caller hears back
resolved        closed          operator  the work order is filed
==============  ==============  ========  =============================================

Any other step is refused with a 409 naming the steps allowed now. Each step is a
line of the incident's history and of the audit trail (who, when, the note) and
an Open311 update of each of its reports. Resolving needs a note: it is what the
callers are told was done (``acting.closing``). The step holds the incident's
route lock (``locks.lock_route``), so no call joins it halfway through.
"""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import select
from sqlalchemy.orm import Session

from geo_urp import audit, locks
from geo_urp.accounts import Principal
from geo_urp.acting import closing
from geo_urp.errors import BadInput, Conflict, Forbidden, NotFound, Word
from geo_urp.language import N_
from geo_urp.models import Crew, Incident, IncidentReport, Report, ReportUpdate, report_of
from geo_urp.reasoning import route_of, words
from geo_urp.reasoning.grouping import log

STEPS = {
    ("open", "assigned"): "operator",
    ("open", "resolved"): "operator",
    ("assigned", "assigned"): "operator",
    ("assigned", "in_progress"): "crew",
    ("in_progress", "resolved"): "crew",
    ("resolved", "closed"): "operator",
}
OPERATORS = ("operator", "admin")
MAX_NOTE = 2000


def allowed_steps(inc: Incident, principal: Principal) -> list[str]:
    """The statuses ``principal`` may move ``inc`` to now."""
    return [to for (frm, to), who in STEPS.items()
            if frm == inc.status and (principal.role in OPERATORS or (who == "crew" and _own(inc, principal)))]


def _own(inc: Incident, principal: Principal) -> bool:
    return (principal.role == "crew" and principal.crew_id is not None and principal.crew_id == inc.crew_id
            and principal.municipality_id == inc.municipality_id)


def _note(raw) -> str:
    if raw is None:
        return ""
    if not isinstance(raw, str):
        raise BadInput(N_('"note" deve essere un testo'), details=[{"field": "note"}])
    note = raw.strip()
    if len(note) > MAX_NOTE:
        raise BadInput(N_('"note" è lunga %(length)s caratteri; al massimo %(most)s'), length=len(note),
                       most=MAX_NOTE, details=[{"field": "note"}])
    return note


def _locked(session: Session, incident_id: int, municipality_ids: set[int] | None) -> Incident:
    """The incident, locked with its route (so that no call joins it meanwhile) and its row."""
    inc = session.get(Incident, incident_id)
    for _ in range(3):
        if inc is None or (municipality_ids is not None and inc.municipality_id not in municipality_ids):
            raise NotFound(N_("nessun incidente %(id)s"), id=incident_id)
        way = route_of(inc)
        locks.lock_route(session, inc.municipality_id, way)
        inc = session.scalar(select(Incident).where(Incident.id == incident_id)
                             .with_for_update().execution_options(populate_existing=True))
        if inc is not None and route_of(inc) == way:
            return inc
    raise Conflict(N_("l'incidente %(id)s continua a cambiare: riprova"), id=incident_id)


def _crew(session: Session, inc: Incident, crew_id) -> str:
    """The crew an ``assigned`` step sends: the one named, else the one the rules named."""
    if crew_id is None:
        crew_id = inc.crew_id
        if crew_id is None:
            raise BadInput(N_('l\'incidente %(id)s non ha ancora una squadra: indicane una con "crew_id"'), id=inc.id,
                           details=[{"field": "crew_id"}])
    if not isinstance(crew_id, str):
        raise BadInput(N_('"crew_id" deve essere un testo'), details=[{"field": "crew_id"}])
    known = session.scalars(select(Crew.crew_id).where(Crew.municipality_id == inc.municipality_id)
                            .order_by(Crew.crew_id)).all()
    if crew_id not in known:
        raise BadInput(N_("nessuna squadra %(value)s in questo comune: una tra %(known)s"), value=repr(crew_id),
                       known=", ".join(known) or Word(N_("nessuno")),
                       details=[{"field": "crew_id", "value": crew_id, "expected": list(known)}])
    return crew_id


def move(session: Session, incident_id: int, status, principal: Principal, note=None, crew_id=None,
         municipality_ids: set[int] | None = None, now: datetime | None = None) -> Incident:
    """Take one step of ``incident_id``'s work order (see the module's table); the incident after it."""
    at = now or datetime.now(timezone.utc)
    note = _note(note)
    if not isinstance(status, str) or not status:
        raise BadInput(N_('"status" è obbligatorio: assigned, in_progress, resolved o closed'),
                       details=[{"field": "status"}])
    inc = _locked(session, incident_id, municipality_ids)
    if inc.absorbed_into_id is not None:
        raise Conflict(N_("l'incidente %(id)s è stato unito all'incidente %(into)s: fai avanzare quello"),
                       id=inc.id, into=inc.absorbed_into_id, details=[{"absorbed_into_id": inc.absorbed_into_id}])
    if principal.role not in OPERATORS and not _own(inc, principal):
        raise Forbidden(N_("l'incidente %(id)s non è un lavoro della tua squadra"), id=inc.id)
    step = (inc.status, status)
    allowed = allowed_steps(inc, principal)
    if status not in allowed:
        if step in STEPS:
            raise Forbidden(N_("solo un operatore può portare un incidente da %(was)s a %(step)s"), was=inc.status,
                            step=status)
        raise Conflict(N_("status: l'incidente %(id)s è %(was)s: può passare a %(allowed)s, non a %(step)s"), id=inc.id,
                       was=inc.status, allowed=", ".join(allowed) or Word(N_("nessun altro stato")), step=status,
                       details=[{"field": "status", "value": status, "allowed": allowed}])
    if status == "resolved" and not note:
        raise BadInput(N_('"note" è obbligatoria per risolvere: dice a ogni chiamante che cosa è stato fatto'),
                       details=[{"field": "note"}])
    was, was_crew = inc.status, inc.crew_id
    if status == "assigned":
        inc.crew_id = _crew(session, inc, crew_id)
        inc.dispatch_note = None  # a crew is sent: the note asking to dispatch by hand is done with
        if inc.explanation_parts:
            inc.explanation_parts = {**inc.explanation_parts, "dispatch_note": None}
            inc.explanation = words.worded(inc.explanation_parts, "it")["explanation"]
    elif crew_id is not None:
        raise BadInput(N_('"crew_id" vale solo per il passo assigned'), details=[{"field": "crew_id"}])
    inc.status, inc.updated_at = status, at
    if status == "resolved":
        inc.resolved_at = at
    if status == "closed":
        inc.closed_at = at
    detail = {"from": was, "to": status, "note": note, "crew_id": inc.crew_id}
    if inc.crew_id != was_crew:
        detail["was_crew"] = was_crew
    log(session, inc, "status", principal.name, **detail)
    audit.record(session, principal.name, "status", "incident", inc.id, inc.municipality_id, **detail)
    if status == "resolved":
        closing.close_reports(session, inc, note, principal.name, at)
    else:
        _updates(session, inc, status, note, principal.name, at)
    session.flush()
    return inc


def _updates(session: Session, inc: Incident, stage: str, note: str, actor: str, at: datetime) -> None:
    """An Open311 update of each report of ``inc`` for a step that closes none of them."""
    reports = session.execute(select(Report.id, Report.status, Report.municipality_id)
                              .join(IncidentReport, report_of(IncidentReport))
                              .where(IncidentReport.municipality_id == inc.municipality_id,
                                     IncidentReport.incident_id == inc.id)).all()
    session.add_all(ReportUpdate(municipality_id=r.municipality_id, report_id=r.id, status=r.status, stage=stage,
                                 description=note, updated_datetime=at, actor=actor) for r in reports)
