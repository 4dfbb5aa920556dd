"""Rebuilding a municipality's open incidents from their reports (after new rules or new layers).

The open incidents are closed and their reports replayed in time order
through the same live rules, so the result is what the live path would have
built. Each old incident is kept, with its history, pointing (``absorbed_into_id``)
at the new incident that holds most of its calls: a map polling for changes
takes it off, an operator can read what it was. Operator corrections to open
incidents are not replayed: the command that calls this says so. The rules are read and the lock taken once for the
whole replay, the reports loaded in one query, and each incident described
once, at the end (their reports, again, in one query, and their crews in another).
"""
from __future__ import annotations

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from geo_urp import locks
from geo_urp.models import Incident, Municipality, Report
from geo_urp.models.incidents import OPEN_STATUSES
from geo_urp.reasoning import group, grouping, refresh_many, rules_of

_OPEN_TREE = (
    "WITH RECURSIVE tree(id) AS (SELECT id FROM incidents WHERE municipality_id = :mid "
    " AND status = ANY(:open) UNION "
    " SELECT i.id FROM incidents i JOIN tree t ON i.absorbed_into_id = t.id WHERE i.municipality_id = :mid"
    # An incident an earlier recomputation replaced is history: its corrections are already gone.
    " AND NOT EXISTS (SELECT 1 FROM incident_events e WHERE e.municipality_id = i.municipality_id"
    "                 AND e.incident_id = i.id AND e.action = 'rebuilt')) ")


def operator_corrections(session: Session, municipality_id: int) -> int:
    """How many operators' changes (merges, moves) the open incidents hold: what a recomputation
    would not replay."""
    return session.execute(text(
        _OPEN_TREE + "SELECT count(*) FROM incident_events e JOIN tree t ON t.id = e.incident_id "
        "WHERE e.municipality_id = :mid AND e.actor <> 'system' AND e.action IN ('merged', 'report moved in')"),
        {"mid": municipality_id, "open": list(OPEN_STATUSES)}).scalar()


def recompute_open(session: Session, municipality_id: int) -> tuple[int, int]:
    """Rebuild every open incident of a municipality; return (reports replayed, incidents now open)."""
    locks.lock_municipality(session, municipality_id)
    rules = rules_of(session, municipality_id)
    prior = dict(session.execute(select(Incident.id, Incident.status).where(
        Incident.municipality_id == municipality_id, Incident.status.in_(OPEN_STATUSES))).all())
    open_ids = list(prior)
    report_ids = session.execute(text(
        # Every call of the open incidents (whatever its own status: each gets an incident back),
        # and open calls of none.
        "SELECT id FROM (SELECT r.id, r.requested_datetime FROM incident_reports ir"
        "                JOIN reports r ON r.municipality_id = ir.municipality_id AND r.id = ir.report_id"
        "                WHERE ir.municipality_id = :mid AND ir.incident_id = ANY(:ids)"
        "  UNION SELECT r.id, r.requested_datetime FROM reports r WHERE r.municipality_id = :mid AND r.status = 'open'"
        "        AND NOT EXISTS (SELECT 1 FROM incident_reports ir"
        "                        WHERE ir.municipality_id = r.municipality_id AND ir.report_id = r.id)) calls"
        " ORDER BY requested_datetime, id"), {"mid": municipality_id, "ids": list(open_ids)}).scalars().all()
    # Unlink the open incidents' calls and close the incidents; they stay, with their history.
    was = session.execute(text(
        "DELETE FROM incident_reports WHERE municipality_id = :mid AND incident_id = ANY(:ids) "
        "RETURNING report_id, incident_id"), {"mid": municipality_id, "ids": list(open_ids)}).all()
    session.execute(text(
        "UPDATE incidents SET status = 'closed', closed_at = :at, updated_at = :at "
        "WHERE municipality_id = :mid AND id = ANY(:ids)"),
        {"mid": municipality_id, "ids": list(open_ids), "at": grouping.now()})
    session.expunge_all()
    muni = session.get(Municipality, municipality_id)  # held for the replay: the rules read it over and over
    # Read as stored now (a reload of the layers has just snapped them again), not as held in the session.
    loaded = {r.id: r for r in session.scalars(select(Report).where(Report.municipality_id == municipality_id,
                                                                    Report.id.in_(report_ids))
                                               .execution_options(populate_existing=True))}
    for rid in report_ids:
        report = loaded[rid]
        if rules.makes_incident(report.service_code):
            group(session, report, rules)
    session.flush()
    _point_to_rebuilt(session, municipality_id, open_ids, was)
    _keep_progress(session, municipality_id, {i: st for i, st in prior.items() if st != "open"})
    rebuilt = session.scalars(select(Incident).where(
        Incident.municipality_id == muni.id, Incident.status.in_(OPEN_STATUSES))).all()
    refresh_many(session, rebuilt)
    return len(report_ids), len(rebuilt)


def _point_to_rebuilt(session: Session, municipality_id: int, old_ids: list[int], was: list) -> None:
    """Point each old incident at the new one holding most of its former calls, and say so in
    its history: the calls that went there, and (``others``: new incident -> calls) those that
    went elsewhere (``into`` is null when none of its calls is in an incident any more)."""
    session.execute(text(
        "WITH w AS (SELECT * FROM unnest(CAST(:reports AS bigint[]), CAST(:olds AS bigint[])) AS w(report_id, old_id)), "
        "moved AS (SELECT w.old_id, ir.incident_id AS new_id, count(*) AS n, "
        "          array_agg(CAST(w.report_id AS text) ORDER BY w.report_id) AS reports "
        "          FROM w JOIN incident_reports ir ON ir.municipality_id = :mid AND ir.report_id = w.report_id "
        "          GROUP BY 1, 2), "
        "best AS (SELECT DISTINCT ON (old_id) old_id, new_id FROM moved ORDER BY old_id, n DESC, new_id), "
        "pointed AS (UPDATE incidents i SET absorbed_into_id = b.new_id FROM best b "
        "            WHERE i.municipality_id = :mid AND i.id = b.old_id) "
        "INSERT INTO incident_events (municipality_id, incident_id, at, actor, action, detail) "
        "SELECT :mid, o.id, :at, 'system', 'rebuilt', jsonb_build_object("
        " 'into', b.new_id, 'reason', 'open incidents recomputed from their calls', "
        " 'report_ids', coalesce((SELECT jsonb_agg(x) FROM moved m, unnest(m.reports) x "
        "                         WHERE m.old_id = o.id AND m.new_id = b.new_id), '[]'), "
        " 'others', coalesce((SELECT jsonb_object_agg(m.new_id, to_jsonb(m.reports)) FROM moved m "
        "                     WHERE m.old_id = o.id AND m.new_id <> b.new_id), '{}')) "
        "FROM unnest(CAST(:ids AS bigint[])) AS o(id) LEFT JOIN best b ON b.old_id = o.id"),
        {"reports": [r for r, _ in was], "olds": [o for _, o in was], "ids": old_ids, "mid": municipality_id, "at": grouping.now()})


def _keep_progress(session: Session, municipality_id: int, prior: dict[int, str]) -> None:
    """A crew already sent (``assigned``) or at work (``in_progress``) on an old incident is still
    so on the new one that took its calls (``grouping.carry_progress``, as when an incident absorbs
    another; in_progress first, so the new one takes the most advanced, with that one's crew)."""
    if not prior:
        return
    olds = session.scalars(select(Incident).where(Incident.municipality_id == municipality_id,
                                                  Incident.id.in_(list(prior)),
                                                  Incident.absorbed_into_id.is_not(None))
                           .execution_options(populate_existing=True)).all()
    for old in sorted(olds, key=lambda o: (prior[o.id] != "in_progress", o.id)):
        grouping.carry_progress(session, old, session.get(Incident, old.absorbed_into_id), prior[old.id])
    session.flush()
