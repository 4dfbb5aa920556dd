"""An information request logged without a place (issue 20): stored without a point, read back
without one, counted by the council's trends but in no hexagon; every other call still needs a
place, and the database itself refuses a placeless one."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest
from sqlalchemy import CheckConstraint, func, select, text
from sqlalchemy.exc import IntegrityError

from geo_urp.acting import hotspot_counts, trend_counts
from geo_urp.acting.intake import submit_request
from geo_urp.db import session_scope
from geo_urp.errors import BadInput
from geo_urp.loading.loader import load_municipality
from geo_urp.models import HotspotCell, Municipality, Report
from tests.conftest import BORGO, report_row
from tests.showing.open311_support import API, latlong, post, validate

NOW = datetime(2026, 11, 27, 22, 0, tzinfo=timezone.utc)
ASKED = {"service_code": "info_request", "description": "orari dell'anagrafe"}


def _reports(session) -> int:
    return session.scalar(select(func.count()).select_from(Report))


def test_an_operator_logs_an_information_request_without_a_place(borgo_db_url, borgo_keys):
    with session_scope(borgo_db_url) as s:
        receipt = submit_request(s, borgo_keys["operator"], ASKED, {"answer": "Lun-ven 9-12"}, now=NOW)
        rid = receipt.report.id
    with session_scope(borgo_db_url) as s:
        r = s.get(Report, rid)
        assert (r.status, r.status_notes) == ("closed", "Lun-ven 9-12")
        assert r.geom is None and r.address is None and r.street_id is None and r.geocode_kind is None


def test_a_placeless_information_request_reads_back_without_lat_long(borgo_client, borgo_keys):
    resp = post(borgo_client, borgo_keys["public"], **ASKED)
    assert resp.status_code == 201, resp.data
    validate(resp.json, "post.json")
    rid = resp.json[0]["service_request_id"]
    for headers in ({"X-API-Key": borgo_keys["operator"]}, {}):      # the operator's view and the public one
        one = borgo_client.get(f"{API}/requests/{rid}.json", headers=headers)
        assert one.status_code == 200, one.data
        validate(one.json, "request.json")
        (view,) = one.json
        assert view["lat"] is None and view["long"] is None and view["address"] is None
        listed = borgo_client.get(f"{API}/requests.json", query_string={"service_code": "info_request"},
                                  headers=headers)
        assert listed.status_code == 200, listed.data
        validate(listed.json, "requests.json")
        assert rid in {v["service_request_id"] for v in listed.json}
    xml = borgo_client.get(f"{API}/requests/{rid}.xml", headers={"X-API-Key": borgo_keys["operator"]})
    assert xml.status_code == 200 and b"<service_request_id>" in xml.data


def test_an_information_request_given_an_address_is_still_placed(borgo_client, borgo_keys):
    resp = post(borgo_client, borgo_keys["operator"], **ASKED, **latlong(340, 510))
    assert resp.status_code == 201, resp.data
    rid = resp.json[0]["service_request_id"]
    view = borgo_client.get(f"{API}/requests/{rid}.json", headers={"X-API-Key": borgo_keys["operator"]}).json[0]
    assert view["lat"] is not None and view["address"]


@pytest.mark.parametrize("service_code", ["noise", "streetlight_out", "road_damage"])
def test_any_other_call_without_a_place_is_refused_naming_the_location_and_stores_nothing(
        borgo_db_url, borgo_keys, service_code):
    with session_scope(borgo_db_url) as s:
        before = _reports(s)
        with pytest.raises(BadInput) as refused:
            submit_request(s, borgo_keys["operator"], {"service_code": service_code}, {}, now=NOW)
        assert {d["field"] for d in refused.value.details} >= {"lat", "long", "address_string"}
    with session_scope(borgo_db_url) as s:
        assert _reports(s) == before


def test_the_database_refuses_a_placeless_report_of_any_other_service(borgo_db_url):
    with session_scope(borgo_db_url) as s:
        mid = s.scalar(select(Municipality.id))
        # named as the model names it, so that a later migration finds it by that name
        in_model = {c.name for c in Report.__table__.constraints if isinstance(c, CheckConstraint)}
        in_database = set(s.scalars(text("SELECT conname FROM pg_constraint WHERE conrelid = 'reports'::regclass "
                                         "AND contype = 'c'")))
        assert in_database == in_model == {"ck_reports_placed_unless_information"}
    with pytest.raises(IntegrityError, match="ck_reports_placed_unless_information"):
        with session_scope(borgo_db_url) as s:
            s.add(report_row(mid, service_code="noise", geom=None))
    with session_scope(borgo_db_url) as s:     # an information request may be placeless
        s.add(report_row(mid, service_code="info_request", geom=None))


def test_council_counts_keep_a_placeless_request_in_the_town_and_out_of_every_hexagon(borgo_db_url):
    when = datetime(2026, 5, 12, 10, 0, tzinfo=timezone.utc)
    with session_scope(borgo_db_url) as s:
        mid = s.scalar(select(Municipality.id))
        s.add_all([report_row(mid, service_code="info_request", geom=None, when=when),
                   report_row(mid, (300, 300), service_code="info_request", when=when)])
    with session_scope(borgo_db_url) as s:
        hotspot_counts.refresh(s, mid, 100)
        trend_counts.refresh(s, mid)
    with session_scope(borgo_db_url) as s:
        cells = s.scalars(select(HotspotCell).where(HotspotCell.municipality_id == mid,
                                                    HotspotCell.service_code == "info_request")).all()
        assert sum(c.n for c in cells) == 1                       # only the placed one has a hexagon
        counted = s.execute(text(
            "SELECT sum(n) FROM trend_weeks WHERE municipality_id = :mid AND service_code = 'info_request' "
            "AND month = DATE '2026-05-01'"), {"mid": mid}).scalar()
        assert counted == 2                                       # both are the town's reports


def test_an_open_placeless_request_survives_a_reload_of_the_layers(borgo_db_url, borgo_keys):
    with session_scope(borgo_db_url) as s:          # a public key's request stays open, unanswered
        rid = submit_request(s, borgo_keys["public"], ASKED, {}, now=NOW).report.id
    with session_scope(borgo_db_url) as s:          # open reports are snapped again to the new layers
        load_municipality(s, BORGO, "borgo")
    with session_scope(borgo_db_url) as s:
        r = s.get(Report, rid)
        assert r.status == "open" and r.geom is None and r.street_id is None
