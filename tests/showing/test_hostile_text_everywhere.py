"""Hostile text everywhere it can come from, shown on every page, in a real browser: nothing runs.

A Borgo whose layer files carry markup in the names of a street, a landmark, a crew area and a
crew (layer files anyone may have edited: OpenStreetMap), and calls whose every text field
(description, caller's names, address) carries markup too; the crew resolves the burst with a
note that does as well, so it lands in the reports' status notes, the incident's history and
the closing messages. Then each role's pages are opened in headless Chromium: no script of
those texts runs (no dialog, ``window.pwned`` never set, no ``img[src=x]`` made), and each text
is shown as text where it appears. The Open311 answers carry it escaped (the XML parses).
"""
from __future__ import annotations

import csv
import json
import shutil
from xml.etree import ElementTree as ET

import pytest
from sqlalchemy import select

from geo_urp.accounts import create_api_key, create_user
from geo_urp.db import session_scope
from geo_urp.loading.loader import load_municipality
from geo_urp.models import Municipality
from tests.conftest import BORGO, make_app
from tests.showing.browser import browser_page, log_in
from tests.showing.intake_support import LEAKS, call, incident_of
from tests.showing.live_server import live_server

MARK = '<img src=x onerror="window.pwned=1"><script>window.pwned=2</script>'
PAGES = {"anna": ["/operator"], "gino": ["/crew", "/crew/print"], "carla": ["/council"], "ada": ["/admin"]}


def _hostile_layers(folder):
    """Borgo's layers with markup in a street, a landmark, a crew area and a crew's names."""
    shutil.copytree(BORGO, folder)
    for layer, field in (("streets", "name"), ("landmarks", "name"), ("crew_areas", "name")):
        path = folder / f"{layer}.geojson"
        doc = json.loads(path.read_text(encoding="utf-8"))
        doc["features"][-1]["properties"][field] += " " + MARK
        path.write_text(json.dumps(doc), encoding="utf-8")
    with open(folder / "crews.csv", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    for row in rows:
        if row["crew_id"] == "ACQUA":
            row["name"] += " " + MARK
    with open(folder / "crews.csv", "w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return folder


@pytest.fixture()
def hostile(fresh_db_url, tmp_path):
    """The hostile Borgo, its logins and an operator key, and a burst resolved with a hostile note."""
    with session_scope(fresh_db_url) as s:
        load_municipality(s, _hostile_layers(tmp_path / "borgo"), "borgo", "Borgo " + MARK)
        for user, role, crew in (("anna", "operator", None), ("gino", "crew", "ACQUA"), ("carla", "council", None),
                                 ("ada", "admin", None)):
            create_user(s, user, f"password-{user}", role, crew_id=crew, municipality="borgo" if crew else None)
        key = create_api_key(s, "operator", "borgo")
        assert s.scalar(select(Municipality.name).where(Municipality.slug == "borgo")).endswith(MARK)
    app = make_app(fresh_db_url)
    client = app.test_client()
    fields = {"description": "acqua in strada " + MARK, "first_name": MARK, "last_name": MARK,
              "address_string": "Via Roma 3 " + MARK, "phone": "+39 347 000 0000"}
    ids = [call(client, key, "water_leak", at, **fields) for at in LEAKS]
    call(client, key, "noise", (700, 200), **fields)
    burst = incident_of(client, key, ids[0])
    headers = {"X-API-Key": key}
    for step in ({"status": "assigned", "crew_id": "ACQUA"}, {"status": "in_progress"},
                 {"status": "resolved", "note": "riparata " + MARK}):
        resp = client.post(f"/api/incidents/{burst['id']}/status", json=step, headers=headers)
        assert resp.status_code == 200, resp.get_data(as_text=True)
    return fresh_db_url, key, ids


def test_no_hostile_text_runs_on_any_page_and_each_is_shown_as_text(hostile, tmp_path):
    url, _, _ = hostile
    app = make_app(url, WTF_CSRF_ENABLED=True)
    with live_server(app) as base, browser_page() as page:
        page.set_default_timeout(15_000)
        dialogs, failed = [], []
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.on("response", lambda r: failed.append((r.url, r.status)) if r.status >= 500 else None)
        page.add_init_script("window.pwned = 0")
        for user, paths in PAGES.items():
            log_in(page, base, user, paths[0])
            for path in paths:
                page.goto(f"{base}{path}")
                page.wait_for_load_state("networkidle")
                ran = page.evaluate("() => ({pwned: window.pwned, made: document.querySelectorAll('img[src=x]').length,"
                                    " text: document.body.innerText})")
                assert (ran["pwned"], ran["made"]) == (0, 0), (user, path)
                assert "<img src=x" in ran["text"], (user, path)  # shown, as text
                page.screenshot(path=str(tmp_path / f"{user}{path.replace('/', '-')}.png"), full_page=True)
            page.click("header button[type=submit]")  # Esci
            page.wait_for_url(f"{base}/login")
    assert dialogs == [] and failed == [] and page.outside == []


def test_open311_answers_carry_hostile_text_escaped(hostile):
    url, key, ids = hostile
    client = make_app(url).test_client()
    xml = client.get(f"/open311/v2/requests/{ids[0]}.xml?jurisdiction_id=borgo", headers={"X-API-Key": key})
    assert xml.status_code == 200
    notes = [e.text for e in ET.fromstring(xml.data).iter("status_notes")]
    assert notes == ["riparata " + MARK]
    updates = client.get("/open311/v2/servicerequestupdates.xml?jurisdiction_id=borgo", headers={"X-API-Key": key})
    assert updates.status_code == 200 and ET.fromstring(updates.data) is not None
    data = client.get(f"/open311/v2/requests/{ids[0]}.json?jurisdiction_id=borgo", headers={"X-API-Key": key}).json
    assert data[0]["description"] == "acqua in strada " + MARK
