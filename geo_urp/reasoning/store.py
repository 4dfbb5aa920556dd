"""Keeping incidents and their reports consistent: create, attach, absorb, merge, move.

Every change goes through these few functions, so that a report always belongs
to exactly one incident (``incident_reports`` has the report as primary key),
an absorbed incident points at the one that took it, and every change lands in
the incident's history.
"""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import select, text, update
from sqlalchemy.orm import Session

from geo_urp.models import METRIC_SRID, Incident, IncidentEvent, IncidentReport, Report

OPEN_STATUSES = ("open", "assigned", "in_progress")


def now() -> datetime:
    return datetime.now(timezone.utc)


def lock_municipality(session: Session, municipality_id: int) -> None:
    """Serialise incident updates of one municipality (two calls at once never split a group)."""
    session.execute(text("SELECT pg_advisory_xact_lock(7311, :mid)"), {"mid": municipality_id})


def log(session: Session, target: Incident, action: str, actor: str = "system", **detail) -> None:
    """Add one line to an incident's history."""
    session.add(IncidentEvent(incident_id=target.id, action=action, actor=actor, detail=detail, at=now()))


def create(session: Session, municipality_id: int, kind: str, geom, opened_at: datetime,
           asset_ids: list[str] | None = None, actor: str = "system") -> Incident:
    """A new open incident."""
    inc = Incident(municipality_id=municipality_id, kind=kind, status="open", asset_ids=asset_ids or [],
                   valves_to_close=[], affected_segment_nos=[], geom=geom, opened_at=opened_at,
                   updated_at=now(), explanation="", confidence=0.5, priority=3)
    session.add(inc)
    session.flush()
    log(session, inc, "created", actor, kind=kind, asset_ids=list(asset_ids or []))
    return inc


def attach(session: Session, report: Report, incident: Incident) -> None:
    """Put ``report`` in ``incident`` (moving it if it was elsewhere)."""
    link = session.get(IncidentReport, report.id)
    if link is None:
        session.add(IncidentReport(report_id=report.id, incident_id=incident.id))
    elif link.incident_id != incident.id:
        link.incident_id = incident.id
    incident.updated_at = now()
    session.flush()


def absorb(session: Session, small: Incident, big: Incident, actor: str = "system", why: str = "") -> None:
    """Move every report of ``small`` into ``big`` and close ``small`` as absorbed."""
    if small.id == big.id:
        return
    moved = session.execute(update(IncidentReport).where(IncidentReport.incident_id == small.id)
                            .values(incident_id=big.id).returning(IncidentReport.report_id)).scalars().all()
    small.status = "closed"
    small.closed_at = now()
    small.absorbed_into_id = big.id
    big.opened_at = min(big.opened_at, small.opened_at)
    log(session, small, "absorbed", actor, into=big.id, reason=why, report_ids=[str(r) for r in moved])
    log(session, big, "absorbed", actor, incident=small.id, kind=small.kind, reason=why,
        report_ids=[str(r) for r in moved])
    session.flush()


def reports_of(session: Session, incident_id: int) -> list[Report]:
    """The reports of an incident, oldest first."""
    return list(session.scalars(
        select(Report).join(IncidentReport, IncidentReport.report_id == Report.id)
        .where(IncidentReport.incident_id == incident_id).order_by(Report.requested_datetime, Report.id)))


def open_incidents(session: Session, municipality_id: int, kinds: tuple[str, ...], **asset) -> list[Incident]:
    """Open incidents of some kinds, optionally on one asset (``asset_id="C07"``)."""
    q = select(Incident).where(Incident.municipality_id == municipality_id, Incident.kind.in_(kinds),
                               Incident.status.in_(OPEN_STATUSES))
    if "asset_id" in asset:
        q = q.where(Incident.asset_ids.any(asset["asset_id"]))
    return list(session.scalars(q.order_by(Incident.opened_at, Incident.id)))


def hexgeom(geom) -> str | None:
    """A geometry as hex WKB for a bound SQL parameter (rows give either WKBElement or hex text)."""
    return geom if geom is None or isinstance(geom, str) else geom.desc


def geom_param(name: str) -> str:
    """SQL for a bound geometry parameter in the metric CRS."""
    return f"ST_SetSRID(CAST(:{name} AS geometry), {METRIC_SRID})"


def street_names(session: Session, municipality_id: int, street_ids: list[str | None]) -> list[str]:
    """The names of the streets the reports were placed on, in the reports' order."""
    ids = [s for s in street_ids if s]
    if not ids:
        return []
    rows = dict(session.execute(text(
        "SELECT street_id, name FROM streets WHERE municipality_id = :mid AND street_id = ANY(:ids)"),
        {"mid": municipality_id, "ids": ids}).all())
    return [rows[s] for s in ids if s in rows]
