"""Taking a call: the report and its incident land together; a retry is not reasoned about twice."""
from __future__ import annotations

import threading

import pytest
from sqlalchemy import event, func, select

from geo_urp.accounts import create_api_key
from geo_urp.acting.calls import take_call
from geo_urp.db import session_factory, session_scope
from geo_urp.reasoning import corrections
from geo_urp.loading.loader import load_municipality
from geo_urp.models import Incident, IncidentReport, Report
from tests.conftest import BORGO
from tests.one_town import towns_of



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


def _points_on_and_off(session, table):
    """A point 2 m off the first asset of ``table`` (lamps or water_pipes) and one inside the
    town with none of them within 100 m (WGS84 fields)."""
    from sqlalchemy import text

    on, off = session.execute(text(
        "WITH grid AS (SELECT (ST_Dump(ST_GeneratePoints(m.boundary, 400, 7))).geom g FROM municipalities m) "
        f"SELECT (SELECT ST_Transform(ST_Translate(ST_PointOnSurface(geom), 2, 2), 4326) FROM {table} "
        "         ORDER BY id LIMIT 1), "
        f"       (SELECT ST_Transform(g, 4326) FROM grid WHERE NOT EXISTS (SELECT 1 FROM {table} a "
        "         WHERE ST_DWithin(a.geom, grid.g, 100)) ORDER BY ST_X(g), ST_Y(g) LIMIT 1)")).one()
    assert on is not None and off is not None, f"the fixture has {table}, and room away from them"
    return [{"lat": f"{lat:.7f}", "long": f"{lon:.7f}"} for lat, lon in (
        session.execute(text("SELECT ST_Y(CAST(:g AS geometry)), ST_X(CAST(:g AS geometry))"), {"g": g}).one()
        for g in (on, off))]


@pytest.mark.parametrize("table, first, second, apart, cluster", [
    ("water_pipes", "no_water", "water_leak", "no_water", "water_outage"),
    ("lamps", "streetlight_out", "streetlight_out", "streetlight_out", "lamp"),
])
def test_calls_near_no_asset_do_not_wait_for_calls_on_the_network(fresh_db_url, table, first, second, apart,
                                                                  cluster):
    """A call near no main (no lamp) joins a cluster of such calls, never an incident on the
    network: it goes on while a call on the network holds that network's lock, and a second
    call on the network waits for the first."""
    with session_scope(fresh_db_url) as s:
        load_municipality(s, BORGO, "borgo")
        key = create_api_key(s, "operator", "borgo")
        on_asset, near_none = _points_on_and_off(s, table)
    holder = session_factory(fresh_db_url)()
    out: dict = {}
    threads = []
    try:
        held = take_call(holder, key, {"service_code": first, **on_asset}).report
        assert (held.pipe_id or held.lamp_id) is not None
        threads.append(_call_in_thread(fresh_db_url, key, {"service_code": second, **on_asset}, out, "on"))
        threads.append(_call_in_thread(fresh_db_url, key, {"service_code": apart, **near_none}, out, "off"))
        threads[1].join(timeout=10)
        assert not threads[1].is_alive() and "off" in out  # went through
        threads[0].join(timeout=1.0)
        assert threads[0].is_alive() and "on" not in out  # waits for the first call on the network
        holder.commit()
    finally:
        holder.rollback()  # after a failure: let the waiting call through, not hang
        holder.close()
        for thread in threads:
            thread.join(timeout=10)
    assert not threads[0].is_alive() and "on" in out
    with session_scope(fresh_db_url) as s:
        placed = {r: (i.kind, i.asset_ids) for r, i in s.execute(
            select(IncidentReport.report_id, Incident).join(Incident, Incident.id == IncidentReport.incident_id))}
        off = s.get(Report, out["off"])
        assert off.pipe_id is None and off.lamp_id is None and placed[off.id] == (cluster, [])
        assert placed[held.id] == placed[out["on"]] and placed[held.id][1]  # one incident on the network


def statements_of(session, run) -> list[str]:
    """The SQL statements ``run()`` sends through the session's connection."""
    seen: list[str] = []

    def count(_conn, _cursor, statement, *_args):
        seen.append(statement)

    conn = session.connection()
    event.listen(conn, "before_cursor_execute", count)
    try:
        run()
    finally:
        event.remove(conn, "before_cursor_execute", count)
    return seen


# What a call costs in statements, pinned: each is planned by PostgreSQL and goes through
# SQLAlchemy, so a call that quietly grows a query or two costs CPU on every POST; it shows here.
# An information request: key and earlier try, town lock, layers' load, nearest street and civic,
# snap, savepoint, report, contact, retry row (the call has an Idempotency-Key), release. A flooding call starting a cluster adds the route
# lock, the neighbour search, the incident, its history, its link, the summary, the crew, the
# description, and the crew's history line and audit entry.
@pytest.mark.parametrize("service_code, statements", [("info_request", 11), ("flooding", 21)])
def test_a_call_costs_a_known_number_of_statements(session, borgo, service_code, statements):
    key = create_api_key(session, "public", "borgo")
    take_call(session, key, {"jurisdiction_id": "borgo", "service_code": "noise", **_near_lamp(session, "L03")},
              idempotency_key="warm-up")  # the caches of this load of the layers are made here
    fields = {"jurisdiction_id": "borgo", "service_code": service_code, "phone": "+39 0461 000000",
              "description": "water in the street", **_near_lamp(session, "L05")}
    sent = statements_of(session, lambda: take_call(session, key, fields, idempotency_key="call-1"))
    assert len(sent) == statements, "\n".join(" ".join(s.split())[:100] for s in sent)


def test_every_statement_of_a_call_but_the_key_lookup_names_the_calls_town(session, borgo):
    """docs/SCALING.md: on Citus a call's statements each go to the one worker holding its town.
    Calls that start, grow and merge incidents of every engine; the key's lookup is the one
    statement before the town is known (it reads the key, and its earlier try in the town found)."""
    key = create_api_key(session, "operator", "borgo")
    calls = [("streetlight_out", "L01"), ("streetlight_out", "L02"), ("streetlight_out", "L03"),
             ("flooding", "L05"), ("flooding", "L05"), ("no_water", "L06"), ("water_leak", "L04"),
             ("noise", "L03")]
    sent = []
    for n, (service_code, lamp) in enumerate(calls):
        fields = {"jurisdiction_id": "borgo", "service_code": service_code, **_near_lamp(session, lamp)}
        sent += statements_of(session, lambda: take_call(session, key, fields, idempotency_key=f"call-{n}"))
    towns = {statement: towns_of(statement) for statement in sent}
    assert sum(1 for s in sent if towns[s].tables) > 5 * len(calls)  # the check saw the calls' work
    unrouted = {" ".join(s.split())[:160]: sorted(t.unrouted) for s, t in towns.items() if not t.routed}
    assert len(unrouted) == 1 and next(iter(unrouted)).startswith("SELECT api_keys.id"), unrouted
