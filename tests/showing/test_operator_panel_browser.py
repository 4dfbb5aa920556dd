"""The operator's console in a real browser (headless Chromium): each incident drawn as what it is,
the open incidents listed by priority and age with their actions, the pending call-backs.

Calls go in through Open311 with the operator's key; the page is opened by the operator's login on
an app that checks CSRF tokens, polls every 250 ms (``?poll_ms=``), and the tests wait for what it
shows, never for a fixed time. What the map draws is read from Leaflet's own layers and compared
with Borgo's layer files (transformed here with pyproj); what the actions did is read back from the
database. Every request the page makes is recorded: none may leave 127.0.0.1. Screenshots are kept
in the test's temporary folder.
"""
from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import expect
from pyproj import Transformer
from shapely.geometry import LineString, Point, Polygon
from sqlalchemy import select, text

from geo_urp.db import engine_for, session_scope
from geo_urp.models import Incident, IncidentReport, OutboxMessage
from tests.conftest import BORGO, make_app
from tests.showing.browser import browser_page, log_in
from tests.showing.intake_support import DARK_LAMPS, LEAKS, call, incident_of
from tests.showing.live_server import live_server

HOSTILE = '<img src=x onerror="window.pwned=1"><script>window.pwned=2</script>'
_TO_METRES = Transformer.from_crs(4326, 32632, always_xy=True)

# What Leaflet draws for one incident: the leaves of the layers carrying its feature (points with
# their fill, lines, polygons), and its numbered valve and cabinet labels.
_DRAWN = """id => {
  const map = Object.values(window).find(v => v instanceof L.Map), out = {points: [], lines: [], polygons: [],
                                                                         valves: [], cabinets: []};
  const flat = lls => Array.isArray(lls) ? lls.flatMap(flat) : [[lls.lat, lls.lng]];
  const leaves = l => l.getLayers ? l.getLayers().flatMap(leaves) : [l];
  map.eachLayer(l => {
    if (l.feature?.properties?.id === id) {
      for (const leaf of leaves(l)) {
        if (leaf instanceof L.CircleMarker) out.points.push([leaf.getLatLng().lat, leaf.getLatLng().lng,
                                                             leaf.options.fillColor]);
        else if (leaf instanceof L.Polygon) out.polygons.push(flat(leaf.getLatLngs()));
        else if (leaf instanceof L.Polyline) out.lines.push(flat(leaf.getLatLngs()));
      }
    }
    const label = l instanceof L.Marker && l.getElement()?.querySelector(`span[data-incident-id="${id}"]`);
    if (!label) return;
    const at = [l.getLatLng().lat, l.getLatLng().lng], d = label.dataset;
    if (d.valveId) out.valves.push({order: Number(d.order), valve: d.valveId, text: label.textContent, at});
    if (d.cabinetId) out.cabinets.push({cabinet: d.cabinetId, at});
  });
  out.valves.sort((a, b) => a.order - b.order);
  return out;
}"""


def _metres(lat: float, lon: float) -> tuple[float, float]:
    return _TO_METRES.transform(lon, lat)


def _layer(name: str) -> list[dict]:
    return json.loads((BORGO / f"{name}.geojson").read_text(encoding="utf-8"))["features"]


def _near(found: list[tuple[float, float]], expected: list[tuple[float, float]], tol_m: float = 0.5) -> bool:
    """Each point found is one expected, and each expected one is found (within ``tol_m``)."""
    return (len(found) == len(expected)
            and all(any(Point(f).distance(Point(e)) < tol_m for e in expected) for f in found)
            and all(any(Point(f).distance(Point(e)) < tol_m for f in found) for e in expected))


@pytest.fixture()
def app(borgo_db_url):
    """The app as served, CSRF tokens checked."""
    return make_app(borgo_db_url, WTF_CSRF_ENABLED=True)


@pytest.fixture()
def op(app, borgo_keys):
    """Take a call with the operator's key: ``op(service_code, (x, y), **fields)`` -> report id."""
    client = app.test_client()
    return lambda code, at, **fields: call(client, borgo_keys["operator"], code, at, **fields)


def _incident(app, borgo_keys, report_id: int) -> dict:
    return incident_of(app.test_client(), borgo_keys["operator"], report_id)


def _console(page, base: str) -> None:
    """Log in as the operator (anna) and open the console polling every 250 ms."""
    page.set_default_timeout(10_000)
    log_in(page, base, "anna", "/operator")
    page.goto(f"{base}/operator?poll_ms=250")


def _item(page, incident_id: int):
    return page.locator(f'#incident-list [data-id="{incident_id}"]')


def _shot(page, tmp_path, name: str) -> None:
    shot = tmp_path / f"{name}.png"
    page.screenshot(path=str(shot), full_page=True)
    print(f"screenshot: {shot}")


def test_each_incident_is_drawn_as_what_it_is(app, borgo_keys, op, tmp_path):
    circuit = _incident(app, borgo_keys, [op("streetlight_out", at) for at in DARK_LAMPS][0])
    burst = _incident(app, borgo_keys, [op("water_leak", at) for at in LEAKS][0])
    flood = _incident(app, borgo_keys, [op("flooding", at) for at in ((700, 700), (730, 720))][0])
    assert (circuit["kind"], burst["kind"], flood["kind"]) == ("lighting_circuit", "water_main_burst", "flooding")
    assert len(burst["valves_to_close"]) >= 2, burst
    with live_server(app) as base, browser_page() as page:
        _console(page, base)
        for inc in (circuit, burst, flood):
            expect(_item(page, inc["id"])).to_be_visible()

        # the dark circuit: every lamp of C1 where the lamps layer has it, dark, and its cabinet Q1
        drawn = page.evaluate(_DRAWN, circuit["id"])
        lamps = [tuple(f["geometry"]["coordinates"]) for f in _layer("lamps") if f["properties"]["circuit_id"] == "C1"]
        assert _near([_metres(lat, lon) for lat, lon, _ in drawn["points"]], lamps), drawn["points"]
        assert {fill for *_, fill in drawn["points"]} == {"#111"}
        (q1,) = [tuple(f["geometry"]["coordinates"]) for f in _layer("lighting_cabinets")
                 if f["properties"]["cabinet_id"] == "Q1"]
        assert [c["cabinet"] for c in drawn["cabinets"]] == ["Q1"]
        assert _near([_metres(*drawn["cabinets"][0]["at"])], [q1])
        expect(page.locator(f'.cabinet-mark span[data-incident-id="{circuit["id"]}"]')).to_have_text("Q1")

        # the burst: its suspected main as a line, the valves to close numbered 1, 2, ... in order
        drawn = page.evaluate(_DRAWN, burst["id"])
        (main,) = [LineString(f["geometry"]["coordinates"]) for f in _layer("water_pipes")
                   if f["properties"]["pipe_id"] == burst["asset_ids"][0]]
        (line,) = drawn["lines"]
        line_m = [_metres(lat, lon) for lat, lon in line]
        assert all(main.distance(Point(p)) < 0.5 for p in line_m)
        assert _near([line_m[0], line_m[-1]], [main.coords[0], main.coords[-1]])
        assert [v["valve"] for v in drawn["valves"]] == burst["valves_to_close"]
        assert [v["text"] for v in drawn["valves"]] == [str(n + 1) for n in range(len(burst["valves_to_close"]))]
        valves = {f["properties"]["valve_id"]: tuple(f["geometry"]["coordinates"]) for f in _layer("water_valves")}
        for v in drawn["valves"]:
            assert _near([_metres(*v["at"])], [valves[v["valve"]]]), v
        expect(_item(page, burst["id"]).locator(".valves")).to_have_text(
            f"Valvole: chiudere {', '.join(burst['valves_to_close'])} (in quest'ordine)")

        # the flooded area: a filled polygon around both calls
        drawn = page.evaluate(_DRAWN, flood["id"])
        (area,) = drawn["polygons"]
        hull = Polygon([_metres(lat, lon) for lat, lon in area])
        x0, y0 = 660000, 5118000
        assert hull.contains(Point(x0 + 700, y0 + 700)) and hull.contains(Point(x0 + 730, y0 + 720))
        _shot(page, tmp_path, "drawn")

        # the layer control (an icon, opened on hover) has an overlay per family, in Italian: water off
        # takes the burst off
        page.locator(".leaflet-control-layers").hover()
        water = page.locator(".leaflet-control-layers-overlays label", has_text="Incidenti: acqua")
        water.locator("input").uncheck()
        assert page.evaluate(_DRAWN, burst["id"])["lines"] == []
        assert page.evaluate(_DRAWN, circuit["id"])["points"]
        expect(page.locator(f'.valve-mark span[data-incident-id="{burst["id"]}"]')).to_have_count(0)
        # a click on the burst's title shows it again, on the map
        _item(page, burst["id"]).locator(".kind").click()
        assert len(page.evaluate(_DRAWN, burst["id"])["lines"]) == 1
        expect(page.locator(".leaflet-popup-content")).to_contain_text(f"#{burst['id']} Rottura di una condotta")
        assert page.outside == []


def test_the_panel_lists_the_open_incidents_by_priority_then_age(app, borgo_keys, op, tmp_path):
    reports = [op("noise", (100, 200)), op("road_damage", (200, 700)), op("streetlight_out", DARK_LAMPS[0]),
               *(op("water_leak", at) for at in LEAKS)]
    features = app.test_client().get("/api/incidents", headers={"X-API-Key": borgo_keys["operator"]}).json["features"]
    props = [f["properties"] for f in features]
    assert len({p["priority"] for p in props}) >= 2, props   # else the order below would prove nothing
    expected = [p["id"] for p in sorted(props, key=lambda p: (p["priority"], p["opened_at"], p["id"]))]
    with live_server(app) as base, browser_page() as page:
        _console(page, base)
        page.wait_for_function("n => document.querySelectorAll('#incident-list [data-id]').length === n",
                               arg=len(expected))
        listed = page.eval_on_selector_all("#incident-list [data-id]", "els => els.map(e => Number(e.dataset.id))")
        assert listed == expected
        burst = _incident(app, borgo_keys, reports[-1])
        item = _item(page, burst["id"])
        expect(item.locator(".kind")).to_have_text(f"P{burst['priority']} · #{burst['id']} Rottura di una condotta "
                                                   f"{', '.join(burst['asset_ids'])}")
        expect(item.locator(".meta")).to_have_text(re.compile(
            rf"^Da assegnare · squadra ACQUA · da \d+ (min|h \d\d min) · {len(LEAKS)} chiamate$"))
        expect(item.locator(".why")).to_have_text(burst["explanation"])
        noise = _incident(app, borgo_keys, reports[0])
        expect(_item(page, noise["id"]).locator(".meta")).to_contain_text("nessuna squadra · da ")
        expect(_item(page, noise["id"]).locator(".calls")).to_have_text("1 chiamata")
        expect(_item(page, noise["id"]).locator(".assign")).to_have_text(
            "Nessuna squadra comunale: va passato alla polizia locale.")
        _shot(page, tmp_path, "panel")
        assert page.outside == []


def _pothole_and_stray_call(app, borgo_keys, op) -> tuple[dict, int, dict]:
    """A pothole's incident, and a road-damage call far enough from it to make an incident of its
    own (the call to move into the pothole's): the pothole, the call's id, the call's incident."""
    pothole = _incident(app, borgo_keys, op("road_damage", (200, 700)))
    stray = op("road_damage", (300, 520))
    other = _incident(app, borgo_keys, stray)
    assert other["id"] != pothole["id"]
    return pothole, stray, other


def test_the_operator_assigns_merges_and_moves_from_the_panel(app, borgo_db_url, borgo_keys, op, tmp_path):
    lamp = _incident(app, borgo_keys, op("streetlight_out", DARK_LAMPS[0]))
    west, east = (_incident(app, borgo_keys, op("noise", at)) for at in ((100, 200), (800, 200)))
    pothole, stray, other = _pothole_and_stray_call(app, borgo_keys, op)
    with live_server(app) as base, browser_page() as page:
        _console(page, base)
        # assign: the lamp's crews are the lighting crews, the one covering its area first
        item = _item(page, lamp["id"])
        item.locator("summary").click()
        crews = item.locator("select[name=crew_id] option")
        expect(crews).to_have_count(2)
        assert crews.evaluate_all("os => os.map(o => o.value)") == [lamp["crew_id"], "LUCI-E"]
        item.locator("select[name=crew_id]").select_option("LUCI-E")
        item.locator("button[name=assign]").click()
        expect(page.locator("#panel-status")).to_have_text(f"Incidente #{lamp['id']} assegnato alla squadra LUCI-E.")
        expect(_item(page, lamp["id"]).locator(".meta")).to_contain_text("Assegnato · squadra LUCI-E")

        # merge: tick the two noises, then merge
        button = page.locator("#merge-selected")
        expect(button).to_be_disabled()
        for inc in (west, east):
            _item(page, inc["id"]).locator("input[name=merge]").check()
        expect(button).to_have_text("Unisci i selezionati (2)")
        button.click()
        expect(page.locator("#panel-status")).to_contain_text("uniti nell'incidente #")
        kept = min((west, east), key=lambda i: (i["opened_at"], i["id"]))["id"]
        gone = ({west["id"], east["id"]} - {kept}).pop()
        expect(_item(page, gone)).to_have_count(0)
        expect(_item(page, kept).locator(".meta")).to_contain_text("2 chiamate")

        # move: the stray pothole call into the first pothole
        item = _item(page, other["id"])
        item.locator("summary").click()
        item.locator("select[name=report_id]").select_option(str(stray))
        item.locator("select[name=incident_id]").select_option(str(pothole["id"]))
        item.locator("button[name=move]").click()
        expect(page.locator("#panel-status")).to_have_text(
            f"Chiamata {stray} spostata nell'incidente #{pothole['id']}.")
        expect(_item(page, other["id"])).to_have_count(0)
        expect(_item(page, pothole["id"]).locator(".meta")).to_contain_text("2 chiamate")

        # a refused action says why, in the page
        _item(page, pothole["id"]).locator("input[name=merge]").check()
        _item(page, kept).locator("input[name=merge]").check()
        button.click()
        expect(page.locator("#panel-status")).to_contain_text(
            "Incidenti non uniti: ids: non si possono unire incidenti su cose diverse")
        _shot(page, tmp_path, "actions")
        assert page.outside == []

    with session_scope(borgo_db_url) as s:
        assigned = s.get(Incident, lamp["id"])
        assert (assigned.status, assigned.crew_id) == ("assigned", "LUCI-E")
        assert s.get(Incident, gone).absorbed_into_id == kept
        assert s.get(IncidentReport, stray).incident_id == pothole["id"]
        assert s.get(IncidentReport, stray).placed_by == "user:anna"


def _resolve(client, key_operator: str, key_crew: str, incident_id: int, note: str) -> None:
    for key, status in ((key_operator, "assigned"), (key_crew, "in_progress"), (key_crew, "resolved")):
        resp = client.post(f"/api/incidents/{incident_id}/status", json={"status": status, "note": note},
                           headers={"X-API-Key": key})
        assert resp.status_code == 200, resp.data


def test_a_call_back_appears_when_its_incident_is_resolved_and_is_marked_done(app, borgo_db_url, borgo_keys, op,
                                                                               tmp_path):
    first = op("water_leak", LEAKS[0], first_name="Anna", phone="0461 123456")
    for at in LEAKS[1:]:
        op("water_leak", at)
    burst = _incident(app, borgo_keys, first)
    with live_server(app) as base, browser_page() as page:
        _console(page, base)
        expect(_item(page, burst["id"])).to_be_visible()
        expect(page.locator("#callback-count")).to_have_text("nessuno da fare")
        _resolve(app.test_client(), borgo_keys["operator"], borgo_keys["crew"], burst["id"],
                 "Sostituito un tratto di tubo in via Roma.")
        expect(_item(page, burst["id"])).to_have_count(0)      # resolved: off the map and the list...
        back = page.locator("#callback-list [data-outbox-id]")  # ...and its landline caller is to be called
        expect(back).to_have_count(1)
        expect(back.locator(".to")).to_have_text("0461 123456")
        expect(back.locator(".text")).to_contain_text("Sostituito un tratto di tubo in via Roma.")
        expect(page.locator("#callback-count")).to_have_text("1 da fare")
        outbox_id = int(back.get_attribute("data-outbox-id"))
        _shot(page, tmp_path, "callback")
        back.locator("input[name=note]").fill("risponde la signora Anna")
        back.locator("button[name=done]").click()
        expect(back).to_have_count(0)
        expect(page.locator("#callback-count")).to_have_text("nessuno da fare")
        assert page.outside == []
    with session_scope(borgo_db_url) as s:
        msg = s.get(OutboxMessage, outbox_id)
        assert (msg.channel, msg.status, msg.done_by, msg.note) == ("phone", "done", "user:anna",
                                                                    "risponde la signora Anna")


def test_hostile_text_is_shown_as_text_never_run(app, borgo_db_url, borgo_keys, op, tmp_path):
    first = op("water_leak", LEAKS[0], phone="0461 123456", description=HOSTILE)
    for at in LEAKS[1:]:
        op("water_leak", at, description=HOSTILE)
    burst = _incident(app, borgo_keys, first)
    pothole = _incident(app, borgo_keys, op("road_damage", (200, 700), description=HOSTILE))
    with engine_for(borgo_db_url).begin() as conn:  # what a bad layer file or a future rule could write
        conn.execute(text("UPDATE incidents SET explanation = :h, dispatch_note = :h, asset_ids = ARRAY[:h],"
                          " valves_to_close = ARRAY[:h, 'V3'], updated_at = now() WHERE id = :i"),
                     {"h": HOSTILE, "i": pothole["id"]})
    _resolve(app.test_client(), borgo_keys["operator"], borgo_keys["crew"], burst["id"], HOSTILE)
    with live_server(app) as base, browser_page() as page:
        _console(page, base)
        item = _item(page, pothole["id"])
        expect(item.locator(".why")).to_have_text(HOSTILE)
        expect(item.locator(".dispatch")).to_have_text(HOSTILE)
        expect(item.locator(".kind")).to_contain_text(HOSTILE)
        item.locator(".kind").click()                                   # the popup, too
        expect(page.locator(".leaflet-popup-content")).to_contain_text(HOSTILE)
        back = page.locator("#callback-list [data-outbox-id]")
        expect(back.locator(".text")).to_contain_text(HOSTILE)
        item.locator("summary").click()
        _shot(page, tmp_path, "hostile")
        assert page.evaluate("window.pwned") is None
        assert page.locator("#incident-list img, #callback-list img, .leaflet-popup img").count() == 0
        assert page.outside == []


def test_the_move_form_is_made_when_the_actions_open_and_kept_when_a_poll_replaces_the_item(app, borgo_keys, op):
    pothole, stray, other = _pothole_and_stray_call(app, borgo_keys, op)
    with live_server(app) as base, browser_page() as page:
        _console(page, base)
        item = _item(page, other["id"])
        expect(item.locator(".assign")).to_have_count(1)
        expect(item.locator(".move")).to_have_count(0)          # not made with the item: an option per call
        item.locator("summary").click()
        item.locator("select[name=report_id]").select_option(str(stray))
        item.locator("select[name=incident_id]").select_option(str(pothole["id"]))
        page.evaluate("id => { document.querySelector(`#incident-list [data-id='${id}']`).geoUrpMark = true; }",
                      other["id"])
        joined = op("road_damage", (302, 522))                 # a second call: the poll replaces the item
        assert _incident(app, borgo_keys, joined)["id"] == other["id"]
        expect(item.locator(".calls")).to_have_text("2 chiamate")
        assert page.evaluate("id => document.querySelector(`#incident-list [data-id='${id}']`).geoUrpMark",
                             other["id"]) is None
        assert item.locator("details").evaluate("d => d.open")
        assert item.locator("select[name=report_id]").input_value() == str(stray)
        assert item.locator("select[name=incident_id]").input_value() == str(pothole["id"])
        assert page.outside == []
