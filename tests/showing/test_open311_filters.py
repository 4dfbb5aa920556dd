"""``GET requests`` filters of GeoReport v2: ids, service_code, status, date window, the 1000 cap, jurisdiction."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import select, update

from geo_urp.db import session_scope
from geo_urp.loading.loader import load_municipality
from geo_urp.models import Municipality, Report
from tests.conftest import BORGO, report_row
from tests.showing.open311_support import API, latlong, post, validate


def _post(client, key, code="noise", **extra) -> str:
    resp = post(client, key, service_code=code, **latlong(500, 500), **extra)
    assert resp.status_code == 201, resp.data
    return resp.json[0]["service_request_id"]


def _ids(client, query: str = "") -> list[str]:
    resp = client.get(f"{API}/requests.json" + (f"?{query}" if query else ""))
    assert resp.status_code == 200, resp.data
    validate(resp.json, "requests.json")
    return [r["service_request_id"] for r in resp.json]


def test_requests_are_filtered_by_service_codes_and_statuses(borgo_db_url, borgo_client, borgo_keys):
    noise, flood, leak = (_post(borgo_client, borgo_keys["public"], code)
                          for code in ("noise", "flooding", "water_leak"))
    with session_scope(borgo_db_url) as s:
        s.execute(update(Report).where(Report.id == int(flood)).values(status="closed", status_notes="Svuotato"))
    assert _ids(borgo_client, "service_code=noise") == [noise]
    assert set(_ids(borgo_client, "service_code=noise,water_leak")) == {noise, leak}
    assert _ids(borgo_client, "status=closed") == [flood]
    assert set(_ids(borgo_client, "status=open")) == {noise, leak}
    assert set(_ids(borgo_client, "status=open,closed")) == {noise, flood, leak}
    closed = borgo_client.get(f"{API}/requests/{flood}.json", headers={"X-API-Key": borgo_keys["operator"]}).json[0]
    assert (closed["status"], closed["status_notes"]) == ("closed", "Svuotato")


def test_service_request_id_list_overrides_other_filters(borgo_client, borgo_keys):
    a, b, c = (_post(borgo_client, borgo_keys["public"]) for _ in range(3))
    assert set(_ids(borgo_client, f"service_request_id={a},{c}&status=closed&service_code=flooding")) == {a, c}
    assert b not in _ids(borgo_client, f"service_request_id={a},{c}")


def test_default_window_is_the_last_90_days(borgo_client, borgo_keys):
    now = datetime.now(timezone.utc)
    recent = _post(borgo_client, borgo_keys["operator"], requested_datetime=(now - timedelta(days=10)).isoformat())
    old = _post(borgo_client, borgo_keys["operator"], requested_datetime=(now - timedelta(days=100)).isoformat())
    assert _ids(borgo_client) == [recent]
    start = (now - timedelta(days=120)).strftime("%Y-%m-%dT%H:%M:%SZ")
    end = (now - timedelta(days=95)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert _ids(borgo_client, f"start_date={start}&end_date={end}") == [old]
    assert _ids(borgo_client, f"start_date={start}") == [old]          # start + 90 days
    assert _ids(borgo_client, f"end_date={end}") == [old]              # end - 90 days


def test_a_request_list_holds_at_most_the_1000_newest_requests_newest_first(borgo_db_url, borgo_client):
    now = datetime.now(timezone.utc)
    with session_scope(borgo_db_url) as s:
        mid = s.scalar(select(Municipality.id).where(Municipality.slug == "borgo"))
        s.add_all(report_row(mid, when=now - timedelta(minutes=n)) for n in range(1, 1006))
    ids = _ids(borgo_client)
    with session_scope(borgo_db_url) as s:
        newest = s.scalars(select(Report.id).order_by(Report.requested_datetime.desc()).limit(1000)).all()
    assert ids == [str(i) for i in newest]


def test_a_jurisdiction_lists_and_reads_only_its_own_requests(borgo_db_url, borgo_client, borgo_keys):
    with session_scope(borgo_db_url) as s:
        load_municipality(s, BORGO, "borgo-due")
    mine = _post(borgo_client, borgo_keys["public"], jurisdiction_id="borgo")
    assert _ids(borgo_client, "jurisdiction_id=borgo") == [mine]
    assert _ids(borgo_client, "jurisdiction_id=borgo-due") == []
    assert borgo_client.get(f"{API}/requests/{mine}.json?jurisdiction_id=borgo-due").status_code == 404
