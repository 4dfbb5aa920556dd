"""Taking a call: the report and its incident land together; a retry is not reasoned about twice."""
from __future__ import annotations

from sqlalchemy import func, select

from geo_urp.accounts import create_api_key
from geo_urp.acting.calls import take_call
from geo_urp.loading.loader import load_municipality
from geo_urp.models import Incident, IncidentReport, Report
from tests.conftest import BORGO



def _near_lamp(session, lamp_id):
    from sqlalchemy import text

    lat, lon = session.execute(text(
        "SELECT ST_Y(g), ST_X(g) FROM (SELECT ST_Transform(ST_Translate(geom, 2, 2), 4326) g FROM lamps "
        "WHERE lamp_id = :l) s"), {"l": lamp_id}).one()
    return {"lat": f"{lat:.7f}", "long": f"{lon:.7f}"}


def test_each_stored_report_joins_one_incident_and_a_retry_changes_nothing(session):
    load_municipality(session, BORGO, "borgo")
    key = create_api_key(session, "operator", "borgo")
    fields = {"service_code": "streetlight_out", **_near_lamp(session, "L01")}
    first = take_call(session, key, fields, idempotency_key="call-1")
    again = take_call(session, key, fields, idempotency_key="call-1")
    assert first.created and not again.created and again.report.id == first.report.id
    assert session.scalar(select(func.count()).select_from(Report)) == 1
    link = session.get(IncidentReport, first.report.id)
    inc = session.get(Incident, link.incident_id)
    assert (inc.kind, inc.asset_ids) == ("lamp", ["L01"])
    assert session.scalar(select(func.count()).select_from(Incident)) == 1


def test_an_information_request_is_stored_without_an_incident(session):
    load_municipality(session, BORGO, "borgo")
    key = create_api_key(session, "operator", "borgo")
    r = take_call(session, key, {"service_code": "info_request", **_near_lamp(session, "L05")}).report
    assert r.id and session.get(IncidentReport, r.id) is None
