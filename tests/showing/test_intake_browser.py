"""Taking a call on ``/operator`` in a real browser (headless Chromium), keyboard first.

The operator logs in on an app that checks CSRF tokens, types what the caller says, sees the
geocoded preview and the alternatives with their kind of match, is warned of the open incident of
the same kind nearby, adds the call to it and saves; the new number is shown in ``#intake-result``
and the report is in the database. With two towns that both have a Via Roma the form asks which,
and takes the town from the caller's words. Every request the page makes is recorded: none may
leave 127.0.0.1. Screenshots are kept in the test's temporary folder. Tests wait for what the page
shows, never for a fixed time.
"""
from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from geo_urp.db import session_scope
from geo_urp.models import IncidentReport, Municipality, Report
from tests.conftest import make_app
from tests.showing.browser import browser_page, log_in
from tests.showing.intake_support import DARK_LAMPS, SECOND_TOWN, call, incident_of, load_second_town
from tests.showing.live_server import live_server
from tests.showing.open311_support import latlong

FOCUSED = "() => document.activeElement && document.activeElement.name"


def _console(page, base: str) -> None:
    """Log in as the operator (anna) and open the console."""
    page.set_default_timeout(10_000)
    log_in(page, base, "anna", "/operator")


def _type_address(page, text: str) -> None:
    page.fill("#intake input[name=address_string]", "")
    page.focus("#intake input[name=address_string]")
    page.keyboard.type(text)


def _options(page) -> list[str]:
    return page.eval_on_selector_all("#intake-suggestions li", "els => els.map(e => e.textContent)")


def _shot(page, tmp_path, name: str) -> None:
    shot = tmp_path / f"{name}.png"
    page.screenshot(path=str(shot), full_page=True)
    print(f"screenshot: {shot}")


def test_an_operator_takes_a_lamp_call_and_adds_it_to_the_dark_circuit(borgo_db_url, borgo_keys, tmp_path):
    app = make_app(borgo_db_url, WTF_CSRF_ENABLED=True)
    client = app.test_client()
    first = [call(client, borgo_keys["operator"], "streetlight_out", at) for at in DARK_LAMPS][0]
    circuit = incident_of(client, borgo_keys["operator"], first)
    assert (circuit["kind"], circuit["asset_ids"]) == ("lighting_circuit", ["C1"])
    with live_server(app) as base, browser_page() as page:
        _console(page, base)
        expect(page.locator(f'#incident-list [data-id="{circuit["id"]}"]')).to_contain_text("3 chiamate")
        page.keyboard.press("F2")                       # a new call: the form, its first field
        assert page.evaluate(FOCUSED) == "service_code"
        page.select_option("#intake select[name=service_code]", "streetlight_out")
        page.keyboard.press("Tab")                      # one town: straight to the address
        assert page.evaluate(FOCUSED) == "address_string"

        # what the caller says first: a landmark, with a street as the alternative
        page.keyboard.type("san")
        expect(page.locator("#intake-suggestions")).to_be_visible()
        assert _options(page) == ["Chiesa di San Roccoluogo noto", "forse intendevi…",
                                  "Vicolo San Francesco d'Assisivia, senza civico"]
        expect(page.locator("#intake-place")).to_contain_text("luogo noto: Chiesa di San Rocco")
        page.keyboard.press("ArrowDown")                # the alternative is previewed, not picked
        expect(page.locator('#intake-suggestions [aria-selected="true"]')).to_contain_text("Vicolo San Francesco")
        assert page.input_value("#intake input[name=lat]") == ""
        page.keyboard.press("Escape")                   # closes the suggestions
        expect(page.locator("#intake-suggestions")).to_be_hidden()

        # the town's name after a comma is the caller's habit, not part of the street
        _type_address(page, "via roma 3, borgo")
        expect(page.locator("#intake-suggestions li").first).to_have_text("Via Roma 3civico stimato (interpolato)")

        # then the civic: Enter picks the first suggestion; its label is what is sent, for the
        # service to place on the civic itself (lat/long are the map's, for a click)
        _type_address(page, "via roma 2")
        expect(page.locator("#intake-suggestions li").first).to_have_text("Via Roma 2civico")
        page.keyboard.press("Enter")
        expect(page.locator("#intake-place")).to_have_text("✓ civico: Via Roma 2")
        assert page.input_value("#intake input[name=address_string]") == "Via Roma 2"
        assert page.input_value("#intake input[name=lat]") == ""

        # warned of the dark circuit before saving, and the operator says it is the same failure
        warning = page.locator(f'#intake-nearby [data-incident-id="{circuit["id"]}"]')
        expect(warning).to_have_text(f"Probabilmente il circuito C1 spento in Via Roma, 3 chiamate "
                                     f"(incidente #{circuit['id']}, a 40 m): aggiungere questa?")
        warning.locator("input").check()
        page.fill("#intake textarea[name=description]", "tutta la via è al buio")
        page.focus("#intake input[name=first_name]")
        page.keyboard.type("Giulia")
        page.keyboard.press("Tab")
        page.keyboard.press("Tab")                      # past the surname, to the phone
        assert page.evaluate(FOCUSED) == "phone"
        page.keyboard.type("+39 333 765 4321")
        _shot(page, tmp_path, "intake-before-save")
        page.keyboard.press("Enter")                    # saves

        result = page.locator("#intake-result")
        expect(result).to_contain_text("Chiamata registrata: numero ")
        number = int(result.get_attribute("data-service-request-id"))
        expect(result).to_contain_text(f"numero {number} · aggiunta all'incidente #{circuit['id']}")
        # cleared, and the focus is back on the first field for the next call
        assert page.input_value("#intake input[name=address_string]") == ""
        assert page.input_value("#intake select[name=service_code]") == ""
        assert page.evaluate(FOCUSED) == "service_code"
        expect(page.locator("#intake-nearby")).to_be_empty()
        # the live map took the fourth call into the circuit
        expect(page.locator(f'#incident-list [data-id="{circuit["id"]}"]')).to_contain_text("4 chiamate")
        _shot(page, tmp_path, "intake-saved")
        assert page.outside == []

    with session_scope(borgo_db_url) as s:
        report = s.get(Report, number)
        assert (report.service_code, report.description, report.address, report.geocode_kind, report.lamp_id) == (
            "streetlight_out", "tutta la via è al buio", "Via Roma 2", "address", "L01")
        assert (report.contact.first_name, report.contact.phone) == ("Giulia", "+39 333 765 4321")
        # the rules had put it there already: the operator's yes changed nothing (and is not audited)
        assert s.get(IncidentReport, number).incident_id == circuit["id"]


# Where the map shows a Borgo point (metres from the origin): its pixel, from Leaflet itself.
_PIXEL = """([lat, lon]) => {
  const map = Object.values(window).find(v => v instanceof L.Map);
  const p = map.latLngToContainerPoint([lat, lon]), box = map.getContainer().getBoundingClientRect();
  return [box.left + p.x, box.top + p.y];
}"""


def test_a_click_on_the_map_places_the_call_and_the_operator_adds_it_where_the_rules_would_not(
        borgo_db_url, borgo_keys, tmp_path):
    app = make_app(borgo_db_url, WTF_CSRF_ENABLED=True)
    client = app.test_client()
    pothole = incident_of(client, borgo_keys["operator"],
                          call(client, borgo_keys["operator"], "road_damage", (300, 520)))
    with live_server(app) as base, browser_page() as page:
        _console(page, base)
        page.keyboard.press("F2")
        page.select_option("#intake select[name=service_code]", "road_damage")
        where = latlong(400, 520)     # 100 m east: farther than road damage is grouped (30 m)
        x, y = page.evaluate(_PIXEL, [float(where["lat"]), float(where["long"])])
        page.mouse.click(x, y)
        expect(page.locator("#intake-place")).to_contain_text("✓ Punto scelto sulla mappa")
        assert abs(float(page.input_value("#intake input[name=lat]")) - float(where["lat"])) < 0.0001
        assert abs(float(page.input_value("#intake input[name=long]")) - float(where["long"])) < 0.0001
        warning = page.locator(f'#intake-nearby [data-incident-id="{pothole["id"]}"]')
        expect(warning).to_contain_text("Probabilmente il danno stradale in Via Roma, 1 chiamata")
        warning.locator("input").check()
        number = _saved(page)
        expect(page.locator("#intake-result")).to_contain_text(f"aggiunta all'incidente #{pothole['id']}")
        assert page.outside == []
    with session_scope(borgo_db_url) as s:
        assert s.get(Report, number).geocode_kind == "latlong"
        link = s.get(IncidentReport, number)
        assert (link.incident_id, link.placed_by) == (pothole["id"], "user:anna")


def _saved(page) -> int:
    """Save with Ctrl+Enter; the number shown in #intake-result."""
    page.keyboard.press("Control+Enter")
    result = page.locator("#intake-result")
    expect(result).to_contain_text("Chiamata registrata: numero ")
    return int(result.get_attribute("data-service-request-id"))


def test_two_towns_with_a_via_roma_the_form_asks_which_or_hears_it_from_the_caller(borgo_db_url, tmp_path):
    load_second_town(borgo_db_url, tmp_path)
    app = make_app(borgo_db_url, WTF_CSRF_ENABLED=True)
    with live_server(app) as base, browser_page() as page:
        _console(page, base)
        page.keyboard.press("F2")
        page.select_option("#intake select[name=service_code]", "road_damage")
        page.keyboard.press("Tab")                      # several towns: the town comes next
        assert page.evaluate(FOCUSED) == "jurisdiction_id"
        assert page.input_value("#intake select[name=jurisdiction_id]") == ""   # never preselected

        _type_address(page, "via roma 2")
        expect(page.locator("#intake-suggestions li").first).to_have_text("In quale comune?")
        assert _options(page)[1:] == ["Via Roma 2 — Borgo Provacivico", f"Via Roma 2 — {SECOND_TOWN[1]}civico"]
        expect(page.locator("#intake-place")).to_contain_text("c'è in più comuni")
        page.keyboard.press("Enter")                    # Enter does not choose a town for the operator
        expect(page.locator("#intake-place")).to_contain_text("Scegli prima il comune")
        assert page.input_value("#intake select[name=jurisdiction_id]") == ""
        page.keyboard.press("ArrowDown")
        page.keyboard.press("ArrowDown")
        page.keyboard.press("Enter")                    # the second town, chosen
        expect(page.locator("#intake-place")).to_have_text(f"✓ civico: Via Roma 2 — {SECOND_TOWN[1]}")
        assert page.input_value("#intake select[name=jurisdiction_id]") == SECOND_TOWN[0]
        _shot(page, tmp_path, "intake-two-towns")
        in_second = _saved(page)
        assert page.input_value("#intake select[name=jurisdiction_id]") == ""    # the next call chooses again

        # the caller names the town after a comma: the form takes it, and says so
        page.select_option("#intake select[name=service_code]", "road_damage")
        _type_address(page, "via roma 2, borgo")
        expect(page.locator("#intake-place")).to_contain_text("comune: Borgo Prova, dall'indirizzo")
        assert page.input_value("#intake select[name=jurisdiction_id]") == "borgo"
        page.keyboard.press("Enter")
        expect(page.locator("#intake-place")).to_have_text("✓ civico: Via Roma 2 — Borgo Prova")
        in_borgo = _saved(page)
        assert page.outside == []
    with session_scope(borgo_db_url) as s:
        placed = dict(s.execute(select(Report.id, Municipality.slug).join(
            Municipality, Report.municipality_id == Municipality.id)).all())
        assert placed == {in_second: SECOND_TOWN[0], in_borgo: "borgo"}


@pytest.mark.parametrize("answer", ["L'anagrafe apre alle 8:30, il sabato è chiusa."])
def test_an_information_request_is_logged_without_a_place_and_closed_with_the_answer(borgo_db_url, answer):
    app = make_app(borgo_db_url, WTF_CSRF_ENABLED=True)
    with live_server(app) as base, browser_page() as page:
        _console(page, base)
        page.keyboard.press("F2")
        page.select_option("#intake select[name=service_code]", "info_request")
        expect(page.locator("#intake-attributes")).to_contain_text("La risposta data al chiamante")
        page.fill("#intake input[name='attribute[topic]']", "orari anagrafe")
        page.fill("#intake textarea[name='attribute[answer]']", answer)
        number = _saved(page)
        assert page.outside == []
    with session_scope(borgo_db_url) as s:
        report = s.get(Report, number)
        assert (report.service_code, report.status, report.status_notes, report.attributes["topic"]) == (
            "info_request", "closed", answer, "orari anagrafe")
        assert report.geom is None and report.address is None     # logged without a place
