"""Keeping incidents and their reports consistent: create, attach, absorb, split (merge and move build on them).

Every change goes through these few functions, so that a report always belongs
to exactly one incident (``incident_reports`` has the report as primary key),
an absorbed incident points at the one that took it, and every change lands in
the incident's history.
"""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import Row, select, update
from sqlalchemy.orm import Session

from geo_urp.models import (
    METRIC_SRID,
    Incident,
    IncidentEvent,
    IncidentReport,
    Report,
    Street,
    incident_of,
    report_of,
)

# How far the work on an open incident has gone: a crew sent, then at work.
_PROGRESS = {"open": 0, "assigned": 1, "in_progress": 2}
# What reasoning reads of a report (``reports_of`` rows carry these, not whole ORM objects).
REPORT_COLUMNS = (Report.id, Report.municipality_id, Report.service_code, Report.requested_datetime, Report.geom,
                  Report.street_id, Report.lamp_id, Report.circuit_id, Report.cabinet_id, Report.pipe_id,
                  Report.segment_no)


def now() -> datetime:
    return datetime.now(timezone.utc)


def towns(incidents: list[Incident]) -> list[int]:
    """The towns of ``incidents`` (one, as a rule), for statements that name them with their ids."""
    return sorted({inc.municipality_id for inc in incidents})


def hexgeom(geom) -> str | None:
    """A geometry as hex WKB for a bound SQL parameter (rows give either WKBElement or hex text)."""
    return geom if geom is None or isinstance(geom, str) else geom.desc


def geom_param(name: str) -> str:
    """SQL for a bound geometry parameter (hex WKB, ``hexgeom``) in the metric CRS."""
    return f"ST_SetSRID(CAST(:{name} AS geometry), {METRIC_SRID})"


def log(session: Session, target: Incident, action: str, actor: str = "system", **detail) -> None:
    """Add one line to an incident's history (written with the session's next flush)."""
    session.add(IncidentEvent(municipality_id=target.municipality_id, incident_id=target.id, action=action,
                              actor=actor, detail=detail, at=now()))


def create(session: Session, municipality_id: int, kind: str, geom, opened_at: datetime,
           asset_ids: list[str] | None = None, actor: str = "system", first: Report | None = None) -> Incident:
    """A new open incident (priority and explanation come when it is described), holding ``first``
    (a newly stored report) when given."""
    at = now()
    inc = Incident(municipality_id=municipality_id, kind=kind, status="open", priority=3, confidence=0.5,
                   explanation="", asset_ids=list(asset_ids or []), valves_to_close=[], affected_segment_nos=[],
                   geom=geom, opened_at=opened_at, updated_at=at)
    session.add(inc)
    session.flush()  # its id, for the link and the history
    log(session, inc, "created", actor, kind=kind, asset_ids=list(inc.asset_ids))
    if first is not None:
        session.add(IncidentReport(municipality_id=municipality_id, report_id=first.id, incident_id=inc.id))
        log(session, inc, "call joined", report_id=str(first.id))
        session.flush()  # the SQL that follows counts this call in
    return inc


def attach(session: Session, report: Report, incident: Incident) -> None:
    """Link a newly stored ``report`` to ``incident`` (``corrections.move`` re-links a report that has one)."""
    session.add(IncidentReport(municipality_id=incident.municipality_id, report_id=report.id, incident_id=incident.id))
    incident.updated_at = now()
    log(session, incident, "call joined", report_id=str(report.id))
    session.flush()  # the SQL that follows counts this call in


def absorb(session: Session, small: Incident, big: Incident, actor: str = "system", why: str = "",
           placed_by: str | None = None) -> None:
    """Move every report of ``small`` into ``big`` and close ``small`` as absorbed; ``placed_by``:
    the operator whose merge this is (the rules then never take those reports out again)."""
    if small.id == big.id:
        return
    session.flush()
    moving = (update(IncidentReport).where(IncidentReport.municipality_id == small.municipality_id,
                                           IncidentReport.incident_id == small.id).values(incident_id=big.id))
    if placed_by is not None:
        moving = moving.values(placed_by=placed_by)
    moved = [str(r) for r in session.scalars(moving.returning(IncidentReport.report_id))]
    status_before, at = small.status, now()
    small.status, small.closed_at, small.updated_at, small.absorbed_into_id = "closed", at, at, big.id
    big.updated_at, big.opened_at = at, min(big.opened_at, small.opened_at)
    log(session, small, "absorbed", actor, into=big.id, reason=why, report_ids=moved)
    log(session, big, "absorbed", actor, incident=small.id, kind=small.kind, reason=why, report_ids=moved)
    carry_progress(session, small, big, status_before)
    session.flush()


def carry_progress(session: Session, old: Incident, new: Incident, old_status: str) -> None:
    """A crew already sent to (``assigned``) or at work on (``in_progress``) ``old``, whose calls
    ``new`` has taken, is so on ``new`` too: ``new`` keeps the more advanced of the two statuses,
    with the crew (and its area) of that one."""
    if _PROGRESS.get(old_status, 0) > _PROGRESS.get(new.status, 0):
        new.status = old_status
        if old.crew_id is not None and old.crew_id != new.crew_id:
            log(session, new, "crew assigned", crew_id=old.crew_id, was=new.crew_id, area_id=old.area_id)
            new.crew_id, new.area_id = old.crew_id, old.area_id
        log(session, new, "status kept", status=old_status, incident=old.id, crew_id=new.crew_id)


def placed_by_operator(session: Session, incident_id: int) -> set[int]:
    """The reports of an incident that an operator put there (by a move or a merge)."""
    return set(session.scalars(select(IncidentReport.report_id).where(
        IncidentReport.incident_id == incident_id, IncidentReport.placed_by.is_not(None))))


def split(session: Session, report_ids: list[int], source: Incident, target: Incident,
          actor: str = "system", why: str = "") -> None:
    """Move some reports of ``source`` into ``target`` (a new incident), with both histories told."""
    session.execute(update(IncidentReport).where(IncidentReport.municipality_id == source.municipality_id,
                                                 IncidentReport.incident_id == source.id,
                                                 IncidentReport.report_id.in_(report_ids))
                    .values(incident_id=target.id))
    ids = [str(r) for r in report_ids]
    source.updated_at = target.updated_at = now()
    log(session, source, "split", actor, into=target.id, reason=why, report_ids=ids)
    log(session, target, "split from", actor, incident=source.id, reason=why, report_ids=ids)
    session.flush()


def called_between(since: datetime, until: datetime):
    """Whether the incident (``Incident``, correlated) has a call between ``since`` and ``until``.

    Windows look both ways from a call's time: an operator may log a call late
    (``requested_datetime`` in the past), and it belongs with the calls of its own hours.
    """
    return (select(IncidentReport.report_id).join(Report, report_of(IncidentReport))
            .where(incident_of(IncidentReport), Report.requested_datetime.between(since, until))
            .exists())


def reports_of(session: Session, incident: Incident) -> list[Row]:
    """The reports of an incident, oldest first: the columns reasoning reads, plus ``street_name``
    (the name of the street the report was placed on, None when there is none)."""
    return reports_of_many(session, [incident]).get(incident.id, [])


_REPORTS_OF = (
    select(IncidentReport.incident_id, *REPORT_COLUMNS, Street.name.label("street_name"))
    .join(Report, report_of(IncidentReport))
    .outerjoin(Street, (Street.municipality_id == Report.municipality_id) & (Street.street_id == Report.street_id))
    .order_by(Report.requested_datetime, Report.id))


def reports_of_many(session: Session, incidents: list[Incident]) -> dict[int, list[Row]]:
    """``reports_of`` for several incidents in one query: incident id -> its reports (none: left out)."""
    out: dict[int, list[Row]] = {}
    for row in session.execute(_REPORTS_OF.where(
            IncidentReport.municipality_id.in_(towns(incidents)),
            IncidentReport.incident_id.in_([inc.id for inc in incidents]))):
        out.setdefault(row.incident_id, []).append(row)
    return out


def street_names(reports: list[Row]) -> list[str]:
    """The names of the streets the reports were placed on, in the reports' order."""
    return [r.street_name for r in reports if r.street_name is not None]
