"""Work orders through ``POST /api/incidents/{id}/status`` (``acting/work_orders.py``) on Borgo:
the steps from assigned to closed with who, when and a note, what each role may do, the 409 that
names the steps allowed, and what resolving does (every report closed, one message per caller).

Four leak calls along main P5 (y=450, x 300..500) make one burst for crew ACQUA, whose key the
Borgo fixture holds (``borgo_keys["crew"]``)."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from geo_urp.db import session_scope
from geo_urp.models import AuditEntry, IncidentEvent, OutboxMessage, Report, ReportUpdate
from tests.acting.test_intake import latlong

CALLERS = [
    {"first_name": "Maria", "email": "maria@example.it"},
    {"first_name": "Luca", "phone": "+39 347 123 4567"},
    {"first_name": "Anna", "phone": "0461 123456"},
    {},
]


def _hdr(key: str) -> dict:
    return {"X-API-Key": key}


@pytest.fixture()
def burst(borgo_client, borgo_keys):
    """The burst the four leak calls make: (its id, the report ids)."""
    ids = []
    for n, who in enumerate(CALLERS):
        resp = borgo_client.post("/open311/v2/requests.json", data={
            "api_key": borgo_keys["operator"], "service_code": "water_leak", **latlong(330 + 40 * n, 453),
            "description": "acqua che esce dall'asfalto", **who})
        assert resp.status_code == 201, resp.get_data(as_text=True)
        ids.append(int(resp.json[0]["service_request_id"]))
    features = borgo_client.get("/api/incidents", headers=_hdr(borgo_keys["operator"])).json["features"]
    (inc,) = [f["properties"] for f in features if set(map(int, f["properties"]["report_ids"])) & set(ids)]
    assert (inc["kind"], inc["crew_id"], sorted(map(int, inc["report_ids"]))) == ("water_main_burst", "ACQUA", ids)
    return inc["id"], ids


def _step(client, key, incident_id, status, **body):
    return client.post(f"/api/incidents/{incident_id}/status", json={"status": status, **body}, headers=_hdr(key))


def test_a_burst_goes_from_assigned_to_closed_and_every_caller_hears_back_once(borgo_client, borgo_keys,
                                                                               borgo_db_url, burst):
    incident_id, report_ids = burst
    operator, crew = borgo_keys["operator"], borgo_keys["crew"]
    assert _step(borgo_client, operator, incident_id, "assigned", note="squadra allertata").json["status"] == "assigned"
    assert _step(borgo_client, crew, incident_id, "in_progress", note="sul posto").json["status"] == "in_progress"
    done = _step(borgo_client, crew, incident_id, "resolved", note="Sostituito un tratto di tubo in via Roma.")
    assert done.status_code == 200 and done.json["allowed"] == []   # the crew may not file it: operators do
    assert _step(borgo_client, operator, incident_id, "closed").json["status"] == "closed"

    with session_scope(borgo_db_url) as s:
        reports = s.scalars(select(Report).where(Report.id.in_(report_ids)).order_by(Report.id)).all()
        assert {(r.status, r.status_notes) for r in reports} == {("closed", "Sostituito un tratto di tubo in via Roma.")}
        messages = s.scalars(select(OutboxMessage).order_by(OutboxMessage.report_id)).all()
        assert [(m.report_id, m.channel, m.to) for m in messages] == [
            (report_ids[0], "email", "maria@example.it"), (report_ids[1], "sms", "+393471234567"),
            (report_ids[2], "phone", "0461 123456")]       # the fourth caller left nothing
        assert all(m.status == "pending" and "Sostituito un tratto di tubo" in m.text for m in messages)
        history = s.execute(select(IncidentEvent.actor, IncidentEvent.detail).where(
            IncidentEvent.incident_id == incident_id, IncidentEvent.action == "status")
            .order_by(IncidentEvent.id)).all()
        assert [(a.split(":")[0], d["from"], d["to"], d["note"]) for a, d in history] == [
            ("key", "open", "assigned", "squadra allertata"), ("key", "assigned", "in_progress", "sul posto"),
            ("key", "in_progress", "resolved", "Sostituito un tratto di tubo in via Roma."),
            ("key", "resolved", "closed", "")]
        stages = s.execute(select(ReportUpdate.report_id, ReportUpdate.stage, ReportUpdate.status)
                           .where(ReportUpdate.report_id == report_ids[0]).order_by(ReportUpdate.id)).all()
        assert [(st, status) for _, st, status in stages] == [
            ("assigned", "open"), ("in_progress", "open"), ("resolved", "closed"), ("closed", "closed")]
        audited = s.scalars(select(AuditEntry.action).where(AuditEntry.object_type.in_(("incident", "outbox")))).all()
        assert audited.count("status") == 4 and audited.count("closing queued") == 3


@pytest.mark.parametrize("steps, role, status, code, allowed", [
    ([], "operator", "in_progress", 409, ["assigned", "resolved"]),
    ([], "operator", "closed", 409, ["assigned", "resolved"]),
    ([("operator", "assigned")], "operator", "resolved", 409, ["assigned", "in_progress"]),
    ([("operator", "assigned"), ("crew", "in_progress")], "crew", "closed", 409, ["resolved"]),
    ([("operator", "assigned"), ("crew", "in_progress")], "crew", "in_progress", 409, ["resolved"]),
    ([("operator", "resolved"), ("operator", "closed")], "operator", "open", 409, []),
])
def test_an_illegal_step_is_a_409_naming_the_steps_allowed_now(borgo_client, borgo_keys, burst, steps, role,
                                                                status, code, allowed):
    incident_id, _ = burst
    for who, step in steps:
        assert _step(borgo_client, borgo_keys[who], incident_id, step, note="fatto").status_code == 200
    resp = _step(borgo_client, borgo_keys[role], incident_id, status, note="fatto")
    assert resp.status_code == code
    assert resp.json["details"][0]["allowed"] == allowed
    assert ", ".join(allowed) in resp.json["error"]


def test_a_crew_may_not_take_an_operators_step(borgo_client, borgo_keys, burst):
    incident_id, _ = burst
    resp = _step(borgo_client, borgo_keys["crew"], incident_id, "assigned")
    assert resp.status_code == 403 and "only an operator" in resp.json["error"]


def test_a_crew_may_not_move_another_crews_work(borgo_client, borgo_keys):
    resp = borgo_client.post("/open311/v2/requests.json", data={
        "api_key": borgo_keys["operator"], "service_code": "road_damage", **latlong(100, 500)})
    assert resp.status_code == 201
    features = borgo_client.get("/api/incidents", headers=_hdr(borgo_keys["operator"])).json["features"]
    (road,) = [f["properties"] for f in features if f["properties"]["kind"] == "road_damage"]
    assert _step(borgo_client, borgo_keys["operator"], road["id"], "assigned").json["crew_id"] == "STRADE"
    resp = _step(borgo_client, borgo_keys["crew"], road["id"], "in_progress")
    assert resp.status_code == 403 and "not your crew's work" in resp.json["error"]


@pytest.mark.parametrize("role, code", [("council", 403), ("public", 403), (None, 401)])
def test_council_public_and_anonymous_callers_move_nothing(borgo_client, borgo_keys, burst, role, code):
    incident_id, _ = burst
    headers = _hdr(borgo_keys[role]) if role else {}
    resp = borgo_client.post(f"/api/incidents/{incident_id}/status", json={"status": "assigned"}, headers=headers)
    assert resp.status_code == code


@pytest.mark.parametrize("body, field, says", [
    ({"status": "assigned", "crew_id": "NESSUNO"}, "crew_id", "no crew 'NESSUNO'"),
    ({"status": "resolved"}, "note", '"note" is required to resolve'),
    ({"status": "resolved", "note": "x" * 2001}, "note", "at most 2000"),
    ({"status": 3}, "status", '"status" is required'),
    ({"status": "in_progress", "crew_id": "ACQUA"}, "crew_id", "only for the assigned step"),
])
def test_a_bad_body_is_a_400_naming_the_field_and_changes_nothing(borgo_client, borgo_keys, borgo_db_url, burst,
                                                                  body, field, says):
    incident_id, _ = burst
    if body["status"] == "in_progress":
        _step(borgo_client, borgo_keys["operator"], incident_id, "assigned")
    before = borgo_client.get("/api/incidents", headers=_hdr(borgo_keys["operator"])).json
    resp = borgo_client.post(f"/api/incidents/{incident_id}/status", json=body, headers=_hdr(borgo_keys["operator"]))
    assert resp.status_code == 400 and says in resp.json["error"]
    assert resp.json["details"][0]["field"] == field
    assert borgo_client.get("/api/incidents", headers=_hdr(borgo_keys["operator"])).json["features"] == before["features"]


def test_an_operator_sends_another_crew_and_the_history_says_who_was_sent_before(borgo_client, borgo_keys,
                                                                                 borgo_db_url, burst):
    incident_id, _ = burst
    _step(borgo_client, borgo_keys["operator"], incident_id, "assigned")
    assert _step(borgo_client, borgo_keys["operator"], incident_id, "assigned", crew_id="STRADE").json["crew_id"] == "STRADE"
    with session_scope(borgo_db_url) as s:
        last = s.scalars(select(IncidentEvent.detail).where(IncidentEvent.incident_id == incident_id,
                                                             IncidentEvent.action == "status")
                         .order_by(IncidentEvent.id.desc()).limit(1)).one()
    assert (last["crew_id"], last["was_crew"]) == ("STRADE", "ACQUA")


def test_an_unknown_incident_is_a_404(borgo_client, borgo_keys):
    assert _step(borgo_client, borgo_keys["operator"], 999999, "assigned").status_code == 404
