"""Street-light calls rolled up to the first common upstream device: lamp -> circuit -> cabinet.

Counting distinct lamps per circuit and failed circuits per cabinet is done in
SQL over the reports already linked to open incidents; deciding and growing the
incident is done here, in Python, because it reads like the rule it applies.
"""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import text
from sqlalchemy.orm import Session

from geo_urp.models import Incident, Report
from geo_urp.reasoning import store, words
from geo_urp.reasoning.rules import Rules

KINDS = ("lamp", "lighting_circuit", "lighting_cabinet")


def handle(session: Session, report: Report, rules: Rules) -> Incident:
    """Place a street-light report in its incident, growing lamp -> circuit -> cabinet as evidence allows."""
    mid, t = report.municipality_id, report.requested_datetime
    cfg = rules.lighting
    since = t - timedelta(hours=cfg["window_h"])
    for kind, asset in (("lighting_cabinet", report.cabinet_id), ("lighting_circuit", report.circuit_id)):
        dark = store.open_incidents(session, mid, (kind,), asset_id=asset)
        if dark:
            store.attach(session, report, dark[0])
            if kind == "lighting_circuit":
                return _maybe_cabinet(session, report, dark[0], rules) or dark[0]
            return dark[0]
    lamp_inc = store.open_incidents(session, mid, ("lamp",), asset_id=report.lamp_id)
    inc = lamp_inc[0] if lamp_inc else store.create(session, mid, "lamp", _lamp_geom(session, report),
                                                    t, [report.lamp_id])
    store.attach(session, report, inc)
    lamps, total = _circuit_evidence(session, mid, report.circuit_id, since)
    share = len(lamps) / total if total else 0.0
    if len(lamps) >= cfg["circuit_min_lamps"] or (len(lamps) >= 2 and share >= cfg["circuit_min_share"]):
        circuit = store.create(session, mid, "lighting_circuit", _circuit_geom(session, mid, report.circuit_id),
                               t, [report.circuit_id])
        for small in _lamp_incidents_on_circuit(session, mid, report.circuit_id):
            store.absorb(session, small, circuit,
                         why=f"{len(lamps)} of {total} lamps of circuit {report.circuit_id} reported dark")
        return _maybe_cabinet(session, report, circuit, rules) or circuit
    return inc


def _maybe_cabinet(session: Session, report: Report, circuit: Incident, rules: Rules) -> Incident | None:
    """Turn failed circuits of one cabinet into a cabinet incident once enough have failed."""
    cfg = rules.lighting
    since = report.requested_datetime - timedelta(hours=cfg["window_h"])
    failed = [i for i in store.open_incidents(session, report.municipality_id, ("lighting_circuit",))
              if i.opened_at >= since and _cabinet_of(session, report.municipality_id, i.asset_ids[0]) == report.cabinet_id]
    if len(failed) < cfg["cabinet_min_circuits"]:
        return None
    cabinet = store.create(session, report.municipality_id, "lighting_cabinet",
                           _cabinet_geom(session, report.municipality_id, report.cabinet_id),
                           min(i.opened_at for i in failed), [report.cabinet_id])
    for inc in failed:
        store.absorb(session, inc, cabinet,
                     why=f"{len(failed)} circuits of cabinet {report.cabinet_id} dark at once")
    # Once the cabinet is dark every lamp it feeds is dark: earlier single-lamp calls belong here too.
    for inc in _lamp_incidents_on_cabinet(session, report.municipality_id, report.cabinet_id):
        store.absorb(session, inc, cabinet, why=f"lamp {inc.asset_ids[0]} is fed by dark cabinet {report.cabinet_id}")
    return cabinet


def _circuit_evidence(session: Session, mid: int, circuit_id: str, since) -> tuple[list[str], int]:
    """Distinct lamps of a circuit in open lamp incidents since ``since``, and the circuit's size."""
    lamps = session.execute(text(
        "SELECT DISTINCT r.lamp_id FROM reports r JOIN incident_reports ir ON ir.report_id = r.id "
        "JOIN incidents i ON i.id = ir.incident_id WHERE r.municipality_id = :mid AND r.circuit_id = :c "
        "AND i.kind = 'lamp' AND i.status IN ('open', 'assigned', 'in_progress') "
        "AND r.requested_datetime >= :since ORDER BY 1"),
        {"mid": mid, "c": circuit_id, "since": since}).scalars().all()
    total = session.execute(text(
        "SELECT lamp_count FROM lighting_circuits WHERE municipality_id = :mid AND circuit_id = :c"),
        {"mid": mid, "c": circuit_id}).scalar() or 0
    return list(lamps), total


def _lamp_incidents_on_circuit(session: Session, mid: int, circuit_id: str) -> list[Incident]:
    lamp_ids = session.execute(text(
        "SELECT lamp_id FROM lamps WHERE municipality_id = :mid AND circuit_id = :c"),
        {"mid": mid, "c": circuit_id}).scalars().all()
    lamp_ids = set(lamp_ids)
    return [i for i in store.open_incidents(session, mid, ("lamp",)) if i.asset_ids and i.asset_ids[0] in lamp_ids]


def _lamp_incidents_on_cabinet(session: Session, mid: int, cabinet_id: str) -> list[Incident]:
    lamp_ids = set(session.execute(text(
        "SELECT lamp_id FROM lamps WHERE municipality_id = :mid AND cabinet_id = :q"),
        {"mid": mid, "q": cabinet_id}).scalars())
    return [i for i in store.open_incidents(session, mid, ("lamp",)) if i.asset_ids and i.asset_ids[0] in lamp_ids]


def _cabinet_of(session: Session, mid: int, circuit_id: str) -> str | None:
    return session.execute(text(
        "SELECT cabinet_id FROM lighting_circuits WHERE municipality_id = :mid AND circuit_id = :c"),
        {"mid": mid, "c": circuit_id}).scalar()


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


def describe(session: Session, inc: Incident, reports: list[Report]) -> tuple[str, float]:
    """The sentence to read to the next caller, and how sure we are."""
    lamps = sorted({r.lamp_id for r in reports if r.lamp_id})
    streets = store.street_names(session, inc.municipality_id, [r.street_id for r in reports])
    head = f"{words.calls(len(reports))} {words.span([r.requested_datetime for r in reports])}"
    where = f" along {words.places(streets)}" if streets else ""
    if inc.kind == "lamp":
        return (f"{head}{where} about lamp {inc.asset_ids[0]}; no other lamp of its circuit reported: "
                "probable single lamp failure.", min(0.9, 0.6 + 0.1 * (len(reports) - 1)))
    if inc.kind == "lighting_circuit":
        circuit = inc.asset_ids[0]
        cabinet = _cabinet_of(session, inc.municipality_id, circuit)
        total = _circuit_evidence(session, inc.municipality_id, circuit, reports[0].requested_datetime)[1] or 1
        share = len(lamps) / total
        return (f"{head}{where}; every lamp involved ({words.ids(lamps)}) is on circuit {circuit} of cabinet "
                f"{cabinet}: probable circuit fault.", min(0.95, 0.55 + 0.08 * len(lamps) + 0.2 * share))
    circuits = sorted({r.circuit_id for r in reports if r.circuit_id})
    return (f"{head}{where}; {len(circuits)} circuits ({words.ids(circuits)}) of cabinet {inc.asset_ids[0]} "
            "went dark together: probable cabinet fault.", min(0.95, 0.6 + 0.1 * len(circuits) + 0.02 * len(reports)))
