"""The geocoder as callers speak: initials, "S." for San or Silvio, popes and kings without their numeral.

The town is Borgo (tests/fixtures/borgo, with Via Giuseppe Garibaldi and its civics) plus a
hand-made row of streets east of it, one line per name at y = 100 * row, each with civics 3 and 5.
The names are real: "Via Giovanni XXIII", "Via Beato Giovanni Paolo Secondo", "Via S. Giovanni
Bosco", "Via Giuseppe Amendola" and "Via Giovanni Pascoli" are Marcallo con Casone's
(data/marcallo, ANNCSU); "Piazza San Giovanni" and "Via San Pietro" are Mezzolombardo's; the rest
are among the commonest street names of Italian towns. Two Amendola streets make "G. Amendola"
fit two places.
"""
from __future__ import annotations

import pytest
from geoalchemy2.shape import from_shape
from shapely.geometry import MultiLineString, Point

from geo_urp.errors import BadInput, NotFound
from geo_urp.locating import placing
from geo_urp.locating.geocoder import MIN_SCORE, geocode
from geo_urp.models import METRIC_SRID, Address, Municipality, Street

X0, Y0 = 660000, 5118000
CONFIDENT = 0.8

HAND_MADE = ("Via Silvio Pellico", "Piazza San Giovanni", "Via San Pietro", "Corso Vittorio Emanuele II",
             "Via Giovanni XXIII", "Via Umberto I", "Via Pio X", "Via Regina Margherita",
             "Via Beato Giovanni Paolo Secondo", "Via S. Giovanni Bosco", "Via Giovanni Pascoli",
             "Via Giuseppe Amendola", "Via Giovanni Amendola", "Via Santa Maria")


def _row(name: str) -> int:
    return HAND_MADE.index(name) + 1


@pytest.fixture()
def town(session, borgo):
    """Borgo with the hand-made streets and their civics 3 and 5; its municipality id."""
    for row, name in enumerate(HAND_MADE, start=1):
        y = 100 * row
        session.add(Street(municipality_id=borgo, street_id=f"H{row}", name=name, props={},
                           geom=from_shape(MultiLineString([[(X0 + 1100, Y0 + y), (X0 + 1300, Y0 + y)]]),
                                           srid=METRIC_SRID)))
        for number, x in (("3", 1150), ("5", 1200)):
            session.add(Address(municipality_id=borgo, address_id=f"H{row}-{number}", street=name,
                                number=number, props={},
                                geom=from_shape(Point(X0 + x, Y0 + y + 8), srid=METRIC_SRID)))
    session.flush()
    return borgo


@pytest.mark.parametrize("query, label", [
    ("via G. Garibaldi 3", "Via Giuseppe Garibaldi 3"),
    ("via g garibaldi 3", "Via Giuseppe Garibaldi 3"),
    ("p.zza S. Giovanni", "Piazza San Giovanni"),
    ("piazza s giovanni 5", "Piazza San Giovanni 5"),
    ("via S. Pellico 3", "Via Silvio Pellico 3"),
    ("via s.pellico", "Via Silvio Pellico"),
    ("via S. Maria 5", "Via Santa Maria 5"),
    ("via san giovanni bosco 3", "Via S. Giovanni Bosco 3"),
    ("via s. g. bosco", "Via S. Giovanni Bosco"),
    ("corso V. Emanuele 3", "Corso Vittorio Emanuele II 3"),
    ("corso vittorio emanuele", "Corso Vittorio Emanuele II"),
    ("c.so vittorio emanuele secondo 5", "Corso Vittorio Emanuele II 5"),
    ("via papa Giovanni 3", "Via Giovanni XXIII 3"),
    ("via Giovanni", "Via Giovanni XXIII"),
    ("via papa giovanni ventitreesimo", "Via Giovanni XXIII"),
    ("via Umberto 5", "Via Umberto I 5"),
    ("via umberto primo", "Via Umberto I"),
    ("via re umberto", "Via Umberto I"),
    ("via pio", "Via Pio X"),
    ("via papa pio decimo 3", "Via Pio X 3"),
    ("via margherita 3", "Via Regina Margherita 3"),
    ("via giovanni paolo II", "Via Beato Giovanni Paolo Secondo"),
    ("via papa giovanni paolo 5", "Via Beato Giovanni Paolo Secondo 5"),
])
def test_initials_titles_and_numerals_resolve_to_the_street_they_fit(session, town, query, label):
    result = geocode(session, town, query)
    assert result.best.label == label, [(m.label, m.score) for m in [result.best] + result.alternatives]
    assert result.best.score >= CONFIDENT and result.confident and not result.ambiguous


def test_an_initial_that_fits_two_streets_offers_both_and_is_not_sure(session, town):
    result = geocode(session, town, "via G. Amendola 5")
    labels = [result.best.label] + [a.label for a in result.alternatives]
    assert set(labels[:2]) == {"Via Giuseppe Amendola 5", "Via Giovanni Amendola 5"}
    assert result.ambiguous and not result.confident
    assert result.best.score < CONFIDENT
    assert all(a.score <= result.best.score for a in result.alternatives)
    # The full first name settles it.
    sure = geocode(session, town, "via giovanni amendola 5")
    assert sure.best.label == "Via Giovanni Amendola 5" and sure.confident and sure.best.score >= CONFIDENT


def test_an_initial_that_fits_no_street_costs_more_than_a_wrong_one_helps(session, town):
    # "P." is no first name of either Amendola: both fit the surname alone, neither is sure.
    result = geocode(session, town, "via P. Amendola 5")
    assert result.ambiguous and result.best.score < CONFIDENT


def test_a_numeral_typed_must_be_the_name_s(session, town):
    # Umberto I is no "Umberto II"; Giovanni XXIII is no "Giovanni XXII".
    assert geocode(session, town, "via giovanni XXII").best.score < geocode(session, town, "via giovanni").best.score
    assert geocode(session, town, "via giovanni XXIII").best.score == 0.9  # a street asked, exactly named


def test_what_it_cannot_place_with_confidence_is_offered_not_refused(session, town):
    # The caller has Pascoli's first name wrong: no street fits well, but the surname names one.
    result = geocode(session, town, "via giuseppe pascoli")
    assert result.best.label == "Via Giovanni Pascoli"
    assert result.best.score < MIN_SCORE and not result.confident
    assert {"Via Giuseppe Amendola", "Via Giuseppe Garibaldi"} & {a.label for a in result.alternatives}
    assert result.as_dict()["alternatives"]
    # A report is not placed on such a guess: the operator is asked to choose.
    with pytest.raises(BadInput, match="could not be located with confidence") as err:
        placing.place(session, session.get(Municipality, town), {"address_string": "via giuseppe pascoli"}, 200.0)
    assert err.value.details[0]["candidates"][0]["match"]["label"] == "Via Giovanni Pascoli"


@pytest.mark.parametrize("query", ["via mazzini 4", "via romagnoli 3", "piazza dei marziani"])
def test_nothing_near_is_still_a_404(session, town, query):
    # "via mazzini 4" shares only the 4 with Via IV Novembre: that is nothing near.
    with pytest.raises(NotFound):
        geocode(session, town, query)


@pytest.mark.parametrize("query, label", [
    ("via G. Garibaldi 12", "Via Giuseppe Garibaldi 12"),
    ("p.zza S. Giovanni 11", "Piazza San Giovanni 11"),
    ("via S. Francesco 5", "Via San Francesco 5"),      # not Via Francesco Filos nor Francesco Morigl
    ("via F. Filos 3", "Via Francesco Filos 3"),
    ("via S. Anna", "Via Sant'Anna"),
    ("piazza pio 7", "Piazza Pio XII 7"),
    ("piazza papa pio dodicesimo 7", "Piazza Pio XII 7"),
    ("via A. De Varda 5", "Via Arturo De Varda 5"),
    ("via E. De Varda 5", "Via Emanuele De Varda 5"),
    ("via sturzo", "Via Don Sturzo"),
])
def test_the_demo_town_as_callers_say_it(demo, query, label):
    session, mid = demo
    result = geocode(session, mid, query)
    assert result.best.label == label, [(m.label, m.score) for m in [result.best] + result.alternatives]
    assert result.best.score >= CONFIDENT and result.confident


def test_two_de_varda_streets_are_both_offered(demo):
    session, mid = demo
    result = geocode(session, mid, "via de varda 5")
    labels = [result.best.label] + [a.label for a in result.alternatives]
    assert set(labels[:2]) == {"Via Arturo De Varda 5", "Via Emanuele De Varda 5"}
    assert result.ambiguous and result.best.score < CONFIDENT
