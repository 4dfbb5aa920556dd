"""Placing a lat/long call in one round trip gives what the single look-ups give.

``placing.place`` asks, for a point, its projection, its distance outside the town,
the nearest street and the civics around it, and the lamp or main it snaps to, all
in one statement. Over the demo town's real streets and civics (points at civics, a
few metres off, and points anywhere in the boundary) it must agree with
``reverse_geocode``, ``snap`` and ``project`` asked one by one, also when the civics
fetched with the point are cut short and the street's own nearest civic is looked up.
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


@pytest.mark.parametrize("nearby", [geocoder.REVERSE_NEARBY, 1])
def test_latlong_placement_agrees_with_the_single_look_ups(demo, monkeypatch, nearby):
    session, mid = demo
    monkeypatch.setattr(geocoder, "REVERSE_NEARBY", nearby)  # 1: nearly every label needs the fallback
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
