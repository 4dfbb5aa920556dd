"""Login and the operator's live map, in a real browser against the real app."""
from __future__ import annotations

import uuid
from datetime import datetime, timezone

from geoalchemy2.shape import from_shape
from shapely.geometry import Point

from geo_urp.accounts import create_user
from geo_urp.db import session_scope
from geo_urp.loading.loader import load_municipality
from geo_urp.models import METRIC_SRID, Report
from geo_urp.reasoning import on_report_stored
from tests.conftest import BORGO
from tests.showing.browser import browser_page
from tests.showing.live_server import live_server


def _seed(url):
    with session_scope(url) as s:
        load_municipality(s, BORGO, "borgo")
        create_user(s, "anna", "password-anna", "operator")
        create_user(s, "carla", "password-carla", "council")
        mid = s.execute(__import__("sqlalchemy").text("SELECT id FROM municipalities")).scalar()
        t = datetime(2026, 11, 27, 23, 0, tzinfo=timezone.utc)
        r = Report(municipality_id=mid, token=uuid.uuid4().hex, service_code="water_leak", requested_datetime=t,
                   updated_datetime=t, attributes={}, pipe_id="P4", segment_no=3,
                   description='<img src=x onerror="window.pwned=1">',
                   geom=from_shape(Point(660503, 5118380), srid=METRIC_SRID))
        s.add(r)
        s.flush()
        on_report_stored(s, r)


def test_pages_need_a_login(client):
    resp = client.get("/operator")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]
    assert client.get("/api/incidents").status_code == 401


def test_wrong_password_is_refused(app, client):
    _seed(app.config["DATABASE_URL"])
    resp = client.post("/login", data={"username": "anna", "password": "nope-nope"})
    assert resp.status_code == 401 and "errati" in resp.get_data(as_text=True)


def test_council_may_not_open_the_operator_page(app, client):
    _seed(app.config["DATABASE_URL"])
    client.post("/login", data={"username": "carla", "password": "password-carla"})
    assert client.get("/operator").status_code == 403


def test_operator_logs_in_and_sees_the_live_incident(app):
    app.config["WTF_CSRF_ENABLED"] = True
    _seed(app.config["DATABASE_URL"])
    with live_server(app) as base, browser_page() as page:
        page.goto(f"{base}/operator")
        assert "/login" in page.url
        page.fill("input[name=username]", "anna")
        page.fill("input[name=password]", "password-anna")
        page.click("button[type=submit]")
        page.wait_for_url(f"{base}/operator")
        page.wait_for_selector(".incident")
        text = page.inner_text("#incident-list")
        assert "water_main_burst P4" in text and "chiudere V2, V3, V5" in text
        assert page.inner_text("#incident-count").startswith("1 ")
        assert page.evaluate("window.pwned") is None
        assert page.outside == []
