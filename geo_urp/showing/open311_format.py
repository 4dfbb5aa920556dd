"""Open311 GeoReport v2 answers in JSON and XML, errors included.

Every endpoint answers in the format its URL ends with. The XML follows the
element names of the GeoReport v2 examples: a root (``services``,
``service_requests``, ``service_definition``, ``discovery``, ``errors``, and
FixMyStreet's ``service_request_updates``), one element per item (``service``,
``request``, ``error``, ``request_update``) and, inside, one element
per field; nested lists take the singular (``attributes/attribute``,
``values/value``, ``endpoints/endpoint``, ``formats/format``). Empty fields are
empty elements, booleans ``true``/``false``.
"""
from __future__ import annotations

import json
import re
from xml.etree import ElementTree as ET

from flask import Response

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
CHANGESET = "2026-01-15T00:00:00Z"  # when this API's answers last changed shape
FORMATS = {"json": "application/json; charset=utf-8", "xml": "text/xml; charset=utf-8"}
# No XML 1.0 document may hold these, not even as character references (a lone surrogate would be one).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
ITEM_OF = {"endpoints": "endpoint", "formats": "format", "attributes": "attribute", "values": "value",
           "services": "service", "service_requests": "request", "errors": "error",
           "service_request_updates": "request_update"}


def discovery(base_url: str) -> dict:
    """The GeoReport v2 discovery document for an API served at ``base_url``."""
    return {
        "changeset": CHANGESET,
        "contact": "URP - Ufficio Relazioni con il Pubblico del Comune (numero verde 24 ore)",
        "key_service": "Le chiavi api_key sono rilasciate dall'amministratore del servizio "
                       "(python -m geo_urp keys add --role public).",
        "endpoints": [{"specification": SPECIFICATION, "url": base_url.rstrip("/"), "changeset": CHANGESET,
                       "type": "production", "formats": ["text/xml", "application/json"]}],
    }


def _scalar(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return _NOT_XML.sub("", str(value))


def _fill(parent: ET.Element, value, name: str) -> None:
    if isinstance(value, dict):
        for key, inner in value.items():
            _fill(ET.SubElement(parent, key), inner, key)
    elif isinstance(value, list):
        item = ITEM_OF.get(name, "item")
        for inner in value:
            _fill(ET.SubElement(parent, item), inner, item)
    else:
        parent.text = _scalar(value)


def to_xml(payload, root: str) -> bytes:
    """``payload`` (a list of items or one object) as an XML document under ``root``."""
    element = ET.Element(root)
    _fill(element, payload, root)
    return ET.tostring(element, encoding="utf-8", xml_declaration=True)


def render(payload, fmt: str, root: str, status: int = 200) -> Response:
    """A response in ``fmt`` (json or xml); ``root`` names the XML root element."""
    if fmt == "xml":
        body = to_xml(payload, root)
    else:
        # A lone surrogate can only stand inside a JSON string: written as its escape (``\\ud800``),
        # as json.dumps would with ensure_ascii, rather than failing to encode.
        body = json.dumps(payload, ensure_ascii=False).encode("utf-8", "backslashreplace")
    return Response(body, status=status, content_type=FORMATS.get(fmt, FORMATS["json"]))


def error(status: int, description: str, fmt: str) -> Response:
    """The GeoReport v2 error list: ``[{"code": …, "description": …}]`` or ``errors/error``."""
    return render([{"code": status, "description": description}], fmt, "errors", status)
