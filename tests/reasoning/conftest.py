"""Reports for the reasoning tests on the Borgo fixture: ``call`` places one straight on a known
asset (reasoning alone, through ``on_report_stored``), ``take`` takes one as an operator does
(``acting.calls.take_call``: placed, snapped, stored and reasoned about in one go)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from pyproj import Transformer
from sqlalchemy import func, select, text

from geo_urp.accounts import create_api_key
from geo_urp.acting.calls import take_call
from geo_urp.models import METRIC_SRID, WGS84, Incident, IncidentReport, Report
from geo_urp.reasoning import on_report_stored
from tests.conftest import BORGO_ORIGIN, report_row

T0 = datetime(2026, 11, 27, 22, 0, tzinfo=timezone.utc)
X0, Y0 = BORGO_ORIGIN


@pytest.fixture()
def call(session, borgo):
    """call(service_code, minutes after 22:00, lamp=…|pipe=… [segment=…]|at=(x, y)) -> (report, incident).

    ``pipe``: on the longest part of that main, or on its part in valve segment ``segment``;
    ``street``: the street_id the report is placed on (none by default)."""
    def make(service_code: str, minutes: float = 0, lamp: str | None = None, pipe: str | None = None,
             at: tuple[float, float] | None = None, mid: int | None = None, segment: int | None = None,
             street: str | None = None):
        mid = mid or borgo
        fields = {"street_id": street} if street else {}
        if lamp:
            row = session.execute(text(
                "SELECT lamp_id, circuit_id, cabinet_id, ST_X(geom), ST_Y(geom) FROM lamps "
                "WHERE municipality_id = :m AND lamp_id = :l"), {"m": mid, "l": lamp}).one()
            fields = {"lamp_id": row[0], "circuit_id": row[1], "cabinet_id": row[2]}
            at = (row[3] + 2, row[4] + 2)
        if pipe:
            seg, x, y = session.execute(text(
                "SELECT p.segment_no, ST_X(ST_LineInterpolatePoint(p.geom, 0.5)), ST_Y(ST_LineInterpolatePoint(p.geom, 0.5)) "
                "FROM water_pipe_parts p WHERE p.municipality_id = :m AND p.pipe_id = :p "
                "AND (CAST(:s AS integer) IS NULL OR p.segment_no = :s) ORDER BY ST_Length(p.geom) DESC LIMIT 1"),
                {"m": mid, "p": pipe, "s": segment}).one()
            fields = {"pipe_id": pipe, "segment_no": seg}
            at = at or (x + 3, y + 3)
        x, y = at if at[0] > 100000 else (X0 + at[0], Y0 + at[1])
        report = report_row(mid, (x - X0, y - Y0), T0 + timedelta(minutes=minutes), service_code=service_code,
                            **fields)
        session.add(report)
        session.flush()
        return report, on_report_stored(session, report)
    return make


@pytest.fixture()
def take(session, borgo):
    """take(service_code, minutes after 22:00, at=(x, y)) -> (report, incident or None): a call at
    that point (metres from (X0, Y0)) taken through ``take_call`` with an operator's key, as the
    Open311 POST takes it; the intake snaps it to its lamp or main."""
    key = create_api_key(session, "operator", "borgo")
    to_wgs84 = Transformer.from_crs(METRIC_SRID, WGS84, always_xy=True)

    def make(service_code: str, minutes: float = 0, at: tuple[float, float] = (500, 500)):
        lon, lat = to_wgs84.transform(X0 + at[0], Y0 + at[1])
        when = T0 + timedelta(minutes=minutes)
        receipt = take_call(session, key, {"service_code": service_code, "lat": f"{lat:.8f}", "long": f"{lon:.8f}",
                                           "requested_datetime": when.isoformat()},
                            now=T0 + timedelta(days=30))
        link = session.get(IncidentReport, receipt.report.id)
        return receipt.report, session.get(Incident, link.incident_id) if link else None
    return make


def incident_of(session, report) -> Incident:
    link = session.get(IncidentReport, report.id)
    return session.get(Incident, link.incident_id)


def open_incidents(session, mid) -> list[Incident]:
    return list(session.scalars(select(Incident).where(
        Incident.municipality_id == mid, Incident.absorbed_into_id.is_(None),
        Incident.status == "open").order_by(Incident.id)))


def report_ids(session, inc) -> set[int]:
    return set(session.scalars(select(IncidentReport.report_id).where(IncidentReport.incident_id == inc.id)))


def each_report_linked_once(session, mid) -> bool:
    """Whether every report of a municipality is linked to an incident (once: the link has the
    report as its key)."""
    reports = session.scalar(select(func.count()).select_from(Report).where(Report.municipality_id == mid))
    links = session.scalar(select(func.count()).select_from(IncidentReport).join(
        Report, Report.id == IncidentReport.report_id).where(Report.municipality_id == mid))
    return reports == links


def operators_merge_and_move(session, call) -> tuple:
    """Three road-damage clusters a, b, c; an operator merges b into a, then moves c's one call into
    a (c is emptied). Returns (a, b, c, the moved report)."""
    from geo_urp.reasoning import corrections

    _, a = call("road_damage", 0, at=(100, 500))
    _, b = call("road_damage", 5, at=(600, 900))
    r, c = call("road_damage", 10, at=(900, 100))
    corrections.merge(session, [a.id, b.id], "user:anna")
    corrections.move(session, r.id, a.id, "user:anna")
    return a, b, c, r
