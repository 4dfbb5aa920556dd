"""Keeping incidents and their reports consistent: create, attach, absorb, split (merge and move build on them).

Every change goes through these few functions, so that a report always belongs
to exactly one incident (``incident_reports`` has the report as primary key),
an absorbed incident points at the one that took it, and every change lands in
the incident's history.
"""
from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone

from sqlalchemy import Row, insert, select, text, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from geo_urp.db import Prepared, as_loaded
from geo_urp.models import METRIC_SRID, Incident, IncidentEvent, IncidentReport, Report

OPEN_STATUSES = ("open", "assigned", "in_progress")
# How far the work on an open incident has gone: a crew sent, then at work.
_PROGRESS = {"open": 0, "assigned": 1, "in_progress": 2}
# What reasoning reads of a report (``reports_of`` rows carry these, not whole ORM objects).
REPORT_COLUMNS = (Report.id, Report.municipality_id, Report.service_code, Report.requested_datetime, Report.geom,
                  Report.street_id, Report.lamp_id, Report.circuit_id, Report.cabinet_id, Report.pipe_id,
                  Report.segment_no)


def now() -> datetime:
    return datetime.now(timezone.utc)


def hexgeom(geom) -> str | None:
    """A geometry as hex WKB for a bound SQL parameter (rows give either WKBElement or hex text)."""
    return geom if geom is None or isinstance(geom, str) else geom.desc


def geom_param(name: str) -> str:
    """SQL for a bound geometry parameter in the metric CRS."""
    return f"ST_SetSRID(CAST(:{name} AS geometry), {METRIC_SRID})"


_JOURNAL = "geo_urp.incident_journal"


def log(session: Session, target: Incident, action: str, actor: str = "system", **detail) -> None:
    """Add one line to an incident's history (kept for one write at the end inside ``journaled``)."""
    line = {"incident_id": target.id, "action": action, "actor": actor, "detail": detail, "at": now()}
    journal = session.info.get(_JOURNAL)
    if journal is not None:
        journal.append(line)
    else:
        session.add(IncidentEvent(**line))


@contextmanager
def journaled(session: Session) -> Iterator[None]:
    """Keep the history lines written inside the block and write them in one statement.

    For work that writes several lines and reads none of them back (a call, a
    recomputation): the lines land in the same transaction, in the order they were
    logged, in one statement at the end of the block, or earlier with the incidents'
    descriptions when ``write_described`` runs inside it. Lines not yet written when
    the block raises are dropped (the transaction is failing anyway).
    """
    outer = session.info.get(_JOURNAL)
    if outer is not None:  # already inside one: its lines go with the outer block's
        yield
        return
    journal: list[dict] = []
    session.info[_JOURNAL] = journal
    try:
        yield
    finally:
        del session.info[_JOURNAL]
    if journal:
        session.execute(insert(IncidentEvent.__table__), journal)


# A new open incident, and the link of its first call when there is one, in one prepared
# statement (a new lamp, circuit, burst or outage; a cluster makes its own in ``clusters._JOIN``).
# Its columns but id and geometry are known.
_CREATE = Prepared(
    "WITH inc AS (INSERT INTO incidents (municipality_id, kind, status, priority, confidence, explanation, "
    "    asset_ids, valves_to_close, affected_segment_nos, geom, opened_at, updated_at) "
    "  VALUES (:mid, :kind, 'open', 3, 0.5, '', CAST(:assets AS varchar[]), '{}', '{}', " + geom_param("geom")
    + ", :opened, :at) RETURNING id, geom), "
    "link AS (INSERT INTO incident_reports (report_id, incident_id) SELECT :report, id FROM inc "
    "         WHERE :report IS NOT NULL) "
    "SELECT id, geom FROM inc", types={"report": "bigint"},
    result_types={"geom": Incident.__table__.c.geom.type})


def create(session: Session, municipality_id: int, kind: str, geom, opened_at: datetime,
           asset_ids: list[str] | None = None, actor: str = "system", first: Report | None = None) -> Incident:
    """A new open incident, holding ``first`` (a newly stored report) when given: one statement."""
    at = now()
    row = _CREATE.execute(session, {
        "mid": municipality_id, "kind": kind, "assets": list(asset_ids or []), "geom": hexgeom(geom),
        "opened": opened_at, "at": at, "report": first.id if first is not None else None}).one()
    # The row as the session would have loaded it: every column is known, none is read again.
    inc = as_loaded(session, Incident, dict(
        id=row.id, municipality_id=municipality_id, kind=kind, status="open", priority=3, confidence=0.5,
        explanation="", asset_ids=list(asset_ids or []), valves_to_close=[], affected_segment_nos=[],
        affected_addresses=None, area_id=None, crew_id=None, absorbed_into_id=None, geom=row.geom,
        opened_at=opened_at, updated_at=at, resolved_at=None, closed_at=None))
    created(session, inc, actor, first)
    return inc


def created(session: Session, inc: Incident, actor: str = "system", first: Report | None = None) -> None:
    """The history lines of an incident just created, holding ``first`` when given (for a
    statement of its own that created it: ``create``, ``clusters._JOIN``)."""
    log(session, inc, "created", actor, kind=inc.kind, asset_ids=list(inc.asset_ids))
    if first is not None:
        log(session, inc, "call joined", report_id=str(first.id))


def attach(session: Session, report: Report, incident: Incident) -> None:
    """Link a newly stored ``report`` to ``incident`` (``move`` re-links a report that has one).

    One statement writes the link, its history line (inside ``journaled``: to the journal)
    and the incident's ``updated_at`` at once, so the SQL that follows sees them and nothing
    is left for the next flush. (A cluster links its calls in its own statement:
    ``clusters._JOIN``.)
    """
    at = now()
    parts = ["link AS (INSERT INTO incident_reports (report_id, incident_id) VALUES (:r, :i))"]
    if session.info.get(_JOURNAL) is not None:
        log(session, incident, "call joined", report_id=str(report.id))
    else:
        parts.append("event AS (INSERT INTO incident_events (incident_id, at, actor, action, detail) VALUES "
                     "(:i, :at, 'system', 'call joined', jsonb_build_object('report_id', CAST(:r AS text))))")
    session.execute(text("WITH " + ", ".join(parts) + " UPDATE incidents SET updated_at = :at WHERE id = :i"),
                    {"r": report.id, "i": incident.id, "at": at})
    set_committed_value(incident, "updated_at", at)


def absorb(session: Session, small: Incident, big: Incident, actor: str = "system", why: str = "",
           placed_by: str | None = None) -> None:
    """Move every report of ``small`` into ``big`` and close ``small`` as absorbed; ``placed_by``:
    the operator whose merge this is (the rules then never take those reports out again).

    One statement moves the links and writes both incidents (what the session holds of them
    is set to match), so nothing is left for the next flush but their history.
    """
    if small.id == big.id:
        return
    at, opened = now(), min(big.opened_at, small.opened_at)
    moved = session.execute(text(
        "WITH small AS (UPDATE incidents SET status = 'closed', closed_at = :at, updated_at = :at, "
        "               absorbed_into_id = :big WHERE id = :small), "
        "big AS (UPDATE incidents SET updated_at = :at, opened_at = :opened WHERE id = :big) "
        "UPDATE incident_reports SET incident_id = :big, placed_by = coalesce(CAST(:by AS varchar), placed_by) "
        "WHERE incident_id = :small RETURNING report_id"),
        {"small": small.id, "big": big.id, "at": at, "opened": opened, "by": placed_by}).scalars().all()
    status_before = small.status
    # pollers (``?since=``) see both change
    for name, value in (("status", "closed"), ("closed_at", at), ("updated_at", at), ("absorbed_into_id", big.id)):
        set_committed_value(small, name, value)
    set_committed_value(big, "updated_at", at)
    set_committed_value(big, "opened_at", opened)
    log(session, small, "absorbed", actor, into=big.id, reason=why, report_ids=[str(r) for r in moved])
    log(session, big, "absorbed", actor, incident=small.id, kind=small.kind, reason=why,
        report_ids=[str(r) for r in moved])
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
    session.execute(update(IncidentReport).where(IncidentReport.incident_id == source.id,
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
    return (select(IncidentReport.report_id).join(Report, Report.id == IncidentReport.report_id)
            .where(IncidentReport.incident_id == Incident.id, Report.requested_datetime.between(since, until))
            .exists())


def reports_of(session: Session, incident_id: int) -> list[Row]:
    """The reports of an incident, oldest first: the columns reasoning reads, plus ``street_name``
    (the name of the street the report was placed on, None when there is none)."""
    return reports_of_many(session, [incident_id]).get(incident_id, [])


# Prepared: it runs on almost every call, and PostgreSQL took longer to plan it than to run it.
_REPORTS_OF = Prepared(
    "SELECT ir.incident_id, " + ", ".join(f"r.{c.key}" for c in REPORT_COLUMNS) + ", s.name AS street_name "
    "FROM reports r JOIN incident_reports ir ON ir.report_id = r.id "
    "LEFT JOIN streets s ON s.municipality_id = r.municipality_id AND s.street_id = r.street_id "
    "WHERE ir.incident_id = ANY(:ids) ORDER BY r.requested_datetime, r.id",
    types={"ids": "bigint[]"}, result_types={"geom": Report.__table__.c.geom.type})


def reports_of_many(session: Session, incident_ids: list[int]) -> dict[int, list[Row]]:
    """``reports_of`` for several incidents in one query: incident id -> its reports (none: left out)."""
    # Links and reports are written at once, never left pending: no need to flush first.
    with session.no_autoflush:
        rows = _REPORTS_OF.execute(session, {"ids": list(incident_ids)})
        out: dict[int, list[Row]] = {}
        for row in rows:
            out.setdefault(row.incident_id, []).append(row)
    return out


DESCRIBED = ("priority", "explanation", "confidence", "area_id", "crew_id")
_WRITE_DESCRIBED = Prepared(
    "WITH lines AS (INSERT INTO incident_events (incident_id, at, actor, action, detail) "
    "    SELECT incident_id, at, actor, action, CAST(detail AS jsonb) FROM unnest(CAST(:l_incident AS bigint[]), "
    "        CAST(:l_at AS timestamptz[]), CAST(:l_actor AS text[]), CAST(:l_action AS text[]), "
    "        CAST(:l_detail AS text[])) WITH ORDINALITY AS l(incident_id, at, actor, action, detail, n) ORDER BY n) "
    "UPDATE incidents AS i SET priority = v.priority, explanation = v.explanation, confidence = v.confidence, "
    "area_id = v.area_id, crew_id = v.crew_id "
    "FROM unnest(CAST(:id AS bigint[]), CAST(:priority AS int[]), CAST(:explanation AS text[]), "
    "            CAST(:confidence AS float8[]), CAST(:area_id AS text[]), CAST(:crew_id AS text[])) "
    "     AS v(id, priority, explanation, confidence, area_id, crew_id) WHERE i.id = v.id "
    # An incident left as it was is not touched: its change stamp stays, pollers are not told.
    "AND (i.priority, i.explanation, i.confidence, i.area_id, i.crew_id) "
    "    IS DISTINCT FROM (v.priority, v.explanation, v.confidence, v.area_id, v.crew_id)")


def write_described(session: Session, incidents: list[Incident], values: dict[int, dict] | None = None) -> int:
    """Write what ``reasoning.refresh`` worked out for each incident (``DESCRIBED``) in one
    statement, and tell the session it is stored (nothing of it is left for the next flush);
    return how many incidents it changed.

    ``values``: incident id -> the ``DESCRIBED`` values to write (None: as set on the incidents).

    Inside ``journaled``, the history lines kept so far go in the same statement.
    """
    if not incidents:
        return 0
    journal = session.info.get(_JOURNAL)
    lines = list(journal or ())
    values = values or {inc.id: {name: getattr(inc, name) for name in DESCRIBED} for inc in incidents}
    params = {name: [values[inc.id][name] for inc in incidents] for name in DESCRIBED}
    params["id"] = [inc.id for inc in incidents]
    params.update(l_incident=[line["incident_id"] for line in lines], l_at=[line["at"] for line in lines],
                  l_actor=[line["actor"] for line in lines], l_action=[line["action"] for line in lines],
                  l_detail=[json.dumps(line["detail"]) for line in lines])
    changed = _WRITE_DESCRIBED.execute(session, params).rowcount
    if journal:
        journal.clear()  # written
    for inc in incidents:
        for name in DESCRIBED:
            set_committed_value(inc, name, values[inc.id][name])
    return changed


def street_names(reports: list[Row]) -> list[str]:
    """The names of the streets the reports were placed on, in the reports' order."""
    return [r.street_name for r in reports if r.street_name is not None]
