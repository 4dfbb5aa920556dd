"""Rebuilding a municipality's open incidents from their reports (after new rules or new layers).

The open incidents are dropped and their reports replayed in time order
through the same live rules, so the result is what the live path would have
built. Operator corrections to open incidents are not replayed: the command
that calls this says so. The rules are read and the lock taken once for the
whole replay, the reports loaded in one query, and each incident described
once, at the end (their reports, again, in one query).
"""
from __future__ import annotations

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from geo_urp.models import Incident, Report
from geo_urp.reasoning import place, refresh, rules_of, store


_OPEN_TREE = (
    "WITH RECURSIVE tree(id) AS (SELECT id FROM incidents WHERE municipality_id = :mid "
    " AND status IN ('open', 'assigned', 'in_progress') UNION "
    " SELECT i.id FROM incidents i JOIN tree t ON i.absorbed_into_id = t.id) ")


def operator_corrections(session: Session, municipality_id: int) -> int:
    """How many operators' changes (merges, moves) the open incidents hold: what a recomputation
    would not replay."""
    return session.execute(text(
        _OPEN_TREE + "SELECT count(*) FROM incident_events e JOIN tree t ON t.id = e.incident_id "
        "WHERE e.actor <> 'system' AND e.action IN ('merged', 'report moved in')"),
        {"mid": municipality_id}).scalar()


def recompute_open(session: Session, municipality_id: int) -> tuple[int, int]:
    """Rebuild every open incident of a municipality; return (reports replayed, incidents now open)."""
    store.lock_municipality(session, municipality_id)
    rules = rules_of(session, municipality_id)
    open_ids = session.scalars(select(Incident.id).where(
        Incident.municipality_id == municipality_id, Incident.status.in_(store.OPEN_STATUSES))).all()
    report_ids = session.execute(text(
        "SELECT r.id FROM reports r WHERE r.municipality_id = :mid AND r.status = 'open' AND ("
        " EXISTS (SELECT 1 FROM incident_reports ir WHERE ir.report_id = r.id AND ir.incident_id = ANY(:ids))"
        " OR NOT EXISTS (SELECT 1 FROM incident_reports ir WHERE ir.report_id = r.id))"
        " ORDER BY r.requested_datetime, r.id"), {"mid": municipality_id, "ids": list(open_ids)}).scalars().all()
    # Incidents absorbed into the open ones, at any depth (lamp -> circuit -> cabinet),
    # go too, with their history: the replay absorbs them again.
    session.execute(text(
        "WITH RECURSIVE doomed(id) AS (SELECT unnest(CAST(:ids AS bigint[])) UNION "
        " SELECT i.id FROM incidents i JOIN doomed d ON i.absorbed_into_id = d.id) "
        "DELETE FROM incidents WHERE id IN (SELECT id FROM doomed)"), {"ids": list(open_ids)})
    session.flush()
    # Read as stored now (a reload of the layers has just snapped them again), not as held in the session.
    loaded = {r.id: r for r in session.scalars(select(Report).where(Report.id.in_(report_ids))
                                               .execution_options(populate_existing=True))}
    for rid in report_ids:
        report = loaded[rid]
        if rules.makes_incident(report.service_code):
            place(session, report, rules)
        # Everything is flushed; a small identity map keeps each flush cheap (the
        # reports, loaded above, are only read).
        session.flush()
        session.expunge_all()
    rebuilt = session.scalars(select(Incident).where(
        Incident.municipality_id == municipality_id, Incident.status.in_(store.OPEN_STATUSES))).all()
    reports = store.reports_of_many(session, [inc.id for inc in rebuilt])
    for inc in rebuilt:
        refresh(session, inc, reports.get(inc.id, []))
    return len(report_ids), len(rebuilt)
