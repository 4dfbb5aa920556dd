"""Login and the operator's live map, in a real browser against the real app."""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import select

from geo_urp.db import session_scope
from geo_urp.models import Municipality
from geo_urp.reasoning import on_report_stored
from tests.conftest import make_app, report_row
from tests.showing.browser import browser_page
from tests.showing.live_server import live_server


def test_the_operator_page_and_the_api_need_a_login(shared_client):
    resp = shared_client.get("/operator")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]
    assert shared_client.get("/api/incidents").status_code == 401


def test_a_wrong_password_is_refused(borgo_client):
    # Not on the shared, read-only database: a refused password is recorded (the login throttle).
    resp = borgo_client.post("/login", data={"username": "anna", "password": "nope-nope"})
    assert resp.status_code == 401 and "errati" in resp.get_data(as_text=True)


def test_the_council_may_not_open_the_operator_page(shared_client):
    shared_client.post("/login", data={"username": "carla", "password": "password-carla"})
    assert shared_client.get("/operator").status_code == 403


def test_the_operator_logs_in_and_sees_the_live_incident_with_its_text_escaped(borgo_db_url):
    with session_scope(borgo_db_url) as s:       # a burst of main P4, told in a call that tries script
        mid = s.scalar(select(Municipality.id).where(Municipality.slug == "borgo"))
        report = report_row(mid, at=(503, 380), when=datetime(2026, 11, 27, 23, 0, tzinfo=timezone.utc),
                            service_code="water_leak", pipe_id="P4", segment_no=3,
                            description='<img src=x onerror="window.pwned=1">')
        s.add(report)
        s.flush()
        on_report_stored(s, report)
    app = make_app(borgo_db_url, WTF_CSRF_ENABLED=True)
    with live_server(app) as base, browser_page() as page:
        page.goto(f"{base}/operator")
        assert "/login" in page.url
        page.fill("input[name=username]", "anna")
        page.fill("input[name=password]", "password-anna")
        page.click("button[type=submit]")
        page.wait_for_url(f"{base}/operator")
        page.wait_for_selector(".incident")
        text = page.inner_text("#incident-list")
        assert "Rottura di una condotta P4" in text and "chiudere V2, V3, V5" in text
        assert page.inner_text("#incident-count").startswith("1 ")
        assert page.evaluate("window.pwned") is None
        assert page.outside == []
