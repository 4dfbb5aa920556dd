"""The closing message (``acting/closing.py``, ``acting/messages.py``): the channel each caller hears
back on, and the texts per service and language."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from geo_urp.acting.closing import channel_for, italian_mobile
from geo_urp.acting.messages import REPORTED, SMS_MAX, Reported, closing_message
from geo_urp.catalog import DEFAULT_CATALOG
from geo_urp.models import CallerContact

AT = datetime(2026, 11, 27, 22, 5, tzinfo=timezone.utc)   # 23:05 in Rome


@pytest.mark.parametrize("phone, mobile", [
    ("347 1234567", "+393471234567"), ("+39 347 123 4567", "+393471234567"), ("0039 3471234567", "+393471234567"),
    ("+39 333-12.34.567", "+393331234567"), ("339 123456", "+39339123456"),
    ("0461 123456", None), ("+39 0461 123456", None), ("+44 7700 900123", None), ("347 12", None),
    ("800 123 456", None),
])
def test_italian_mobiles_are_told_from_landlines_and_foreign_numbers(phone, mobile):
    assert italian_mobile(phone) == mobile


@pytest.mark.parametrize("contact, call_back, channel", [
    (dict(email="a@example.it", phone="347 1234567"), False, ("email", "a@example.it")),
    (dict(phone="347 1234567"), False, ("sms", "+393471234567")),
    (dict(phone="0461 123456"), False, ("phone", "0461 123456")),       # a landline cannot take an SMS
    (dict(phone="+44 7700 900123"), False, ("phone", "+44 7700 900123")),
    (dict(email="a@example.it", phone="347 1234567"), True, ("phone", "347 1234567")),  # asked to be called back
    (dict(first_name="Maria"), False, None),
    (None, False, None),
])
def test_the_channel_follows_what_the_caller_left(contact, call_back, channel):
    found = channel_for(CallerContact(**contact) if contact is not None else None, call_back)
    assert ((found.name, found.to) if found else None) == channel


def test_an_erased_contact_hears_nothing():
    assert channel_for(CallerContact(email="a@example.it", erased_at=AT)) is None


def _report(code="streetlight_out", **kw):
    return Reported("1234", code, AT, "Via Roma 14", **kw)


@pytest.mark.parametrize("code", DEFAULT_CATALOG.codes)
@pytest.mark.parametrize("language", ["it", "en"])
@pytest.mark.parametrize("channel", ["email", "sms", "phone"])
def test_every_service_has_its_text_in_both_languages_saying_what_was_reported_done_and_thanks(code, language,
                                                                                                channel):
    msg = closing_message(channel, language, "Borgo Prova", _report(code, first_name="Maria"),
                          "Sostituita la lampada")
    assert REPORTED[language][code] in msg.text
    assert "1234" in msg.text and "Sostituita la lampada." in msg.text and "Borgo Prova" in msg.text
    assert ("Grazie" in msg.text) if language == "it" else ("Thank you" in msg.text)
    assert "Via Roma 14" in msg.text
    if channel == "email":
        assert msg.text.startswith("Gentile Maria," if language == "it" else "Dear Maria,")
        assert "27/11/2026" in msg.text and "23:05" in msg.text        # the towns' local time
        assert msg.subject and "1234" in msg.subject
    else:
        assert msg.subject == ""
    if channel == "sms":
        assert len(msg.text) <= SMS_MAX


def test_a_caller_who_left_no_name_is_greeted_all_the_same():
    assert closing_message("email", "it", "Borgo", _report(), "fatto").text.startswith("Gentile cittadina, cittadino,")


def test_a_long_note_and_address_still_fit_an_sms_with_its_number_and_thanks():
    report = Reported("98765", "water_leak", AT, "Via " + "Lunghissima " * 20)
    msg = closing_message("sms", "it", "Borgo Prova", report, "Riparato il tubo " * 30)
    assert len(msg.text) <= SMS_MAX and "98765" in msg.text and msg.text.endswith("Grazie!")


def test_a_hostile_note_is_kept_as_plain_text():
    note = "<script>alert(1)</script> {town} %s"
    msg = closing_message("email", "en", "Borgo", _report(), note)
    assert "<script>alert(1)</script> {town} %s." in msg.text
