"""The outbox under faults (``acting/outbox.py``, ``acting/senders.py``) against a real SMTP server
and a real HTTP SMS gateway on this machine: down then up, 500 then 200, refusals, the worker
killed mid-batch. Each message reaches its receiver exactly once and none is lost."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest
import requests
from sqlalchemy import select, text, update

from geo_urp import settings
from geo_urp.acting import outbox
from geo_urp.accounts import Principal
from geo_urp.db import session_scope
from geo_urp.errors import Conflict
from geo_urp.models import AuditEntry, Municipality, OutboxMessage
from tests.conftest import report_row
from tests.sinks import SmsGateway, SmtpSink, free_port

OPERATOR = Principal("operator", None, None, "user:anna")


def _config(url: str, **over) -> dict:
    return {**settings.from_env(), "DATABASE_URL": url, "SMTP_HOST": "", "SMS_GATEWAY_URL": "",
            "SMTP_FROM": "riscontri@comune.borgo.it", "OUTBOX_SEND_TIMEOUT_S": 2.0, "OUTBOX_CLAIM_S": 30.0,
            "OUTBOX_RETRY_BASE_S": 30.0, "OUTBOX_RETRY_MAX_S": 3600.0, **over}


def _queue(url: str, *messages: tuple[str, str]) -> list[int]:
    """One report and its closing message per ``(channel, to)``; the outbox ids."""
    with session_scope(url) as s:
        town = s.scalar(select(Municipality.id).where(Municipality.slug == "borgo"))
        reports = [report_row(town, service_code="streetlight_out") for _ in messages]
        s.add_all(reports)
        s.flush()
        rows = [OutboxMessage(municipality_id=town, report_id=r.id, channel=channel, to=to, language="it",
                              subject=f"Segnalazione {r.id}", text=f"Gentile cittadino, la segnalazione {r.id} "
                              "è risolta.\n.una riga che inizia con un punto\nGrazie!")
                for r, (channel, to) in zip(reports, messages)]
        s.add_all(rows)
        s.flush()
        return [m.id for m in rows]


def _states(url: str) -> dict[int, tuple[str, int]]:
    with session_scope(url) as s:
        return {m.id: (m.status, m.attempts) for m in s.scalars(select(OutboxMessage))}


def _due_now(url: str) -> None:
    """Let the backoff pass: every pending message is due again."""
    with session_scope(url) as s:
        s.execute(update(OutboxMessage).where(OutboxMessage.status == "pending")
                  .values(next_attempt_at=text("now() - interval '1 second'")))


def test_smtp_down_then_up_delivers_each_email_once_after_a_backoff(borgo_db_url):
    port = free_port()
    ids = _queue(borgo_db_url, ("email", "maria@example.it"), ("email", "luca@example.it"))
    config = _config(borgo_db_url, SMTP_HOST="127.0.0.1", SMTP_PORT=port)
    first = outbox.deliver(config)
    assert sorted(first.retried) == ids and not first.sent
    with session_scope(borgo_db_url) as s:
        waiting = s.scalars(select(OutboxMessage)).all()
        assert {(m.status, m.attempts, m.claimed_by, m.committed_at) for m in waiting} == {("pending", 1, None, None)}
        assert all("SMTP 127.0.0.1" in m.last_error for m in waiting)
        assert all((m.next_attempt_at - m.created_at).total_seconds() >= 29 for m in waiting)  # the backoff
    assert not outbox.deliver(config).claimed           # not due yet
    with SmtpSink(port) as sink:
        _due_now(borgo_db_url)
        assert sorted(outbox.deliver(config).sent) == ids
        assert not outbox.deliver(config).claimed
        assert [m.rcpt for m in sink.mails] == [["maria@example.it"], ["luca@example.it"]]
        assert [m.message_id for m in sink.mails] == [f"<geo-urp-outbox-{i}@comune.borgo.it>" for i in ids]
        assert ".una riga che inizia con un punto" in sink.mails[0].body      # dot-stuffing undone by the server
        assert "è risolta" in sink.mails[0].body
    assert _states(borgo_db_url) == {i: ("sent", 2) for i in ids}
    with session_scope(borgo_db_url) as s:
        actions = s.scalars(select(AuditEntry.action).where(AuditEntry.object_type == "outbox")).all()
        assert sorted(actions) == ["delivery retried"] * 2 + ["sent"] * 2


def test_the_gateway_answering_500_then_200_sends_one_sms_with_the_same_key(borgo_db_url):
    (sms_id,) = _queue(borgo_db_url, ("sms", "+393471234567"))
    with SmsGateway(fail_first=1) as gateway:
        config = _config(borgo_db_url, SMS_GATEWAY_URL=gateway.url, SMS_GATEWAY_TOKEN="segreto")
        assert outbox.deliver(config).retried == [sms_id]
        _due_now(borgo_db_url)
        assert outbox.deliver(config).sent == [sms_id]
    assert [(r.key, r.authorization) for r in gateway.requests] == [(f"geo-urp-outbox-{sms_id}", "Bearer segreto")] * 2
    assert [(s.to, s.text.endswith("Grazie!")) for s in gateway.sent] == [("+393471234567", True)]
    assert _states(borgo_db_url) == {sms_id: ("sent", 2)}


def test_a_refusal_fails_at_once_and_an_unset_channel_keeps_its_messages_waiting(borgo_db_url):
    refused, fine, sms, call = _queue(borgo_db_url, ("email", "nessuno@example.it"), ("email", "maria@example.it"),
                                      ("sms", "+393471234567"), ("phone", "0461 123456"))
    with SmtpSink() as sink:
        sink.refuse.add("nessuno@example.it")
        result = outbox.deliver(_config(borgo_db_url, SMTP_HOST="127.0.0.1", SMTP_PORT=sink.port))
    assert (result.failed, result.sent) == ([refused], [fine])
    assert [m.rcpt for m in sink.mails] == [["maria@example.it"]]
    with session_scope(borgo_db_url) as s:
        assert "550" in s.get(OutboxMessage, refused).last_error
    # No gateway configured: the SMS waits, untouched; a call-back is never sent by the worker.
    assert _states(borgo_db_url)[sms] == ("pending", 0) and _states(borgo_db_url)[call] == ("pending", 0)


def test_a_gateway_refusal_is_permanent_and_attempts_run_out(borgo_db_url):
    (bad,) = _queue(borgo_db_url, ("sms", "+393471234567"))
    with SmsGateway(fail_first=1, fail_status=400) as gateway:
        config = _config(borgo_db_url, SMS_GATEWAY_URL=gateway.url)
        assert outbox.deliver(config).failed == [bad]
    (flaky,) = _queue(borgo_db_url, ("sms", "+393331234567"))
    config = _config(borgo_db_url, SMS_GATEWAY_URL=f"http://127.0.0.1:{free_port()}/sms", OUTBOX_MAX_ATTEMPTS=2)
    assert outbox.deliver(config).retried == [flaky]
    _due_now(borgo_db_url)
    assert outbox.deliver(config).failed == [flaky]
    with session_scope(borgo_db_url) as s:
        assert s.get(OutboxMessage, flaky).last_error.startswith("gave up after 2 attempts")
    assert _states(borgo_db_url) == {bad: ("failed", 1), flaky: ("failed", 2)}


def test_backoff_doubles_up_to_its_maximum():
    config = {"OUTBOX_RETRY_BASE_S": 30, "OUTBOX_RETRY_MAX_S": 3600}
    assert [outbox.backoff(config, n).total_seconds() for n in (1, 2, 3, 7, 8, 20)] == [30, 60, 120, 1920, 3600, 3600]


def test_a_call_back_is_marked_done_once_by_an_operator_and_only_a_call_back(borgo_db_url):
    call, mail = _queue(borgo_db_url, ("phone", "0461 123456"), ("email", "maria@example.it"))
    with session_scope(borgo_db_url) as s:
        done = outbox.mark_done(s, call, OPERATOR, "  Richiamata la signora, ringrazia  ")
        assert (done.status, done.done_by, done.note) == ("done", "user:anna", "Richiamata la signora, ringrazia")
    with session_scope(borgo_db_url) as s:
        with pytest.raises(Conflict, match="already done"):
            outbox.mark_done(s, call, OPERATOR, None)
        with pytest.raises(Conflict, match="not a call-back"):
            outbox.mark_done(s, mail, OPERATOR, None)
    with session_scope(borgo_db_url) as s:
        assert s.scalars(select(AuditEntry.action).where(AuditEntry.object_id == call)).all() == ["call-back done"]


def _worker(url: str, **env) -> subprocess.Popen:
    """``python -m geo_urp worker`` on ``url`` with ``env`` settings."""
    full = {**os.environ, "DATABASE_URL": url, "OUTBOX_CLAIM_S": "4", "OUTBOX_SEND_TIMEOUT_S": "1",
            "SMTP_FROM": "riscontri@comune.borgo.it", **{k: str(v) for k, v in env.items()}}
    return subprocess.Popen([sys.executable, "-m", "geo_urp", "worker"], env=full,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _kill_when(event, proc: subprocess.Popen) -> None:
    assert event.wait(60), "the worker never reached the stalled message"
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)


def _after_claims_lapse(url: str, config: dict) -> outbox.PassResult:
    time.sleep(4.5)
    return outbox.deliver(config)


@pytest.mark.parametrize("stall", ["before the final dot", "after the final dot"])
def test_a_worker_killed_mid_batch_loses_no_email_and_sends_none_twice(borgo_db_url, stall):
    addresses = [f"caller{n}@example.it" for n in range(6)]
    ids = _queue(borgo_db_url, *(("email", a) for a in addresses))
    with SmtpSink() as sink:
        (sink.stall_before if stall == "before the final dot" else sink.stall_after).add(addresses[2])
        proc = _worker(borgo_db_url, SMTP_HOST="127.0.0.1", SMTP_PORT=sink.port)
        _kill_when(sink.stalled, proc)
        sink.stall_before.clear()                                    # the server is well again
        result = _after_claims_lapse(borgo_db_url, _config(borgo_db_url, SMTP_HOST="127.0.0.1", SMTP_PORT=sink.port))
        assert not outbox.deliver(_config(borgo_db_url, SMTP_HOST="127.0.0.1", SMTP_PORT=sink.port)).claimed
        received = {a: len(sink.to(a)) for a in addresses}
    states = {i: s for i, (s, _) in _states(borgo_db_url).items()}
    assert received == {a: 1 for a in addresses}                     # each exactly once
    if stall == "before the final dot":                              # it never left: sent again, once
        assert states == {i: "sent" for i in ids} and ids[2] in result.sent
    else:                                                            # it may have left: not sent again
        assert states == {**{i: "sent" for i in ids}, ids[2]: "failed"} and result.failed == [ids[2]]
        with session_scope(borgo_db_url) as s:
            assert s.get(OutboxMessage, ids[2]).last_error.startswith("uncertain")
    assert set(result.sent) >= set(ids[3:])                          # the dead worker's claims were taken over


def test_a_worker_killed_waiting_for_the_gateway_sends_the_sms_once(borgo_db_url):
    numbers = [f"+39347000000{n}" for n in range(5)]
    ids = _queue(borgo_db_url, *(("sms", n) for n in numbers))
    with SmsGateway(stall={numbers[1]}) as gateway:
        proc = _worker(borgo_db_url, SMS_GATEWAY_URL=gateway.url)
        _kill_when(gateway.stalled, proc)
        result = _after_claims_lapse(borgo_db_url, _config(borgo_db_url, SMS_GATEWAY_URL=gateway.url))
    assert sorted(s.to for s in gateway.sent) == sorted(numbers)      # one SMS each
    assert [r.to for r in gateway.requests].count(numbers[1]) == 2    # asked again, with the same key
    assert ids[1] in result.sent and _states(borgo_db_url).keys() == set(ids)
    assert {s for s, _ in _states(borgo_db_url).values()} == {"sent"}


def _serve(url: str, port: int, *flags: str, **env) -> subprocess.Popen:
    full = {**os.environ, "DATABASE_URL": url, "SMTP_FROM": "riscontri@comune.borgo.it",
            **{k: str(v) for k, v in env.items()}}
    return subprocess.Popen([sys.executable, "-m", "geo_urp", "serve", "--port", str(port), "--workers", "1", *flags],
                            env=full, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _up(port: int) -> None:
    for _ in range(120):
        try:
            if requests.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return
        except requests.ConnectionError:
            pass
        time.sleep(0.25)
    raise AssertionError("the server never came up")


@pytest.mark.parametrize("flags", [(), ("--no-worker",)])
def test_serve_delivers_the_outbox_unless_told_not_to(borgo_db_url, flags):
    _queue(borgo_db_url, ("email", "maria@example.it"))
    with SmtpSink() as sink:
        port = free_port()
        proc = _serve(borgo_db_url, port, *flags, SMTP_HOST="127.0.0.1", SMTP_PORT=sink.port)
        try:
            _up(port)
            deadline = time.monotonic() + (20 if not flags else 3)
            while not sink.mails and time.monotonic() < deadline:
                time.sleep(0.2)
        finally:
            proc.terminate()
            proc.wait(20)
        assert [m.rcpt for m in sink.mails] == ([] if flags else [["maria@example.it"]])


def test_an_operator_sends_a_failed_message_again_and_it_goes_once(borgo_db_url):
    refused, call = _queue(borgo_db_url, ("email", "nessuno@example.it"), ("phone", "0461 123456"))
    with SmtpSink() as sink:
        sink.refuse.add("nessuno@example.it")
        config = _config(borgo_db_url, SMTP_HOST="127.0.0.1", SMTP_PORT=sink.port)
        assert outbox.deliver(config).failed == [refused]
        with session_scope(borgo_db_url) as s:
            with pytest.raises(Conflict, match="call-back"):
                outbox.retry(s, call, OPERATOR)
            again = outbox.retry(s, refused, OPERATOR)
            assert (again.status, again.attempts) == ("pending", 0)
        with session_scope(borgo_db_url) as s:
            with pytest.raises(Conflict, match="pending, not failed"):
                outbox.retry(s, refused, OPERATOR)
        sink.refuse.clear()                                   # the address was mistyped, now it is right
        assert outbox.deliver(config).sent == [refused]
        assert [m.rcpt for m in sink.mails] == [["nessuno@example.it"]]
    with session_scope(borgo_db_url) as s:
        actions = s.scalars(select(AuditEntry.action).where(AuditEntry.object_id == refused)
                            .order_by(AuditEntry.id)).all()
    assert actions == ["delivery failed", "delivery retried by hand", "sent"]
