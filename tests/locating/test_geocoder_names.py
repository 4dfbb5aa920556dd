"""Comparing typed words with a town's names: initials, titles and regnal numerals (no database)."""
from __future__ import annotations

import pytest

from geo_urp.locating.address_parser import name_key, parse_query
from geo_urp.locating.geocoder_names import INITIAL, NameMatcher, part_score, word_similarity


def _score(typed: str, official: str) -> float:
    return part_score(parse_query(typed).streets[0], name_key(official))


@pytest.mark.parametrize("typed, word, expected", [
    ("g", "giuseppe", INITIAL),
    ("g", "giovanni", INITIAL),
    ("s", "san", INITIAL),
    ("s", "silvio", INITIAL),
    ("s", "pietro", 0.0),
    ("guglielmo", "g", INITIAL),    # the initial is in the name: "Via G. Marconi"
    ("4", "4", 1.0),
    ("4", "5", 0.0),
])
def test_an_initial_stands_for_any_word_with_its_letter(typed, word, expected):
    assert word_similarity(typed, word) == expected


@pytest.mark.parametrize("typed, official", [
    ("via s. pellico", "Via Silvio Pellico"),
    ("via s. pietro", "Via San Pietro"),
    ("via guglielmo marconi", "Via G. Marconi"),
    ("corso v. emanuele", "Corso Vittorio Emanuele II"),
    ("via giovanni", "Via Giovanni XXIII"),
    ("via papa giovanni", "Via Giovanni XXIII"),
    ("via giovanni", "Via Papa Giovanni XXIII"),
    ("via umberto", "Via Umberto I"),
    ("via re umberto", "Via Umberto I"),
    ("via margherita", "Via Regina Margherita"),
    ("via sturzo", "Via Don Sturzo"),
])
def test_initials_titles_and_numerals_score_like_the_street(typed, official):
    assert _score(typed, official) >= 0.85


def test_an_initial_counts_less_than_the_word_it_stands_for():
    assert _score("via g. garibaldi", "Via Giuseppe Garibaldi") < _score("via giuseppe garibaldi",
                                                                          "Via Giuseppe Garibaldi") == 1.0
    # ...but more than the surname alone, and a wrong initial costs.
    assert _score("via g. garibaldi", "Via Giuseppe Garibaldi") > _score("via p. garibaldi", "Via Giuseppe Garibaldi")


def test_a_numeral_left_out_costs_little_a_wrong_one_a_lot():
    full = _score("via giovanni xxiii", "Via Giovanni XXIII")
    left_out = _score("via giovanni", "Via Giovanni XXIII")
    wrong = _score("via giovanni xxii", "Via Giovanni XXIII")
    assert full == 1.0 and 0.95 <= left_out < full and wrong < 0.7
    # Giovanni XXIII and Giovanni Pascoli: without a surname, the pope's street is the better fit.
    assert left_out > _score("via giovanni", "Via Giovanni Pascoli") + 0.1


def test_the_short_list_reaches_every_street_with_the_surname():
    # Twenty streets share "giuseppe": the two Amendola ones are still both found by their surname.
    names = [f"Via Giuseppe {s}" for s in ("Verdi Parini Mazzini Garibaldi Clerici Ghiotti Milani Landini "
                                            "Rossi Bianchi Neri Gialli Conti Bruni Galli Costa Fontana Rizzo "
                                            "Lombardi Moretti").split()]
    names += ["Via Giuseppe Amendola", "Via Giovanni Amendola"]
    matcher = NameMatcher([(i, name_key(n)) for i, n in enumerate(names)])
    found = [names[i] for i, _ in matcher.match(parse_query("via g. amendola").streets[0], limit=3)]
    assert set(found[:2]) == {"Via Giuseppe Amendola", "Via Giovanni Amendola"}
    assert matcher.shares_word(("g", "amendola"), names.index("Via Giovanni Amendola"))
    assert not matcher.shares_word(("g", "marziani"), names.index("Via Giovanni Amendola"))
