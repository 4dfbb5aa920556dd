"""Real local receivers of closing messages for tests and benchmarks: an SMTP server (aiosmtpd)
and an SMS gateway (``http.server``) that keeps the gateway contract of ``acting.senders``.

Both record what they took, and can be told to misbehave: refuse, stall, answer 500.
"""
from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from dataclasses import dataclass, field
from email import message_from_bytes
from email.policy import default as DEFAULT_POLICY
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from aiosmtpd.controller import Controller


def free_port() -> int:
    """A TCP port nothing listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Mail:
    """One message the SMTP server took (after the final "." of DATA)."""

    rcpt: list[str]
    message_id: str
    subject: str
    body: str


class SmtpSink:
    """An SMTP server on 127.0.0.1 that keeps every message it accepts in ``mails``.

    ``refuse``: recipients answered ``550`` at RCPT. ``stall_before``: recipients whose RCPT
    hangs (the message never reaches DATA). ``stall_after``: recipients whose message is
    taken and then the answer to the final "." hangs.
    """

    def __init__(self, port: int | None = None):
        self.port = port or free_port()
        self.mails: list[Mail] = []
        self.refuse: set[str] = set()
        self.stall_before: set[str] = set()
        self.stall_after: set[str] = set()
        self.stalled = threading.Event()
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)

    def start(self) -> "SmtpSink":
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()

    def __enter__(self) -> "SmtpSink":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    async def _stall(self) -> None:
        self.stalled.set()
        await asyncio.sleep(3600)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return "550 5.1.1 no such mailbox"
        if address in self.stall_before:
            await self._stall()
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        msg = message_from_bytes(envelope.content, policy=DEFAULT_POLICY)
        self.mails.append(Mail(list(envelope.rcpt_tos), str(msg["Message-ID"]), str(msg["Subject"]),
                               msg.get_content()))
        if set(envelope.rcpt_tos) & self.stall_after:
            await self._stall()
        return "250 OK queued"

    def to(self, address: str) -> list[Mail]:
        return [m for m in self.mails if address in m.rcpt]


@dataclass
class Sms:
    to: str
    text: str
    key: str
    authorization: str


@dataclass
class SmsGateway:
    """An SMS gateway on 127.0.0.1 that honours ``Idempotency-Key``: a key seen before is answered
    as the first time and sends nothing. ``sent`` holds the SMS sent (one per key), ``requests``
    every request. ``fail_first``: answer this many requests ``fail_status`` first. ``stall``:
    numbers whose request is taken (the SMS sent) and then never answered."""

    fail_first: int = 0
    fail_status: int = 500
    stall: set[str] = field(default_factory=set)
    sent: list[Sms] = field(default_factory=list)
    requests: list[Sms] = field(default_factory=list)
    stalled: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self):
        self._lock = threading.Lock()
        self._answers: dict[str, tuple[int, dict]] = {}
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                sms = Sms(body["to"], body["text"], self.headers.get("Idempotency-Key", ""),
                          self.headers.get("Authorization", ""))
                status, answer = gateway._take(sms)
                if status is None:
                    time.sleep(3600)
                    return
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/sms"

    def _take(self, sms: Sms):
        with self._lock:
            self.requests.append(sms)
            if self.fail_first > 0:
                self.fail_first -= 1
                return self.fail_status, {"error": "try later"}
            if sms.key in self._answers:
                return self._answers[sms.key]
            self.sent.append(sms)
            self._answers[sms.key] = (200, {"id": len(self.sent)})
            if sms.to in self.stall:
                self.stalled.set()
                return None, None
            return self._answers[sms.key]

    def start(self) -> "SmsGateway":
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> "SmsGateway":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
