"""``GET /api/outbox`` and ``POST /api/outbox/{id}/done`` (SPEC §4) on Borgo after a burst is resolved:
what operators read, who may read it, the call-back marked done, and every reading audited."""
from __future__ import annotations

from sqlalchemy import select

from geo_urp.db import session_scope
from geo_urp.models import AuditEntry, OutboxMessage
from tests.acting.test_work_orders import _hdr, _step, burst  # noqa: F401  (burst is a fixture)

SPEC_FIELDS = {"id", "report_id", "incident_id", "channel", "to", "text", "status", "attempts", "last_error",
               "created_at", "sent_at"}


def _resolved(client, keys, burst):
    incident_id, report_ids = burst
    assert _step(client, keys["operator"], incident_id, "assigned").status_code == 200
    assert _step(client, keys["crew"], incident_id, "in_progress").status_code == 200
    assert _step(client, keys["crew"], incident_id, "resolved", note="Riparata la condotta.").status_code == 200
    return incident_id, report_ids


def test_operators_read_every_closing_message_with_its_state(borgo_client, borgo_keys, borgo_db_url, burst):
    incident_id, report_ids = _resolved(borgo_client, borgo_keys, burst)
    resp = borgo_client.get("/api/outbox", headers=_hdr(borgo_keys["operator"]))
    assert resp.status_code == 200
    items = resp.json["items"]
    assert all(SPEC_FIELDS <= set(i) for i in items)
    assert [(i["report_id"], i["channel"], i["to"], i["status"], i["incident_id"]) for i in items] == [
        (report_ids[0], "email", "maria@example.it", "pending", incident_id),
        (report_ids[1], "sms", "+393471234567", "pending", incident_id),
        (report_ids[2], "phone", "0461 123456", "pending", incident_id)]
    assert all("Riparata la condotta." in i["text"] and i["jurisdiction_id"] == "borgo" for i in items)
    phone = borgo_client.get("/api/outbox?channel=phone&status=pending", headers=_hdr(borgo_keys["operator"]))
    assert [i["to"] for i in phone.json["items"]] == ["0461 123456"]
    with session_scope(borgo_db_url) as s:
        viewed = s.execute(select(AuditEntry.actor, AuditEntry.object_id).where(
            AuditEntry.action == "contact viewed")).all()
    assert sorted(oid for _, oid in viewed) == sorted([i["id"] for i in items] + [phone.json["items"][0]["id"]])
    assert {a.split(":")[0] for a, _ in viewed} == {"key"}


def test_a_call_back_is_marked_done_once(borgo_client, borgo_keys, burst):
    _resolved(borgo_client, borgo_keys, burst)
    op = _hdr(borgo_keys["operator"])
    (call,) = borgo_client.get("/api/outbox?channel=phone", headers=op).json["items"]
    done = borgo_client.post(f"/api/outbox/{call['id']}/done", json={"note": "Richiamata, ringrazia"}, headers=op)
    assert done.status_code == 200 and (done.json["status"], done.json["note"]) == ("done", "Richiamata, ringrazia")
    again = borgo_client.post(f"/api/outbox/{call['id']}/done", json={}, headers=op)
    assert again.status_code == 409 and "already done" in again.json["error"]
    (mail,) = borgo_client.get("/api/outbox?channel=email", headers=op).json["items"]
    assert borgo_client.post(f"/api/outbox/{mail['id']}/done", json={}, headers=op).status_code == 409
    assert borgo_client.post("/api/outbox/999999/done", json={}, headers=op).status_code == 404
    assert borgo_client.get("/api/outbox?status=done", headers=op).json["items"][0]["done_by"].startswith("key:")


def test_only_operators_read_the_outbox_and_bad_filters_are_named(borgo_client, borgo_keys):
    for role in ("crew", "council", "public"):
        assert borgo_client.get("/api/outbox", headers=_hdr(borgo_keys[role])).status_code == 403
        assert borgo_client.post("/api/outbox/1/done", json={}, headers=_hdr(borgo_keys[role])).status_code == 403
    assert borgo_client.get("/api/outbox").status_code == 401
    op = _hdr(borgo_keys["operator"])
    for query, field in (("status=lost", "status"), ("channel=fax", "channel"), ("limit=0", "limit"),
                         ("limit=%D9%A3", "limit")):
        resp = borgo_client.get(f"/api/outbox?{query}", headers=op)
        assert resp.status_code == 400 and resp.json["error"].startswith(field), query
    assert borgo_client.post("/api/outbox/1/done", data="[1]", content_type="application/json",
                             headers=op).status_code == 400


def test_a_failed_message_is_sent_again_through_the_api_and_a_pending_one_is_not(borgo_client, borgo_keys,
                                                                                 borgo_db_url, burst):
    _resolved(borgo_client, borgo_keys, burst)
    op = _hdr(borgo_keys["operator"])
    (mail,) = borgo_client.get("/api/outbox?channel=email", headers=op).json["items"]
    pending = borgo_client.post(f"/api/outbox/{mail['id']}/retry", headers=op)
    assert pending.status_code == 409 and pending.json["details"][0]["allowed"] == ["failed"]
    with session_scope(borgo_db_url) as s:
        s.get(OutboxMessage, mail["id"]).status = "failed"
    again = borgo_client.post(f"/api/outbox/{mail['id']}/retry", headers=op)
    assert again.status_code == 200 and again.json == {"id": mail["id"], "status": "pending", "attempts": 0}
    assert borgo_client.post(f"/api/outbox/{mail['id']}/retry", headers=_hdr(borgo_keys["crew"])).status_code == 403
