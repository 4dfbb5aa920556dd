"""Each role logs in through the real form in headless Chromium and lands on its own page, offline.

On a Borgo of its own (CSRF checked) with a burst on main P5 and a noise cluster: ``anna``
(operator), ``gino`` (crew ACQUA), ``carla`` (council) and ``ada`` (admin) log in one after
the other in the same browser, each leaving with the page's "Esci" button. No answer is a
4xx or 5xx, the council's map draws the town's layers and the open incidents over them,
and no request leaves 127.0.0.1. A screenshot of each page is kept in the test's
temporary folder.
"""
from __future__ import annotations

from urllib.parse import urlparse

from playwright.sync_api import expect

from geo_urp.accounts import create_user
from geo_urp.db import session_scope
from tests.acting.test_intake import latlong
from tests.conftest import make_app
from tests.showing.browser import browser_page
from tests.showing.live_server import live_server

# login -> the path it lands on
LANDS = {"anna": "/operator", "gino": "/crew", "carla": "/council", "ada": "/admin"}


def _calls(client, key: str) -> None:
    """Three leak calls along main P5 (one burst) and three noise calls close together (one cluster)."""
    for n in range(3):
        for code, at in (("water_leak", (330 + 40 * n, 453)), ("noise", (700 + 5 * n, 200))):
            resp = client.post("/open311/v2/requests.json", data={"api_key": key, "service_code": code, **latlong(*at)})
            assert resp.status_code == 201, resp.get_data(as_text=True)


def _council_map(page) -> dict:
    """What the council's Leaflet map holds: its overlays as the layer control lists them, and
    the incidents drawn (the features with the page's Italian tooltip fields)."""
    return page.evaluate("""() => {
        const map = Object.values(window).find(v => v instanceof L.Map);
        const incidents = [];
        map.eachLayer(l => { if (l.feature && l.feature.properties && 'tipo' in l.feature.properties) incidents.push(l.feature.properties); });
        const overlays = [...document.querySelectorAll('.leaflet-control-layers-overlays label')]
            .map(label => label.textContent.trim());
        return {overlays, incidents};
    }""")


def test_each_role_lands_on_its_own_page(borgo_db_url, borgo_client, borgo_keys, tmp_path):
    _calls(borgo_client, borgo_keys["operator"])
    with session_scope(borgo_db_url) as s:
        create_user(s, "gino", "password-gino", "crew", crew_id="ACQUA", municipality="borgo")
        create_user(s, "ada", "password-ada", "admin")
    app = make_app(borgo_db_url, WTF_CSRF_ENABLED=True)
    with live_server(app) as base, browser_page() as page:
        page.set_default_timeout(10_000)
        asked, failed = [], []
        page.on("request", lambda r: asked.append(r.url))
        page.on("response", lambda r: failed.append((r.url, r.status)) if r.status >= 400 else None)
        for user, path in LANDS.items():
            page.goto(f"{base}/")
            page.wait_for_url(f"{base}/login")
            page.fill("input[name=username]", user)
            page.fill("input[name=password]", f"password-{user}")
            page.click("button[type=submit]")
            page.wait_for_url(f"{base}{path}")
            page.wait_for_load_state("load")
            if user == "carla":
                expect(page.locator("#council-map .leaflet-container")).to_be_visible()
                drawn = _council_map(page)
                assert {"Incidenti aperti", "strade", "condotte dell'acqua (per diametro)"} <= set(drawn["overlays"])
                assert sorted(i["tipo"] for i in drawn["incidents"]) == [
                    "Disturbo della quiete pubblica", "Rottura di una condotta"]
                expect(page.locator("#counts tr[data-kind=water_main_burst] td.calls")).to_have_text("3")
            if user == "ada":
                expect(page.locator("#logins tr[data-username=gino]")).to_contain_text("squadra")
            page.screenshot(path=str(tmp_path / f"{user}.png"), full_page=True)
            page.click("header button[type=submit]")                # Esci
            page.wait_for_url(f"{base}/login")
        assert failed == []
        assert page.outside == []
        assert asked and {urlparse(url).netloc for url in asked} == {urlparse(base).netloc}
