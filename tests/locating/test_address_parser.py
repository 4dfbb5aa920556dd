"""Reading operator text: one parametrised case per way callers write an address."""
from __future__ import annotations

import pytest

from geo_urp.locating.address_parser import (HouseNumber, StreetPart, fold, name_key, parse_number,
                                              parse_query)

TOWN = ("Mezzolombardo",)


@pytest.mark.parametrize("text, street_type, words, number", [
    # street types and their abbreviations
    ("via Roma 3", "via", ("roma",), HouseNumber(3)),
    ("v. Roma 3", "via", ("roma",), HouseNumber(3)),
    ("v.roma 3", "via", ("roma",), HouseNumber(3)),
    ("viale Trento 1", "viale", ("trento",), HouseNumber(1)),
    ("v.le Trento 1", "viale", ("trento",), HouseNumber(1)),
    ("p.zza delle Erbe 2", "piazza", ("erbe",), HouseNumber(2)),
    ("P.za delle erbe 2", "piazza", ("erbe",), HouseNumber(2)),
    ("c.so del Popolo 43", "corso", ("popolo",), HouseNumber(43)),
    ("l.go Carducci 5", "largo", ("carducci",), HouseNumber(5)),
    ("vic. Pozzo 4", "vicolo", ("pozzo",), HouseNumber(4)),
    ("strada statale 43", "strada", ("statale",), HouseNumber(43)),
    ("loc. Ai Piani", "localita", ("piani",), None),
    ("località ai piani", "localita", ("piani",), None),
    ("fraz. Masi 3", "frazione", ("masi",), HouseNumber(3)),
    # case, accents, apostrophes
    ("PIAZZA DELLA LIBERTÀ", "piazza", ("liberta",), None),
    ("piazza liberta", "piazza", ("liberta",), None),
    ("vicolo san francesco d assisi", "vicolo", ("san", "francesco", "assisi"), None),
    ("Vicolo San Francesco d'Assisi", "vicolo", ("san", "francesco", "assisi"), None),
    ("via sant’anna 4", "via", ("san", "anna"), HouseNumber(4)),
    # a typed "S." is an initial (San, Santa or Silvio: the geocoder tries them all)
    ("via S. Anna 4", "via", ("s", "anna"), HouseNumber(4)),
    ("via s.pellico 3", "via", ("s", "pellico"), HouseNumber(3)),
    # extra words around the number
    ("via roma n. 12", "via", ("roma",), HouseNumber(12)),
    ("via roma n.12", "via", ("roma",), HouseNumber(12)),
    ("via roma civico 12", "via", ("roma",), HouseNumber(12)),
    ("via roma nr 12", "via", ("roma",), HouseNumber(12)),
    ("via roma numero 12", "via", ("roma",), HouseNumber(12)),
    ("in via roma, 12", "via", ("roma",), HouseNumber(12)),
    # the town's name, province and postcode inside the text
    ("via roma 3 mezzolombardo", "via", ("roma",), HouseNumber(3)),
    ("Via Roma 3, Mezzolombardo (TN)", "via", ("roma",), HouseNumber(3)),
    ("mezzolombardo via roma 3", "via", ("roma",), HouseNumber(3)),
    ("via roma 3 - 38017 Mezzolombardo", "via", ("roma",), HouseNumber(3)),
    # partial and variant names
    ("garibaldi", None, ("garibaldi",), None),
    ("G. Garibaldi 14", None, ("g", "garibaldi"), HouseNumber(14)),
    ("garibaldi giuseppe 14", None, ("garibaldi", "giuseppe"), HouseNumber(14)),
    # numbers as words, Roman numerals or digits inside names
    ("via IV Novembre 7", "via", ("4", "novembre"), HouseNumber(7)),
    ("via 4 novembre 7", "via", ("4", "novembre"), HouseNumber(7)),
    ("via quattro novembre 7", "via", ("4", "novembre"), HouseNumber(7)),
    ("via XXV Aprile", "via", ("25", "aprile"), None),
    ("via 25 aprile", "via", ("25", "aprile"), None),
    ("piazza pio XII", "piazza", ("pio", "12"), None),
    # a pope's or king's numeral at the end, as a Roman numeral or an ordinal, is part of the name
    ("via umberto primo", "via", ("umberto", "1"), None),
    ("via umberto I 5", "via", ("umberto", "1"), HouseNumber(5)),
    ("via papa pio x 3", "via", ("papa", "pio", "10"), HouseNumber(3)),
    ("via giovanni paolo secondo", "via", ("giovanni", "paolo", "2"), None),
    # a trailing number word reads as the civic; the geocoder also tries it as part of the name
    ("piazza pio dodici", "piazza", ("pio",), HouseNumber(12)),
    ("via roma dodici", "via", ("roma",), HouseNumber(12)),
    # house numbers with exponents
    ("via roma 12/A", "via", ("roma",), HouseNumber(12, "a")),
    ("via roma 12 / a", "via", ("roma",), HouseNumber(12, "a")),
    ("via roma 12a", "via", ("roma",), HouseNumber(12, "a")),
    ("via roma 12 A", "via", ("roma",), HouseNumber(12, "a")),
    ("via roma 12-a", "via", ("roma",), HouseNumber(12, "a")),
    ("via roma 12 bis", "via", ("roma",), HouseNumber(12, "bis")),
    ("via roma 12bis", "via", ("roma",), HouseNumber(12, "bis")),
    ("via roma 23/3", "via", ("roma",), HouseNumber(23, "3")),
    ("12 via roma", "via", ("roma",), HouseNumber(12)),
    # the caller's story before the address
    ("lampione spento in via roma 5", "via", ("roma",), HouseNumber(5)),
])
def test_street_and_number(text, street_type, words, number):
    parsed = parse_query(text, TOWN)
    assert not parsed.intersection
    (part,) = parsed.streets
    assert (part.street_type, part.words, part.number) == (street_type, words, number)


@pytest.mark.parametrize("text, first, second", [
    ("incrocio via Roma e via Garibaldi", ("roma",), ("garibaldi",)),
    ("incrocio tra via roma e via garibaldi", ("roma",), ("garibaldi",)),
    ("all'incrocio via roma con via garibaldi", ("roma",), ("garibaldi",)),
    ("via Roma angolo via Garibaldi", ("roma",), ("garibaldi",)),
    ("via roma ang. via garibaldi", ("roma",), ("garibaldi",)),
    ("angolo via roma e via garibaldi", ("roma",), ("garibaldi",)),
    ("via Roma / via Garibaldi", ("roma",), ("garibaldi",)),
    ("via roma/via garibaldi", ("roma",), ("garibaldi",)),
    ("tra via Roma e via Garibaldi", ("roma",), ("garibaldi",)),
    ("via roma e via garibaldi", ("roma",), ("garibaldi",)),
    ("roma angolo garibaldi", ("roma",), ("garibaldi",)),
])
def test_intersections(text, first, second):
    parsed = parse_query(text, TOWN)
    assert parsed.intersection
    assert [p.words for p in parsed.streets] == [first, second]


@pytest.mark.parametrize("text", ["via roma 12/a", "via roma 12 / a", "corso del popolo 54 / b",
                                  "Piazza della Libertà 1"])
def test_exponent_slash_is_not_a_crossing(text):
    assert not parse_query(text, TOWN).intersection


@pytest.mark.parametrize("text, words, cue, context", [
    ("davanti al municipio", ("municipio",), True, False),
    ("vicino alla chiesa", ("chiesa",), True, False),
    ("di fronte alla stazione", ("stazione",), True, False),
    ("in piazza davanti al comune", ("comune",), True, False),
    ("scuole elementari", ("scuole", "elementari"), False, False),
    ("via roma davanti alla chiesa", ("chiesa",), True, True),
])
def test_landmarks(text, words, cue, context):
    parsed = parse_query(text, TOWN)
    assert parsed.landmark_words == words
    assert parsed.landmark_cue is cue
    assert parsed.context_street is context


@pytest.mark.parametrize("name, key", [
    ("Via IV Novembre", StreetPart("via", ("4", "novembre"))),
    ("Via Quattro Novembre", StreetPart("via", ("4", "novembre"))),
    ("Piazza della Libertà", StreetPart("piazza", ("liberta",))),
    ("Vicolo San Francesco d'Assisi", StreetPart("vicolo", ("san", "francesco", "assisi"))),
    ("Piazza Pio XII", StreetPart("piazza", ("pio", "12"), regnal=True)),
    ("Via Giovanni XXIII", StreetPart("via", ("giovanni", "23"), regnal=True)),
    ("Via Umberto I", StreetPart("via", ("umberto", "1"), regnal=True)),
    ("Via Pio X", StreetPart("via", ("pio", "10"), regnal=True)),
    ("Via Beato Giovanni Paolo Secondo", StreetPart("via", ("beato", "giovanni", "paolo", "2"), regnal=True)),
    ("Corso Vittorio Emanuele II", StreetPart("corso", ("vittorio", "emanuele", "2"), regnal=True)),
    # a road's number is no king's, nor is a month's day
    ("Strada Provinciale 128", StreetPart("strada", ("provinciale", "128"))),
    ("Via XXIV Maggio", StreetPart("via", ("24", "maggio"))),
    # in an official name "S." is a saint
    ("Via S. Giovanni Bosco", StreetPart("via", ("san", "giovanni", "bosco"))),
    ("Via Sant'Anna", StreetPart("via", ("san", "anna"))),
    ("Via Giosuè Carducci", StreetPart("via", ("giosue", "carducci"))),
])
def test_official_names_fold_like_queries(name, key):
    assert name_key(name) == key


@pytest.mark.parametrize("written, number, label", [
    ("12", HouseNumber(12), "12"),
    ("12/A", HouseNumber(12, "a"), "12/A"),
    ("12 A", HouseNumber(12, "a"), "12/A"),
    ("6a", HouseNumber(6, "a"), "6/A"),
    ("14 bis", HouseNumber(14, "bis"), "14 bis"),
    ("23/3", HouseNumber(23, "3"), "23/3"),
    ("senza numero", None, None),
])
def test_numbers_as_written_in_the_layer(written, number, label):
    assert parse_number(written) == number
    if number:
        assert number.label() == label


@pytest.mark.parametrize("words", ["di", "vi", "mi", "d"])
def test_italian_words_are_not_roman_numerals(words):
    assert name_key(f"Via {words} Prova").words[0] != "501"
    assert all(not w.isdigit() for w in name_key(f"Via {words} Prova").words)


def test_fold():
    assert fold("  Piazza  Unità d’Italia ") == "piazza unita d italia"


@pytest.mark.parametrize("text", ["", "   ", "x" * 201])
def test_empty_or_overlong_text_is_refused(text):
    with pytest.raises(ValueError):
        parse_query(text, TOWN)
