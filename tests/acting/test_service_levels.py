"""When a report is due (``acting/service_levels.py`` through intake's ``expected_datetime``), in
which language its caller hears back, and information requests answered during the call."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update

from geo_urp.acting import service_levels
from geo_urp.acting.intake import ANSWERED_ON_THE_PHONE, submit_request
from geo_urp.errors import BadInput
from geo_urp.models import Municipality
from tests.acting.test_intake import NOW, keys, latlong  # noqa: F401  (keys is a fixture)


def _post(session, key, code="road_damage", attributes=None, **fields):
    return submit_request(session, key, {"service_code": code, **latlong(340, 510), **fields},
                          attributes or {}, now=NOW).report


@pytest.mark.parametrize("code, hours", [("water_leak", 4), ("streetlight_out", 72), ("road_damage", 168),
                                         ("noise", 2), ("graffiti_or_anything_else", None)])
def test_the_default_table_names_the_hours_of_each_service(code, hours):
    assert service_levels.sla_hours({}, code) == (hours if hours is not None else service_levels.OTHER_SLA_HOURS)


def test_expected_datetime_is_the_call_plus_the_services_hours(session, keys):
    assert _post(session, keys["public"], "water_leak").expected_datetime == NOW + timedelta(hours=4)
    assert _post(session, keys["public"], "road_damage").expected_datetime == NOW + timedelta(days=7)


def test_a_towns_own_hours_replace_the_default_for_that_service_only(session, keys, borgo):
    session.execute(update(Municipality).where(Municipality.id == borgo).values(
        service_settings={"road_damage": {"sla_hours": 48}}))
    session.expire_all()
    assert _post(session, keys["public"], "road_damage").expected_datetime == NOW + timedelta(hours=48)
    assert _post(session, keys["public"], "flooding").expected_datetime == NOW + timedelta(hours=4)


@pytest.mark.parametrize("value", [-1, "48", True, 10 ** 9])
def test_a_towns_hours_that_are_not_a_number_of_hours_are_refused_naming_the_service(value):
    with pytest.raises(BadInput, match=r"road_damage\.sla_hours"):
        service_levels.sla_hours({"road_damage": {"sla_hours": value}}, "road_damage")


@pytest.mark.parametrize("fields, language", [({}, "it"), ({"language": "en"}, "en"), ({"locale": "en-GB"}, "en"),
                                              ({"language": "IT"}, "it"), ({"locale": "it_IT"}, "it")])
def test_the_closing_message_is_in_italian_unless_the_report_asks_for_english(session, keys, fields, language):
    assert _post(session, keys["public"], **fields).language == language


def test_a_language_closing_messages_are_not_written_in_is_refused_naming_the_field(session, keys):
    with pytest.raises(BadInput, match="language must be one of it, en") as refused:
        _post(session, keys["public"], language="de")
    assert refused.value.details == [{"field": "language", "value": "de"}]


def test_an_operator_logs_an_information_request_answered_and_closed(session, keys):
    answered = _post(session, keys["operator"], "info_request", {"answer": "L'ufficio anagrafe apre alle 8:30."})
    assert (answered.status, answered.status_notes) == ("closed", "L'ufficio anagrafe apre alle 8:30.")
    plain = _post(session, keys["operator"], "info_request")
    assert (plain.status, plain.status_notes) == ("closed", ANSWERED_ON_THE_PHONE)


def test_an_information_request_from_an_app_stays_open_for_an_operator_to_answer(session, keys):
    asked = _post(session, keys["public"], "info_request", {"topic": "orari anagrafe"})
    assert (asked.status, asked.status_notes) == ("open", None)
