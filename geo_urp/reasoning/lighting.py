"""Street-light calls rolled up to the first common upstream device: lamp -> circuit -> cabinet.

Counting distinct lamps per circuit and failed circuits per cabinet is done in
SQL over the reports already linked to open incidents; deciding and growing the
incident is done here, in Python, because it reads like the rule it applies.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Row, String, bindparam, func, select, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from geo_urp.loading import layer_cache
from geo_urp.models import Circuit, Incident, IncidentReport, Report, incident_of, report_of
from geo_urp.models.incidents import OPEN_STATUSES
from geo_urp.reasoning import grouping, words
from geo_urp.reasoning.rules import Rules

KINDS = ("lamp", "lighting_circuit", "lighting_cabinet")
# Incidents on the network hold their lamp, circuit or cabinet; a cluster of calls near no lamp
# (kind "lamp" too) holds none, and is ``clusters``' to grow, under a lock of its own.
_ON_NETWORK = func.cardinality(Incident.asset_ids) > 0


def handle(session: Session, report: Report, rules: Rules) -> Incident:
    """Place a street-light report in its incident, growing lamp -> circuit -> cabinet as evidence allows."""
    mid, t = report.municipality_id, report.requested_datetime
    cfg = rules.lighting
    found = _open_on_assets(session, mid, report)
    for kind, asset in (("lighting_cabinet", report.cabinet_id), ("lighting_circuit", report.circuit_id)):
        dark = [i for i in found if i.kind == kind and asset is not None and asset in i.asset_ids]
        if dark:
            grouping.attach(session, report, dark[0])
            if kind == "lighting_circuit":
                return _maybe_cabinet(session, report, rules) or dark[0]
            return dark[0]
    # Its lamp's incident, or a wider one an operator merged the lamp into (merged assets come
    # after the incident's own, so a circuit or cabinet id equal to a lamp id never matches).
    lamp_inc = [i for i in found if (i.asset_ids[:1] if i.kind == "lamp" else i.asset_ids[1:]).count(report.lamp_id)]
    if lamp_inc and lamp_inc[0].kind != "lamp":  # an operator merged this lamp into a wider incident
        grouping.attach(session, report, lamp_inc[0])
        return lamp_inc[0]
    if lamp_inc:
        inc = lamp_inc[0]
        grouping.attach(session, report, inc)
    else:
        inc = grouping.create(session, mid, "lamp", _lamp_geom(session, report), t, [report.lamp_id], first=report)
    lamps, (since, until), total = _circuit_evidence(session, report, cfg["window_h"])
    share = len(lamps) / total if total else 0.0
    if len(lamps) >= cfg["circuit_min_lamps"] or (len(lamps) >= 2 and share >= cfg["circuit_min_share"]):
        circuit = grouping.create(session, mid, "lighting_circuit", _circuit_geom(session, mid, report.circuit_id),
                               t, [report.circuit_id])
        for small in _open_lamp_incidents(session, mid, "circuit_id", report.circuit_id, since, until):
            grouping.absorb(session, small, circuit,
                         why=f"{len(lamps)} of {total} lamps of circuit {report.circuit_id} reported dark")
        return _maybe_cabinet(session, report, rules) or circuit
    return inc


def busiest_span(calls: list[tuple[object, datetime]], t: datetime, hours: float) -> tuple[set, tuple]:
    """The span of ``hours`` that holds time ``t`` and the most distinct keys among ``calls``
    ((key, time) pairs): those keys, and the span's (start, end).

    "3 lamps within 12 h" means within one 12-hour span, wherever the new call falls in it: a
    call logged late counts with the calls of its own hours, and lamps a day apart never add up.
    """
    width = timedelta(hours=hours)
    best: tuple[set, tuple] = (set(), (t - width, t))
    # The busiest span can always start at a call (or as early as it may while still holding t).
    for start in sorted({at for _, at in calls if t - width <= at <= t} | {t - width}):
        keys = {key for key, at in calls if start <= at <= start + width}
        if len(keys) > len(best[0]):
            best = (keys, (start, start + width))
    return best


def reach(calls: list[tuple[object, datetime]], keys: set, span: tuple, hours: float) -> tuple[datetime, datetime]:
    """When another call may be to share one span of ``hours`` with all the calls of ``keys`` in
    ``span`` (the evidence of a fault): from ``hours`` before the last of them to ``hours``
    after the first. What a failed circuit or cabinet takes in, whatever order the calls were
    logged in: a lamp called in just after the span chosen still goes with it."""
    times = [at for key, at in calls if key in keys and span[0] <= at <= span[1]]
    width = timedelta(hours=hours)
    return max(times) - width, min(times) + width


_OPEN_ON_ASSETS = select(Incident).where(  # built once: it runs on every street-light call
    Incident.municipality_id == bindparam("mid"), Incident.kind.in_(KINDS), Incident.status.in_(OPEN_STATUSES),
    Incident.asset_ids.overlap(bindparam("assets", type_=ARRAY(String)))).order_by(Incident.opened_at, Incident.id)


def _open_on_assets(session: Session, mid: int, report: Report) -> list[Incident]:
    """Open lighting incidents on the report's lamp, circuit or cabinet, oldest first (one query
    for the three lookups; the caller matches kind and asset)."""
    assets = [a for a in (report.lamp_id, report.circuit_id, report.cabinet_id) if a is not None]
    return list(session.scalars(_OPEN_ON_ASSETS, {"mid": mid, "assets": assets}))


# Open circuit incidents fed by one cabinet, oldest first; the calls of some incidents in a span
# (built once).
_OPEN_CIRCUITS_OF_CABINET = select(Incident).where(
    Incident.municipality_id == bindparam("mid"), Incident.kind == "lighting_circuit",
    Incident.status.in_(OPEN_STATUSES),
    select(Circuit.cabinet_id).where(Circuit.municipality_id == Incident.municipality_id,
                                     Circuit.circuit_id == Incident.asset_ids[1]).scalar_subquery()
    == bindparam("cabinet")).order_by(Incident.opened_at, Incident.id)
_CALLS_BETWEEN = (select(IncidentReport.incident_id, Report.requested_datetime)
                  .join(Report, report_of(IncidentReport))
                  .where(IncidentReport.municipality_id == bindparam("mid"),
                         IncidentReport.incident_id.in_(bindparam("ids", expanding=True)),
                         Report.requested_datetime.between(bindparam("since"), bindparam("until"))))


def _maybe_cabinet(session: Session, report: Report, rules: Rules) -> Incident | None:
    """Turn failed circuits of one cabinet into a cabinet incident once enough have failed.

    A circuit counts as failed while it is still being reported dark: enough of them must have
    calls in one span of the window, however old their first call (absorbing an old lamp
    incident moves a circuit's opening back, not its failure). The cabinet then takes every
    open circuit incident it feeds that no crew is on yet, and its lamp incidents with a call
    that may share a span with those circuits' calls: once it is dark, so are they.
    """
    mid, t = report.municipality_id, report.requested_datetime
    if report.cabinet_id is None:
        return None
    hours = rules.lighting["window_h"]
    circuits = list(session.scalars(_OPEN_CIRCUITS_OF_CABINET, {"mid": mid, "cabinet": report.cabinet_id}))
    if len(circuits) < rules.lighting["cabinet_min_circuits"]:
        return None
    calls = session.execute(_CALLS_BETWEEN, {"mid": mid, "ids": [c.id for c in circuits],
                                             "since": t - timedelta(hours=hours),
                                             "until": t + timedelta(hours=hours)}).all()
    calls = [tuple(c) for c in calls]
    dark, span = busiest_span(calls, t, hours)
    failed = [c for c in circuits if c.id in dark]
    if len(failed) < rules.lighting["cabinet_min_circuits"]:
        return None
    since, until = reach(calls, dark, span, hours)
    cabinet = grouping.create(session, mid, "lighting_cabinet", _cabinet_geom(session, mid, report.cabinet_id),
                           min(i.opened_at for i in failed), [report.cabinet_id])
    for inc in failed:
        grouping.absorb(session, inc, cabinet,
                     why=f"{len(failed)} circuits of cabinet {report.cabinet_id} dark at once")
    for inc in circuits:
        # Dark since earlier, nobody sent yet: the same cabinet fault. A circuit a crew is already
        # on is that crew's job: it stays its own.
        if inc not in failed and inc.status == "open":
            grouping.absorb(session, inc, cabinet,
                         why=f"circuit {inc.asset_ids[0]}, still open, is fed by dark cabinet {report.cabinet_id}")
    for inc in _open_lamp_incidents(session, mid, "cabinet_id", report.cabinet_id, since, until):
        grouping.absorb(session, inc, cabinet, why=f"lamp {inc.asset_ids[0]} is fed by dark cabinet {report.cabinet_id}")
    return cabinet


def _circuit_calls(session: Session, mid: int, circuit_id: str, since, until) -> list[tuple]:
    """(lamp id, time) of the calls on a circuit's lamps held by open lamp incidents, between
    ``since`` and ``until``."""
    return [tuple(r) for r in session.execute(text(
        "SELECT r.lamp_id, r.requested_datetime FROM reports r "
        "JOIN incident_reports ir ON ir.municipality_id = r.municipality_id AND ir.report_id = r.id "
        "JOIN incidents i ON i.municipality_id = ir.municipality_id AND i.id = ir.incident_id "
        "WHERE r.municipality_id = :mid AND r.circuit_id = :c "
        "AND i.kind = 'lamp' AND cardinality(i.asset_ids) > 0 AND i.status = ANY(:open) "
        "AND r.requested_datetime BETWEEN :since AND :until"),
        {"mid": mid, "c": circuit_id, "since": since, "until": until, "open": list(OPEN_STATUSES)})]


def _circuits(session: Session, mid: int) -> dict[str, tuple[str | None, int]]:
    """Circuit id -> (its cabinet, how many lamps it has), read once per load of the layers."""
    return layer_cache.cached(session, mid, "circuits", lambda: {
        c: (q, n or 0) for c, q, n in session.execute(text(
            "SELECT circuit_id, cabinet_id, lamp_count FROM lighting_circuits WHERE municipality_id = :mid"),
            {"mid": mid})})


def _circuit_evidence(session: Session, report: Report, hours: float) -> tuple[set, tuple, int]:
    """The distinct lamps of the report's circuit called in, in open lamp incidents, within the
    busiest span of ``hours`` holding the report; when other calls may share a span with
    them (``reach``); and the circuit's size."""
    t, width = report.requested_datetime, timedelta(hours=hours)
    calls = _circuit_calls(session, report.municipality_id, report.circuit_id, t - width, t + width)
    total = _circuits(session, report.municipality_id).get(report.circuit_id, (None, 0))[1]
    lamps, span = busiest_span(calls, t, hours)
    return lamps, reach(calls, lamps, span, hours) if lamps else span, total


def _open_lamp_incidents(session: Session, mid: int, feeder: str, feeder_id: str, since, until) -> list[Incident]:
    """Open lamp incidents with a call between ``since`` and ``until`` on a lamp of one circuit
    (``feeder="circuit_id"``) or cabinet (``"cabinet_id"``): the evidence of the span, not a bulb
    reported days before. Matched by their calls' lamps, so an operator's merge of lamps of
    two circuits goes, whole, with the circuit its calls counted for."""
    if feeder_id is None:
        return []
    return list(session.scalars(_OPEN_LAMPS_ON[feeder], {"mid": mid, "feeder": feeder_id,
                                                         "since": since, "until": until}))


def _open_lamps_on(feeder: str):
    """The statement of ``_open_lamp_incidents`` for one kind of feeder (built once for each)."""
    on_feeder = (select(IncidentReport.report_id).join(Report, report_of(IncidentReport))
                 .where(incident_of(IncidentReport), getattr(Report, feeder) == bindparam("feeder"),
                        Report.requested_datetime.between(bindparam("since"), bindparam("until"))).exists())
    return select(Incident).where(
        Incident.municipality_id == bindparam("mid"), Incident.kind == "lamp", _ON_NETWORK,
        Incident.status.in_(OPEN_STATUSES), on_feeder).order_by(Incident.opened_at, Incident.id)


_OPEN_LAMPS_ON = {feeder: _open_lamps_on(feeder) for feeder in ("circuit_id", "cabinet_id")}


def _lamp_geom(session: Session, report: Report):
    """Where the report's lamp stands (hex EWKB; the call's own point when the lamp is gone)."""
    lamps = layer_cache.cached(session, report.municipality_id, "lamp positions", lambda: dict(session.execute(
        text("SELECT lamp_id, geom FROM lamps WHERE municipality_id = :mid"), {"mid": report.municipality_id}).all()))
    return lamps.get(report.lamp_id) or report.geom


def _circuit_geom(session: Session, mid: int, circuit_id: str):
    return session.execute(text("SELECT geom FROM lighting_circuits WHERE municipality_id = :mid AND circuit_id = :c"),
                           {"mid": mid, "c": circuit_id}).scalar()


def _cabinet_geom(session: Session, mid: int, cabinet_id: str):
    """The cabinet and every lamp it feeds: where the crew goes and what is dark."""
    return session.execute(text(
        "SELECT ST_Multi(ST_CollectionExtract(ST_Collect(g), 1)) FROM ("
        " SELECT geom AS g FROM lighting_cabinets WHERE municipality_id = :mid AND cabinet_id = :q AND geom IS NOT NULL"
        " UNION ALL SELECT (ST_Dump(geom)).geom FROM lighting_circuits WHERE municipality_id = :mid AND cabinet_id = :q"
        ") s"), {"mid": mid, "q": cabinet_id}).scalar()


def describe(session: Session, inc: Incident, reports: list[Row]) -> tuple[words.Part, float]:
    """The sentence to read to the next caller (a message part, ``words``), and how sure we are."""
    lamps = sorted({r.lamp_id for r in reports if r.lamp_id})
    streets = grouping.street_names(reports)
    head = words.part("head", calls=words.calls(len(reports)), span=words.span([r.requested_datetime for r in reports]))
    where = words.part("along", streets=words.places(streets)) if streets else ""
    if inc.kind == "lamp":
        return (words.part("lamp", head=head, where=where, lamp=inc.asset_ids[0],
                           neighbours=_neighbours(session, inc, reports)),
                min(0.9, 0.6 + 0.1 * (len(reports) - 1)))
    if inc.kind == "lighting_circuit":
        circuit = inc.asset_ids[0]
        cabinet, total = _circuits(session, inc.municipality_id).get(circuit, (None, 0))
        total = total or 1
        share = len(lamps) / total
        return (words.part("circuit", head=head, where=where, lamps=words.ids(lamps), circuit=circuit,
                           cabinet=cabinet), min(0.95, 0.55 + 0.08 * len(lamps) + 0.2 * share))
    circuits = sorted({r.circuit_id for r in reports if r.circuit_id})
    return (words.part("cabinet", head=head, where=where, n=len(circuits), circuits=words.ids(circuits),
                       cabinet=inc.asset_ids[0]), min(0.95, 0.6 + 0.1 * len(circuits) + 0.02 * len(reports)))


def _neighbours(session: Session, inc: Incident, reports: list[Row]) -> words.Part:
    """What the other lamps of a lamp incident's circuit say: how many were called in around it."""
    circuit = next((r.circuit_id for r in reports if r.circuit_id), None)
    if circuit is None:
        return words.part("circuit_unknown")
    from geo_urp.reasoning import (
        rules_of,  # the package imports this module: import at call time
    )

    hours = rules_of(session, inc.municipality_id).lighting["window_h"]
    last, width = max(r.requested_datetime for r in reports), timedelta(hours=hours)
    calls = _circuit_calls(session, inc.municipality_id, circuit, last - width, last + width)
    others = len({lamp for lamp, _ in calls if lamp != inc.asset_ids[0]})
    if not others:
        return words.part("no_other_lamp", circuit=circuit, hours=hours)
    return words.part("other_lamps", n=others, circuit=circuit, hours=hours)
