"""Sending one closing message over one channel: e-mail over SMTP, SMS through an HTTP gateway.

A sender knows its protocol and nothing of the database. ``acting.outbox`` hands it an
``Outgoing`` and a ``commit`` callback; the sender calls ``commit`` exactly once, just before
the point after which the message may have reached its receiver (the point of no return),
and goes on only if it returns. A send that did not end in "delivered" raises ``SendError``,
which says whether a retry can help (``permanent``) and whether the receiver may have the
message all the same (``uncertain``).

- **E-mail** (``EmailSender``, smtplib, one connection per worker pass): MAIL, RCPT, DATA and
  the dot-quoted body go first; the point of no return is the final ``.`` that ends DATA,
  because an SMTP server takes no responsibility for a message before it and drops a
  transaction whose connection closes earlier (RFC 5321 §4.1.1.4). Every message has a stable
  ``Message-ID`` made from its outbox id (``message_id``), the same on every attempt.
- **SMS** (``SmsSender``, requests): a JSON POST ``{"to", "text"}`` to ``SMS_GATEWAY_URL`` with
  ``Authorization: Bearer SMS_GATEWAY_TOKEN`` (when set) and ``Idempotency-Key:
  geo-urp-outbox-<id>``. The point of no return is the request itself. **Gateway contract**:
  a gateway must honour ``Idempotency-Key``: a request whose key it has seen before is
  answered as the first one was and sends no second SMS, because the outbox repeats a
  request whose answer it never got with the same key. 2xx means sent; 408, 429, 5xx,
  timeouts and connection errors are retried; any other answer is a permanent failure.

Both wait at most ``OUTBOX_SEND_TIMEOUT_S`` for any one answer, which must stay well under
the outbox's claim (``OUTBOX_CLAIM_S``).
"""
from __future__ import annotations

import re
import smtplib
import socket
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from email.utils import format_datetime
from datetime import datetime, timezone

import requests

# RFC 5321 §4.5.2: a line of the body that starts with "." gets one more, so that no line
# of the body reads as the end of DATA.
_LINE_START_DOT = re.compile(rb"^\.", re.MULTILINE)
_END_OF_DATA = b".\r\n"
# Answers of an SMS gateway that say "later", not "never".
_GATEWAY_RETRY = (408, 429)
_ERROR_CHARS = 300


@dataclass(frozen=True)
class Outgoing:
    """What a sender needs of one outbox message."""

    id: int
    to: str
    subject: str
    text: str
    language: str


class SendError(Exception):
    """A send that did not end in "delivered".

    ``permanent``: the receiver refused it and will refuse it again. ``uncertain``: the send
    passed its point of no return and then broke, so the receiver may have the message.
    """

    def __init__(self, message: str, *, permanent: bool = False, uncertain: bool = False):
        super().__init__(message)
        self.permanent = permanent
        self.uncertain = uncertain


def idempotency_key(outbox_id: int) -> str:
    """The ``Idempotency-Key`` of an outbox message's SMS: the same on every attempt."""
    return f"geo-urp-outbox-{outbox_id}"


def dot_quoted(data: bytes) -> bytes:
    """``data`` (CRLF lines) as the body of SMTP's DATA: dot-stuffed, ending in CRLF."""
    data = _LINE_START_DOT.sub(b"..", data)
    return data if data.endswith(b"\r\n") else data + b"\r\n"


class EmailSender:
    """Closing messages by e-mail over SMTP (``SMTP_*`` settings); on when ``SMTP_HOST`` is set."""

    channel = "email"

    def __init__(self, config: dict):
        self.host, self.port = config["SMTP_HOST"], int(config["SMTP_PORT"])
        self.user, self.password = config["SMTP_USER"], config["SMTP_PASSWORD"]
        self.sender, self.starttls = config["SMTP_FROM"], bool(config["SMTP_STARTTLS"])
        self.timeout = float(config["OUTBOX_SEND_TIMEOUT_S"])
        self._smtp: smtplib.SMTP | None = None

    @staticmethod
    def is_on(config: dict) -> bool:
        """True when the settings name an SMTP server."""
        return bool(config.get("SMTP_HOST"))

    def message_id(self, outbox_id: int) -> str:
        """The stable ``Message-ID`` of an outbox message, in the sender's domain."""
        domain = self.sender.rpartition("@")[2] or "localhost"
        return f"<{idempotency_key(outbox_id)}@{domain}>"

    def render(self, out: Outgoing) -> bytes:
        """The message as it goes on the wire (headers and a quoted-printable UTF-8 body, CRLF lines)."""
        msg = EmailMessage(policy=SMTP_POLICY)
        msg["From"], msg["To"], msg["Subject"] = self.sender, out.to, out.subject
        msg["Date"] = format_datetime(datetime.now(timezone.utc))
        msg["Message-ID"] = self.message_id(out.id)
        msg["Content-Language"] = out.language
        msg["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation replies to an automatic message
        msg.set_content(out.text, cte="quoted-printable")
        return msg.as_bytes()

    def send(self, out: Outgoing, commit: Callable[[], None]) -> None:
        """Deliver ``out``; ``commit`` runs just before the final "." of DATA."""
        data = dot_quoted(self.render(out))
        where = f"SMTP {self.host}:{self.port}"
        try:
            smtp = self._connection()
            self._expect(smtp.mail(self.sender), (250,), f"{where} MAIL FROM")
            self._expect(smtp.rcpt(out.to), (250, 251), f"{where} RCPT TO <{out.to}>")
            self._expect(smtp.docmd("DATA"), (354,), f"{where} DATA")
            smtp.send(data)
        except SendError:
            self.close()
            raise
        except UnicodeEncodeError as exc:
            self.close()
            raise SendError(f"{where}: the address is not ASCII ({exc.reason})", permanent=True) from exc
        except (smtplib.SMTPException, OSError) as exc:
            self.close()  # the transaction was never ended: the server drops it
            raise SendError(f"{where}: {exc or type(exc).__name__}") from exc
        try:
            commit()
        except BaseException:
            self.close()  # no final ".": the server drops the message
            raise
        try:
            smtp.send(_END_OF_DATA)
            code, reply = smtp.getreply()
        except (smtplib.SMTPException, OSError) as exc:
            self.close()
            raise SendError(f"{where}: no answer to the end of DATA ({exc or type(exc).__name__})",
                            uncertain=True) from exc
        # A refusal of the message itself is the server's word: it does not have the message.
        self._expect((code, reply), (250,), f"{where} end of DATA")

    def _connection(self) -> smtplib.SMTP:
        if self._smtp is None:
            smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
            try:
                # The end of DATA goes out on its own after the commit point: without this, Nagle's
                # algorithm holds it until the server acknowledges the body (tens of ms a message).
                smtp.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                smtp.ehlo()
                if self.starttls:
                    smtp.starttls(context=ssl.create_default_context())
                    smtp.ehlo()
                if self.user:
                    smtp.login(self.user, self.password)
            except BaseException:
                smtp.close()
                raise
            self._smtp = smtp
        return self._smtp

    @staticmethod
    def _expect(answer: tuple[int, bytes], codes: tuple[int, ...], what: str) -> None:
        code, reply = answer
        if code not in codes:
            text = reply.decode("utf-8", "replace")[:_ERROR_CHARS]
            raise SendError(f"{what}: the server answered {code} {text}", permanent=500 <= code < 600)

    def close(self) -> None:
        """Hang up (politely when the connection is still good)."""
        smtp, self._smtp = self._smtp, None
        if smtp is not None:
            try:
                smtp.quit()
            except (smtplib.SMTPException, OSError):
                smtp.close()


class SmsSender:
    """Closing messages by SMS through the HTTP gateway (``SMS_GATEWAY_*``); on when its URL is set."""

    channel = "sms"

    def __init__(self, config: dict):
        self.url, self.timeout = config["SMS_GATEWAY_URL"], float(config["OUTBOX_SEND_TIMEOUT_S"])
        self._http = requests.Session()
        if config.get("SMS_GATEWAY_TOKEN"):
            self._http.headers["Authorization"] = f"Bearer {config['SMS_GATEWAY_TOKEN']}"

    @staticmethod
    def is_on(config: dict) -> bool:
        """True when the settings name a gateway."""
        return bool(config.get("SMS_GATEWAY_URL"))

    def send(self, out: Outgoing, commit: Callable[[], None]) -> None:
        """Deliver ``out``; ``commit`` runs just before the request goes out."""
        commit()
        try:
            resp = self._http.post(self.url, json={"to": out.to, "text": out.text}, timeout=self.timeout,
                                   headers={"Idempotency-Key": idempotency_key(out.id)}, allow_redirects=False)
        except requests.RequestException as exc:
            raise SendError(f"SMS gateway: {type(exc).__name__}: {exc}"[:_ERROR_CHARS], uncertain=True) from exc
        if 200 <= resp.status_code < 300:
            return
        answer = f"SMS gateway answered {resp.status_code} {resp.reason}: {resp.text[:_ERROR_CHARS]}"
        if resp.status_code >= 500 or resp.status_code in _GATEWAY_RETRY:
            raise SendError(answer, uncertain=True)
        raise SendError(answer, permanent=True)

    def close(self) -> None:
        """Close the pooled connections."""
        self._http.close()


SENDERS = (EmailSender, SmsSender)


def senders_for(config: dict) -> dict[str, EmailSender | SmsSender]:
    """A sender per channel that the settings turn on (an unset channel is off: its messages wait)."""
    return {cls.channel: cls(config) for cls in SENDERS if cls.is_on(config)}
