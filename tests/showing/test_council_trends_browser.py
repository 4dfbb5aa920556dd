"""The council's trend page in headless Chromium, offline: the server-drawn SVG charts show, with a
bar per month and per ISO week of the period, the hidden groups as marks without a height that
tells their count, and nothing is asked of any host but the service."""
from __future__ import annotations

from playwright.sync_api import expect

from tests.conftest import make_app
from tests.showing.browser import browser_page, log_in
from tests.showing.live_server import live_server
from tests.showing.test_council_trends import HIDDEN, PRIVATE, QUERY, planted  # noqa: F401  (the fixture)

# January to June 2026 touch ISO weeks 2026-W01 (from Monday 29 December 2025) to 2026-W27.
WEEKS = 27
CHARTS = ("months-counts", "months-hours", "months-sla", "weekly-road_damage", "monthly-road_damage",
          "areas-counts", "areas-hours", "areas-sla")


def test_the_trend_charts_render_offline_with_a_bar_per_group(planted, tmp_path):  # noqa: F811
    app = make_app(planted, WTF_CSRF_ENABLED=True)
    with live_server(app) as base, browser_page() as page:
        page.set_default_timeout(15_000)
        failed = []
        page.on("response", lambda r: failed.append((r.url, r.status)) if r.status >= 400 else None)
        log_in(page, base, "carla", "/council")
        page.goto(f"{base}/council/trends?{QUERY}")
        for chart in CHARTS:
            expect(page.locator(f"svg#{chart}")).to_be_visible()
        drawn = page.evaluate("""(ids) => Object.fromEntries(ids.map(id => {
            const svg = document.getElementById(id);
            const box = svg.getBoundingClientRect();
            const bars = [...svg.querySelectorAll('rect.bar')];
            return [id, {width: box.width, height: box.height, bars: bars.length,
                         shown: bars.filter(b => !b.classList.contains('hidden'))
                                    .map(b => ({label: b.dataset.label, height: b.getBoundingClientRect().height})),
                         hidden: bars.filter(b => b.classList.contains('hidden')).map(b => b.getBoundingClientRect().height),
                         titles: bars.map(b => b.querySelector('title').textContent),
                         points: svg.querySelectorAll('circle.point:not(.hidden)').length}];
        }))""", list(CHARTS))
        for chart, d in drawn.items():
            assert d["width"] > 100 and d["height"] > 50, (chart, d)
        months = drawn["months-counts"]
        assert months["bars"] == 6 and [b["label"] for b in months["shown"]] == ["2026-03", "2026-04"]
        assert months["shown"][0]["height"] > months["shown"][1]["height"] > 0   # 7 reports, then 4
        assert len(set(months["hidden"])) == 1 and months["hidden"][0] < months["shown"][1]["height"] / 4
        assert f"2026-05: {HIDDEN}" in months["titles"]
        weekly = drawn["weekly-road_damage"]
        assert weekly["bars"] == WEEKS and [b["label"] for b in weekly["shown"]] == ["2026-W10", "2026-W16"]
        assert drawn["monthly-road_damage"]["bars"] == 6
        assert drawn["areas-counts"]["bars"] >= 2 and len(drawn["areas-counts"]["shown"]) == 2  # A1, A2
        assert drawn["months-hours"]["points"] == 4       # median and p90 of March and April
        assert len(drawn["months-sla"]["shown"]) == 2
        expect(page.locator("#no-districts")).to_be_visible()
        expect(page.locator("#back-to-council")).to_have_attribute("href", "/council?jurisdiction_id=borgo")
        page.screenshot(path=str(tmp_path / "council-trends.png"), full_page=True)
        content = page.content()
        assert [p for p in PRIVATE if p in content] == []
        assert failed == [] and page.outside == []
