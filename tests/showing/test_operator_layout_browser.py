"""The operator's console fits a laptop and a phone screen (``templates/operator.html``,
``maps.municipality_map(layers_collapsed=True)``), in headless Chromium.

At 1366×768 and at 400×800 the map's layer control is a collapsed icon that covers neither the side
panel nor the call-intake form, the map keeps a usable size beside or above the panel, and
nothing is wider than the screen; opening the control lists the town's layers and the live
incident overlays. Screenshots are kept in the test's temporary folder.
"""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.conftest import make_app
from tests.showing.browser import browser_page, log_in
from tests.showing.intake_support import LEAKS, call
from tests.showing.live_server import live_server


def _overlap(a: dict, b: dict) -> bool:
    """Whether two boxes (Playwright's ``bounding_box``) share any area."""
    return (a["x"] < b["x"] + b["width"] and b["x"] < a["x"] + a["width"]
            and a["y"] < b["y"] + b["height"] and b["y"] < a["y"] + a["height"])


@pytest.mark.parametrize("width, height", [(1366, 768), (400, 800)])
def test_the_layer_control_is_collapsed_and_covers_no_panel(borgo_db_url, borgo_keys, tmp_path, width, height):
    app = make_app(borgo_db_url, WTF_CSRF_ENABLED=True)
    client = app.test_client()
    for at in LEAKS:
        call(client, borgo_keys["operator"], "water_leak", at)
    with live_server(app) as base, browser_page() as page:
        page.set_viewport_size({"width": width, "height": height})
        page.set_default_timeout(10_000)
        log_in(page, base, "anna", "/operator")
        expect(page.locator("#incident-list [data-id]")).to_have_count(1)   # the live overlay is in the control
        control = page.locator(".leaflet-control-layers")
        expect(control).to_have_count(1)
        expect(control).not_to_have_class("leaflet-control-layers-expanded")
        expect(control.locator(".leaflet-control-layers-list")).to_be_hidden()
        shut = control.bounding_box()
        assert shut["width"] <= 50 and shut["height"] <= 50, shut
        page.screenshot(path=str(tmp_path / f"operator-{width}x{height}.png"), full_page=True)

        map_box = page.locator(".layout > .map").bounding_box()
        assert map_box["width"] >= min(width - 460, 400) and map_box["height"] >= 300, map_box
        for panel in (".side", "#intake", "#incidents"):
            box = page.locator(panel).bounding_box()
            assert not _overlap(shut, box), (panel, shut, box)
            assert not _overlap(map_box, box), (panel, map_box, box)     # beside the map, or under it
        assert page.evaluate("document.documentElement.scrollWidth") <= width, page.evaluate(  # which is wider
            "[...document.querySelectorAll('.side *')].filter(e => e.getBoundingClientRect().right > innerWidth)"
            ".slice(0, 5).map(e => `${e.tagName}#${e.id} ${e.getBoundingClientRect().right}`)")

        control.hover()                                                    # opened when asked for
        expect(control).to_have_class("leaflet-control-layers leaflet-control leaflet-control-layers-expanded")
        names = control.locator("label")
        expect(names.filter(has_text="strade")).to_have_count(1)
        expect(names.filter(has_text="Incidenti: acqua")).to_have_count(1)
        page.screenshot(path=str(tmp_path / f"operator-{width}x{height}-layers-open.png"), full_page=True)
        assert page.outside == []
