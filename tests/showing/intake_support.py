"""Shared by the call-intake tests: a second town with Borgo's streets, the calls that make a burst
and a dark circuit, and reading the intake form out of the operator page."""
from __future__ import annotations

import json
from html.parser import HTMLParser
from pathlib import Path

from geo_urp.db import session_scope
from geo_urp.loading.loader import load_municipality
from tests.conftest import BORGO
from tests.showing.open311_support import latlong, post

SECOND_TOWN = ("castello", "Castel Secondo")
SECOND_TOWN_EAST_M = 5000  # drawn this far east of Borgo: its own streets, with the same names (Via Roma)

# Four leak calls along main P5 (y=450, x 300..500): one burst (as tests/acting/test_work_orders.py).
LEAKS = [(330 + 40 * n, 453) for n in range(4)]
# Three dark lamps of circuit C1 on Via Roma (L01..L03 at x 150..210, y 505): the circuit failed.
DARK_LAMPS = [(150, 503), (180, 503), (210, 503)]


def _shifted(coords, dx: float):
    if coords and isinstance(coords[0], (int, float)):
        return [coords[0] + dx, *coords[1:]]
    return [_shifted(c, dx) for c in coords]


def second_town_layers(folder: Path) -> Path:
    """Borgo's boundary, streets, civics and landmarks moved ``SECOND_TOWN_EAST_M`` east, as the town
    ``SECOND_TOWN`` (no utilities): a contact centre's second town with a Via Roma of its own."""
    folder.mkdir(parents=True, exist_ok=True)
    for layer in ("boundary", "streets", "addresses", "landmarks"):
        doc = json.loads((BORGO / f"{layer}.geojson").read_text(encoding="utf-8"))
        for feature in doc["features"]:
            geometry = feature["geometry"]
            geometry["coordinates"] = _shifted(geometry["coordinates"], SECOND_TOWN_EAST_M)
            if layer == "boundary":
                feature["properties"]["name"] = SECOND_TOWN[1]
            if layer == "landmarks" and feature["properties"]["name"].startswith("Municipio"):
                feature["properties"]["name"] = f"Municipio di {SECOND_TOWN[1]}"
        (folder / f"{layer}.geojson").write_text(json.dumps(doc), encoding="utf-8")
    return folder


def load_second_town(db_url: str, tmp_path: Path) -> None:
    """Load ``SECOND_TOWN`` into the database at ``db_url`` beside Borgo."""
    with session_scope(db_url) as s:
        load_municipality(s, second_town_layers(tmp_path / SECOND_TOWN[0]), SECOND_TOWN[0], SECOND_TOWN[1])


def call(client, key: str, service_code: str, at: tuple[float, float], **fields) -> int:
    """Take one call through Open311 with ``key`` at Borgo metres ``at``; its service_request_id."""
    resp = post(client, key, service_code=service_code, jurisdiction_id="borgo", **latlong(*at), **fields)
    assert resp.status_code == 201, resp.get_data(as_text=True)
    return int(resp.json[0]["service_request_id"])


def incident_of(client, key: str, report_id: int) -> dict:
    """The open incident (its properties) holding ``report_id``."""
    features = client.get("/api/incidents", headers={"X-API-Key": key}).json["features"]
    (found,) = [f["properties"] for f in features if str(report_id) in f["properties"]["report_ids"]]
    return found


class FormFields(HTMLParser):
    """The named controls inside ``form#intake`` (name -> list of (tag, attributes)), the options
    of its selects (name -> [(value, text)]) and the ids of every element on the page."""

    def __init__(self):
        super().__init__()
        self.fields: dict[str, list[tuple[str, dict]]] = {}
        self.options: dict[str, list[tuple[str, str]]] = {}
        self.ids: set[str] = set()
        self._in_form = False
        self._select: str | None = None
        self._option: str | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "id" in attrs:
            self.ids.add(attrs["id"])
        if tag == "form" and attrs.get("id") == "intake":
            self._in_form = True
        if not self._in_form:
            return
        if tag in ("input", "select", "textarea") and attrs.get("name"):
            self.fields.setdefault(attrs["name"], []).append((tag, attrs))
            if tag == "select":
                self._select = attrs["name"]
                self.options[self._select] = []
        if tag == "option" and self._select:
            self._option = attrs.get("value", "")
            self.options[self._select].append((self._option, ""))

    def handle_data(self, data):
        if self._option is not None and self._select:
            value, text = self.options[self._select][-1]
            self.options[self._select][-1] = (value, (text + data).strip())

    def handle_endtag(self, tag):
        if tag == "option":
            self._option = None
        if tag == "select":
            self._select = None
        if tag == "form" and self._in_form:
            self._in_form = False


def intake_form(html: str) -> FormFields:
    """The intake form of an operator page."""
    parser = FormFields()
    parser.feed(html)
    return parser
