"""Date-times as clients send them (``geo_urp/timestamps.py``)."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from geo_urp.errors import BadInput
from geo_urp.timestamps import parameter, with_offset


@pytest.mark.parametrize("raw, utc", [
    ("2026-11-27T22:05:00+01:00", datetime(2026, 11, 27, 21, 5, tzinfo=timezone.utc)),
    ("2026-11-27T22:05:00Z", datetime(2026, 11, 27, 22, 5, tzinfo=timezone.utc)),
    ("2026-11-27T22:05:00+23:30", datetime(2026, 11, 26, 22, 35, tzinfo=timezone.utc)),  # PostgreSQL refuses +23:30
])
def test_a_date_time_with_its_offset_is_read_in_utc(raw, utc):
    got = with_offset(raw)
    assert got == utc and got.utcoffset().total_seconds() == 0


@pytest.mark.parametrize("raw", ["2026-11-27T22:05:00", "ieri", "", "9999-12-31T23:00:00-05:00"])
def test_no_offset_garbage_or_past_the_calendar_is_none(raw):
    assert with_offset(raw) is None


@pytest.mark.parametrize("raw, says", [("ieri", "ISO 8601"), ("2026-11-27 22:05:00 01:00", "%2B"),
                                       ("0001-01-01T00:30:00+01:00", "outside the calendar")])
def test_a_bad_parameter_names_itself(raw, says):
    with pytest.raises(BadInput, match=says) as err:
        parameter({"since": raw}, "since")
    assert err.value.details[0]["field"] == "since"
