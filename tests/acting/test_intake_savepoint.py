"""Intake's insert: the savepoint only where a retry's duplicate can be refused, and the town's load
of its layers read afresh under the lock, on the Borgo fixture town."""
from __future__ import annotations

from sqlalchemy import func, select, text

from geo_urp.accounts import Principal, create_api_key
from geo_urp.acting.intake import create_report, submit_request
from geo_urp.db import session_scope
from geo_urp.loading.loader import load_municipality
from geo_urp.models import CallerContact, Municipality, Report, ReportRetry
from tests.acting.test_calls import statements_of
from tests.acting.test_intake import latlong
from tests.conftest import BORGO

FIELDS = {"service_code": "water_leak", **latlong(400, 455), "phone": "0461 123456", "description": "acqua"}


def _savepoints(statements: list[str]) -> int:
    return sum(s.lstrip().upper().startswith("SAVEPOINT") for s in statements)


def test_a_call_without_an_idempotency_key_is_stored_without_a_savepoint(session, borgo):
    key = create_api_key(session, "public", "borgo")
    received = []
    sent = statements_of(session, lambda: received.append(submit_request(session, key, FIELDS)))
    assert _savepoints(sent) == 0 and received[0].created
    stored = session.get(Report, received[0].report.id)
    assert stored.retry is None and session.get(CallerContact, stored.id).phone == "0461 123456"
    again = submit_request(session, key, FIELDS)  # no key: another call, another report
    assert again.created and again.report.id != stored.id


def test_a_principal_posting_without_a_key_stores_without_a_savepoint(session, borgo):
    operator = Principal("operator", borgo, None, "test")
    received = []
    sent = statements_of(session, lambda: received.append(create_report(session, operator, FIELDS, {})))
    assert _savepoints(sent) == 0 and received[0].created and received[0].report.id is not None


def test_a_call_with_an_idempotency_key_is_stored_in_a_savepoint_and_retried_once(session, borgo):
    key = create_api_key(session, "public", "borgo")
    received = []
    sent = statements_of(session, lambda: received.append(submit_request(session, key, FIELDS,
                                                                          idempotency_key="k-1")))
    assert _savepoints(sent) == 1 and received[0].created
    again = submit_request(session, key, FIELDS, idempotency_key="k-1")
    assert not again.created and again.report.id == received[0].report.id
    assert session.scalar(select(func.count()).select_from(ReportRetry).where(ReportRetry.idempotency_key == "k-1")) == 1


def test_the_load_of_the_layers_is_read_afresh_for_each_call(fresh_db_url):
    with session_scope(fresh_db_url) as s:
        load_municipality(s, BORGO, "borgo")
        key = create_api_key(s, "public", "borgo")
    with session_scope(fresh_db_url) as calls:
        first = submit_request(calls, key, FIELDS).municipality
        with session_scope(fresh_db_url) as reload:  # a reload of the layers, committed meanwhile
            reload.execute(text("UPDATE municipalities SET layers_loaded_at = now() + interval '1 hour'"))
        before = first.layers_loaded_at
        second = submit_request(calls, key, FIELDS).municipality
        fresh = calls.scalar(select(Municipality.layers_loaded_at).where(Municipality.id == second.id))
        assert second.layers_loaded_at == fresh and fresh != before
        assert not calls.dirty  # read, not changed: nothing for the commit to write back
