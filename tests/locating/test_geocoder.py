"""The geocoder on the Borgo fixture town: each kind of match, reverse look-ups, refusals, ambiguity.

Borgo (tests/fixtures/borgo), in metres from (660000, 5118000): Via Roma runs
west-east at y=500 from x=100 to 900 with ranges 1-41 left, 2-40 right; Via
Giuseppe Garibaldi runs south-north at x=500 (ranges 1-29, 2-30); Piazza della
Libertà goes from (500,500) to (600,600); Vicolo San Francesco d'Assisi goes
north from (100,500); Via IV Novembre runs at y=200 without ranges.
"""
from __future__ import annotations

from datetime import datetime, timezone

import pytest
from geoalchemy2.shape import from_shape
from shapely.geometry import MultiLineString, Point

from geo_urp.errors import BadInput, NotFound
from geo_urp.locating.geocoder import (GeocodeResult, GeoMatch, geocode, geocode_address_id,
                                       reverse_geocode)
from geo_urp.models import METRIC_SRID, Address, Municipality, Street

X0, Y0 = 660000, 5118000


def _near(match: GeoMatch, x: float, y: float, tolerance: float = 3.0) -> bool:
    return Point(match.x, match.y).distance(Point(X0 + x, Y0 + y)) <= tolerance


@pytest.mark.parametrize("query, kind, label, x, y", [
    ("via roma 12/A", "address", "Via Roma 12/A", 300, 510),
    ("Via Roma 12 a", "address", "Via Roma 12/A", 300, 510),
    ("v. roma 12a", "address", "Via Roma 12/A", 300, 510),
    ("VIA ROMA N. 12/A Borgo Prova", "address", "Via Roma 12/A", 300, 510),
    ("via roma 14 bis", "address", "Via Roma 14 bis", 340, 510),
    ("via rmoa 12/a", "address", "Via Roma 12/A", 300, 510),
    ("G. Garibaldi 14", "address", "Via Giuseppe Garibaldi 14", 510, 700),
    ("garibaldi giuseppe 14", "address", "Via Giuseppe Garibaldi 14", 510, 700),
    ("garibaldi 3", "address", "Via Giuseppe Garibaldi 3", 490, 150),
    # a word no name of Borgo has (a title, a full name the layer shortens) does not hide the street
    ("via generale giuseppe garibaldi 14", "address", "Via Giuseppe Garibaldi 14", 510, 700),
    ("p.zza della libertà 1", "address", "Piazza della Libertà 1", 560, 570),
    ("piazza liberta civico 1", "address", "Piazza della Libertà 1", 560, 570),
    ("quattro novembre 7", "address", "Via IV Novembre 7", 400, 190),
    ("via 4 novembre nr 7", "address", "Via IV Novembre 7", 400, 190),
    # ranges 1-41 on the left of Via Roma: 13 is 12/40 of its 800 m
    ("via roma 13", "interpolated", "Via Roma 13", 340, 500),
    # ranges 2-30 on the right of Via Garibaldi (y 100 to 900): 20 is 18/28 of the way
    ("via garibaldi 20", "interpolated", "Via Giuseppe Garibaldi 20", 500, 614),
    ("via giuseppe garibaldi", "street", "Via Giuseppe Garibaldi", 500, 500),
    ("vicolo s. francesco d assisi", "street", "Vicolo San Francesco d'Assisi", 100, 650),
    ("vicolo san francesco", "street", "Vicolo San Francesco d'Assisi", 100, 650),
    ("incrocio via roma e via garibaldi", "intersection", "Via Roma / Via Giuseppe Garibaldi", 500, 500),
    ("via roma angolo vicolo san francesco", "intersection",
     "Via Roma / Vicolo San Francesco d'Assisi", 100, 500),
    ("via Roma / Piazza della Libertà", "intersection", "Via Roma / Piazza della Libertà", 500, 500),
    ("tra via garibaldi e via IV novembre", "intersection",
     "Via Giuseppe Garibaldi / Via IV Novembre", 500, 200),
    ("davanti al municipio", "landmark", "Municipio di Borgo Prova", 520, 520),
    ("in piazza davanti al comune", "landmark", "Municipio di Borgo Prova", 520, 520),
    ("vicino alla chiesa", "landmark", "Chiesa di San Rocco", 120, 700),
])
def test_each_kind_of_match(session, borgo, query, kind, label, x, y):
    result = geocode(session, borgo, query)
    assert (result.best.kind, result.best.label) == (kind, label)
    assert _near(result.best, x, y), (result.best.x - X0, result.best.y - Y0)
    assert 0.6 <= result.best.score <= 1.0
    assert not result.ambiguous


def test_scores_rank_how_the_point_was_found(session, borgo):
    exact = geocode(session, borgo, "via roma 12/A").best.score
    interpolated = geocode(session, borgo, "via roma 13").best.score
    street = geocode(session, borgo, "via roma 99").best
    assert street.kind == "street" and street.label == "Via Roma"
    assert exact > interpolated > street.score


def test_interpolation_between_civics_on_a_street_without_ranges(session, borgo):
    session.add(Address(municipality_id=borgo, address_id="X11", street="Via IV Novembre", number="11",
                        props={}, geom=from_shape(Point(X0 + 600, Y0 + 190), srid=METRIC_SRID)))
    session.flush()
    best = geocode(session, borgo, "via IV novembre 9").best
    assert (best.kind, best.label, best.number) == ("interpolated", "Via IV Novembre 9", "9")
    assert _near(best, 500, 190)


def test_wgs84_coordinates_and_spec_shape(session, borgo):
    result = geocode(session, borgo, "via roma 12/A")
    assert isinstance(result, GeocodeResult)
    assert 46.0 < result.best.lat < 46.3 and 11.0 < result.best.lon < 11.2
    body = result.as_dict()
    assert set(body) == {"lat", "lon", "match", "score", "alternatives"}
    assert body["match"] == {"kind": "address", "street": "Via Roma", "number": "12/A", "label": "Via Roma 12/A"}
    assert result.best.address_id == "A000003" and result.best.street_id == "S1"


@pytest.mark.parametrize("x, y, kind, label", [
    (300, 516, "address", "Via Roma 12/A"),
    (112, 495, "address", "Via Roma 1"),
    (505, 690, "address", "Via Giuseppe Garibaldi 14"),
    (500, 860, "street", "Via Giuseppe Garibaldi"),      # 14 is 160 m away: no civic named
    (850, 505, "street", "Via Roma"),
])
def test_reverse_geocode(session, borgo, x, y, kind, label):
    match = reverse_geocode(session, borgo, X0 + x, Y0 + y)
    assert (match.kind, match.label) == (kind, label)


def test_geocode_address_id(session, borgo):
    match = geocode_address_id(session, borgo, "A000004")
    assert (match.kind, match.label, match.score) == ("address", "Via Roma 14 bis", 1.0)
    assert _near(match, 340, 510, 0.01)
    with pytest.raises(NotFound):
        geocode_address_id(session, borgo, "A999999")


@pytest.mark.parametrize("query", ["via inesistente 5", "piazza dei marziani", "qwerty asdfgh"])
def test_nonsense_is_refused_with_candidates(session, borgo, query):
    with pytest.raises(NotFound) as err:
        geocode(session, borgo, query)
    assert query in err.value.message
    assert err.value.status == 404
    assert all(set(d) == {"label", "score"} and d["score"] < 0.6 for d in err.value.details)


def test_refusal_lists_the_nearest_names(session, borgo):
    with pytest.raises(NotFound) as err:
        geocode(session, borgo, "via inesistente 5")
    assert err.value.details, "an operator needs something to pick from"
    assert {"Via Roma", "Via IV Novembre"} & {d["label"] for d in err.value.details}


@pytest.mark.parametrize("query", ["", "   ", "x" * 300, "12345", "!!! ???", None])
def test_bad_input(session, borgo, query):
    with pytest.raises(BadInput):
        geocode(session, borgo, query)


def test_unknown_municipality(session):
    with pytest.raises(NotFound):
        geocode(session, 987654321, "via roma 1")


def _add_street(session, mid, street_id, name, coords):
    session.add(Street(municipality_id=mid, street_id=street_id, name=name, props={},
                       geom=from_shape(MultiLineString([[(X0 + x, Y0 + y) for x, y in coords]]),
                                       srid=METRIC_SRID)))
    session.flush()


def test_ambiguous_names_return_alternatives(session, borgo):
    _add_street(session, borgo, "S9", "Via Garibaldi", [(700, 800), (900, 800)])
    _add_street(session, borgo, "S11", "Piazza Garibaldi", [(700, 650), (800, 650)])
    result = geocode(session, borgo, "garibaldi")
    assert result.ambiguous
    labels = {result.best.label} | {a.label for a in result.alternatives}
    assert {"Via Garibaldi", "Piazza Garibaldi", "Via Giuseppe Garibaldi"} <= labels
    assert all(0 < a.score <= result.best.score for a in result.alternatives)
    # Saying which one removes the doubt.
    assert geocode(session, borgo, "piazza garibaldi").best.label == "Piazza Garibaldi"
    assert not geocode(session, borgo, "piazza garibaldi").ambiguous
    assert not geocode(session, borgo, "via giuseppe garibaldi 14").ambiguous


def test_index_follows_a_reload(session, borgo):
    with pytest.raises(NotFound):
        geocode(session, borgo, "via mazzini 4")
    _add_street(session, borgo, "S10", "Via Giuseppe Mazzini", [(700, 300), (900, 300)])
    session.get(Municipality, borgo).layers_loaded_at = datetime.now(timezone.utc)
    session.flush()
    assert geocode(session, borgo, "via mazzini 4").best.label == "Via Giuseppe Mazzini"


def test_unknown_words_weigh_less_than_words_of_other_streets():
    from geo_urp.locating.address_parser import name_key
    from geo_urp.locating.geocoder_names import UNKNOWN_WEIGHT, NameMatcher
    matcher = NameMatcher([(0, name_key("Via Dante")), (1, name_key("Via Trento")), (2, name_key("Via IV Novembre"))])
    assert matcher.typed_weights(("dante", "alighieri")) == (1.0, UNKNOWN_WEIGHT)
    assert matcher.typed_weights(("dante", "trento")) == (1.0, 1.0)
    assert matcher.typed_weights(("dnate", "alighieri")) == (1.0, UNKNOWN_WEIGHT)  # a typo is still known
    # a number alone names nothing: then every word counts
    assert matcher.typed_weights(("mazzini", "4")) == (1.0, 1.0)
    dante = dict(matcher.match(name_key("via dante alighieri")))
    assert dante[0] > 0.8
    # "via dante trento" names two streets: neither is sure
    assert max(score for _, score in matcher.match(name_key("via dante trento"))) < 0.8
