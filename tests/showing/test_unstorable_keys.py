"""A lone UTF-16 surrogate in a JSON key, with or without an api_key, is a 400 naming the field in
well-formed JSON or XML, never a 500 nor an XML document holding an invalid character reference."""
from __future__ import annotations

import json

import pytest

from tests.showing.open311_support import API, xml_of

BODIES = [('{"\\ud800": "x"}', "\\ud800"),
          ('{"service_code": "noise", "attribute[\\udc00]": "x"}', "attribute[\\udc00]"),
          ('{"service_code": "noise", "attributes": {"a\\udfffb": "x"}}', "attributes")]


def _description(resp, fmt: str) -> str:
    if fmt == "json":
        return json.loads(resp.data.decode("utf-8"))[0]["description"]
    return xml_of(resp).findtext("error/description")


@pytest.mark.parametrize("fmt", ["json", "xml"])
@pytest.mark.parametrize("body, named", BODIES)
def test_a_lone_surrogate_in_a_json_key_is_a_400_naming_it(shared_client, fmt, body, named):
    resp = shared_client.post(f"{API}/requests.{fmt}", data=body, headers={"Content-Type": "application/json"})
    assert resp.status_code == 400
    described = _description(resp, fmt)  # the XML parses: no &#55296; in it
    assert described.startswith(named + " holds a character that cannot be stored"), described
    assert "&#5" not in resp.get_data(as_text=True)


def test_a_lone_surrogate_in_a_json_key_of_an_api_route_is_a_400(shared_client):
    resp = shared_client.post("/api/incidents/merge", data='{"\\ud800": 1}',
                              headers={"Content-Type": "application/json"})
    assert resp.status_code == 400
    assert json.loads(resp.data)["details"] == [{"field": "\\ud800"}]
