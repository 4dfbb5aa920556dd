"""An operator's corrections of the grouping: merge incidents, move a report.

Both keep every report linked exactly once and write the change into the
history of every incident involved, and one entry into the audit trail (``audit``,
the operator as its actor): a merge on the incident that stays (``merged``: the ids it
absorbed, closed), a move on the report (``from_incident``, ``to_incident``, ``emptied``
when the incident it left is closed for want of calls); both add the status and crew
the incident kept, with what they were, when a crew's progress carried over.
"""
from __future__ import annotations

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from geo_urp import audit, locks
from geo_urp.errors import BadInput, NotFound
from geo_urp.language import N_
from geo_urp.models import Incident, IncidentReport, Report
from geo_urp.models.incidents import OPEN_STATUSES
from geo_urp.reasoning import (
    clusters,
    family,
    family_of_kind,
    grouping,
    refresh,
    rules_of,
    water,
)


def _incident(session: Session, incident_id: int, municipality_ids: set[int] | None, field: str) -> Incident:
    """The incident named in the body's ``field``, if the reader's towns hold it."""
    inc = session.get(Incident, incident_id)
    if inc is None or (municipality_ids is not None and inc.municipality_id not in municipality_ids):
        raise NotFound(N_("%(field)s: nessun incidente %(id)s"), field=field, id=incident_id,
                       details=[{"field": field, "value": incident_id}])
    return inc


# Which cause a merge keeps: the widest of the incidents merged (then the oldest); clusters
# have one kind each, so rank alike.
_RANK = {"lighting_cabinet": 3, "lighting_circuit": 2, "lamp": 1, "water_main_burst": 2, "water_outage": 1}


def merge(session: Session, ids: list[int], actor: str, municipality_ids: set[int] | None = None) -> Incident:
    """Merge incidents into the one with the widest cause (a cabinet over its circuits, a burst over
    an outage; the oldest among equals); the others are closed as absorbed. The merged incident
    holds every asset, valve and dry segment of the others, its opening is the earliest, and what
    it says of its cause (suspected main, valves, dry area, map shape) is worked out again from
    all its calls."""
    if (not isinstance(ids, list) or not all(isinstance(i, int) and not isinstance(i, bool) for i in ids)
            or len(set(ids)) < 2):
        raise BadInput(N_('"ids" deve essere una lista di almeno due id di incidenti diversi (numeri interi)'),
                       details=[{"field": "ids"}])
    incidents = sorted({i: _incident(session, i, municipality_ids, "ids") for i in ids}.values(),
                       key=lambda i: (i.opened_at, i.id))
    if len({i.municipality_id for i in incidents}) > 1:
        raise BadInput(N_("ids: non si possono unire incidenti di comuni diversi"), details=[{"field": "ids"}])
    locks.lock_municipality(session, incidents[0].municipality_id)
    for inc in incidents:  # read again under the lock: a call taken meanwhile may have changed them
        session.refresh(inc)
    closed = [i.id for i in incidents if i.status not in OPEN_STATUSES]
    if closed:
        raise BadInput(N_("ids: gli incidenti %(ids)s non sono più aperti"), ids=", ".join(map(str, closed)),
                       details=[{"field": "ids", "value": closed}])
    families = {family_of_kind(i.kind) for i in incidents}
    if len(families) > 1:
        raise BadInput(N_("ids: non si possono unire incidenti su cose diverse: %(kinds)s"), kinds=", ".join(
            f"{i.id}: {i.kind}" for i in incidents), details=[{"field": "ids", "value": [i.id for i in incidents]}])
    target = min(incidents, key=lambda i: (-_RANK.get(i.kind, 0), i.opened_at, i.id))
    others = [i for i in incidents if i is not target]
    was_status, was_crew = target.status, target.crew_id
    for other in others:
        grouping.absorb(session, other, target, actor=actor, why="merged by an operator", placed_by=actor)
        target.asset_ids = _union(target.asset_ids, other.asset_ids)
        target.valves_to_close = _union(target.valves_to_close, other.valves_to_close)
        target.affected_segment_nos = sorted(set(target.affected_segment_nos) | set(other.affected_segment_nos))
    if target.asset_ids and target.kind not in water.KINDS:
        # Lighting: every merged lamp, circuit or cabinet stays on the map.
        target.geom = session.execute(text(
            "SELECT ST_Union(geom) FROM incidents WHERE id = ANY(:ids)"), {"ids": [i.id for i in incidents]}).scalar()
    _redraw(session, target)
    grouping.log(session, target, "merged", actor, incidents=[i.id for i in others], kind=target.kind,
              asset_ids=list(target.asset_ids))
    detail = {"merged": [i.id for i in others], "kind": target.kind}
    if (target.status, target.crew_id) != (was_status, was_crew):  # a crew's progress carried over
        detail |= {"status": target.status, "crew_id": target.crew_id, "was_status": was_status,
                   "was_crew": was_crew}
    audit.record(session, actor, "merged", "incident", target.id, target.municipality_id, **detail)
    refresh(session, target)
    return target


def _union(first: list, more: list) -> list:
    """``first`` then what ``more`` adds, in order, without repeats."""
    return list(dict.fromkeys([*first, *more]))


def _redraw(session: Session, inc: Incident) -> None:
    """Work out again from the calls an incident holds now what depends on them: a water
    incident's suspected main, valves and dry area (on the network as soon as one of its calls
    is: a call moved into a cluster of calls far from any main places it; once none is, it is
    such a cluster again); a cluster's shape. A lamp, circuit or cabinet is the operator's call:
    its assets stay as they are, except that a cluster of calls near no lamp takes the lamps
    of the calls moved into it."""
    calls = grouping.reports_of(session, inc)
    if inc.kind in water.KINDS:
        if any(r.pipe_id for r in calls):
            water.recompute(session, inc, rules_of(session, inc.municipality_id))
            return
        if water.located(inc):
            inc.kind = "water_outage"  # no call on a main left: nothing says which one burst
            inc.asset_ids, inc.valves_to_close, inc.affected_segment_nos = [], [], []
            inc.affected_addresses = None
            grouping.log(session, inc, "not located", reason="no call left near a water main")
    if inc.asset_ids:
        return
    clusters.reshape(session, inc)
    if inc.kind == "lamp":
        inc.asset_ids = list(dict.fromkeys(r.lamp_id for r in calls if r.lamp_id))


def move(session: Session, report_id: int, incident_id: int, actor: str,
         municipality_ids: set[int] | None = None) -> Incident:
    """Move one report into another incident of the same municipality (moving it where it is
    already changes nothing and is not audited)."""
    report = session.get(Report, report_id)
    if report is None or (municipality_ids is not None and report.municipality_id not in municipality_ids):
        raise NotFound(N_("nessuna chiamata %(id)s"), id=report_id)
    if not rules_of(session, report.municipality_id).makes_incident(report.service_code):
        raise BadInput(N_("la chiamata %(id)s è del servizio %(service)s, che non appartiene ad alcun incidente"),
                       id=report.id, service=report.service_code)
    locks.lock_municipality(session, report.municipality_id)  # before reading what it changes
    target = _incident(session, incident_id, municipality_ids, "incident_id")
    session.refresh(target)
    if target.municipality_id != report.municipality_id:
        raise BadInput(N_("incident_id: una chiamata può passare solo a un incidente del suo comune"),
                       details=[{"field": "incident_id", "value": incident_id}])
    if family_of_kind(target.kind) != family(report.service_code):
        raise BadInput(N_("incident_id: la chiamata %(id)s è del servizio %(service)s e non può unirsi "
                          "all'incidente %(target)s (%(kind)s)"), id=report.id, service=report.service_code,
                       target=target.id, kind=target.kind, details=[{"field": "incident_id", "value": incident_id}])
    if target.status not in OPEN_STATUSES:
        raise BadInput(N_("incident_id: l'incidente %(id)s non è più aperto"), id=incident_id,
                       details=[{"field": "incident_id", "value": incident_id}])
    link = session.get(IncidentReport, report.id, populate_existing=True)
    source = session.get(Incident, link.incident_id) if link else None
    if source is not None and source.id == target.id:
        return target
    if source is not None and source.status not in OPEN_STATUSES:
        raise BadInput(N_("la chiamata %(id)s appartiene all'incidente %(source)s, che non è più aperto"), id=report.id,
                       source=source.id)
    was_status, was_crew = target.status, target.crew_id
    if link is None:
        grouping.attach(session, report, target)
        link = session.get(IncidentReport, report.id)
    else:
        link.incident_id = target.id
        target.updated_at = grouping.now()
    link.placed_by = actor  # the operator's judgement: the live rules leave it here
    session.flush()
    grouping.log(session, target, "report moved in", actor, report_id=str(report.id),
              from_incident=source.id if source else None)
    if source is not None:
        source.updated_at = grouping.now()  # a polling map sees it shrink or go
        grouping.log(session, source, "report moved out", actor, report_id=str(report.id), to_incident=target.id)
        left = session.scalar(select(IncidentReport.report_id).where(IncidentReport.incident_id == source.id).limit(1))
        if left is None:
            status_before = source.status
            source.status = "closed"
            source.closed_at = grouping.now()
            source.absorbed_into_id = target.id
            grouping.log(session, source, "emptied", actor, into=target.id)
            grouping.carry_progress(session, source, target, status_before)
        else:
            _redraw(session, source)
            refresh(session, source)
    detail = {"from_incident": source.id if source else None, "to_incident": target.id,
              "emptied": source is not None and source.status == "closed"}
    if (target.status, target.crew_id) != (was_status, was_crew):  # the emptied one's crew carried over
        detail |= {"status": target.status, "crew_id": target.crew_id, "was_status": was_status,
                   "was_crew": was_crew}
    audit.record(session, actor, "moved", "report", report.id, report.municipality_id, **detail)
    _redraw(session, target)
    refresh(session, target)
    return target
