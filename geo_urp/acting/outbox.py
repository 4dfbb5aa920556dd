"""Delivering the outbox of closing messages: each exactly once, none lost.

One pass of the worker (``deliver``) takes a batch of due e-mails and SMS and hands
each to its sender (``acting.senders``); call-backs (``phone``) are never sent: an
operator makes the call and marks it done (``mark_done``). A channel whose settings
are unset is off and its messages wait, visible in ``GET /api/outbox``.

How "exactly once" holds when anything can fail, the worker included:

1. **Claim.** A batch is claimed in one short transaction (``FOR UPDATE SKIP LOCKED``,
   so workers never take the same message): ``claimed_by`` this worker,
   ``claimed_until`` now + ``OUTBOX_CLAIM_S``, one more attempt counted.
2. **Commit point.** Just before the point of no return (e-mail: the final "." of
   DATA; SMS: the request), the sender calls back and ``committed_at`` is written and
   committed, only while the claim has at least ``OUTBOX_SEND_TIMEOUT_S`` to run.
3. **Record.** After the answer the message is ``sent``, or scheduled again with
   backoff (``OUTBOX_RETRY_BASE_S`` doubling up to ``OUTBOX_RETRY_MAX_S``), or
   ``failed`` when the receiver refused it for good or ``OUTBOX_MAX_ATTEMPTS`` ran out (an
   operator may send a failed one again: ``retry``).

A worker that dies leaves its claim to lapse; the next pass takes the message again.
If it died before the commit point the message never left and is simply sent. If
after it, the message may have arrived: an SMS is sent again with the same
``Idempotency-Key``, which the gateway contract says it answers without a second
SMS; an e-mail cannot be asked back, so it is ``failed`` with an error that says it
may have arrived, for an operator to check rather than a caller to get it twice.
Every outcome is in the audit trail.
"""
from __future__ import annotations

import logging
import os
import socket
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from geo_urp import audit
from geo_urp.accounts import Principal
from geo_urp.acting.senders import Outgoing, SendError, senders_for
from geo_urp.db import session_factory
from geo_urp.errors import BadInput, Conflict, NotFound
from geo_urp.language import N_
from geo_urp.models import OutboxMessage

log = logging.getLogger(__name__)

WORKER = "outbox"  # the actor the audit trail names for the worker's own actions
UNCERTAIN_EMAIL = ("uncertain: the worker stopped after handing this e-mail to the SMTP server and before "
                   "its answer was recorded; it may have arrived: check with the caller before sending it again")
_ERROR_CHARS = 500


class _ClaimLost(Exception):
    """The claim lapsed before the commit point: the message is left for the next pass."""


@dataclass
class PassResult:
    """What one pass did, by outcome: lists of outbox ids."""

    sent: list[int] = field(default_factory=list)
    retried: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    skipped: list[int] = field(default_factory=list)

    @property
    def claimed(self) -> int:
        return len(self.sent) + len(self.retried) + len(self.failed) + len(self.skipped)


def worker_id() -> str:
    """This worker's name in ``claimed_by``: host, process and a random part."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def backoff(config, attempts: int) -> timedelta:
    """The wait before attempt ``attempts + 1``: the base doubling per attempt, up to the maximum."""
    base, most = float(config["OUTBOX_RETRY_BASE_S"]), float(config["OUTBOX_RETRY_MAX_S"])
    return timedelta(seconds=min(most, base * 2 ** max(0, attempts - 1)))


def deliver(config) -> PassResult:
    """The worker's job: passes over the due messages until a batch comes back short."""
    total, me = PassResult(), worker_id()
    senders = senders_for(config)
    if not senders:
        return total
    try:
        with session_factory(config["DATABASE_URL"])() as session:
            while True:
                one = deliver_batch(session, config, senders, me)
                for name in ("sent", "retried", "failed", "skipped"):
                    getattr(total, name).extend(getattr(one, name))
                if one.claimed < int(config["OUTBOX_BATCH"]):
                    return total
    finally:
        for sender in senders.values():
            sender.close()


def deliver_batch(session: Session, config, senders: dict, me: str) -> PassResult:
    """Claim up to ``OUTBOX_BATCH`` due messages of the channels that are on, and deliver them."""
    result = PassResult()
    for msg in _claim(session, config, list(senders), me):
        if msg.committed_at is not None and msg.channel == "email":
            _fail(session, msg, UNCERTAIN_EMAIL)
            result.failed.append(msg.id)
            continue
        outcome = _send(session, config, senders[msg.channel], msg, me)
        getattr(result, outcome).append(msg.id)
    return result


def _claim(session: Session, config, channels: list[str], me: str) -> list[OutboxMessage]:
    now = func.now()
    due = (select(OutboxMessage.id, OutboxMessage.municipality_id)
           .where(OutboxMessage.status == "pending", OutboxMessage.channel != "phone",
                  OutboxMessage.channel.in_(channels), OutboxMessage.next_attempt_at <= now,
                  or_(OutboxMessage.claimed_until.is_(None), OutboxMessage.claimed_until < now))
           .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
           .limit(int(config["OUTBOX_BATCH"])).with_for_update(skip_locked=True).subquery("due"))
    claim = timedelta(seconds=float(config["OUTBOX_CLAIM_S"]))
    ids = session.scalars(update(OutboxMessage)
                          .where(OutboxMessage.municipality_id == due.c.municipality_id, OutboxMessage.id == due.c.id)
                          .values(claimed_by=me, claimed_until=now + claim, attempts=OutboxMessage.attempts + 1)
                          .returning(OutboxMessage.id).execution_options(synchronize_session=False)).all()
    session.commit()
    if not ids:
        return []
    session.expire_all()
    return list(session.scalars(select(OutboxMessage).where(OutboxMessage.id.in_(ids))
                                .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)))


def _send(session: Session, config, sender, msg: OutboxMessage, me: str) -> str:
    """Deliver one claimed message and record the outcome: sent, retried, failed or skipped."""
    margin = timedelta(seconds=float(config["OUTBOX_SEND_TIMEOUT_S"]))

    def commit_point() -> None:
        done = session.execute(update(OutboxMessage).where(
            OutboxMessage.id == msg.id, OutboxMessage.claimed_by == me,
            OutboxMessage.claimed_until > func.now() + margin).values(committed_at=func.now()))
        session.commit()
        if done.rowcount != 1:
            raise _ClaimLost

    out = Outgoing(msg.id, msg.to, msg.subject, msg.text, msg.language)
    try:
        sender.send(out, commit_point)
    except _ClaimLost:
        log.warning("outbox %d: claim lapsed before sending; left for the next pass", msg.id)
        return "skipped"
    except SendError as exc:
        error = str(exc)[:_ERROR_CHARS]
        if exc.permanent:
            _fail(session, msg, error)
            return "failed"
        if exc.uncertain and msg.channel == "email":
            _fail(session, msg, f"{UNCERTAIN_EMAIL} ({error})"[:_ERROR_CHARS])
            return "failed"
        if msg.attempts >= int(config["OUTBOX_MAX_ATTEMPTS"]):
            _fail(session, msg, f"gave up after {msg.attempts} attempts: {error}"[:_ERROR_CHARS])
            return "failed"
        wait = backoff(config, msg.attempts)
        _finish(session, msg, status="pending", last_error=error, next_attempt_at=func.now() + wait,
                committed_at=None)
        audit.record(session, WORKER, "delivery retried", "outbox", msg.id, msg.municipality_id,
                     channel=msg.channel, attempts=msg.attempts, error=error, wait_s=wait.total_seconds())
        session.commit()
        return "retried"
    _finish(session, msg, status="sent", last_error=None, sent_at=func.now())
    audit.record(session, WORKER, "sent", "outbox", msg.id, msg.municipality_id, channel=msg.channel,
                 attempts=msg.attempts, report_id=msg.report_id)
    session.commit()
    return "sent"


def _finish(session: Session, msg: OutboxMessage, **values) -> None:
    session.execute(update(OutboxMessage).where(OutboxMessage.id == msg.id)
                    .values(claimed_by=None, claimed_until=None, **values))


def _fail(session: Session, msg: OutboxMessage, error: str) -> None:
    _finish(session, msg, status="failed", last_error=error)
    audit.record(session, WORKER, "delivery failed", "outbox", msg.id, msg.municipality_id,
                 channel=msg.channel, attempts=msg.attempts, error=error)
    session.commit()
    log.warning("outbox %d (%s) failed: %s", msg.id, msg.channel, error)


def _locked(session: Session, outbox_id: int, municipality_ids: set[int] | None) -> OutboxMessage:
    """The message, locked for the change, if the reader's towns hold it."""
    msg = session.get(OutboxMessage, outbox_id, with_for_update=True)
    if msg is None or (municipality_ids is not None and msg.municipality_id not in municipality_ids):
        raise NotFound(N_("nessun messaggio %(id)s in uscita"), id=outbox_id)
    return msg


def mark_done(session: Session, outbox_id: int, principal: Principal, note,
              municipality_ids: set[int] | None = None) -> OutboxMessage:
    """An operator made the call-back ``outbox_id``: it is ``done``, with who and the note."""
    if note is not None and not isinstance(note, str):
        raise BadInput(N_('"note" deve essere una stringa'), details=[{"field": "note"}])
    msg = _locked(session, outbox_id, municipality_ids)
    if msg.channel != "phone":
        raise Conflict(N_("channel: il messaggio %(id)s in uscita è un %(channel)s che invia il worker, non una "
                          "richiamata"), id=outbox_id, channel=msg.channel,
                       details=[{"field": "channel", "value": msg.channel, "expected": "phone"}])
    if msg.status != "pending":
        raise Conflict(N_("status: la richiamata %(id)s è già %(state)s"), id=outbox_id, state=msg.status,
                       details=[{"field": "status", "value": msg.status, "allowed": ["pending"]}])
    msg.status, msg.done_by, msg.note = "done", principal.name, (note or "").strip() or None
    msg.sent_at = datetime.now(timezone.utc)
    audit.record(session, principal.name, "call-back done", "outbox", msg.id, msg.municipality_id,
                 report_id=msg.report_id, note=msg.note)
    session.flush()
    return msg


def retry(session: Session, outbox_id: int, principal: Principal,
          municipality_ids: set[int] | None = None) -> OutboxMessage:
    """An operator sends a failed e-mail or SMS again (after checking that an "uncertain" one did
    not arrive, say): it is pending and due now, with its attempts counted afresh."""
    msg = _locked(session, outbox_id, municipality_ids)
    if msg.channel == "phone" or msg.status != "failed":
        text = (N_("status: il messaggio %(id)s in uscita è una richiamata, che fa un operatore: si rinvia solo "
                   "un'e-mail o un SMS failed") if msg.channel == "phone" else
                N_("status: il messaggio %(id)s in uscita è %(state)s, non failed: si rinvia solo un'e-mail o un "
                   "SMS failed"))
        raise Conflict(text, id=outbox_id, state=msg.status,
                       details=[{"field": "status", "value": msg.status, "allowed": ["failed"]}])
    was = msg.last_error
    msg.status, msg.attempts, msg.committed_at, msg.claimed_by, msg.claimed_until = "pending", 0, None, None, None
    msg.next_attempt_at = datetime.now(timezone.utc)
    audit.record(session, principal.name, "delivery retried by hand", "outbox", msg.id, msg.municipality_id,
                 report_id=msg.report_id, last_error=was)
    session.flush()
    return msg
