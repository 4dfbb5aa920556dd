"""Call intake on the Borgo fixture town: placing, snapping, validation, roles, idempotency.

Borgo, in metres from (660000, 5118000): the boundary is the square 0..1000;
lamps L01-L04 (C1, Q1) stand on Via Roma (y=500) from x=150 to 240; main P5
runs at y=450 from x=300 to 500; civic Via Roma 14 bis is at (340, 510).
"""
from __future__ import annotations

import threading
from datetime import datetime, timezone

import pytest
from geoalchemy2.shape import from_shape
from pyproj import Transformer
from shapely.geometry import MultiLineString
from sqlalchemy import func, select, text, update

from geo_urp import locks
from geo_urp.accounts import Principal, create_api_key, hash_key
from geo_urp.db import session_factory, session_scope
from geo_urp.errors import BadInput, Forbidden, NotFound, Unprocessable
from geo_urp.loading.loader import load_municipality
from geo_urp.acting.intake import IntakeLimits, create_report, submit_request
from geo_urp.models import METRIC_SRID, WGS84, ApiKey, CallerContact, Municipality, Report, Street
from tests.conftest import BORGO

X0, Y0 = 660000, 5118000
NOW = datetime(2026, 11, 27, 22, 0, tzinfo=timezone.utc)


def latlong(x: float, y: float) -> dict:
    """Open311 lat/long fields of a Borgo point given in metres from (X0, Y0)."""
    lon, lat = Transformer.from_crs(METRIC_SRID, WGS84, always_xy=True).transform(X0 + x, Y0 + y)
    return {"lat": f"{lat:.8f}", "long": f"{lon:.8f}"}


@pytest.fixture()
def keys(session, borgo):
    return {role: create_api_key(session, role, "borgo", "ACQUA" if role == "crew" else None)
            for role in ("operator", "public", "council", "crew")}


def count(session, model=Report) -> int:
    return session.scalar(select(func.count()).select_from(model))


def test_lamp_out_by_latlong_is_snapped_to_lamp_circuit_and_cabinet(session, keys):
    fields = {"service_code": "streetlight_out", **latlong(205, 497), "description": "tutto buio",
              "first_name": "Maria", "last_name": "Rossi", "phone": "+39 333 1234567", "email": "m.rossi@example.it"}
    receipt = submit_request(session, keys["public"], fields, {"extent": "via"}, now=NOW)
    r = receipt.report
    assert receipt.created and r.service_code == "streetlight_out" and r.status == "open"
    assert (r.lamp_id, r.circuit_id, r.cabinet_id, r.street_id) == ("L03", "C1", "Q1", "S1")
    assert r.pipe_id is None and r.geocode_kind == "latlong"
    assert r.address and r.address.startswith("Via Roma")
    assert r.attributes == {"extent": "via"} and r.agency_responsible
    assert r.requested_datetime == NOW
    contact = session.get(CallerContact, r.id)
    assert (contact.first_name, contact.last_name, contact.phone, contact.email) == (
        "Maria", "Rossi", "+39 333 1234567", "m.rossi@example.it")
    assert receipt.as_open311() == {"service_request_id": str(r.id), "token": r.token, "service_notice": None}


def test_no_water_by_address_string_is_snapped_to_main_and_valve_segment(session, keys):
    r = submit_request(session, keys["operator"], {"service_code": "no_water", "address_string": "via roma 14 bis"},
                       {"extent": "via", "since": "2026-11-27T21:30:00+01:00"}).report
    assert (r.address, r.geocode_kind, r.street_id) == ("Via Roma 14 bis", "address", "S1")
    assert r.pipe_id == "P5" and r.segment_no is not None and r.lamp_id is None


def test_by_address_id(session, keys):
    r = submit_request(session, keys["public"], {"service_code": "road_damage", "address_id": "A000003"}).report
    assert (r.address, r.address_id, r.street_id) == ("Via Roma 12/A", "A000003", "S1")


def test_without_contact_data_no_contact_row(session, keys):
    r = submit_request(session, keys["public"], {"service_code": "flooding", **latlong(500, 300)}).report
    assert session.get(CallerContact, r.id) is None


@pytest.mark.parametrize("fields, attributes, message", [
    ({}, {}, "service_code is required"),
    ({"service_code": "potholes"}, {}, "not offered"),
    ({"service_code": "noise"}, {}, "a location is required"),
    ({"service_code": "noise", "lat": "46.2"}, {}, "long is missing"),
    ({"service_code": "noise", "lat": "north", "long": "11.08"}, {}, "lat must be a number"),
    ({"service_code": "noise", "lat": "46.2", "long": "200"}, {}, "long must be a number from -180 to 180"),
    ({"service_code": "noise", **latlong(1500, 500)}, {}, "lies 500 m outside Borgo Prova"),
    ({"service_code": "noise", "address_string": "via dei matti 7"}, {}, "could not be located"),
    ({"service_code": "noise", "address_id": "A999999"}, {}, "not a civic number"),
    ({"service_code": "noise", **latlong(500, 500)}, {"source": "tuba"}, "attribute[source]"),
    ({"service_code": "noise", **latlong(500, 500)}, {"colour": "red"}, "has no attribute colour"),
    ({"service_code": "no_water", **latlong(500, 500)}, {"since": "ieri"}, "ISO 8601"),
    ({"service_code": "noise", **latlong(500, 500), "email": "not-an-address"}, {}, "not an e-mail"),
    ({"service_code": "noise", **latlong(500, 500), "phone": "call me"}, {}, "not a phone number"),
    ({"service_code": "noise", **latlong(500, 500), "media_url": "ftp://x/y.jpg"}, {}, "media_url"),
    ({"service_code": "noise", **latlong(500, 500), "description": "x" * 4001}, {}, "at most 4000"),
])
def test_bad_input_is_refused_and_writes_nothing(session, keys, fields, attributes, message):
    with pytest.raises(BadInput) as err:
        submit_request(session, keys["public"], fields, attributes)
    assert message in err.value.message
    assert count(session) == 0 and count(session, CallerContact) == 0


def test_point_just_outside_within_margin_is_accepted(session, keys):
    r = submit_request(session, keys["public"], {"service_code": "noise", **latlong(1100, 500)},
                       limits=IntakeLimits(boundary_margin_m=200)).report
    assert r.id
    with pytest.raises(BadInput, match="100 m outside"):
        submit_request(session, keys["public"], {"service_code": "noise", **latlong(1100, 500)},
                       limits=IntakeLimits(boundary_margin_m=50))


def test_unlocatable_address_lists_the_closest_names(session, keys):
    with pytest.raises(BadInput) as err:
        submit_request(session, keys["public"], {"service_code": "noise", "address_string": "via romagnoli 3"})
    assert "'via romagnoli 3' could not be located in Borgo Prova; closest: Via Roma (0.53)" in err.value.message
    assert err.value.details[0]["candidates"][0]["label"] == "Via Roma"


def test_ambiguous_address_is_refused_with_the_candidates(session, keys, borgo):
    for street_id, name, coords in (("S9", "Via Garibaldi", [(700, 800), (900, 800)]),
                                    ("S11", "Piazza Garibaldi", [(700, 650), (800, 650)])):
        session.add(Street(municipality_id=borgo, street_id=street_id, name=name, props={},
                           geom=from_shape(MultiLineString([[(X0 + x, Y0 + y) for x, y in coords]]),
                                           srid=METRIC_SRID)))
    session.get(Municipality, borgo).layers_loaded_at = NOW  # the geocoder rebuilds its index
    session.flush()
    with pytest.raises(BadInput, match="is ambiguous in Borgo Prova") as err:
        submit_request(session, keys["public"], {"service_code": "noise", "address_string": "garibaldi"})
    labels = {c["match"]["label"] for c in err.value.details[0]["candidates"]}
    assert {"Via Garibaldi", "Piazza Garibaldi"} <= labels and count(session) == 0
    r = submit_request(session, keys["public"], {"service_code": "noise", "address_string": "piazza garibaldi"})
    assert r.report.address == "Piazza Garibaldi" and r.report.geocode_kind == "street"


@pytest.mark.parametrize("api_key, message", [(None, "not provided"), ("gu_wrong", "invalid"),
                                              ("council", "may not submit"), ("crew", "may not submit")])
def test_keys_that_may_not_post(session, keys, api_key, message):
    with pytest.raises(Forbidden, match=message):
        submit_request(session, keys.get(api_key, api_key), {"service_code": "noise", **latlong(500, 500)})
    assert count(session) == 0


def test_requested_datetime_from_operator_is_kept(session, keys):
    fields = {"service_code": "noise", **latlong(500, 500), "requested_datetime": "2026-11-27T03:10:00+01:00"}
    r = submit_request(session, keys["operator"], fields, now=NOW).report
    assert r.requested_datetime == datetime(2026, 11, 27, 2, 10, tzinfo=timezone.utc)
    assert r.updated_datetime == NOW


@pytest.mark.parametrize("value, error", [("2026-11-27T03:10:00", BadInput), ("yesterday", BadInput),
                                          ("2026-11-28T03:10:00+01:00", BadInput)])
def test_requested_datetime_must_have_an_offset_and_be_past(session, keys, value, error):
    fields = {"service_code": "noise", **latlong(500, 500), "requested_datetime": value}
    with pytest.raises(error):
        submit_request(session, keys["operator"], fields, now=NOW)


def test_requested_datetime_from_public_key_is_forbidden(session, keys):
    fields = {"service_code": "noise", **latlong(500, 500), "requested_datetime": "2026-11-27T03:10:00+01:00"}
    with pytest.raises(Forbidden, match="requested_datetime"):
        submit_request(session, keys["public"], fields, now=NOW)
    assert count(session) == 0


def test_same_idempotency_key_gives_the_same_report(session, keys):
    fields = {"service_code": "water_leak", **latlong(400, 455), "phone": "0461 123456"}
    first = submit_request(session, keys["public"], fields, idempotency_key="call-42")
    again = submit_request(session, keys["public"], fields, idempotency_key="call-42")
    assert first.created and not again.created
    assert again.report.id == first.report.id and count(session) == 1 and count(session, CallerContact) == 1
    other_key = submit_request(session, keys["operator"], fields, idempotency_key="call-42")
    assert other_key.report.id != first.report.id and count(session) == 2
    with pytest.raises(Unprocessable, match="already used"):
        submit_request(session, keys["public"], {**fields, "service_code": "noise"}, idempotency_key="call-42")


def test_a_key_serving_every_town_may_use_one_idempotency_key_in_two_towns(session, borgo):
    load_municipality(session, BORGO, "borgo-due")
    unbound = create_api_key(session, "public")
    fields = {"service_code": "noise", **latlong(500, 500), "description": "musica alta"}
    here = submit_request(session, unbound, {**fields, "jurisdiction_id": "borgo"}, idempotency_key="call-7")
    there = submit_request(session, unbound, {**fields, "jurisdiction_id": "borgo-due"}, idempotency_key="call-7")
    assert here.created and there.created  # two calls, one in each town: neither answers for the other
    assert (here.report.municipality_id, there.report.municipality_id) == (borgo, there.report.municipality_id)
    assert there.report.municipality_id != borgo and count(session) == 2
    again = submit_request(session, unbound, {**fields, "jurisdiction_id": "borgo-due"}, idempotency_key="call-7")
    assert not again.created and again.report.id == there.report.id


def test_a_retry_to_the_only_town_served_is_found_before_it_is_placed_again(session, borgo):
    unbound = create_api_key(session, "public")  # a key serving every town, one town served
    fields = {"service_code": "noise", **latlong(500, 500), "description": "musica alta"}
    first = submit_request(session, unbound, fields, idempotency_key="call-8")
    # the place typed again, wrongly: the same call (service, words, caller), answered as the first
    again = submit_request(session, unbound, {**fields, **latlong(500, 90_000)}, idempotency_key="call-8")
    assert first.created and not again.created and again.report.id == first.report.id


def test_a_retry_naming_a_town_its_key_is_not_for_is_refused_as_its_first_try_would_be(session, keys, borgo):
    load_municipality(session, BORGO, "borgo-due")
    fields = {"service_code": "noise", **latlong(500, 500)}
    submit_request(session, keys["public"], fields, idempotency_key="call-9")
    with pytest.raises(Forbidden, match="borgo-due"):
        submit_request(session, keys["public"], {**fields, "jurisdiction_id": "borgo-due"}, idempotency_key="call-9")
    assert count(session) == 1


def test_jurisdiction(session, keys, borgo):
    load_municipality(session, BORGO, "borgo-due")
    with pytest.raises(NotFound, match="nowhere"):
        submit_request(session, keys["public"], {"service_code": "noise", "jurisdiction_id": "nowhere",
                                                 **latlong(500, 500)})
    with pytest.raises(Forbidden):
        submit_request(session, keys["public"], {"service_code": "noise", "jurisdiction_id": "borgo-due",
                                                 **latlong(500, 500)})
    unbound = create_api_key(session, "public")
    with pytest.raises(BadInput, match="jurisdiction_id was not provided"):
        submit_request(session, unbound, {"service_code": "noise", **latlong(500, 500)})
    r = submit_request(session, unbound, {"service_code": "noise", "jurisdiction_id": "borgo-due",
                                          **latlong(500, 500)}).report
    assert r.municipality_id != borgo


def test_concurrent_retries_make_one_report(fresh_db_url):
    """Two requests with one Idempotency-Key at once: the unique constraint decides, both get one id."""
    with session_scope(fresh_db_url) as s:
        load_municipality(s, BORGO, "borgo")
        key = create_api_key(s, "public", "borgo")
    fields = {"service_code": "noise", **latlong(500, 500)}
    first = session_factory(fresh_db_url)()
    winner = submit_request(first, key, fields, idempotency_key="retry-1")  # inserted, not yet committed
    result = {}

    def retry():
        with session_scope(fresh_db_url) as second:
            result["receipt"] = submit_request(second, key, fields, idempotency_key="retry-1")
            result["id"] = result["receipt"].report.id

    thread = threading.Thread(target=retry)
    thread.start()
    thread.join(timeout=1.0)
    assert thread.is_alive()  # blocked on the unique index until the first commits
    first.commit()
    first.close()
    thread.join(timeout=10)
    assert result["id"] == winner.report.id and not result["receipt"].created
    with session_scope(fresh_db_url) as s:
        assert count(s) == 1


def test_a_retry_answered_from_its_first_report_does_not_wait_for_a_reload(fresh_db_url):
    with session_scope(fresh_db_url) as s:
        load_municipality(s, BORGO, "borgo")
        key = create_api_key(s, "public", "borgo")
        council = create_api_key(s, "council", "borgo")
        mid = s.scalar(select(Municipality.id).where(Municipality.slug == "borgo"))
        first = submit_request(s, key, {"service_code": "noise", **latlong(500, 500)}, idempotency_key="r-1").report.id
    with session_scope(fresh_db_url) as reloading:
        locks.lock_municipality(reloading, mid)  # a reload of the layers holds the town
        with session_scope(fresh_db_url) as s:
            s.execute(text("SET LOCAL lock_timeout = '2s'"))  # a retry asking for the town's lock fails
            again = submit_request(s, key, {"service_code": "noise", **latlong(500, 500)}, idempotency_key="r-1")
            assert again.report.id == first and not again.created and not _town_lock_held(s, mid)
            with pytest.raises(Forbidden):
                submit_request(s, council, {"service_code": "noise", **latlong(500, 500)})
            assert not _town_lock_held(s, mid)


def test_limits_from_config():
    limits = IntakeLimits.from_config({"INTAKE_BOUNDARY_MARGIN_M": 5, "SNAP_LAMP_MAX_M": 7})
    assert (limits.boundary_margin_m, limits.snap.lamp_m, limits.snap.pipe_m) == (5.0, 7.0, 80.0)


def _town_lock_held(session, mid: int) -> bool:
    """Whether this transaction holds the town's lock shared (``locks.share_municipality``)."""
    return session.scalar(text(
        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND classid = 7311 AND mode = 'ShareLock' "
        "AND pid = pg_backend_pid() AND objid = CAST(:mid AS oid)"), {"mid": mid}) == 1


@pytest.mark.parametrize("bound, jurisdiction", [(True, None), (True, "borgo"), (False, "borgo"), (False, None)])
def test_the_call_finds_its_town_and_holds_its_lock(session, borgo, bound, jurisdiction):
    key = create_api_key(session, "operator", "borgo" if bound else None)
    fields = {"service_code": "noise", **latlong(500, 500), **({"jurisdiction_id": jurisdiction} if jurisdiction else {})}
    r = submit_request(session, key, fields).report
    assert r.municipality_id == borgo and _town_lock_held(session, borgo)


def test_a_key_of_no_town_must_name_one_when_several_are_served(session, borgo):
    load_municipality(session, BORGO, "borgo-due")
    key = create_api_key(session, "operator", None)
    with pytest.raises(BadInput, match="jurisdiction_id was not provided"):
        submit_request(session, key, {"service_code": "noise", **latlong(500, 500)})
    other = session.scalar(select(Municipality.id).where(Municipality.slug == "borgo-due"))
    r = submit_request(session, key, {"service_code": "noise", "jurisdiction_id": "borgo-due", **latlong(500, 500)})
    assert r.report.municipality_id == other and _town_lock_held(session, other)


def test_a_revoked_key_is_refused(session, keys):
    session.execute(update(ApiKey).where(ApiKey.key_hash == hash_key(keys["public"])).values(revoked_at=func.now()))
    with pytest.raises(Forbidden, match="invalid or revoked"):
        submit_request(session, keys["public"], {"service_code": "noise", **latlong(500, 500)})
    assert count(session) == 0


def test_a_principal_without_a_key_submits_too(session, borgo):
    # create_report serves callers that authenticated otherwise (the benchmarks, a login).
    r = create_report(session, Principal("operator", borgo, None, "test"), {"service_code": "noise", **latlong(500, 500)},
                      {}).report
    assert r.municipality_id == borgo and r.api_key_id is None and _town_lock_held(session, borgo)


def _route_locks_held(session) -> int:
    """How many locks of a route of incidents (``locks.lock_route``) this transaction holds."""
    return session.scalar(text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND classid = 7312 "
                               "AND mode = 'ExclusiveLock' AND pid = pg_backend_pid()"))


def test_a_call_takes_its_routes_lock_a_retry_and_an_information_request_take_none(fresh_db_url):
    from geo_urp.acting.calls import take_call

    fields = {"service_code": "noise", **latlong(500, 500)}
    with session_scope(fresh_db_url) as s:  # each block: a transaction of its own
        load_municipality(s, BORGO, "borgo")
        key = create_api_key(s, "public", "borgo")
    with session_scope(fresh_db_url) as s:
        assert take_call(s, key, fields, idempotency_key="lock-1").created
        assert _route_locks_held(s) == 1
    with session_scope(fresh_db_url) as s:  # answered from the first report: nothing to lock
        assert not take_call(s, key, fields, idempotency_key="lock-1").created
        assert _route_locks_held(s) == 0
    with session_scope(fresh_db_url) as s:  # it makes no incident: no lock
        assert take_call(s, key, {"service_code": "info_request", **latlong(500, 500)}).created
        assert _route_locks_held(s) == 0
    with session_scope(fresh_db_url) as s:  # stored only, not grouped: no lock
        assert submit_request(s, key, fields).created and _route_locks_held(s) == 0
