"""What Open311 GETs publish, asked by every kind of reader, in JSON and XML (``reading.privacy``).

Anyone, a public, crew or council key (``X-API-Key`` header or the body's ``api_key``) and a
council login get the public view: no description nor notes, the street without the civic,
lat/long at the centre of a 50 m cell, times at the hour, no social distress report listed,
read or updated, and a town's own setting hides noise too. An operator key or login sees
everything as stored.
"""
from __future__ import annotations

import math
import uuid
from datetime import datetime, timedelta, timezone
from urllib.parse import urlencode

import pytest
from geoalchemy2.shape import to_shape
from pyproj import Transformer
from sqlalchemy import select, update

from geo_urp.db import engine_for, session_scope
from geo_urp.models import Municipality, Report, ReportUpdate
from tests.conftest import _clone, _drop_db, make_app
from tests.showing.open311_support import API, latlong, post, validate, xml_of

FORMATS = ("json", "xml")
PUBLIC_READERS = ("anyone", "key public", "api_key public", "key crew", "key council", "login carla")
FULL_READERS = ("key operator", "api_key operator", "login anna")
# What the callers said, and the crew's note: none of it is for the public.
SAID = {"streetlight_out": "Sono la signora Bianchi, il lampione davanti a casa mia è spento",
        "social_distress": "anziana sola al secondo piano, non risponde al campanello",
        "noise": "musica altissima dal secondo piano del civico 7"}
NOTE = "Parlato con la signora Bianchi al civico 12/A"
TO_METRIC = Transformer.from_crs(4326, 32632, always_xy=True)
WHEN = (datetime.now(timezone.utc) - timedelta(days=2)).replace(minute=34, second=27, microsecond=0)


class Town:
    """A Borgo of the module's own with three calls (and an update of each) made at ``WHEN``."""

    def __init__(self, url: str, app, keys: dict):
        self.url, self.app, self.keys = url, app, keys
        self.ids: dict[str, str] = {}
        client = app.test_client()
        where = {"streetlight_out": {"address_string": "via roma 12/a"}, "social_distress": latlong(212.3, 488.9),
                 "noise": latlong(700, 207)}
        for code, place in where.items():
            resp = post(client, keys["operator"], service_code=code, description=SAID[code],
                        requested_datetime=WHEN.isoformat(), **place)
            assert resp.status_code == 201, resp.data
            self.ids[code] = resp.json[0]["service_request_id"]
        with session_scope(url) as s:
            self.stored = {code: to_shape(s.get(Report, int(rid)).geom) for code, rid in self.ids.items()}
            s.add_all(ReportUpdate(municipality_id=s.get(Report, int(rid)).municipality_id, report_id=int(rid),
                                   stage="in_progress", status="open", description=NOTE,
                                   updated_datetime=WHEN + timedelta(minutes=5), actor="key:crew")
                      for rid in self.ids.values())

    def client(self, reader: str):
        """A client asking as ``reader`` and the form body it sends (an ``api_key`` field)."""
        client = self.app.test_client()
        kind, _, who = reader.partition(" ")
        if kind == "key":
            client.environ_base["HTTP_X_API_KEY"] = self.keys[who]
        elif kind == "login":
            resp = client.post("/login", data={"username": who, "password": f"password-{who}"})
            assert resp.status_code == 302, resp.data
        return client, {"api_key": self.keys[who]} if kind == "api_key" else {}


@pytest.fixture(scope="module")
def town(borgo_template):
    name, url = _clone(borgo_template.url, "privacy" + uuid.uuid4().hex[:6])
    yield Town(url, make_app(url), borgo_template.keys)
    engine_for(url).dispose()
    _drop_db(name)


def _get(town: Town, reader: str, path: str, fmt: str, **params):
    client, body = town.client(reader)
    query = urlencode(params)
    return client.get(f"{API}/{path}.{fmt}" + (f"?{query}" if query else ""), data=body or None)


def _items(resp, fmt: str, schema: str = "requests.json") -> list[dict]:
    """The answer's items as dicts; XML's texts read as JSON would carry them (empty: None, lat/long numbers)."""
    assert resp.status_code == 200, resp.data
    if fmt == "json":
        if schema:
            validate(resp.json, schema)
        return resp.json
    items = [{c.tag: c.text for c in item} for item in xml_of(resp)]
    for item in items:
        for name in ("lat", "long"):
            if item.get(name):
                item[name] = float(item[name])
    return items


def _by_code(items: list[dict]) -> dict[str, dict]:
    return {r["service_code"]: r for r in items}


def _metres(item: dict) -> tuple[float, float]:
    return TO_METRIC.transform(item["long"], item["lat"])


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("reader", PUBLIC_READERS)
def test_the_public_view_has_no_words_the_street_a_50_m_cell_the_hour_and_no_social_distress(town, reader, fmt):
    resp = _get(town, reader, "requests", fmt)
    items = _by_code(_items(resp, fmt))
    assert set(items) == {"streetlight_out", "noise"}
    body = resp.get_data(as_text=True)
    for words in (*SAID.values(), NOTE, "Bianchi", "12/A"):
        assert words not in body, words
    light = items["streetlight_out"]
    assert light["service_request_id"] == town.ids["streetlight_out"] and light["address"] == "Via Roma"
    for item in items.values():
        assert (item["description"], item["status_notes"], item["address_id"]) == (None, None, None)
        for name in ("requested_datetime", "updated_datetime", "expected_datetime"):
            assert item[name].endswith(":00:00+00:00"), (name, item[name])
        assert item["requested_datetime"] == WHEN.replace(minute=0, second=0).isoformat()
        x, y = _metres(item)
        stored = town.stored[item["service_code"]]
        assert 0.5 < math.dist((x, y), (stored.x, stored.y)) < 36                # moved, by less than half a cell
        assert all(abs(v % 50 - 25) < 0.01 for v in (x, y)), (x, y)             # onto a 50 m cell's centre
        assert (math.floor(x / 50), math.floor(y / 50)) == (math.floor(stored.x / 50), math.floor(stored.y / 50))


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("reader", PUBLIC_READERS)
def test_a_social_distress_report_is_a_404_for_the_public_as_one_that_does_not_exist(town, reader, fmt):
    rid = town.ids["social_distress"]
    hidden = _get(town, reader, f"requests/{rid}", fmt)
    missing = _get(town, reader, "requests/999999999", fmt)
    assert hidden.status_code == missing.status_code == 404
    assert hidden.get_data(as_text=True) == missing.get_data(as_text=True).replace("999999999", rid)
    assert _items(_get(town, reader, "requests", fmt, service_request_id=rid), fmt) == []
    assert _items(_get(town, reader, "requests", fmt, service_code="social_distress"), fmt) == []
    one = _items(_get(town, reader, f"requests/{town.ids['noise']}", fmt), fmt)
    assert one[0]["description"] is None and one[0]["requested_datetime"].endswith(":00:00+00:00")


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("reader", PUBLIC_READERS)
def test_the_public_updates_have_no_note_the_hour_and_no_social_distress(town, reader, fmt):
    got = _items(_get(town, reader, "servicerequestupdates", fmt, start_date=(WHEN - timedelta(hours=1)).isoformat()),
                 fmt, schema="")
    assert sorted(u["service_request_id"] for u in got) == sorted([town.ids["streetlight_out"], town.ids["noise"]])
    assert {(u["description"] or "", u["updated_datetime"]) for u in got} == {
        ("", WHEN.replace(minute=0, second=0).isoformat())}


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("reader", FULL_READERS)
def test_an_operator_key_or_login_sees_everything_as_stored(town, reader, fmt):
    items = _by_code(_items(_get(town, reader, "requests", fmt), fmt))
    assert set(items) == set(SAID)
    for code, item in items.items():
        assert item["description"] == SAID[code] and item["requested_datetime"] == WHEN.isoformat()
        x, y = _metres(item)
        assert math.dist((x, y), (town.stored[code].x, town.stored[code].y)) < 0.05
    assert items["streetlight_out"]["address"] == "Via Roma 12/A"
    rid = town.ids["social_distress"]
    assert _items(_get(town, reader, f"requests/{rid}", fmt), fmt)[0]["description"] == SAID["social_distress"]
    updates = _items(_get(town, reader, "servicerequestupdates", fmt,
                          start_date=(WHEN - timedelta(hours=1)).isoformat()), fmt, schema="")
    assert {(u["service_request_id"], u["description"], u["updated_datetime"]) for u in updates} == {
        (r, NOTE, (WHEN + timedelta(minutes=5)).isoformat()) for r in town.ids.values()}


@pytest.mark.parametrize("reader", ["anyone", "key public"])
def test_a_one_minute_window_tells_the_public_no_minute(town, reader):
    def found(minute: int, who: str) -> bool:
        start = WHEN.replace(minute=minute, second=0)
        window = {"start_date": start.isoformat(), "end_date": (start + timedelta(seconds=59)).isoformat()}
        ids = [r["service_request_id"] for r in _items(_get(town, who, "requests", "json", **window), "json")]
        return town.ids["streetlight_out"] in ids
    assert all(found(m, reader) for m in (0, 10, 33, 35, 59))
    assert [m for m in (0, 10, 33, 34, 35, 59) if found(m, "key operator")] == [34]


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("where", ["body", "header"])
def test_an_api_key_that_is_not_valid_is_a_401_naming_api_key(town, fmt, where):
    client = town.app.test_client()
    resp = client.get(f"{API}/requests.{fmt}", data={"api_key": "not-a-key"} if where == "body" else None,
                      headers={"X-API-Key": "not-a-key"} if where == "header" else {})
    assert resp.status_code == 401
    text = resp.json[0]["description"] if fmt == "json" else xml_of(resp).findtext("error/description")
    assert "api_key" in text


def test_a_towns_own_setting_hides_noise_from_the_public_too(borgo_db_url, borgo_app, borgo_keys):
    client = borgo_app.test_client()
    rids = {code: post(client, borgo_keys["public"], service_code=code, description=SAID.get(code, ""),
                       **latlong(700, 207)).json[0]["service_request_id"] for code in ("noise", "road_damage")}
    with session_scope(borgo_db_url) as s:
        s.execute(update(Municipality).where(Municipality.slug == "borgo").values(
            service_settings={"noise": {"public": False}}))
        assert s.scalar(select(Municipality.service_settings)) == {"noise": {"public": False}}
    for fmt in FORMATS:
        listed = [r["service_code"] for r in _items(client.get(f"{API}/requests.{fmt}"), fmt)]
        assert listed == ["road_damage"]
        assert client.get(f"{API}/requests/{rids['noise']}.{fmt}").status_code == 404
        full = client.get(f"{API}/requests.{fmt}", headers={"X-API-Key": borgo_keys["operator"]})
        assert sorted(r["service_code"] for r in _items(full, fmt)) == ["noise", "road_damage"]
    # still a service one may post
    assert post(client, borgo_keys["public"], service_code="noise", **latlong(700, 207)).status_code == 201
