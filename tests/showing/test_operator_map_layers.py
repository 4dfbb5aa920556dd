"""The town's layers on the operator's page (``maps.drawn_map``, ``static/on_demand_layer.js``): drawn
once per load of the layers and reader's language, and without the civic numbers, which the page
fetches (``GET /api/layers/addresses``) only when the operator ticks them in the layer control.

A Borgo of the test's own, one civic number with markup in its street (layer files anyone may have
edited), an Italian and an English operator; the browser is headless Chromium.
"""
from __future__ import annotations

import json
import re
import shutil

import pytest
from playwright.sync_api import expect
from pyproj import Transformer
from shapely.geometry import Point

from geo_urp.accounts import create_user
from geo_urp.db import session_scope
from geo_urp.loading.loader import load_municipality
from tests.conftest import BORGO, make_app
from tests.showing.browser import browser_page, log_in
from tests.showing.live_server import live_server

MARK = '<img src=x onerror="window.pwned=1">'
_TO_METRES = Transformer.from_crs(4326, 32632, always_xy=True)
# The civic numbers Leaflet has on the map: [lat, lon, tooltip text] each.
_CIVICS = """() => {
  const map = Object.values(window).find(v => v instanceof L.Map), out = [];
  map.eachLayer(l => { if (l.feature?.properties?.address_id != null && l instanceof L.CircleMarker)
    out.push([l.getLatLng().lat, l.getLatLng().lng, l.getTooltip().getContent().textContent]); });
  return out;
}"""


def _borgo(folder, streets: dict[str, str] | None = None, civic_mark: bool = True):
    """Borgo's layer files in ``folder``: its last civic number's street with markup, streets renamed."""
    shutil.copytree(BORGO, folder, dirs_exist_ok=True)
    for layer, field, names in (("addresses", "street", {}), ("streets", "name", streets or {})):
        path = folder / f"{layer}.geojson"
        doc = json.loads(path.read_text(encoding="utf-8"))
        for f in doc["features"]:
            f["properties"][field] = names.get(f["properties"][field], f["properties"][field])
        if layer == "addresses" and civic_mark:
            doc["features"][-1]["properties"]["street"] += " " + MARK
        path.write_text(json.dumps(doc), encoding="utf-8")
    return folder


@pytest.fixture()
def town(fresh_db_url, tmp_path):
    """The test's Borgo with an Italian operator (anna) and an English one (emma)."""
    with session_scope(fresh_db_url) as s:
        load_municipality(s, _borgo(tmp_path / "borgo"), "borgo")
        for user, lang in (("anna", "it"), ("emma", "en")):
            create_user(s, user, f"password-{user}", "operator", language=lang)
    return fresh_db_url


def _civics_in_file(folder) -> list[tuple[tuple[float, float], str]]:
    doc = json.loads((folder / "addresses.geojson").read_text(encoding="utf-8"))
    return [(tuple(f["geometry"]["coordinates"]), f"{f['properties']['street']} {f['properties']['number']}")
            for f in doc["features"]]


def test_the_civic_numbers_come_only_when_ticked(town, tmp_path):
    asked = []
    with live_server(make_app(town)) as base, browser_page() as page:
        page.set_default_timeout(10_000)
        page.on("request", lambda r: asked.append(r.url) if "/api/layers/" in r.url else None)
        log_in(page, base, "anna", "/operator")
        html = page.goto(f"{base}/operator").text()
        assert '"address_id"' not in html and "14 bis" not in html   # no civic number in the page
        control = page.locator(".leaflet-control-layers")
        control.hover()
        civics = page.locator(".leaflet-control-layers-overlays label", has_text="numeri civici")
        expect(civics).to_have_count(1)
        expect(civics.locator("input")).not_to_be_checked()
        assert page.evaluate(_CIVICS) == [] and asked == []

        civics.locator("input").check()
        page.wait_for_function(f"() => ({_CIVICS})().length > 0")
        drawn = page.evaluate(_CIVICS)
        expected = _civics_in_file(tmp_path / "borgo")
        assert sorted(tip for *_, tip in drawn) == sorted(tip for _, tip in expected)
        for lat, lon, tip in drawn:  # each where the file has it
            at = _TO_METRES.transform(lon, lat)
            assert any(Point(at).distance(Point(p)) < 0.5 for p, t in expected if t == tip), (tip, at)
        assert any(MARK in tip for *_, tip in drawn)               # markup shown as text, never run
        assert page.evaluate("window.pwned") is None and page.locator(".leaflet-container img[src=x]").count() == 0
        assert [re.sub(r"^http://[^/]+", "", u) for u in asked] == ["/api/layers/addresses?jurisdiction_id=borgo"]

        civics.locator("input").uncheck()
        assert page.evaluate(_CIVICS) == []
        civics.locator("input").check()                            # again: drawn from what came, not asked again
        assert len(page.evaluate(_CIVICS)) == len(expected) and len(asked) == 1
        page.screenshot(path=str(tmp_path / "civics.png"))
        assert page.outside == []


def _page(app, user: str) -> str:
    client = app.test_client()
    assert client.post("/login", data={"username": user, "password": f"password-{user}"}).status_code == 302
    resp = client.get("/operator")
    assert resp.status_code == 200
    return resp.get_data(as_text=True)


def _map_name(page: str) -> str:
    return re.search(r'mapName: "(map_\w+)"', page).group(1)


def test_the_drawn_map_is_kept_per_language_until_the_layers_are_reloaded(town, tmp_path):
    app = make_app(town)
    first, english, again = _page(app, "anna"), _page(app, "emma"), _page(app, "anna")
    assert '"strade"' in first and '"streets"' in english and '"strade"' not in english
    assert _map_name(first) == _map_name(again) != _map_name(english)   # drawn once per language
    assert "Via IV Novembre" in first and "Via Quattro Novembre" not in first

    with session_scope(town) as s:                                     # the layers reloaded: a street renamed
        load_municipality(s, _borgo(tmp_path / "reloaded", {"Via IV Novembre": "Via Quattro Novembre"}, False),
                          "borgo")
    reloaded, english = _page(app, "anna"), _page(app, "emma")
    assert "Via Quattro Novembre" in reloaded and "Via IV Novembre" not in reloaded
    assert "Via Quattro Novembre" in english and '"streets"' in english
    assert _map_name(reloaded) != _map_name(first)


def test_a_layer_is_served_as_geojson_and_an_unknown_one_is_named(town):
    client = make_app(town).test_client()
    client.post("/login", data={"username": "anna", "password": "password-anna"})
    resp = client.get("/api/layers/addresses")
    assert resp.status_code == 200 and resp.mimetype == "application/geo+json"
    features = resp.get_json()["features"]
    assert len(features) == 8 and all(f["properties"]["id"] == f["properties"]["address_id"] for f in features)
    assert any(f["properties"]["street"].endswith(MARK) for f in features)   # as in the file: the page sets it as text
    resp = client.get("/api/layers/reports")
    # in anna's language, Italian (English by Accept-Language only for a key or nobody)
    assert resp.status_code == 404 and "layer 'reports' non è stato trovato; livelli: crew_areas" in resp.json["error"]


def test_a_town_without_civic_numbers_is_offered_none(fresh_db_url, tmp_path):
    folder = _borgo(tmp_path / "borgo")
    (folder / "addresses.geojson").unlink()
    with session_scope(fresh_db_url) as s:
        load_municipality(s, folder, "borgo")
        create_user(s, "anna", "password-anna", "operator", language="it")
    client = make_app(fresh_db_url).test_client()
    client.post("/login", data={"username": "anna", "password": "password-anna"})
    page = client.get("/operator")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "civicNumbers: null" in html and "/api/layers/addresses" not in html
