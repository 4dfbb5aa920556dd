"""Street-light calls rolled up to the first common upstream device: lamp -> circuit -> cabinet.

Counting distinct lamps per circuit and failed circuits per cabinet is done in
SQL over the reports already linked to open incidents; deciding and growing the
incident is done here, in Python, because it reads like the rule it applies.
"""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Row, select, text
from sqlalchemy.orm import Session

from geo_urp.models import Circuit, Incident, Lamp, Municipality, Report
from geo_urp.reasoning import store, words
from geo_urp.reasoning.rules import Rules, rules_for

KINDS = ("lamp", "lighting_circuit", "lighting_cabinet")


def handle(session: Session, report: Report, rules: Rules) -> Incident:
    """Place a street-light report in its incident, growing lamp -> circuit -> cabinet as evidence allows."""
    mid, t = report.municipality_id, report.requested_datetime
    cfg = rules.lighting
    since, until = window(report, rules)
    found = _open_on_assets(session, mid, report)
    for kind, asset in (("lighting_cabinet", report.cabinet_id), ("lighting_circuit", report.circuit_id)):
        dark = [i for i in found if i.kind == kind and asset is not None and asset in i.asset_ids]
        if dark:
            store.attach(session, report, dark[0])
            if kind == "lighting_circuit":
                return _maybe_cabinet(session, report, dark[0], rules) or dark[0]
            return dark[0]
    lamp_inc = [i for i in found if i.kind == "lamp" and report.lamp_id in i.asset_ids]
    if lamp_inc:
        inc = lamp_inc[0]
        store.attach(session, report, inc)
    else:
        inc = store.create(session, mid, "lamp", _lamp_geom(session, report), t, [report.lamp_id], first=report)
    lamps, total = _circuit_evidence(session, mid, report.circuit_id, since, until)
    share = len(lamps) / total if total else 0.0
    if len(lamps) >= cfg["circuit_min_lamps"] or (len(lamps) >= 2 and share >= cfg["circuit_min_share"]):
        circuit = store.create(session, mid, "lighting_circuit", _circuit_geom(session, mid, report.circuit_id),
                               t, [report.circuit_id])
        for small in _open_lamp_incidents(session, mid, "circuit_id", report.circuit_id, since, until):
            store.absorb(session, small, circuit,
                         why=f"{len(lamps)} of {total} lamps of circuit {report.circuit_id} reported dark")
        return _maybe_cabinet(session, report, circuit, rules) or circuit
    return inc


def window(report: Report, rules: Rules) -> tuple:
    """The hours a street-light call counts with: the window on either side of its time."""
    half = timedelta(hours=rules.lighting["window_h"])
    return report.requested_datetime - half, report.requested_datetime + half


def _open_on_assets(session: Session, mid: int, report: Report) -> list[Incident]:
    """Open lighting incidents on the report's lamp, circuit or cabinet, oldest first (one query
    for the three lookups; the caller matches kind and asset)."""
    assets = [a for a in (report.lamp_id, report.circuit_id, report.cabinet_id) if a is not None]
    return list(session.scalars(select(Incident).where(
        Incident.municipality_id == mid, Incident.kind.in_(KINDS), Incident.status.in_(store.OPEN_STATUSES),
        Incident.asset_ids.overlap(assets)).order_by(Incident.opened_at, Incident.id)))


def _maybe_cabinet(session: Session, report: Report, circuit: Incident, rules: Rules) -> Incident | None:
    """Turn failed circuits of one cabinet into a cabinet incident once enough have failed.

    A circuit counts as failed in the window while it is still being reported dark (it has a
    call in the window), however old its first call: absorbing an old lamp incident moves a
    circuit's opening back, not its failure. The cabinet then takes every open circuit and lamp
    incident it feeds that was called in the window: once it is dark, so are they.
    """
    mid = report.municipality_id
    if report.cabinet_id is None:
        return None
    since, until = window(report, rules)
    cabinet_of = (select(Circuit.cabinet_id).where(
        Circuit.municipality_id == mid, Circuit.circuit_id == Incident.asset_ids[1])
        .scalar_subquery())
    rows = session.execute(select(Incident, store.called_between(since, until)).where(
        Incident.municipality_id == mid, Incident.kind == "lighting_circuit",
        Incident.status.in_(store.OPEN_STATUSES), cabinet_of == report.cabinet_id)
        .order_by(Incident.opened_at, Incident.id)).all()
    failed = [i for i, recent in rows if recent]
    if len(failed) < rules.lighting["cabinet_min_circuits"]:
        return None
    cabinet = store.create(session, mid, "lighting_cabinet", _cabinet_geom(session, mid, report.cabinet_id),
                           min(i.opened_at for i in failed), [report.cabinet_id])
    for inc in failed:
        store.absorb(session, inc, cabinet,
                     why=f"{len(failed)} circuits of cabinet {report.cabinet_id} dark at once")
    for inc, _ in rows:
        if inc not in failed:  # dark since earlier and not closed yet: the same cabinet fault
            store.absorb(session, inc, cabinet,
                         why=f"circuit {inc.asset_ids[0]}, still open, is fed by dark cabinet {report.cabinet_id}")
    for inc in _open_lamp_incidents(session, mid, "cabinet_id", report.cabinet_id, since, until):
        store.absorb(session, inc, cabinet, why=f"lamp {inc.asset_ids[0]} is fed by dark cabinet {report.cabinet_id}")
    return cabinet


def _circuit_evidence(session: Session, mid: int, circuit_id: str, since, until) -> tuple[list[str], int]:
    """Distinct lamps of a circuit in open lamp incidents called in between ``since`` and ``until``,
    and the circuit's size."""
    lamps, total = session.execute(text(
        "SELECT ARRAY(SELECT DISTINCT r.lamp_id FROM reports r JOIN incident_reports ir ON ir.report_id = r.id "
        "JOIN incidents i ON i.id = ir.incident_id WHERE r.municipality_id = :mid AND r.circuit_id = :c "
        "AND i.kind = 'lamp' AND i.status IN ('open', 'assigned', 'in_progress') "
        "AND r.requested_datetime BETWEEN :since AND :until ORDER BY 1), "
        "(SELECT lamp_count FROM lighting_circuits WHERE municipality_id = :mid AND circuit_id = :c)"),
        {"mid": mid, "c": circuit_id, "since": since, "until": until}).one()
    return list(lamps), total or 0


def _open_lamp_incidents(session: Session, mid: int, feeder: str, feeder_id: str, since, until) -> list[Incident]:
    """Open lamp incidents called in between ``since`` and ``until`` on lamps of one circuit
    (``feeder="circuit_id"``) or cabinet (``"cabinet_id"``): the evidence of the window, not a
    bulb reported days before."""
    if feeder_id is None:
        return []
    fed = select(Lamp.lamp_id).where(Lamp.municipality_id == mid, getattr(Lamp, feeder) == feeder_id)
    return list(session.scalars(select(Incident).where(
        Incident.municipality_id == mid, Incident.kind == "lamp", Incident.status.in_(store.OPEN_STATUSES),
        Incident.asset_ids[1].in_(fed), store.called_between(since, until))
        .order_by(Incident.opened_at, Incident.id)))


def _lamp_geom(session: Session, report: Report):
    return session.execute(text("SELECT geom FROM lamps WHERE municipality_id = :mid AND lamp_id = :l"),
                           {"mid": report.municipality_id, "l": report.lamp_id}).scalar() or report.geom


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


def describe(session: Session, inc: Incident, reports: list[Row]) -> tuple[str, float]:
    """The sentence to read to the next caller, and how sure we are."""
    lamps = sorted({r.lamp_id for r in reports if r.lamp_id})
    streets = store.street_names(reports)
    head = f"{words.calls(len(reports))} {words.span([r.requested_datetime for r in reports])}"
    where = f" along {words.places(streets)}" if streets else ""
    if inc.kind == "lamp":
        return (f"{head}{where} about lamp {inc.asset_ids[0]}; {_neighbours(session, inc, reports)}: "
                "probable single lamp failure.", min(0.9, 0.6 + 0.1 * (len(reports) - 1)))
    if inc.kind == "lighting_circuit":
        circuit = inc.asset_ids[0]
        cabinet, total = session.execute(text(
            "SELECT cabinet_id, lamp_count FROM lighting_circuits WHERE municipality_id = :mid AND circuit_id = :c"),
            {"mid": inc.municipality_id, "c": circuit}).first() or (None, 0)
        total = total or 1
        share = len(lamps) / total
        return (f"{head}{where}; every lamp involved ({words.ids(lamps)}) is on circuit {circuit} of cabinet "
                f"{cabinet}: probable circuit fault.", min(0.95, 0.55 + 0.08 * len(lamps) + 0.2 * share))
    circuits = sorted({r.circuit_id for r in reports if r.circuit_id})
    return (f"{head}{where}; {len(circuits)} circuits ({words.ids(circuits)}) of cabinet {inc.asset_ids[0]} "
            "went dark together: probable cabinet fault.", min(0.95, 0.6 + 0.1 * len(circuits) + 0.02 * len(reports)))


def _neighbours(session: Session, inc: Incident, reports: list[Row]) -> str:
    """What the other lamps of a lamp incident's circuit say: how many were called in around it."""
    circuit = next((r.circuit_id for r in reports if r.circuit_id), None)
    if circuit is None:
        return "its circuit is not known"
    muni = session.get(Municipality, inc.municipality_id)
    hours = rules_for(muni.rules if muni is not None else None).lighting["window_h"]
    last = max(r.requested_datetime for r in reports)
    others = session.execute(text(
        "SELECT count(DISTINCT r.lamp_id) FROM reports r JOIN incident_reports ir ON ir.report_id = r.id "
        "JOIN incidents i ON i.id = ir.incident_id WHERE r.municipality_id = :mid AND r.circuit_id = :c "
        "AND r.lamp_id <> :l AND i.kind = 'lamp' AND i.status IN ('open', 'assigned', 'in_progress') "
        "AND r.requested_datetime BETWEEN :t0 AND :t1"),
        {"mid": inc.municipality_id, "c": circuit, "l": inc.asset_ids[0],
         "t0": last - timedelta(hours=hours), "t1": last + timedelta(hours=hours)}).scalar()
    if not others:
        return f"no other lamp of circuit {circuit} reported within {hours} h"
    return (f"{others} other lamp{'s' if others != 1 else ''} of circuit {circuit} reported within {hours} h, "
            "not enough for a circuit fault")
