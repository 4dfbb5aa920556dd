"""The call intake on ``/operator`` through the test client: the form and its Open311 names (SPEC §6),
one town or several, and ``GET /api/incidents/nearby``, the open incidents a call may join."""
from __future__ import annotations

import pytest

from tests.conftest import make_app
from tests.showing.intake_support import (
    DARK_LAMPS,
    LEAKS,
    SECOND_TOWN,
    call,
    incident_of,
    intake_form,
    load_second_town,
)
from tests.showing.open311_support import latlong

OPEN311_NAMES = {"service_code", "address_string", "description", "first_name", "last_name", "phone", "email",
                 "lat", "long"}
NEARBY = "/api/incidents/nearby"


def _login(client, user: str = "anna") -> None:
    resp = client.post("/login", data={"username": user, "password": f"password-{user}"})
    assert resp.status_code == 302, resp.data


def _near(client, key: str | None, service_code: str, at: tuple[float, float], **params):
    headers = {"X-API-Key": key} if key else {}
    return client.get(NEARBY, headers=headers, query_string={"service_code": service_code, **latlong(*at), **params})


def test_the_operator_page_carries_the_intake_form_with_the_open311_names(shared_client):
    _login(shared_client)
    resp = shared_client.get("/operator")
    assert resp.status_code == 200
    page = intake_form(resp.get_data(as_text=True))
    assert OPEN311_NAMES <= set(page.fields), sorted(page.fields)
    assert {"intake-result", "incident-list", "incident-count"} <= page.ids
    # one town: it is the form's, in a hidden field (nothing to choose)
    assert [(tag, attrs.get("type"), attrs.get("value")) for tag, attrs in page.fields["jurisdiction_id"]] == [
        ("input", "hidden", "borgo")]
    services = dict(page.options["service_code"])
    assert services[""].startswith("— scegli")      # no service is preselected
    assert services["streetlight_out"] == "Lampione spento / via al buio"
    assert services["info_request"] == "Richiesta di informazioni"
    html = resp.get_data(as_text=True)
    assert "/static/intake.js" in html and "/static/operator.js" in html


def test_an_operator_of_several_towns_chooses_the_town_and_none_is_preselected(borgo_db_url, tmp_path):
    load_second_town(borgo_db_url, tmp_path)
    client = make_app(borgo_db_url).test_client()
    _login(client)
    page = intake_form(client.get("/operator").get_data(as_text=True))
    assert [tag for tag, _ in page.fields["jurisdiction_id"]] == ["select"]
    assert page.options["jurisdiction_id"] == [("", "— dall'indirizzo, o scegli —"), ("borgo", "Borgo Prova"),
                                               ("castello", SECOND_TOWN[1])]


@pytest.mark.parametrize("service_code", ["water_leak", "no_water", "low_pressure"])
def test_a_water_call_near_the_burst_is_shown_the_burst_and_a_far_one_nothing(borgo_client, borgo_keys,
                                                                             service_code):
    op = borgo_keys["operator"]
    ids = [call(borgo_client, op, "water_leak", at) for at in LEAKS]
    burst = incident_of(borgo_client, op, ids[0])
    assert burst["kind"] == "water_main_burst"
    resp = _near(borgo_client, op, service_code, (400, 470))
    assert resp.status_code == 200, resp.data
    assert resp.json["jurisdiction_id"] == "borgo" and resp.json["radius_m"] == 200
    (found,) = resp.json["incidents"]
    assert (found["id"], found["kind"], found["report_count"], found["street"]) == (
        burst["id"], "water_main_burst", 4, "Via Roma")
    assert found["asset_ids"] == burst["asset_ids"] and found["distance_m"] < 30
    assert 46.1 < found["lat"] < 46.3 and 11.0 < found["lon"] < 11.2
    # far from the main: nothing, unless the operator widens the search
    assert _near(borgo_client, op, service_code, (850, 880)).json["incidents"] == []
    assert [i["id"] for i in _near(borgo_client, op, service_code, (850, 880), radius_m=1000).json["incidents"]] == [
        burst["id"]]
    # another family of kinds is not shown the burst
    assert _near(borgo_client, op, "streetlight_out", (400, 470)).json["incidents"] == []


def test_a_lamp_call_near_a_dark_circuit_is_shown_the_circuit(borgo_client, borgo_keys):
    op = borgo_keys["operator"]
    ids = [call(borgo_client, op, "streetlight_out", at) for at in DARK_LAMPS]
    circuit = incident_of(borgo_client, op, ids[0])
    assert (circuit["kind"], circuit["asset_ids"]) == ("lighting_circuit", ["C1"])
    found = _near(borgo_client, op, "streetlight_out", (110, 510), jurisdiction_id="borgo").json["incidents"]
    assert [(i["id"], i["kind"], i["asset_ids"], i["report_count"], i["street"]) for i in found] == [
        (circuit["id"], "lighting_circuit", ["C1"], 3, "Via Roma")]
    # an information request joins no incident: nothing is nearby
    assert _near(borgo_client, op, "info_request", (110, 510)).json["incidents"] == []
    assert _near(borgo_client, op, "water_leak", (110, 510)).json["incidents"] == []


@pytest.mark.parametrize("params, status, field", [
    ({"lat": "46.2", "long": "11.07"}, 400, "service_code"),
    ({"service_code": "lampioni", "lat": "46.2", "long": "11.07"}, 400, "service_code"),
    ({"service_code": "noise", "long": "11.07"}, 400, "lat"),
    ({"service_code": "noise", "lat": "nord", "long": "11.07"}, 400, "lat"),
    ({"service_code": "noise", "lat": "91", "long": "11.07"}, 400, "lat"),
    ({"service_code": "noise", "lat": "46.2"}, 400, "long"),
    ({"service_code": "noise", "lat": "46.2", "long": "inf"}, 400, "long"),
    ({"service_code": "noise", "lat": "46.2", "long": "11.07", "radius_m": "0"}, 400, "radius_m"),
    ({"service_code": "noise", "lat": "46.2", "long": "11.07", "radius_m": "5000"}, 400, "radius_m"),
    ({"service_code": "noise", "lat": "46.2", "long": "11.07", "jurisdiction_id": "atlantide"}, 404,
     "jurisdiction_id"),
])
def test_bad_parameters_are_refused_naming_the_field(shared_client, borgo_keys, params, status, field):
    resp = shared_client.get(NEARBY, query_string=params, headers={"X-API-Key": borgo_keys["operator"]})
    assert resp.status_code == status, resp.data
    assert field in resp.json["error"] and resp.json["details"][0]["field"] == field, resp.json


def test_several_towns_and_no_jurisdiction_id_is_refused_naming_it(borgo_db_url, tmp_path):
    load_second_town(borgo_db_url, tmp_path)
    client = make_app(borgo_db_url).test_client()
    _login(client)   # anna answers for every town
    resp = _near(client, None, "noise", (110, 510))
    assert resp.status_code == 400 and "jurisdiction_id" in resp.json["error"], resp.json
    assert _near(client, None, "noise", (110, 510), jurisdiction_id=SECOND_TOWN[0]).status_code == 200


@pytest.mark.parametrize("role", ["crew", "council", "public"])
def test_only_operators_read_what_is_nearby(shared_client, borgo_keys, role):
    assert _near(shared_client, borgo_keys[role], "noise", (110, 510)).status_code == 403
    assert _near(shared_client, borgo_keys["operator"], "noise", (110, 510)).status_code == 200


def test_nearby_needs_credentials_and_a_council_login_is_refused(shared_client):
    assert _near(shared_client, None, "noise", (110, 510)).status_code == 401
    _login(shared_client, "carla")
    assert _near(shared_client, None, "noise", (110, 510)).status_code == 403
