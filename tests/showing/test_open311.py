"""Open311 GeoReport v2 conformance: every endpoint in JSON and XML, schema-valid, with the spec's names."""
from __future__ import annotations

import pytest

from geo_urp.catalog import DEFAULT_CATALOG
from tests.showing.open311_support import API, latlong, post, validate, xml_of

FORMATS = ("json", "xml")


def test_discovery_in_json_is_schema_valid_and_names_the_v2_endpoint(shared_client):
    resp = shared_client.get(f"{API}/discovery.json")
    assert resp.status_code == 200 and resp.is_json
    validate(resp.json, "discovery.json")
    endpoint = resp.json["endpoints"][0]
    assert endpoint["url"].endswith("/open311/v2") and endpoint["specification"].endswith("GeoReport_v2")


def test_discovery_in_xml_names_the_v2_endpoint_and_both_formats(shared_client):
    root = xml_of(shared_client.get(f"{API}/discovery.xml"))
    assert root.tag == "discovery"
    formats = [f.text for f in root.findall("endpoints/endpoint/formats/format")]
    assert formats == ["text/xml", "application/json"]
    assert root.findtext("endpoints/endpoint/url").endswith("/open311/v2")


def test_the_service_list_in_json_is_schema_valid_with_names_groups_and_keywords(shared_client):
    resp = shared_client.get(f"{API}/services.json")
    assert resp.status_code == 200
    validate(resp.json, "services.json")
    by_code = {s["service_code"]: s for s in resp.json}
    assert set(by_code) >= {"streetlight_out", "no_water", "low_pressure", "water_leak", "flooding",
                            "road_damage", "noise", "social_distress", "info_request"}
    assert by_code["no_water"]["service_name"] == "Mancanza d'acqua"
    assert by_code["no_water"]["metadata"] is True and by_code["no_water"]["group"] == "Acquedotto"
    assert "lampione" in by_code["streetlight_out"]["keywords"]


def test_the_service_list_in_xml_has_the_georeport_elements_in_catalog_order(shared_client):
    root = xml_of(shared_client.get(f"{API}/services.xml"))
    assert root.tag == "services" and {c.tag for c in root} == {"service"}
    first = root.find("service")
    assert [c.tag for c in first] == ["service_code", "service_name", "description", "metadata", "type",
                                      "keywords", "group"]
    assert first.findtext("metadata") in ("true", "false")
    assert [s.findtext("service_code") for s in root] == DEFAULT_CATALOG.codes


def test_a_service_definition_in_json_lists_the_values_of_its_attributes(shared_client):
    resp = shared_client.get(f"{API}/services/no_water.json")
    assert resp.status_code == 200
    validate(resp.json, "service-definition.json")
    extent = next(a for a in resp.json["attributes"] if a["code"] == "extent")
    assert extent["datatype"] == "singlevaluelist" and "via" in extent["description"]
    assert {v["key"] for v in extent["values"]} >= {"casa", "via"}


@pytest.mark.parametrize("code", DEFAULT_CATALOG.codes)
def test_every_service_definition_is_schema_valid(shared_client, code):
    resp = shared_client.get(f"{API}/services/{code}.json")
    validate(resp.json, "service-definition.json")
    assert resp.json["service_code"] == code


def test_a_service_definition_in_xml_has_the_georeport_attribute_elements(shared_client):
    root = xml_of(shared_client.get(f"{API}/services/no_water.xml"))
    assert root.tag == "service_definition" and root.findtext("service_code") == "no_water"
    attribute = root.find("attributes/attribute")
    assert {"variable", "code", "datatype", "required", "order", "description"} <= {c.tag for c in attribute}
    assert root.find("attributes/attribute/values/value/key") is not None


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_posted_request_reads_back_by_id_and_by_token(borgo_client, borgo_keys, fmt):
    resp = post(borgo_client, borgo_keys["public"], fmt, service_code="streetlight_out", description="via al buio",
                **latlong(205, 497), **{"attribute[extent]": "via"})
    assert resp.status_code == 201, resp.data
    if fmt == "json":
        validate(resp.json, "post.json")
        rid, token = resp.json[0]["service_request_id"], resp.json[0]["token"]
    else:
        root = xml_of(resp)
        assert root.tag == "service_requests" and root[0].tag == "request"
        rid, token = root.findtext("request/service_request_id"), root.findtext("request/token")
    # As the operators see it (the public view is tests/showing/test_open311_privacy.py).
    one = borgo_client.get(f"{API}/requests/{rid}.json", headers={"X-API-Key": borgo_keys["operator"]})
    validate(one.json, "requests.json")
    got = one.json[0]
    assert got["service_request_id"] == rid and got["service_code"] == "streetlight_out"
    assert got["service_name"] == "Lampione spento / via al buio" and got["status"] == "open"
    assert got["address"].startswith("Via Roma") and got["description"] == "via al buio"
    assert abs(got["lat"] - float(latlong(205, 497)["lat"])) < 1e-6
    tokens = borgo_client.get(f"{API}/tokens/{token}.json")
    validate(tokens.json, "tokens.json")
    assert tokens.json == [{"service_request_id": rid, "token": token}]


def test_the_request_list_in_json_is_schema_valid_newest_first(borgo_client, borgo_keys):
    for code in ("noise", "flooding"):
        post(borgo_client, borgo_keys["public"], service_code=code, **latlong(500, 500))
    resp = borgo_client.get(f"{API}/requests.json")
    assert resp.status_code == 200
    validate(resp.json, "requests.json")
    assert [r["service_code"] for r in resp.json] == ["flooding", "noise"]  # newest first


def test_the_request_list_in_xml_has_the_georeport_elements_in_order(borgo_client, borgo_keys):
    post(borgo_client, borgo_keys["public"], service_code="noise", **latlong(500, 500))
    root = xml_of(borgo_client.get(f"{API}/requests.xml"))
    assert root.tag == "service_requests"
    request = root.find("request")
    assert [c.tag for c in request] == [
        "service_request_id", "status", "status_notes", "service_name", "service_code", "description",
        "agency_responsible", "service_notice", "requested_datetime", "updated_datetime", "expected_datetime",
        "address", "address_id", "zipcode", "lat", "long", "media_url"]
    assert request.findtext("status") == "open" and float(request.findtext("lat")) > 46


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_request_is_read_by_id_and_by_token(borgo_client, borgo_keys, fmt):
    posted = post(borgo_client, borgo_keys["public"], service_code="noise", **latlong(500, 500)).json[0]
    rid, token = posted["service_request_id"], posted["token"]
    resp = borgo_client.get(f"{API}/requests/{rid}.{fmt}")
    by_token = borgo_client.get(f"{API}/tokens/{token}.{fmt}")
    assert resp.status_code == by_token.status_code == 200
    if fmt == "xml":
        assert xml_of(resp).findtext("request/service_request_id") == rid
        root = xml_of(by_token)
        assert root.tag == "service_requests" and [c.tag for c in root.find("request")] == [
            "service_request_id", "token"]
        assert root.findtext("request/token") == token
    else:
        validate(resp.json, "requests.json")
        validate(by_token.json, "tokens.json")


def test_xml_drops_control_characters_and_stays_well_formed(borgo_client, borgo_keys):
    post(borgo_client, borgo_keys["public"], service_code="noise", description="rumore\x01 forte\x1b & <musica>",
         **latlong(500, 500))
    root = xml_of(borgo_client.get(f"{API}/requests.xml", headers={"X-API-Key": borgo_keys["operator"]}))
    assert root.findtext("request/description") == "rumore forte & <musica>"


def test_an_empty_request_list_is_valid_json_and_xml(shared_client):
    resp = shared_client.get(f"{API}/requests.json")
    assert resp.status_code == 200 and resp.json == []
    assert xml_of(shared_client.get(f"{API}/requests.xml")).tag == "service_requests"


def test_post_accepts_a_json_body(borgo_client, borgo_keys):
    body = {"api_key": borgo_keys["public"], "service_code": "no_water", **latlong(400, 455),
            "attributes": {"extent": "casa"}}
    resp = borgo_client.post(f"{API}/requests.json", json=body)
    assert resp.status_code == 201, resp.data
    validate(resp.json, "post.json")


def test_an_open311_post_needs_no_csrf_token(borgo_app, borgo_client, borgo_keys):
    borgo_app.config["WTF_CSRF_ENABLED"] = True
    resp = post(borgo_client, borgo_keys["public"], service_code="noise", **latlong(500, 500))
    assert resp.status_code == 201, resp.data


@pytest.mark.parametrize("where", [{"address_string": "via roma 12/a"}, "latlong"])
def test_a_placed_report_carries_its_postcode(borgo_client, borgo_keys, where):
    fields = latlong(300, 510) if where == "latlong" else where
    rid = post(borgo_client, borgo_keys["public"], service_code="noise", **fields).json[0]["service_request_id"]
    assert borgo_client.get(f"{API}/requests/{rid}.json").json[0]["zipcode"] == "38017"
