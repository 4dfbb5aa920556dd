"""Shared by the Open311 tests: schema validation, XML reading, placing and posting calls.

JSON answers are validated against the official GeoReport v2 schemas copied in
``tests/open311_schema`` (see its README); their relative ``$ref``s resolve
through a ``referencing`` registry that retrieves files from that folder only.
The answers the official set has no schema for (discovery, POST, tokens,
errors) are checked against the small schemas below, written from the
GeoReport v2 specification.
"""
from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from urllib.parse import urlparse
from xml.etree import ElementTree as ET

from jsonschema import Draft7Validator, FormatChecker
from pyproj import Transformer
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7

from tests.conftest import BORGO_ORIGIN

SCHEMAS = Path(__file__).resolve().parents[1] / "open311_schema"
BASE = SCHEMAS.as_uri() + "/"
X0, Y0 = BORGO_ORIGIN
API = "/open311/v2"

_STR_OR_NULL = {"anyOf": [{"type": "string"}, {"type": "null"}]}
LOCAL_SCHEMAS = {
    "post.json": {"type": "array", "minItems": 1, "items": {
        "type": "object", "required": ["service_request_id"],
        "properties": {"service_request_id": {"type": "string"}, "token": _STR_OR_NULL,
                       "service_notice": _STR_OR_NULL, "account_id": _STR_OR_NULL}}},
    "tokens.json": {"type": "array", "minItems": 1, "items": {
        "type": "object", "required": ["service_request_id", "token"],
        "properties": {"service_request_id": {"type": "string"}, "token": {"type": "string"}}}},
    "errors.json": {"type": "array", "minItems": 1, "items": {
        "type": "object", "required": ["code", "description"], "additionalProperties": False,
        "properties": {"code": {"type": "integer"}, "description": {"type": "string"}}}},
    "discovery.json": {"type": "object", "required": ["changeset", "contact", "endpoints"], "properties": {
        "changeset": {"type": "string", "format": "date-time"}, "contact": {"type": "string"},
        "key_service": {"type": "string"},
        "endpoints": {"type": "array", "minItems": 1, "items": {
            "type": "object", "required": ["specification", "url", "changeset", "type", "formats"],
            "properties": {"url": {"type": "string", "format": "uri"},
                           "formats": {"type": "array", "items": {"enum": ["text/xml", "application/json"]}}}}}}},
}


def _retrieve(uri: str) -> Resource:
    if not uri.startswith(BASE):
        raise LookupError(f"schemas are only read from {SCHEMAS}, not {uri}")
    contents = json.loads((SCHEMAS / uri[len(BASE):]).read_text())
    return Resource.from_contents(contents, default_specification=DRAFT7)


REGISTRY = Registry(retrieve=_retrieve).with_resources(
    (BASE + name, Resource.from_contents(schema, default_specification=DRAFT7))
    for name, schema in LOCAL_SCHEMAS.items())
FORMATS = FormatChecker()


@FORMATS.checks("date-time", raises=ValueError)
def _date_time(value) -> bool:
    if not isinstance(value, str):
        return True
    return "T" in value and datetime.fromisoformat(value.replace("Z", "+00:00")).tzinfo is not None


@FORMATS.checks("uri")
def _uri(value) -> bool:
    parsed = urlparse(value) if isinstance(value, str) else None
    return parsed is None or bool(parsed.scheme and parsed.netloc)


def validate(body, schema: str) -> None:
    """Validate ``body`` against ``schema`` (a file name in tests/open311_schema or LOCAL_SCHEMAS)."""
    Draft7Validator({"$ref": BASE + schema}, registry=REGISTRY, format_checker=FORMATS).validate(body)


def xml_of(resp) -> ET.Element:
    """The parsed XML body (fails when it is not well-formed or not served as XML)."""
    assert resp.content_type.startswith("text/xml"), resp.content_type
    return ET.fromstring(resp.data)


def latlong(x: float, y: float) -> dict:
    """Open311 lat/long of a Borgo point given in metres from (X0, Y0)."""
    lon, lat = Transformer.from_crs(32632, 4326, always_xy=True).transform(X0 + x, Y0 + y)
    return {"lat": f"{lat:.8f}", "long": f"{lon:.8f}"}


def post(client, key: str | None, fmt: str = "json", headers: dict | None = None, **fields):
    """POST requests.{fmt} with form fields (``api_key`` added when ``key`` is given)."""
    data = {**fields, **({"api_key": key} if key else {})}
    return client.post(f"{API}/requests.{fmt}", data=data, headers=headers or {})
