"""The pieces of an operator's sentence as message parts, worded in Italian and in English: times
on the towns' clock, spans, places, lists."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from geo_urp.reasoning import words


def test_a_time_is_told_on_the_towns_clock(monkeypatch):
    winter = datetime(2026, 11, 27, 21, 30, tzinfo=timezone.utc)
    summer = datetime(2026, 7, 1, 21, 30, tzinfo=timezone.utc)
    assert words.render(words.span([winter]), "it") == "alle 22:30"     # CET, UTC+1
    assert words.render(words.span([summer]), "it") == "alle 23:30"     # CEST, UTC+2
    assert words.render(words.span([summer]), "en") == "at 23:30"
    monkeypatch.setenv("TIME_ZONE", "UTC")
    assert words.render(words.span([winter]), "it") == "alle 21:30"


@pytest.mark.parametrize("piece, italian, english", [
    (words.calls(1), "1 chiamata", "1 call"),
    (words.calls(4), "4 chiamate", "4 calls"),
    (words.between(datetime(2026, 1, 1, tzinfo=timezone.utc), datetime(2026, 1, 1, 0, 40, tzinfo=timezone.utc)),
     "in 40 minuti", "in 40 minutes"),
    (words.between(datetime(2026, 1, 1, tzinfo=timezone.utc), datetime(2026, 1, 1, 3, tzinfo=timezone.utc)),
     "in 3 ore", "in 3 hours"),
    (words.between(datetime(2026, 1, 1, tzinfo=timezone.utc), datetime(2026, 1, 5, tzinfo=timezone.utc)),
     "nell'arco di 4 giorni", "over 4 days"),
    (words.part("in", streets=words.places(["Via Roma", "Via Roma", "Via Trento"])),
     " in Via Roma e Via Trento", " in Via Roma and Via Trento"),
    (words.part("in", streets=words.places(["A", "B", "C", "D"])), " in A, B e altre 2 vie",
     " in A, B and 2 more streets"),
    (words.part("close_valves", n=8, valves=words.ids([str(i) for i in range(8)])),
     "chiudere le valvole 0, 1, 2, 3, 4, 5 e altri 2", "close valves 0, 1, 2, 3, 4, 5 and 2 more"),
    (words.part("close_valves", n=1, valves=words.ids(["V1"])), "chiudere la valvola V1", "close valve V1"),
])
def test_pieces_read_naturally_in_both_languages(piece, italian, english):
    assert (words.render(piece, "it"), words.render(piece, "en")) == (italian, english)


def test_an_explanation_is_worded_whole_in_each_language_and_kept_as_plain_json():
    parts = {"description": words.part("lamp", head=words.part("head", calls=words.calls(2), span=words.part(
        "in_minutes", n=5)), where="", lamp="L1", neighbours=words.part("circuit_unknown")),
        "dispatch_note": words.part("no_crew", skill=words.part("skill_lighting"), area="A1"),
        "priority_reasons": [words.part("dark_at_night")]}
    assert words.worded(parts, "it") == {
        "explanation": "2 chiamate in 5 minuti per il lampione L1; il suo circuito non è noto: probabile guasto del "
                       "solo lampione. Nessuna squadra dell'illuminazione copre la zona A1: inviarla a mano.",
        "dispatch_note": "Nessuna squadra dell'illuminazione copre la zona A1: inviarla a mano.",
        "priority_reasons": ["al buio di notte"]}
    assert words.worded(parts, "en") == {
        "explanation": "2 calls in 5 minutes about lamp L1; its circuit is not known: probable single lamp failure. "
                       "No lighting crew covers area A1: dispatch by hand.",
        "dispatch_note": "No lighting crew covers area A1: dispatch by hand.",
        "priority_reasons": ["dark at night"]}
    assert words.worded({}, "en") == {}


def test_an_unknown_message_is_refused_when_built():
    with pytest.raises(KeyError, match="no message 'nope'"):
        words.part("nope")
