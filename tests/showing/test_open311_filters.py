"""``GET requests`` filters of GeoReport v2: ids, service_code, status, date window, the 1000 cap, jurisdiction."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import text, update

from geo_urp.db import session_scope
from geo_urp.loading.loader import load_municipality
from geo_urp.models import Report
from tests.conftest import BORGO
from tests.showing.open311_support import API, keys, latlong, post, validate  # noqa: F401


def _post(client, key, code="noise", **extra) -> str:
    resp = post(client, key, service_code=code, **latlong(500, 500), **extra)
    assert resp.status_code == 201, resp.data
    return resp.json[0]["service_request_id"]


def _ids(client, query: str = "") -> list[str]:
    resp = client.get(f"{API}/requests.json" + (f"?{query}" if query else ""))
    assert resp.status_code == 200, resp.data
    validate(resp.json, "requests.json")
    return [r["service_request_id"] for r in resp.json]


def test_service_code_and_status(app, client, keys):
    noise, flood, leak = (_post(client, keys["public"], code) for code in ("noise", "flooding", "water_leak"))
    with session_scope(app.config["DATABASE_URL"]) as s:
        s.execute(update(Report).where(Report.id == int(flood)).values(status="closed", status_notes="Svuotato"))
    assert _ids(client, "service_code=noise") == [noise]
    assert set(_ids(client, "service_code=noise,water_leak")) == {noise, leak}
    assert _ids(client, "status=closed") == [flood]
    assert set(_ids(client, "status=open")) == {noise, leak}
    assert set(_ids(client, "status=open,closed")) == {noise, flood, leak}
    closed = client.get(f"{API}/requests/{flood}.json").json[0]
    assert (closed["status"], closed["status_notes"]) == ("closed", "Svuotato")


def test_service_request_id_list_overrides_other_filters(client, keys):
    a, b, c = (_post(client, keys["public"]) for _ in range(3))
    assert set(_ids(client, f"service_request_id={a},{c}&status=closed&service_code=flooding")) == {a, c}
    assert b not in _ids(client, f"service_request_id={a},{c}")


def test_default_window_is_the_last_90_days(client, keys):
    now = datetime.now(timezone.utc)
    recent = _post(client, keys["operator"], requested_datetime=(now - timedelta(days=10)).isoformat())
    old = _post(client, keys["operator"], requested_datetime=(now - timedelta(days=100)).isoformat())
    assert _ids(client) == [recent]
    start = (now - timedelta(days=120)).strftime("%Y-%m-%dT%H:%M:%SZ")
    end = (now - timedelta(days=95)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert _ids(client, f"start_date={start}&end_date={end}") == [old]
    assert _ids(client, f"start_date={start}") == [old]          # start + 90 days
    assert _ids(client, f"end_date={end}") == [old]              # end - 90 days


def test_at_most_1000_newest_first(app, client, keys):
    with session_scope(app.config["DATABASE_URL"]) as s:
        s.execute(text("""
            INSERT INTO reports (municipality_id, token, service_code, status, requested_datetime,
                                 updated_datetime, attributes, call_back, geom)
            SELECT m.id, 'bulk-' || g, 'noise', 'open', now() - g * interval '1 minute', now(), '{}', false,
                   ST_SetSRID(ST_MakePoint(660500, 5118500), 32632)
            FROM municipalities m, generate_series(1, 1005) g"""))
    ids = _ids(client)
    assert len(ids) == 1000
    with session_scope(app.config["DATABASE_URL"]) as s:
        newest = s.execute(text("SELECT id FROM reports ORDER BY requested_datetime DESC LIMIT 1")).scalar()
    assert ids[0] == str(newest)


def test_only_the_jurisdictions_requests(app, client, keys):
    with session_scope(app.config["DATABASE_URL"]) as s:
        load_municipality(s, BORGO, "borgo-due")
    mine = _post(client, keys["public"], jurisdiction_id="borgo")
    assert _ids(client, "jurisdiction_id=borgo") == [mine]
    assert _ids(client, "jurisdiction_id=borgo-due") == []
    assert client.get(f"{API}/requests/{mine}.json?jurisdiction_id=borgo-due").status_code == 404
