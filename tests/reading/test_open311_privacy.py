"""``reading.open311`` and ``reading.open311_updates`` as the public sees them (``reading.privacy``):
no caller's words nor staff notes, the street without the civic, a 50 m cell, the hour, no
service that is not public; an operator or admin of the town sees everything as stored."""
from __future__ import annotations

import math
from datetime import datetime, timedelta, timezone

import pytest
from pyproj import Transformer
from sqlalchemy import select, update

from geo_urp.accounts import Principal
from geo_urp.catalog import DEFAULT_CATALOG
from geo_urp.errors import BadInput, NotFound
from geo_urp.loading.loader import load_municipality
from geo_urp.models import Municipality, ReportUpdate
from geo_urp.reading import open311 as reads
from geo_urp.reading import open311_updates as updates
from geo_urp.reading import privacy
from tests.conftest import BORGO, BORGO_ORIGIN, report_row

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=timezone.utc)
AT = datetime(2026, 3, 10, 9, 34, 27, 400_000, tzinfo=timezone.utc)
CALLER_SAID = "anziana sola al secondo piano, non risponde al campanello"
NOTE = "Parlato con la signora Bianchi del civico 12/A"
WHERE = (300.0, 510.0)  # the civic Via Roma 12/A, metres from BORGO_ORIGIN
TO_WGS84 = Transformer.from_crs(32632, 4326, always_xy=True)
TO_METRIC = Transformer.from_crs(4326, 32632, always_xy=True)


def _report(session, mid: int, code: str = "streetlight_out", at: datetime = AT, where=WHERE, **fields) -> str:
    stored = dict(description=CALLER_SAID, status_notes=NOTE, address="Via Roma 12/A", address_id="A3",
                  street_id="S1", zipcode="38017", expected_datetime=at + timedelta(hours=72))
    row = report_row(mid, at=where, when=at, service_code=code, **{**stored, **fields})
    session.add(row)
    session.flush()
    return str(row.id)


def _update(session, mid: int, rid: str, at: datetime = AT) -> str:
    row = ReportUpdate(municipality_id=mid, report_id=int(rid), stage="in_progress", status="open",
                       description=NOTE, updated_datetime=at, actor="key:crew")
    session.add(row)
    session.flush()
    return str(row.id)


def _cell_centre(x: float, y: float, side: float = 50) -> tuple[float, float]:
    """The centre of the ``side`` m cell holding the metric point (x, y), worked out here apart from PostGIS."""
    return (math.floor(x / side) * side + side / 2, math.floor(y / side) * side + side / 2)


def _metres(lat: float, lon: float) -> tuple[float, float]:
    return TO_METRIC.transform(lon, lat)


def _search(session, args=None, reader=None, jurisdiction=None) -> list[dict]:
    return reads.search_requests(session, jurisdiction, args or {}, now=NOW, reader=reader)


ANYONE = [None, Principal("public", None), Principal("crew", None, "ACQUA"), Principal("council", None)]


@pytest.mark.parametrize("reader", ANYONE, ids=["anyone", "public", "crew", "council"])
def test_the_public_view_hides_words_and_notes_and_shows_the_street_the_cell_and_the_hour(session, borgo, reader):
    rid = _report(session, borgo)
    [got] = _search(session, reader=reader)
    assert got["service_request_id"] == rid and got["service_code"] == "streetlight_out"
    assert (got["description"], got["status_notes"], got["address_id"]) == (None, None, None)
    assert got["address"] == "Via Roma"                                 # the street, without 12/A
    assert got["zipcode"] == "38017" and got["service_name"] == "Lampione spento / via al buio"
    assert got["requested_datetime"] == "2026-03-10T09:00:00+00:00"
    assert got["updated_datetime"] == "2026-03-10T09:00:00+00:00"
    assert got["expected_datetime"] == "2026-03-13T09:00:00+00:00"
    x, y = _metres(got["lat"], got["long"])
    stored = (BORGO_ORIGIN[0] + WHERE[0], BORGO_ORIGIN[1] + WHERE[1])
    assert math.dist((x, y), _cell_centre(*stored)) < 0.01
    assert 1 < math.dist((x, y), stored) <= 25 * math.sqrt(2) + 0.01
    assert [got] == [reads.get_request(session, None, rid, reader=reader)]


@pytest.mark.parametrize("reader", [Principal("operator", None), Principal("admin", None), "own operator"])
def test_an_operator_or_admin_of_the_town_sees_everything_as_stored(session, borgo, reader):
    reader = Principal("operator", borgo) if reader == "own operator" else reader
    rid = _report(session, borgo)
    [got] = _search(session, reader=reader)
    assert (got["description"], got["status_notes"], got["address"], got["address_id"]) == (
        CALLER_SAID, NOTE, "Via Roma 12/A", "A3")
    assert got["requested_datetime"] == "2026-03-10T09:34:27+00:00"
    lon, lat = TO_WGS84.transform(BORGO_ORIGIN[0] + WHERE[0], BORGO_ORIGIN[1] + WHERE[1])
    assert (got["lat"], got["long"]) == (round(lat, 7), round(lon, 7))
    assert reads.get_request(session, None, rid, reader=reader) == got


def test_an_operator_of_another_town_gets_the_public_view(session, borgo):
    load_municipality(session, BORGO, "borgo-due")
    other = session.scalar(select(Municipality.id).where(Municipality.slug == "borgo-due"))
    _report(session, borgo)
    [got] = _search(session, reader=Principal("operator", other), jurisdiction="borgo")
    assert got["description"] is None and got["address"] == "Via Roma"


def test_a_report_on_no_street_of_the_layer_shows_no_address(session, borgo):
    rid = _report(session, borgo, street_id=None, address="davanti alla casa della signora Bianchi")
    assert reads.get_request(session, None, rid)["address"] is None


def test_social_distress_is_neither_listed_nor_read_by_id_nor_in_the_updates(session, borgo):
    seen = _report(session, borgo)
    hidden = _report(session, borgo, code="social_distress")
    _update(session, borgo, seen)
    _update(session, borgo, hidden)
    assert [r["service_request_id"] for r in _search(session)] == [seen]
    assert _search(session, {"service_request_id": hidden}) == []
    assert _search(session, {"service_code": "social_distress"}) == []
    with pytest.raises(NotFound) as refused:
        reads.get_request(session, None, hidden)
    with pytest.raises(NotFound) as missing:
        reads.get_request(session, None, "999999999")
    assert refused.value.message == missing.value.message.replace("999999999", hidden)
    assert [u["service_request_id"] for u in updates.search_updates(session, None, {}, now=NOW)] == [seen]
    # an operator sees it, and it is still a service one may post
    operator = Principal("operator", borgo)
    assert {r["service_request_id"] for r in _search(session, reader=operator)} == {seen, hidden}
    assert reads.get_request(session, None, hidden, reader=operator)["description"] == CALLER_SAID
    assert "social_distress" in [s["service_code"] for s in reads.services(session, None)]


def test_a_towns_own_setting_makes_noise_not_public_and_can_make_social_distress_public(session, borgo):
    noise, distress, light = (_report(session, borgo, code=c) for c in ("noise", "social_distress", "streetlight_out"))
    assert {r["service_request_id"] for r in _search(session)} == {noise, light}
    session.execute(update(Municipality).where(Municipality.id == borgo).values(
        service_settings={"noise": {"public": False, "sla_hours": 2}, "social_distress": {"public": True}}))
    session.expire_all()
    assert {r["service_request_id"] for r in _search(session)} == {distress, light}
    with pytest.raises(NotFound):
        reads.get_request(session, None, noise)


@pytest.mark.parametrize("value", ["no", 0, None])
def test_a_public_setting_that_is_not_true_or_false_is_refused_naming_it(value):
    with pytest.raises(BadInput, match=r"service_settings\.noise\.public must be true or false"):
        privacy.public_services(DEFAULT_CATALOG, {"noise": {"public": value}})


def test_the_catalog_marks_only_social_distress_not_public():
    assert [s.code for s in DEFAULT_CATALOG.services if not s.public] == ["social_distress"]


def _minute(m: int) -> dict:
    start = AT.replace(minute=m, second=0, microsecond=0)
    return {"start_date": start.isoformat(), "end_date": (start + timedelta(seconds=59)).isoformat()}


def test_a_narrow_window_tells_the_public_no_minute(session, borgo):
    rid = _report(session, borgo)
    # Every one-minute window of the hour finds it, none outside that hour does.
    assert all([r["service_request_id"] for r in _search(session, _minute(m))] == [rid] for m in range(60))
    before = {"start_date": "2026-03-10T08:00:00+00:00", "end_date": "2026-03-10T08:59:59+00:00"}
    after = {"start_date": "2026-03-10T10:00:00+00:00", "end_date": "2026-03-10T10:30:00+00:00"}
    assert _search(session, before) == _search(session, after) == []
    # an operator's window is to the second
    operator = Principal("operator", borgo)
    assert [m for m in range(60) if _search(session, _minute(m), reader=operator)] == [AT.minute]


def test_the_public_updates_have_no_note_the_hour_and_a_window_widened_to_the_hour(session, borgo):
    rid = _report(session, borgo)
    uid = _update(session, borgo, rid)
    [got] = updates.search_updates(session, None, {}, now=NOW)
    assert got == {"update_id": uid, "service_request_id": rid, "status": "in_progress",
                   "updated_datetime": "2026-03-10T09:00:00+00:00", "description": "", "media_url": ""}
    assert all([u["update_id"] for u in updates.search_updates(session, None, _minute(m), now=NOW)] == [uid]
               for m in range(0, 60, 7))
    [full] = updates.search_updates(session, None, {}, now=NOW, reader=Principal("operator", borgo))
    assert (full["description"], full["updated_datetime"]) == (NOTE, "2026-03-10T09:34:27+00:00")
    assert updates.search_updates(session, None, _minute(AT.minute + 1), now=NOW,
                                  reader=Principal("operator", borgo)) == []
