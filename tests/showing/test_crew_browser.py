"""A crew member on a phone-sized screen (400×800) resolves a job in headless Chromium, offline.

The burst of main P5 (four leak calls, one telling its story in script) is sent to crew ACQUA by
an operator; ``gino``, a crew ACQUA login, opens ``/crew`` in a real browser on the real app
(CSRF checked), writes a note, starts the work, then resolves it. Every request the page makes
is recorded: none may leave 127.0.0.1. A screenshot is kept in the test's temporary folder.
"""
from __future__ import annotations

import re
from urllib.parse import urlparse

from playwright.sync_api import expect
from sqlalchemy import select, text

from geo_urp.accounts import create_user
from geo_urp.db import session_scope
from geo_urp.models import IncidentEvent, Report
from tests.conftest import make_app
from tests.showing.browser import browser_page, log_in
from tests.showing.live_server import live_server
from tests.showing.test_crew_page import _incident_of, _post

SCRIPTED = '<img src=x onerror="window.pwned=1">'
NOTE = "Sostituito un tratto di tubo in Via Roma: acqua di nuovo regolare."


def test_a_crew_member_resolves_a_job_from_a_400px_screen(borgo_db_url, borgo_client, borgo_keys, tmp_path):
    op = borgo_keys["operator"]
    reports = [_post(borgo_client, op, "water_leak", (330 + 40 * n, 453),
                     description=SCRIPTED if n == 0 else "acqua in strada") for n in range(4)]
    burst = _incident_of(borgo_client, op, reports[0])["id"]
    resp = borgo_client.post(f"/api/incidents/{burst}/status", json={"status": "assigned"}, headers={"X-API-Key": op})
    assert resp.status_code == 200, resp.json
    with session_scope(borgo_db_url) as s:
        create_user(s, "gino", "password-gino", "crew", crew_id="ACQUA", municipality="borgo")
    app = make_app(borgo_db_url, WTF_CSRF_ENABLED=True)
    with live_server(app) as base, browser_page() as page:
        page.set_viewport_size({"width": 400, "height": 800})
        page.set_default_timeout(10_000)
        asked = []
        page.on("request", lambda r: asked.append(r.url))
        log_in(page, base, "gino", "/crew")

        job = page.locator(f'[data-incident-id="{burst}"]')
        expect(job.locator("h2")).to_contain_text("Rottura di una condotta")
        expect(job.locator(".leaflet-tooltip").first).to_have_text("1. V2")      # the valves on the map, in order
        assert job.locator("path.leaflet-interactive").count() > 0                # the main and the streets drawn
        assert page.evaluate("document.documentElement.scrollWidth") <= 400       # nothing wider than the phone
        assert page.evaluate("window.pwned") is None

        job.locator("textarea[name=note]").fill("Sul posto, chiudo le valvole.")
        job.locator('button[name=status][value="in_progress"]').click()
        expect(job.locator(".status-label")).to_have_text("Lavoro in corso")
        expect(job.locator("button[name=status]")).to_have_count(1)
        expect(job.locator("button[name=status]")).to_have_attribute("value", "resolved")

        job.locator("textarea[name=note]").fill(NOTE)
        job.locator('button[name=status][value="resolved"]').click()
        expect(job.locator(".status-label")).to_have_text("Risolto")
        expect(job.locator("button[name=status]")).to_have_count(0)
        expect(job.locator(".step-result")).to_contain_text("Lavoro risolto")
        shot = tmp_path / "crew-400x800.png"
        page.screenshot(path=str(shot), full_page=True)
        print(f"screenshot: {shot}")

        assert asked and [u for u in asked if urlparse(u).hostname != "127.0.0.1"] == []
        assert page.outside == []
    assert shot.stat().st_size > 0

    with session_scope(borgo_db_url) as s:
        steps = s.scalars(select(IncidentEvent.detail).where(IncidentEvent.incident_id == burst,
                                                             IncidentEvent.action == "status")
                          .order_by(IncidentEvent.id)).all()
        assert [(d["to"], d["note"]) for d in steps] == [
            ("assigned", ""), ("in_progress", "Sul posto, chiudo le valvole."), ("resolved", NOTE)]
        closed = s.execute(select(Report.status, Report.status_notes).where(Report.id.in_(reports))).all()
        assert set(closed) == {("closed", NOTE)}


def test_the_list_refreshes_itself_and_keeps_the_note_being_typed(borgo_db_url, borgo_client, borgo_keys, tmp_path):
    """A job sent to the crew after the page opened appears without a reload, and a job changed
    meanwhile is redrawn, while the note typed into it stays, with the cursor in it."""
    op = borgo_keys["operator"]
    reports = [_post(borgo_client, op, "water_leak", (330 + 40 * n, 453)) for n in range(4)]
    burst = _incident_of(borgo_client, op, reports[0])["id"]
    assert borgo_client.post(f"/api/incidents/{burst}/status", json={"status": "assigned"},
                             headers={"X-API-Key": op}).status_code == 200
    with session_scope(borgo_db_url) as s:
        create_user(s, "gino", "password-gino", "crew", crew_id="ACQUA", municipality="borgo")
    app = make_app(borgo_db_url, WTF_CSRF_ENABLED=True)
    with live_server(app) as base, browser_page() as page:
        page.set_viewport_size({"width": 400, "height": 800})
        page.set_default_timeout(10_000)
        log_in(page, base, "gino", "/crew")
        page.goto(f"{base}/crew?poll_ms=300")
        job = page.locator(f'[data-incident-id="{burst}"]')
        expect(job.locator(".status-label")).to_have_text("Assegnato alla squadra")
        note = job.locator("textarea[name=note]")
        note.click()
        page.keyboard.type("Chiuse V2 e V3, ")
        assert page.locator("[data-incident-id]").count() == 1

        # Meanwhile: the burst gets a new priority at the operators', and a
        # no-water call far away becomes a job the operator sends to the crew.
        with session_scope(borgo_db_url) as s:
            s.execute(text("UPDATE incidents SET priority = 3 WHERE id = :i"), {"i": burst})
        outage = _incident_of(borgo_client, op, _post(borgo_client, op, "no_water", (800, 800)))["id"]
        assert borgo_client.post(f"/api/incidents/{outage}/status", json={"status": "assigned"},
                                 headers={"X-API-Key": op}).status_code == 200

        fresh = page.locator(f'[data-incident-id="{outage}"]')
        expect(fresh.locator("h2")).to_contain_text("Mancanza d'acqua")
        expect(fresh.locator("button[name=status]")).to_have_attribute("value", "in_progress")
        expect(fresh.locator("path.leaflet-interactive, .leaflet-marker-icon").first).to_be_attached()
        expect(job).to_have_class(re.compile(r"\bp3\b"))                       # the changed job, redrawn
        expect(page.locator("#job-count")).to_have_text("2 lavori da fare")
        # the order is the list's: by priority, the outage (2 or more urgent) before the burst (3)
        assert page.locator("[data-incident-id]").evaluate_all("els => els.map(e => +e.dataset.incidentId)") == [
            outage, burst]
        page.keyboard.type("acqua di nuovo regolare.")                       # still typing in the same note
        expect(note).to_have_value("Chiuse V2 e V3, acqua di nuovo regolare.")
        assert note.evaluate("el => el === document.activeElement")
        page.screenshot(path=str(tmp_path / "crew-refreshed-400x800.png"), full_page=True)

        job.locator('button[name=status][value="in_progress"]').click()      # and the note goes with the step
        expect(job.locator(".status-label")).to_have_text("Lavoro in corso")
        assert page.outside == []
    with session_scope(borgo_db_url) as s:
        assert s.scalars(select(IncidentEvent.detail).where(IncidentEvent.incident_id == burst,
                                                            IncidentEvent.action == "status")
                         .order_by(IncidentEvent.id.desc()).limit(1)).one()["note"] == (
            "Chiuse V2 e V3, acqua di nuovo regolare.")
