"""The layer map: written by ``map``, opened in a real browser with no internet."""
from __future__ import annotations

import pytest

from geo_urp.errors import NotFound
from geo_urp.showing.maps import _text_safe, colour_for, municipality_map, write_map
from tests.showing.browser import browser_page


def test_map_file_opens_offline_with_every_layer(shared_session, tmp_path):
    out = write_map(shared_session, "borgo", tmp_path / "borgo.html")
    html = out.read_text()
    assert "cdn" not in html.lower() and "https://" not in html.split("<body>")[0]
    with browser_page() as page:
        page.goto(out.as_uri())
        page.wait_for_selector(".leaflet-control-layers")
        assert page.evaluate("typeof L") == "object"
        labels = page.locator(".leaflet-control-layers-overlays label").all_inner_texts()
        names = " | ".join(labels)
        # Written outside a request: named in Italian.
        for layer in ("zone delle squadre", "strade", "condotte dell'acqua (per diametro)", "valvole dell'acqua",
                      "fonti dell'acqua", "lampioni (per circuito)", "quadri dell'illuminazione", "luoghi noti",
                      "numeri civici"):
            assert layer in names, names
        # 11 lamps, 6 valves, 2 cabinets, 1 source, 2 landmarks drawn as circle markers on the canvas
        # renderer are not DOM nodes; the layer count on the map object tells what was drawn.
        drawn = page.evaluate("""() => { let n = 0; for (const k in window) {
            const v = window[k]; if (v && v._layers && k.startsWith('geo_json')) n += Object.keys(v._layers).length; }
            return n; }""")
        assert drawn >= 5 + 7 + 6 + 11 + 2 + 2 + 2 + 1
        page.screenshot(path=str(tmp_path / "map.png"))
        assert page.outside == []


def test_lamps_of_one_circuit_share_a_colour():
    assert colour_for("C1") == colour_for("C1")
    assert len({colour_for(f"C{i}") for i in range(30)}) > 5


def test_map_of_unknown_municipality_is_refused(shared_session):
    with pytest.raises(NotFound, match="municipality 'nowhere' was not found"):
        municipality_map(shared_session, "nowhere")


def test_layer_text_reaches_the_map_escaped():
    fc = {"features": [{"properties": {"name": '<img src=x onerror="alert(1)">', "diameter_mm": 150}}]}
    props = _text_safe(fc)["features"][0]["properties"]
    assert "<" not in props["name"] and "&lt;img" in props["name"] and props["diameter_mm"] == 150
