"""The pieces of an operator's sentence: times in the towns' local time, places, lists."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from geo_urp.reasoning import words


def test_a_time_is_told_on_the_towns_clock(monkeypatch):
    winter = datetime(2026, 11, 27, 21, 30, tzinfo=timezone.utc)
    summer = datetime(2026, 7, 1, 21, 30, tzinfo=timezone.utc)
    assert words.span([winter]) == "at 22:30"          # CET, UTC+1
    assert words.span([summer]) == "at 23:30"          # CEST, UTC+2
    monkeypatch.setenv("TIME_ZONE", "UTC")
    assert words.span([winter]) == "at 21:30"


def test_spans_and_places_read_naturally():
    t = datetime(2026, 11, 27, 21, 30, tzinfo=timezone.utc)
    assert words.span([t, t + timedelta(minutes=40)]) == "in 40 minutes"
    assert words.span([t, t + timedelta(hours=3)]) == "in 3 hours"
    assert words.span([t, t + timedelta(days=4)]) == "over 4 days"
    assert words.places(["Via Roma", "Via Roma", "Via Trento"]) == "Via Roma and Via Trento"
    assert words.places(["A", "B", "C", "D"]) == "A, B and 2 more streets"
    assert words.ids([str(i) for i in range(8)]) == "0, 1, 2, 3, 4, 5 and 2 more"
