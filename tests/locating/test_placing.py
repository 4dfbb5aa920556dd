"""Placing a lat/long call on the demo town's real streets and civics.

A call placed by lat/long (a phone's GPS, a click on the map) keeps its point, is
labelled with the civic it stands at (or its street), and snaps to the lamp or main
of its service's network.
"""
from __future__ import annotations

import pytest
from sqlalchemy import text

from geo_urp.errors import BadInput, NotFound
from geo_urp.locating import geocoder, placing
from geo_urp.locating.snapping import SnapLimits, project, snap
from geo_urp.models import Municipality

LIMITS = SnapLimits(60, 80, 150)


def _points(session, mid: int) -> list[tuple[float, float]]:
    """(lat, lon) of 120 civics moved 7 m north-east, and of 80 random points in the boundary."""
    return [(float(lat), float(lon)) for lat, lon in session.execute(text("""
        SELECT ST_Y(g), ST_X(g) FROM (
            SELECT ST_Transform(ST_Translate(geom, 5, 5), 4326) AS g FROM addresses
            WHERE municipality_id = :m ORDER BY address_id LIMIT 120) civics
        UNION ALL
        SELECT ST_Y(g), ST_X(g) FROM (
            SELECT ST_Transform((ST_Dump(ST_GeneratePoints(boundary, 80, 11))).geom, 4326) AS g
            FROM municipalities WHERE id = :m) anywhere"""), {"m": mid})]


def _label(session, mid: int, x: float, y: float) -> str | None:
    try:
        return geocoder.reverse_geocode(session, mid, x, y).label
    except NotFound:
        return None


def test_a_latlong_call_keeps_its_point_is_labelled_by_its_civic_and_snaps_to_its_network(demo):
    session, mid = demo
    muni = session.get(Municipality, mid)
    addressed = 0
    for lat, lon in _points(session, mid):
        point = project(session, mid, lat, lon)
        label = _label(session, mid, point.x, point.y)
        addressed += label is not None and label[-1].isdigit()
        for network in ("lighting", "water", None):
            where, snapped = placing.place(session, muni, {"lat": lat, "long": lon}, 200.0, network, LIMITS)
            assert (where.x, where.y) == pytest.approx((point.x, point.y), abs=1e-6)
            assert (where.kind, where.address) == ("latlong", label)
            assert snapped == snap(session, mid, point.x, point.y, network, LIMITS)
    assert addressed >= 80  # the civics' points are labelled with a civic: the comparison is not all streets


def test_latlong_outside_the_margin_is_refused_before_anything_else(demo):
    session, mid = demo
    muni = session.get(Municipality, mid)
    lat, lon = session.execute(text(
        "SELECT ST_Y(g), ST_X(g) FROM (SELECT ST_Transform(ST_Translate(ST_Centroid(boundary), 0, 20000), 4326) g "
        "FROM municipalities WHERE id = :m) q"), {"m": mid}).one()
    with pytest.raises(BadInput, match=r"lies \d+ m outside"):
        placing.place(session, muni, {"lat": lat, "long": lon}, 200.0, "lighting", LIMITS)
