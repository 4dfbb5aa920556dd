"""Taking a call: the report and its incident land together; a retry is not reasoned about twice."""
from __future__ import annotations

import threading

from sqlalchemy import func, select

from geo_urp.accounts import create_api_key
from geo_urp.acting.calls import take_call
from geo_urp.db import session_factory, session_scope
from geo_urp.reasoning import corrections
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


def _call_in_thread(url, key, fields, out, name):
    def run():
        with session_scope(url) as s:
            out[name] = take_call(s, key, fields).report.id
    thread = threading.Thread(target=run)
    thread.start()
    return thread


def test_calls_that_could_meet_wait_for_each_other_and_others_do_not(fresh_db_url):
    """Live updates lock one family of incidents: a second call on a circuit waits for the first
    to commit (so the two never start two groups), a flooding call meanwhile does not wait, and an
    operator's merge waits for every update in progress."""
    with session_scope(fresh_db_url) as s:
        load_municipality(s, BORGO, "borgo")
        key = create_api_key(s, "operator", "borgo")
        near = {lamp: _near_lamp(s, lamp) for lamp in ("L01", "L02", "L03", "L06")}
        noisy = [take_call(s, key, {"service_code": "noise", **near[lamp]}).report.id for lamp in ("L01", "L06")]
    first = session_factory(fresh_db_url)()
    take_call(first, key, {"service_code": "streetlight_out", **near["L01"]})  # holds the lighting lock
    out: dict = {}
    same = _call_in_thread(fresh_db_url, key, {"service_code": "streetlight_out", **near["L02"]}, out, "L02")
    other = _call_in_thread(fresh_db_url, key, {"service_code": "flooding", **near["L03"]}, out, "flood")
    other.join(timeout=10)
    assert not other.is_alive() and "flood" in out  # another family went through
    same.join(timeout=1.0)
    assert same.is_alive() and "L02" not in out  # the same family waits
    merger = session_factory(fresh_db_url)()
    with merger.begin():
        ids = list(merger.scalars(select(IncidentReport.incident_id).where(IncidentReport.report_id.in_(noisy))))
    merged: dict = {}

    def merge_them():
        merged["into"] = corrections.merge(merger, ids, "operator").id
        merger.commit()

    merging = threading.Thread(target=merge_them)
    merging.start()
    merging.join(timeout=1.0)
    assert merging.is_alive()  # a correction waits for the update in progress
    first.commit()
    first.close()
    for thread in (same, merging):
        thread.join(timeout=10)
        assert not thread.is_alive()
    merger.close()
    with session_scope(fresh_db_url) as s:
        take_call(s, key, {"service_code": "streetlight_out", **near["L03"]})
    with session_scope(fresh_db_url) as s:
        reports = s.scalars(select(Report.id)).all()
        links = s.execute(select(IncidentReport.report_id, IncidentReport.incident_id)).all()
        assert sorted(r for r, _ in links) == sorted(reports) and len(reports) == 6  # each linked once
        assert len({i for r, i in links if r in noisy}) == 1 == len({merged["into"]})
        circuit = s.scalars(select(Incident).where(Incident.kind == "lighting_circuit",
                                                   Incident.status == "open")).all()
        # L01 and L02 were grouped, once; the third lamp of C1 then makes the circuit
        assert len(circuit) == 1 and circuit[0].asset_ids == ["C1"]


def _water_points(session):
    """A point 2 m off a main and one inside the town with no main within 100 m (WGS84 fields)."""
    from sqlalchemy import text

    on, off = session.execute(text(
        "WITH grid AS (SELECT (ST_Dump(ST_GeneratePoints(m.boundary, 400, 7))).geom g FROM municipalities m) "
        "SELECT (SELECT ST_Transform(ST_Translate(ST_LineInterpolatePoint(geom, 0.5), 2, 2), 4326) "
        "        FROM water_pipes ORDER BY pipe_id LIMIT 1), "
        "       (SELECT ST_Transform(g, 4326) FROM grid WHERE NOT EXISTS (SELECT 1 FROM water_pipes p "
        "        WHERE ST_DWithin(p.geom, grid.g, 100)) ORDER BY ST_X(g), ST_Y(g) LIMIT 1)")).one()
    assert on is not None and off is not None, "the fixture has a main, and room away from every main"
    return [{"lat": f"{lat:.7f}", "long": f"{lon:.7f}"} for lat, lon in (
        session.execute(text("SELECT ST_Y(CAST(:g AS geometry)), ST_X(CAST(:g AS geometry))"), {"g": g}).one()
        for g in (on, off))]


def test_water_calls_near_no_main_do_not_wait_for_calls_on_the_network(fresh_db_url):
    """A no-water call near no main joins a cluster of such calls, never an incident on the
    network: it goes on while a call on a main holds the water network's lock, and a second
    call on a main waits for it."""
    with session_scope(fresh_db_url) as s:
        load_municipality(s, BORGO, "borgo")
        key = create_api_key(s, "operator", "borgo")
        on_main, near_no_main = _water_points(s)
    first = session_factory(fresh_db_url)()
    held = take_call(first, key, {"service_code": "no_water", **on_main}).report
    assert held.pipe_id is not None
    out: dict = {}
    same = _call_in_thread(fresh_db_url, key, {"service_code": "water_leak", **on_main}, out, "on main")
    apart = _call_in_thread(fresh_db_url, key, {"service_code": "no_water", **near_no_main}, out, "near no main")
    apart.join(timeout=10)
    assert not apart.is_alive() and "near no main" in out  # went through
    same.join(timeout=1.0)
    assert same.is_alive() and "on main" not in out  # waits for the first call on the network
    first.commit()
    first.close()
    same.join(timeout=10)
    assert not same.is_alive()
    with session_scope(fresh_db_url) as s:
        kinds = {r: (i.kind, i.asset_ids) for r, i in s.execute(
            select(IncidentReport.report_id, Incident).join(Incident, Incident.id == IncidentReport.incident_id))}
        assert s.get(Report, out["near no main"]).pipe_id is None
        assert kinds[out["near no main"]] == ("water_outage", [])
        assert kinds[held.id] == kinds[out["on main"]] and kinds[held.id][0] == "water_main_burst"
