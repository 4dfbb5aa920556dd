"""The council's hotspots (``/api/hotspots``, ``/council``, ``/council/hotspots.csv``) on a Borgo with
a planted hotspot of road damage, a thin background and a few calls about someone in distress.

The API and the page find the planted hotspot; no output holds a report's words, a caller or
a count under the threshold; the services about people stay off; in headless Chromium the
cells, the legend, the heat layer and the month slider work offline.
"""
from __future__ import annotations

import csv
import io
from datetime import datetime, timezone

import numpy as np
import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from geo_urp.db import session_scope
from geo_urp.models import Municipality
from geo_urp.reading.privacy import COUNCIL_MIN_REPORTS
from tests.conftest import make_app, report_row
from tests.showing.browser import browser_page, log_in
from tests.showing.live_server import live_server

WORDS = "la signora Bianchi del civico 4 <script>alert(1)</script>"
THIS_YEAR = datetime.now(timezone.utc).year


@pytest.fixture()
def planted(borgo_db_url) -> str:
    """Road damage this year: 150 calls within 120 m of (500, 500), 60 across the town; 4 calls
    about a person in distress at (200, 800). Each with a caller's words."""
    rng = np.random.default_rng(3)
    when = datetime(THIS_YEAR, 1, 15, 10, tzinfo=timezone.utc)
    with session_scope(borgo_db_url) as s:
        mid = s.scalar(select(Municipality.id).where(Municipality.slug == "borgo"))
        r, a = 120 * np.sqrt(rng.random(150)), rng.uniform(0, 2 * np.pi, 150)
        rows = [report_row(mid, (500 + x, 500 + y), when, service_code="road_damage", description=WORDS)
                for x, y in zip(r * np.cos(a), r * np.sin(a))]
        rows += [report_row(mid, (float(x), float(y)), when, service_code="road_damage", description=WORDS)
                 for x, y in rng.uniform(20, 980, size=(60, 2))]
        rows += [report_row(mid, (200, 800), when, service_code="social_distress", description=WORDS)
                 for _ in range(4)]
        s.add_all(rows)
    return borgo_db_url


QUERY = f"jurisdiction_id=borgo&service_code=road_damage&from={THIS_YEAR}-01&to={THIS_YEAR}-12&cell_m=100"


def test_the_api_finds_the_planted_hotspot_and_shows_no_small_count(planted, borgo_keys):
    client = make_app(planted).test_client()
    resp = client.get(f"/api/hotspots?{QUERY}&trend=1", headers={"X-API-Key": borgo_keys["council"]})
    assert resp.status_code == 200, resp.get_data(as_text=True)
    answer = resp.json
    assert answer["hot"] >= 1 and answer["type"] == "FeatureCollection"
    counts = [f["properties"]["count"] for f in answer["features"]]
    assert all(n is None or n >= COUNCIL_MIN_REPORTS for n in counts) and None in counts
    assert WORDS not in resp.get_data(as_text=True) and "Bianchi" not in resp.get_data(as_text=True)
    again = client.get(f"/api/hotspots?{QUERY}&trend=1", headers={"X-API-Key": borgo_keys["council"]})
    assert again.json == answer


def test_services_about_people_stay_off_the_council_maps(planted, borgo_keys):
    client = make_app(planted).test_client()
    refused = client.get("/api/hotspots?jurisdiction_id=borgo&service_code=social_distress",
                         headers={"X-API-Key": borgo_keys["council"]})
    assert refused.status_code == 400 and "service_code" in refused.get_data(as_text=True)
    everything = client.get(f"/api/hotspots?jurisdiction_id=borgo&from={THIS_YEAR}-01&cell_m=100",
                            headers={"X-API-Key": borgo_keys["council"]}).json
    total = sum(f["properties"]["count"] or 0 for f in everything["features"])
    roads = client.get(f"/api/hotspots?{QUERY}", headers={"X-API-Key": borgo_keys["council"]}).json
    assert total == sum(f["properties"]["count"] or 0 for f in roads["features"])  # no distress call counted


@pytest.mark.parametrize("query, field", [("cell_m=20", "cell_m"), ("from=2026-99", "from"), ("trend=2", "trend"),
                                          ("service_code=%27%3B+DROP+TABLE+reports%3B--", "service_code")])
def test_a_bad_parameter_is_a_400_naming_it(planted, borgo_keys, query, field):
    resp = make_app(planted).test_client().get(f"/api/hotspots?jurisdiction_id=borgo&{query}",
                                               headers={"X-API-Key": borgo_keys["council"]})
    assert resp.status_code == 400 and field in resp.get_data(as_text=True)


def test_the_csv_is_the_map_as_a_table_suppressed_the_same_way(planted, borgo_keys):
    client = make_app(planted).test_client()
    resp = client.get(f"/council/hotspots.csv?{QUERY}", headers={"X-API-Key": borgo_keys["council"]})
    assert resp.status_code == 200 and resp.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(resp.get_data(as_text=True))))
    api = client.get(f"/api/hotspots?{QUERY}&trend=1", headers={"X-API-Key": borgo_keys["council"]}).json
    assert len(rows) == len(api["features"])
    assert {r["class"] for r in rows} >= {"hot", "none"}
    assert all(r["count"] == "" or int(r["count"]) >= COUNCIL_MIN_REPORTS for r in rows)
    assert all(r["gi_z"] == "" for r in rows if r["count"] == "")
    assert "Bianchi" not in resp.get_data(as_text=True)


def test_the_council_page_draws_hotspots_legend_heat_and_months_offline(planted, tmp_path):
    with session_scope(planted) as s:
        from geo_urp.accounts import create_user

        create_user(s, "consigliera", "password-consigliera", "council")
    app = make_app(planted, WTF_CSRF_ENABLED=True)
    with live_server(app) as base, browser_page() as page:
        page.set_default_timeout(15_000)
        failed = []
        page.on("response", lambda r: failed.append((r.url, r.status)) if r.status >= 400 else None)
        log_in(page, base, "consigliera", "/council")
        page.goto(f"{base}/council?service_code=road_damage&from={THIS_YEAR}-01&to={THIS_YEAR}-12&cell_m=100")
        expect(page.locator("#council-map .leaflet-container")).to_be_visible()
        drawn = page.evaluate("""() => {
            const section = document.getElementById('hotspots');
            const cells = window[section.dataset.cells];
            const classes = cells.getLayers().map(l => l.feature.properties['class']);
            const overlays = [...document.querySelectorAll('.leaflet-control-layers-overlays label')]
                .map(label => label.textContent.trim());
            return {hot: classes.filter(c => c === 'hot').length, cells: classes.length, overlays,
                    heat: typeof L.heatLayer};
        }""")
        assert drawn["hot"] >= 1 and drawn["cells"] > 20 and drawn["heat"] == "function"
        assert {"Punti caldi (celle)", "Densità delle segnalazioni"} <= set(drawn["overlays"])
        expect(page.locator("#hotspot-legend [data-class=hot]")).to_contain_text("punto caldo")
        assert page.locator("#hotspots").get_attribute("data-showing") == "period"
        page.locator("#hotspot-month").fill("1")  # January, when the calls were made
        expect(page.locator("#hotspot-month-label")).to_have_text(f"{THIS_YEAR}-01")
        assert page.locator("#hotspots").get_attribute("data-showing") == f"{THIS_YEAR}-01"
        page.hover(".leaflet-control-layers")  # the collapsed control opens; the heat layer draws without error
        page.locator(".leaflet-control-layers-overlays label", has_text="Densità delle segnalazioni") \
            .locator("input").check()
        assert page.evaluate("() => document.querySelectorAll('canvas.leaflet-heatmap-layer').length") == 1
        page.screenshot(path=str(tmp_path / "council-hotspots.png"), full_page=True)
        content = page.content()
        assert "Bianchi" not in content and "alert(1)" not in content
        assert failed == [] and page.outside == []
