"""The council's page (``showing/pages_council.py``, ``reading/council.py``) through the test client, on Borgo.

Calls with callers' names, contacts and words: three leak calls along main P5 (a burst), three
noise calls close together (a cluster), and one call about someone in distress (one household:
never shown to the council). The page must show the two incidents and their counts, and
nothing of any caller, call or report.
"""
from __future__ import annotations

import json
import re

import pytest

from tests.acting.test_intake import latlong

CALLER = {"first_name": "Maria", "last_name": "Rossi", "phone": "+39 347 123 4567", "email": "maria.rossi@example.it",
          "description": "la signora del secondo piano <b>non risponde</b>"}
PRIVATE = ("Maria", "Rossi", "347 123 4567", "maria.rossi@example.it", "secondo piano", "report_ids", "explanation")


@pytest.fixture()
def calls(borgo_client, borgo_keys) -> None:
    """The module's calls."""
    for code, spots in (("water_leak", [(330 + 40 * n, 453) for n in range(3)]),
                        ("noise", [(700 + 5 * n, 200) for n in range(3)]), ("social_distress", [(200, 800)])):
        for at in spots:
            resp = borgo_client.post("/open311/v2/requests.json", data={
                "api_key": borgo_keys["operator"], "service_code": code, **latlong(*at), **CALLER})
            assert resp.status_code == 201, resp.get_data(as_text=True)


def _council_page(client, keys) -> str:
    resp = client.get("/council", headers={"X-API-Key": keys["council"]})
    assert resp.status_code == 200, resp.get_data(as_text=True)
    return resp.get_data(as_text=True)


def _drawn(page: str) -> list[dict]:
    """The incidents the page's map draws: the GeoJSON collection whose features have a ``tipo``."""
    (data,) = [m.group(1) for m in re.finditer(r"_add\((\{\"features\".*?\})\);", page) if '"tipo"' in m.group(1)]
    return json.loads(data)["features"]


def _counts(page: str) -> dict[str, dict[str, str]]:
    """The counts table: kind -> {status or "total" or "calls": the cell's text}."""
    table = {}
    for kind, row in re.findall(r'<tr data-kind="(\w+)">(.*?)</tr>', page, re.S):
        cells = dict(re.findall(r'<td data-status="(\w+)">(\d+)</td>', row))
        cells.update(re.findall(r'<td class="(total|calls)">(\d+)</td>', row))
        table[kind] = cells
    return table


def test_the_council_sees_the_open_incidents_and_nobody(borgo_client, borgo_keys, calls):
    page = _council_page(borgo_client, borgo_keys)
    assert [p for p in PRIVATE if p in page] == []
    drawn = _drawn(page)
    assert sorted((f["properties"]["tipo"], f["properties"]["chiamate"]) for f in drawn) == [
        ("Disturbo della quiete pubblica", 3), ("Rottura di una condotta", 3)]
    # No incident or report id, no text: what each incident is, how far along, how urgent, how many calls.
    assert all(set(f) == {"type", "geometry", "properties"} for f in drawn)
    assert all(set(f["properties"]) == {"tipo", "stato", "priorita", "chiamate"} for f in drawn)
    assert "Situazione di disagio" not in page                                      # one household


def test_the_counts_follow_the_incidents_status(borgo_client, borgo_keys, calls):
    op = {"X-API-Key": borgo_keys["operator"]}
    kinds = {f["properties"]["kind"]: f["id"] for f in borgo_client.get("/api/incidents", headers=op).json["features"]}
    assert set(kinds) == {"water_main_burst", "noise", "social_distress"}       # the operator sees all three
    burst = kinds["water_main_burst"]
    assert borgo_client.post(f"/api/incidents/{burst}/status", json={"status": "assigned"}, headers=op).status_code == 200
    counts = _counts(_council_page(borgo_client, borgo_keys))
    assert counts == {
        "water_main_burst": {"open": "0", "assigned": "1", "in_progress": "0", "resolved": "0", "closed": "0",
                             "total": "1", "calls": "3"},
        "noise": {"open": "1", "assigned": "0", "in_progress": "0", "resolved": "0", "closed": "0",
                  "total": "1", "calls": "3"}}


def test_with_no_incident_the_page_says_so(shared_client, borgo_keys):
    page = _council_page(shared_client, borgo_keys)
    assert "Nessun incidente registrato finora." in page and "Incidenti aperti sulla mappa (0)" in page
    assert "leaflet.js" in page and "cdn" not in page.lower()


def test_an_unknown_town_is_not_found_and_the_towns_served_are_not_told(shared_client, borgo_keys):
    resp = shared_client.get("/council?jurisdiction_id=altrove", headers={"X-API-Key": borgo_keys["council"]})
    assert resp.status_code == 404 and "borgo" not in resp.json["error"]   # a key bound to Borgo
