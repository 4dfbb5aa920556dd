"""The operator's live map polls with ``since`` and changes only what changed, in a real browser.

Calls go in through the Open311 API with an operator key while the page is open; the page polls
every 250 ms (``?poll_ms=``) and the tests wait for what it shows, never for a fixed time.
"""
from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pytest
from playwright.sync_api import expect
from sqlalchemy import text

from geo_urp.db import engine_for
from tests.showing.browser import browser_page
from tests.showing.live_server import live_server
from tests.showing.open311_support import latlong, post

POTHOLE, NOISE_WEST, NOISE_EAST = ("road_damage", (200, 700)), ("noise", (100, 200)), ("noise", (800, 200))
POLL_MS = 250

# The incidents the page has on its map (layers of features with ``report_ids``: the town's own
# layers have none), and marking one's list item and map layer with a JS property, to tell later
# whether they are still the same objects.
_ON_MAP = """() => {
  const map = Object.values(window).find(v => v instanceof L.Map), ids = new Set();
  map.eachLayer(l => { const p = l.feature?.properties; if (p && "report_ids" in p) ids.add(p.id); });
  return [...ids].sort((a, b) => a - b);
}"""
_MARK = """id => {
  document.querySelector(`#incident-list [data-id="${id}"]`).geoUrpMark = true;
  const map = Object.values(window).find(v => v instanceof L.Map);
  map.eachLayer(l => { if (l.feature?.properties?.id === id) l.geoUrpMark = true; });
}"""
_STILL_MARKED = """id => {
  const map = Object.values(window).find(v => v instanceof L.Map), layers = [];
  map.eachLayer(l => { if (l.feature?.properties?.id === id) layers.push(l); });
  return {item: document.querySelector(`#incident-list [data-id="${id}"]`)?.geoUrpMark === true,
          layers: layers.length > 0 && layers.every(l => l.geoUrpMark === true)};
}"""


def _call(client, key: str, what: tuple[str, tuple[int, int]]) -> None:
    code, where = what
    resp = post(client, key, service_code=code, **latlong(*where))
    assert resp.status_code == 201, resp.data


def _open_ids(client, key: str, call: tuple[str, tuple[int, int]] | None = None, **params) -> list[int]:
    """The ids of the open incidents, in the server's order, after taking ``call`` if one is given."""
    if call:
        _call(client, key, call)
    resp = client.get("/api/incidents", query_string=params, headers={"X-API-Key": key})
    assert resp.status_code == 200, resp.data
    return [f["id"] for f in resp.json["features"]]


def _listed(page) -> list[int]:
    return [int(i) for i in page.eval_on_selector_all("#incident-list [data-id]", "els => els.map(e => e.dataset.id)")]


def _since(url: str) -> str | None:
    return parse_qs(urlparse(url).query).get("since", [None])[0]


def _console(page, base: str) -> list:
    """Log in as the operator and open /operator polling fast; the page's incident requests, recorded."""
    page.set_default_timeout(10_000)
    page.goto(f"{base}/login")
    page.fill("input[name=username]", "anna")
    page.fill("input[name=password]", "password-anna")
    with page.expect_response(lambda r: "/api/incidents" in r.url):  # the landing page's one poll
        page.click("button[type=submit]")
    polls = []  # their responses: request.response()
    page.on("request", lambda r: polls.append(r) if "/api/incidents" in r.url else None)
    page.goto(f"{base}/operator?poll_ms={POLL_MS}")
    return polls


def _wait_listed(page, ids: list[int]) -> None:
    """Wait until the list and the map show exactly ``ids`` (the list in that order)."""
    page.wait_for_function("ids => JSON.stringify([...document.querySelectorAll('#incident-list [data-id]')]"
                           ".map(e => Number(e.dataset.id))) === JSON.stringify(ids)", arg=ids)
    page.wait_for_function(f"ids => JSON.stringify(({_ON_MAP})()) === JSON.stringify(ids)", arg=sorted(ids))
    expect(page.locator("#incident-count")).to_have_text(
        "1 incidente aperto" if len(ids) == 1 else f"{len(ids)} incidenti aperti")


@pytest.fixture()
def op(borgo_keys) -> str:
    """The operator key (every Borgo database has the operator's login, anna)."""
    return borgo_keys["operator"]


def test_a_new_incident_is_added_and_the_unchanged_ones_keep_their_elements(borgo_app, borgo_client, op):
    (pothole,) = _open_ids(borgo_client, op, POTHOLE)
    with live_server(borgo_app) as base, browser_page() as page:
        polls = _console(page, base)
        _wait_listed(page, [pothole])
        page.evaluate(_MARK, pothole)
        ids = _open_ids(borgo_client, op, NOISE_EAST)
        _wait_listed(page, ids)
        assert page.evaluate(_STILL_MARKED, pothole) == {"item": True, "layers": True}
        # the first poll takes everything, every later one asks for what changed since the last answer
        assert _since(polls[0].url) is None
        later = [_since(r.url) for r in polls[1:]]
        assert later and all(s and s.startswith("changes:") for s in later), [r.url for r in polls]
        assert page.outside == []


def test_an_incident_merged_away_leaves_list_and_map(borgo_app, borgo_client, op):
    for call in (POTHOLE, NOISE_WEST):
        _open_ids(borgo_client, op, call)
    ids = _open_ids(borgo_client, op, NOISE_EAST)
    with live_server(borgo_app) as base, browser_page() as page:
        _console(page, base)
        _wait_listed(page, ids)
        noises = _open_ids(borgo_client, op, kind="noise")
        resp = borgo_client.post("/api/incidents/merge", json={"ids": noises}, headers={"X-API-Key": op})
        assert resp.status_code == 200, resp.data
        kept = resp.json["id"]
        (gone,) = set(noises) - {kept}
        _wait_listed(page, _open_ids(borgo_client, op))
        assert gone not in _listed(page) and gone not in page.evaluate(_ON_MAP)
        expect(page.locator(f'#incident-list [data-id="{kept}"]')).to_contain_text("2 chiamate")


def test_a_changed_incident_is_replaced_and_moves_to_its_place_in_the_list(borgo_db_url, borgo_app, borgo_client,
                                                                             op):
    _open_ids(borgo_client, op, POTHOLE)
    first, last = _open_ids(borgo_client, op, NOISE_WEST)
    engine = engine_for(borgo_db_url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE incidents SET priority = 3"))
    with live_server(borgo_app) as base, browser_page() as page:
        _console(page, base)
        _wait_listed(page, [first, last])
        page.evaluate(_MARK, last)
        with engine.begin() as conn:  # the last one, alone, becomes the most urgent
            conn.execute(text("UPDATE incidents SET priority = 1, updated_at = now() WHERE id = :i"), {"i": last})
        _wait_listed(page, [last, first])
        assert page.evaluate(_STILL_MARKED, last) == {"item": False, "layers": False}
        expect(page.locator(f'#incident-list [data-id="{last}"] .kind')).to_contain_text(f"P1 · #{last} ")


def test_a_poll_with_nothing_new_answers_at_most_1_kb(borgo_app, borgo_client, op):
    for call in (POTHOLE, NOISE_WEST):
        _open_ids(borgo_client, op, call)
    ids = _open_ids(borgo_client, op, NOISE_EAST)
    with live_server(borgo_app) as base, browser_page() as page:
        polls = _console(page, base)
        _wait_listed(page, ids)
        assert len(polls[0].response().body()) > 1024  # so that a full answer would not pass the check below
        # Nothing changes from here: every next poll (its cursor, each town's change number read
        # with the first answer) is a quiet one.
        sizes = []
        for _ in range(3):
            with page.expect_response(lambda r: "/api/incidents" in r.url, timeout=10_000) as quiet:
                pass
            assert _since(quiet.value.url), quiet.value.url
            assert quiet.value.json()["features"] == []
            sizes.append(len(quiet.value.body()))
        assert max(sizes) <= 1024, sizes
        assert _listed(page) == ids


def test_an_error_keeps_what_is_shown_and_the_next_poll_retries_the_same_cursor(borgo_app, borgo_client, op):
    ids = _open_ids(borgo_client, op, POTHOLE)
    with live_server(borgo_app) as base, browser_page() as page:
        polls = _console(page, base)
        _wait_listed(page, ids)
        failed = []
        page.route("**/api/incidents*", lambda route: (failed.append(route.request.url),
                                                      route.fulfill(status=503, body="{}")))
        expect(page.locator("#incident-count")).to_contain_text("Errore 503")
        assert _listed(page) == ids and page.evaluate(_ON_MAP) == ids
        page.unroute("**/api/incidents*")
        retry = len(polls)  # the first poll let through
        ids = _open_ids(borgo_client, op, NOISE_EAST)
        _wait_listed(page, ids)
        cursors = {_since(u) for u in failed}
        assert len(cursors) == 1 and None not in cursors and _since(polls[retry].url) in cursors, \
            (failed, polls[retry].url)


def test_a_cursor_the_service_no_longer_reads_is_dropped_and_the_open_incidents_taken_afresh(
        borgo_app, borgo_client, borgo_db_url, op):
    (pothole,) = _open_ids(borgo_client, op, POTHOLE)
    with live_server(borgo_app) as base, browser_page() as page:
        polls = _console(page, base)
        _wait_listed(page, [pothole])
        refused = []

        def as_after_an_upgrade(route):  # the service no longer reads the cursors it gave before
            if _since(route.request.url):
                refused.append(route.request.url)
                route.fulfill(status=400, content_type="application/json", body='{"errors": []}')
            else:
                route.continue_()

        page.route("**/api/incidents*", as_after_an_upgrade)
        with engine_for(borgo_db_url).begin() as conn:  # meanwhile the pothole is closed...
            conn.execute(text("UPDATE incidents SET status = 'closed', updated_at = now() WHERE id = :i"),
                         {"i": pothole})
        ids = _open_ids(borgo_client, op, NOISE_WEST)  # ...and a new call comes in
        _wait_listed(page, ids)  # taken afresh: the pothole off, the noise on
        assert pothole not in ids and refused
        page.unroute("**/api/incidents*")
        afresh = [r for r in polls if _since(r.url) is None]
        assert len(afresh) >= 2, [r.url for r in polls]  # the first poll, and one after a refused cursor
