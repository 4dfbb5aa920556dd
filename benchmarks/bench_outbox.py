"""Benchmark: outbox delivery throughput (one worker) and the added cost of resolving an incident of 50 reports.

Usage: .venv/bin/python -m benchmarks.bench_outbox [--messages 1000] [--repeat 20]

On a scratch database with the Borgo fixture town:

- **Throughput**: ``--messages`` closing messages per channel are queued, then one worker
  (``acting.outbox.deliver``, one process, one SMTP connection) delivers them to a local
  aiosmtpd server, and the SMS to a local HTTP gateway; messages per second per channel,
  claim, commit point, send and record included.
- **Resolving**: a burst of 50 leak calls (email, mobile and landline callers) and a lone
  call's incident are each resolved ``--repeat`` times inside a savepoint rolled back after
  (``acting.work_orders.move`` to ``resolved``: every report closed, its Open311 update, one
  outbox message per caller, audit); the median of each and the difference.

Prints the figures and drops the database. It measures; it checks nothing.
"""
from __future__ import annotations

import argparse
import statistics
import time

from sqlalchemy import func, select

from benchmarks.scratch import scratch_database
from geo_urp import settings
from geo_urp.accounts import Principal, create_api_key
from geo_urp.acting import outbox, work_orders
from geo_urp.acting.calls import take_call
from geo_urp.db import session_factory, session_scope
from geo_urp.loading.loader import load_municipality
from geo_urp.models import IncidentReport, Municipality, OutboxMessage
from tests.acting.test_intake import latlong
from tests.conftest import BORGO, report_row
from tests.sinks import SmsGateway, SmtpSink

OPERATOR = Principal("operator", None, None, "bench:operator")


def _queue(url: str, town: int, channel: str, n: int) -> None:
    with session_scope(url) as s:
        reports = [report_row(town, service_code="streetlight_out") for _ in range(n)]
        s.add_all(reports)
        s.flush()
        to = "caller{}@example.org" if channel == "email" else "+39340000{:04d}"
        s.add_all(OutboxMessage(municipality_id=town, report_id=r.id, channel=channel, to=to.format(i),
                                language="it", subject=f"Segnalazione {r.id}",
                                text="Gentile cittadino, grazie della segnalazione: " + "risolta. " * 30)
                  for i, r in enumerate(reports))


def throughput(url: str, town: int, n: int) -> dict[str, float]:
    """Messages per second one worker delivers, per channel."""
    rates = {}
    base = {**settings.from_env(), "DATABASE_URL": url, "SMTP_HOST": "", "SMS_GATEWAY_URL": "",
            "OUTBOX_BATCH": 50}
    with SmtpSink() as smtp, SmsGateway() as gateway:
        for channel, config in (("email", {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": smtp.port}),
                                ("sms", {"SMS_GATEWAY_URL": gateway.url})):
            _queue(url, town, channel, n)
            started = time.perf_counter()
            result = outbox.deliver({**base, **config})
            took = time.perf_counter() - started
            assert len(result.sent) == n, (channel, result)
            rates[channel] = n / took
    return rates


def _burst(url: str, key: str, calls: int) -> int:
    """The incident ``calls`` leak calls along main P5 make, assigned and in progress."""
    kinds = [{"email": "maria@example.org"}, {"phone": "+39 340 000 0001"}, {"phone": "0461 000123"}]
    with session_scope(url) as s:
        ids = [take_call(s, key, {"service_code": "water_leak", **latlong(300 + 200 * i / calls, 453),
                                  "description": "acqua dall'asfalto", **kinds[i % 3]}).report.id
               for i in range(calls)]
        (incident_id,) = set(s.scalars(select(IncidentReport.incident_id).where(IncidentReport.report_id.in_(ids))))
    return incident_id


def _lone(url: str, key: str) -> int:
    with session_scope(url) as s:
        rid = take_call(s, key, {"service_code": "noise", **latlong(800, 800), "phone": "+39 340 000 0002",
                                 "description": "musica alta"}).report.id
        return s.scalar(select(IncidentReport.incident_id).where(IncidentReport.report_id == rid))


def resolve_ms(url: str, incident_id: int, repeat: int) -> float:
    """Median milliseconds to resolve ``incident_id`` (flushed, then rolled back)."""
    times = []
    with session_factory(url)() as s:
        for _ in range(repeat):
            with s.begin():
                s.begin_nested()
                started = time.perf_counter()
                work_orders.move(s, incident_id, "resolved", OPERATOR, "Riparato.")
                times.append((time.perf_counter() - started) * 1000)
                s.rollback()
            s.expire_all()
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--messages", type=int, default=1000)
    ap.add_argument("--repeat", type=int, default=20)
    args = ap.parse_args()
    with scratch_database() as url:
        with session_scope(url) as s:
            load_municipality(s, BORGO, "borgo")
            town = s.scalar(select(Municipality.id).where(Municipality.slug == "borgo"))
            key = create_api_key(s, "operator", "borgo")
        rates = throughput(url, town, args.messages)
        print(f"outbox, one worker, {args.messages} messages per channel: "
              + ", ".join(f"{c} {r:.0f} msg/s" for c, r in rates.items()))
        burst, lone = _burst(url, key, 50), _lone(url, key)
        with session_scope(url) as s:
            counts = {i: s.scalar(select(func.count()).where(IncidentReport.incident_id == i)) for i in (burst, lone)}
        many, one = resolve_ms(url, burst, args.repeat), resolve_ms(url, lone, args.repeat)
        print(f"resolve: {counts[burst]} reports {many:.1f} ms, {counts[lone]} report {one:.1f} ms "
              f"(median of {args.repeat}); added by 49 more reports {many - one:.1f} ms, "
              f"{(many - one) / 49:.2f} ms per report")


if __name__ == "__main__":
    main()
