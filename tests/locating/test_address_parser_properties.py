"""Properties of the address parser over any text (``hypothesis``): it never raises on what an
operator may type but the documented ValueError for blank or overlong text, folding is stable,
and what it parses comes back as written: a civic number through its label, and a street type,
name and number composed the ways operators type them."""
from __future__ import annotations

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from geo_urp.locating.address_parser import (MAX_QUERY_LENGTH, SUFFIX_WORDS, HouseNumber, ParsedQuery, fold,
                                              name_key, parse_number, parse_query)

# Any text, surrogates and control characters included, up to twice the accepted length.
ANY_TEXT = st.text(st.characters(codec=None), max_size=2 * MAX_QUERY_LENGTH)
TOWNS = st.lists(st.text(max_size=20), max_size=3).map(tuple)

NAMES = ("roma", "garibaldi", "mazzini", "verdi", "trento", "cavour", "manzoni", "brennero", "fiume",
         "dante alighieri", "cesare battisti", "ai piani", "della liberta")
TYPES = {"via": "via", "viale": "viale", "v.le": "viale", "piazza": "piazza", "p.zza": "piazza",
         "corso": "corso", "c.so": "corso", "largo": "largo", "vicolo": "vicolo", "localita": "localita"}
NUMBERS = st.builds(HouseNumber, st.integers(1, 9999),
                    st.sampled_from(("", *"abcdefghz", *SUFFIX_WORDS, "2", "15")))


@settings(max_examples=500, deadline=None)
@given(text=ANY_TEXT, towns=TOWNS)
@example(text="\x00", towns=()).via("a NUL")
@example(text="via \ud800 12", towns=()).via("a lone surrogate")
@example(text="incrocio e e", towns=("e",)).via("an intersection of particles")
def test_parse_query_answers_any_text_or_says_why_not(text, towns):
    try:
        parsed = parse_query(text, towns)
    except ValueError as exc:
        assert not text.strip() or len(text) > MAX_QUERY_LENGTH, exc
        return
    assert isinstance(parsed, ParsedQuery) and 1 <= len(parsed.streets) <= 2
    assert parsed.intersection == (len(parsed.streets) == 2)


@settings(max_examples=500, deadline=None)
@given(text=ANY_TEXT)
def test_parse_number_and_name_key_answer_any_text(text):
    number = parse_number(text)
    assert number is None or (isinstance(number, HouseNumber) and 0 <= number.base <= 9999)
    name_key(text)


@settings(max_examples=500, deadline=None)
@given(text=ANY_TEXT)
def test_folding_twice_is_folding_once(text):
    assert fold(fold(text)) == fold(text)


@given(number=NUMBERS)
def test_a_civic_number_reads_back_from_its_label(number):
    assert parse_number(number.label()) == number


@pytest.mark.parametrize("written", ["{type} {name} {number}", "{type} {name}, {number}",
                                     "{type} {name} n. {number}", "{TYPE} {NAME} {number}"])
@given(typed=st.sampled_from(sorted(TYPES)), name=st.sampled_from(NAMES), number=NUMBERS)
def test_a_street_and_number_read_back_as_typed(written, typed, name, number):
    text = written.format(type=typed, name=name, number=number.label(), TYPE=typed.upper(), NAME=name.upper())
    parsed = parse_query(text)
    (street,) = parsed.streets
    assert not parsed.intersection
    assert street.street_type == TYPES[typed]
    assert street.words == name_key(f"{TYPES[typed]} {name}").words
    assert street.number == number
