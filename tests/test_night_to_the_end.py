"""A night replayed and carried to the end over HTTP: the crew resolves the dark circuit, every one of
its reports is closed with the crew's note, every caller hears back exactly once on the channel
what they left allows (e-mail to a real SMTP server, SMS to a real HTTP gateway, a call-back for a
landline), and Open311 clients see it all in ``servicerequestupdates``."""
from __future__ import annotations

import re
from pathlib import Path

import requests
from sqlalchemy import select

from geo_urp.accounts import create_api_key
from geo_urp.acting import outbox
from geo_urp.db import session_scope
from geo_urp.loading.loader import load_municipality
from geo_urp.models import Municipality
from geo_urp.simulate.replay import replay
from geo_urp.simulate.scenario import plan_night
from tests.sinks import SmsGateway, SmtpSink
from tests.showing.live_server import live_server

DEMO = Path(__file__).resolve().parent.parent / "layers" / "mezzolombardo"
NOTE = "Sostituito il fusibile del circuito nel quadro; tutti i lampioni riaccesi."


def _expected_channel(phone: str | None, email: str | None) -> tuple[str, str] | None:
    """What the caller left decides the channel, worked out here apart from ``acting.closing``."""
    if email:
        return "email", email
    if phone:
        digits = re.sub(r"\D", "", phone)
        national = digits[2:] if digits.startswith("39") and phone.startswith("+") else digits
        return ("sms", "+39" + national) if national.startswith("3") else ("phone", phone)
    return None


def test_the_crew_resolves_the_dark_circuit_and_every_caller_hears_back_once(app):
    url = app.config["DATABASE_URL"]
    with session_scope(url) as s:
        load_municipality(s, DEMO, "mezzolombardo")
        mid = s.scalar(select(Municipality.id).where(Municipality.slug == "mezzolombardo"))
        operator = create_api_key(s, "operator", "mezzolombardo")
        night = plan_night(s, mid, 1)
    (fault,) = [f for f in night.faults if f.kind == "lighting_circuit"][:1]
    with live_server(app) as base:
        result = replay(night, base, operator, jurisdiction_id="mezzolombardo")
        assert result.ok, result.errors
        op = {"X-API-Key": operator}
        fc = requests.get(f"{base}/api/incidents", params={"kind": "lighting_circuit"}, headers=op, timeout=30).json()
        calls = {result.ids[i]: night.calls[i] for i in fault.call_indexes}
        (inc,) = [f["properties"] for f in fc["features"] if set(f["properties"]["report_ids"]) == set(calls)]
        with session_scope(url) as s:
            crew = create_api_key(s, "crew", "mezzolombardo", inc["crew_id"])
        steps = [(op, "assigned", None), ({"X-API-Key": crew}, "in_progress", "Sul posto."),
                 ({"X-API-Key": crew}, "resolved", NOTE)]
        for who, status, note in steps:
            resp = requests.post(f"{base}/api/incidents/{inc['id']}/status", json={"status": status, "note": note},
                                 headers=who, timeout=30)
            assert resp.status_code == 200, resp.text

        # Read as the operator, who sees the crew's note (the public view has none).
        reports = requests.get(f"{base}/open311/v2/requests.json", timeout=30, headers=op, params={
            "jurisdiction_id": "mezzolombardo", "service_request_id": ",".join(calls)}).json()
        assert {(r["service_request_id"], r["status"], r["status_notes"]) for r in reports} == {
            (rid, "closed", NOTE) for rid in calls}
        updates = requests.get(f"{base}/open311/v2/servicerequestupdates.json", timeout=30, headers=op,
                               params={"jurisdiction_id": "mezzolombardo"}).json()
        fixed = {u["service_request_id"] for u in updates if u["status"] == "fixed" and u["description"] == NOTE}
        assert fixed == set(calls)
        assert all(NOTE not in u["description"] or u["service_request_id"] in calls for u in updates)

        expected = {rid: _expected_channel(c.phone, c.email) for rid, c in calls.items()}
        assert len({ch for ch, _ in filter(None, expected.values())}) >= 2   # the callers left different things
        with SmtpSink() as smtp, SmsGateway() as gateway:
            config = {**app.config, "SMTP_HOST": "127.0.0.1", "SMTP_PORT": smtp.port,
                      "SMS_GATEWAY_URL": gateway.url}
            outbox.deliver(config)
            outbox.deliver(config)                       # a second pass finds nothing to send
            mails = [(m.rcpt[0], m.body) for m in smtp.mails]
            sms = [(m.to, m.text) for m in gateway.sent]
        items = requests.get(f"{base}/api/outbox", headers=op, timeout=30).json()["items"]
    mine = [i for i in items if i["incident_id"] == inc["id"]]
    by_report = {str(i["report_id"]): i for i in mine}
    # One message per caller who left a contact, and only for them; the report ids in the outbox are
    # the database's, the Open311 ids are their text.
    assert {rid: (i["channel"], i["to"]) for rid, i in by_report.items()} == {
        rid: ch for rid, ch in expected.items() if ch is not None}
    assert len(mine) == len(by_report)
    for rid, (channel, to) in filter(lambda kv: kv[1] is not None, expected.items()):
        item = by_report[rid]
        assert rid in item["text"] and NOTE.rstrip(".") in item["text"]
        if channel == "email":
            (body,) = [b for r, b in mails if r == to]
            assert item["status"] == "sent" and NOTE in body and rid in body
        elif channel == "sms":
            assert item["status"] == "sent" and [t for n, t in sms].count(item["text"]) == 1
        else:
            assert item["status"] == "pending"           # an operator calls back
    assert len(mails) == sum(1 for ch in expected.values() if ch and ch[0] == "email")
    assert len(sms) == sum(1 for ch in expected.values() if ch and ch[0] == "sms")
