"""The geocoder's spatial SQL: every geometric question it asks PostGIS.

The streets, civic numbers and landmarks live in PostGIS, so the geometry is
worked out there: merging a street's pieces and taking its middle
(``ST_LineMerge``, ``ST_LineInterpolatePoint``), where two streets meet
(``ST_Intersection``, ``ST_ShortestLine``), interpolating a house number along
a street (``ST_LineLocatePoint``), the nearest street and civic number to a
point (KNN ``<->`` on the GiST indexes) and "did you mean" names (pg_trgm on the
folded-name GIN indexes of migration 0002). Each function is one round trip and
returns plain tuples; matching and scoring stay in Python.
"""
from __future__ import annotations

from typing import NamedTuple

from sqlalchemy import text
from sqlalchemy.orm import Session

from geo_urp.models import METRIC_SRID

# A point in both CRSs: how every function hands points back.
_XY = "ST_X({g}) AS x, ST_Y({g}) AS y, ST_X(ST_Transform({g}, 4326)) AS lon, ST_Y(ST_Transform({g}, 4326)) AS lat"

# Streets closer than this are taken to meet (digitising leaves small gaps).
TOUCH_M = 5.0


class MapPoint(NamedTuple):
    """A point in the metric CRS with its WGS84 coordinates."""

    x: float
    y: float
    lon: float
    lat: float


class NearStreet(NamedTuple):
    """The street nearest a point: its name and id, how far, and its point nearest it."""

    name: str
    street_id: str
    distance_m: float
    point: MapPoint


class NearCivic(NamedTuple):
    """A civic number near a point: its address id, street and number as written, how far, and where."""

    address_id: str
    street: str
    number: str
    distance_m: float
    point: MapPoint


def _place(row) -> MapPoint:
    """The point of a row that selected ``_XY``."""
    return MapPoint(float(row.x), float(row.y), float(row.lon), float(row.lat))


class Gap(NamedTuple):
    """How far apart two streets are (0 where they cross) and the point between them."""

    gap_m: float
    point: MapPoint


class AddressRow(NamedTuple):
    """A civic number of the addresses layer."""

    address_id: str
    street: str
    number: str
    postcode: str | None
    point: MapPoint


class LandmarkRow(NamedTuple):
    """A landmark with its aliases (``;``-separated, empty when none)."""

    name: str
    aliases: str
    point: MapPoint


def street_rows(session: Session, mid: int) -> list:
    """Every street piece: db id, street_id, name, alt_names and its number ranges."""
    return session.execute(text(
        "SELECT id, street_id, name, alt_names, l_from, l_to, r_from, r_to FROM streets "
        "WHERE municipality_id = :m ORDER BY id"), {"m": mid}).all()


def street_points(session: Session, mid: int) -> dict[str, tuple[MapPoint, int]]:
    """Per street name, the point that stands for the whole street, and its piece count.

    The middle of the merged line when the pieces join into one line, else the
    point of the street nearest its centroid.
    """
    rows = session.execute(text(f"""
        WITH merged AS (
            SELECT name, count(*) AS pieces, ST_LineMerge(ST_Union(geom)) AS g
            FROM streets WHERE municipality_id = :m GROUP BY name),
        pt AS (
            SELECT name, pieces, CASE WHEN GeometryType(g) = 'LINESTRING'
                THEN ST_LineInterpolatePoint(g, 0.5)
                ELSE ST_ClosestPoint(g, ST_Centroid(g)) END AS p FROM merged)
        SELECT name, pieces, {_XY.format(g='p')} FROM pt"""), {"m": mid}).all()
    return {r.name: (_place(r), int(r.pieces)) for r in rows}


def address_rows(session: Session, mid: int) -> list[AddressRow]:
    """Every civic number of the town."""
    rows = session.execute(text(
        f"SELECT address_id, street, number, postcode, {_XY.format(g='geom')} FROM addresses "
        "WHERE municipality_id = :m ORDER BY id"), {"m": mid})
    return [AddressRow(r.address_id, r.street, r.number, r.postcode, _place(r)) for r in rows]


def orphan_street_neighbours(session: Session, mid: int) -> dict[str, tuple[str, float]]:
    """For address street names no street carries: the nearest street's name and distance.

    OSM and municipal data often write the same street two ways ("Via
    Garibaldi" on the civic, "Via Giuseppe Garibaldi" on the street).
    """
    rows = session.execute(text("""
        SELECT a.street, s.name, ST_Distance(a.geom, s.geom) FROM addresses a
        CROSS JOIN LATERAL (SELECT name, geom FROM streets s WHERE s.municipality_id = :m
                            ORDER BY s.geom <-> a.geom LIMIT 1) s
        WHERE a.municipality_id = :m AND NOT EXISTS (
            SELECT 1 FROM streets x WHERE x.municipality_id = :m AND x.name = a.street)"""),
        {"m": mid}).all()
    best: dict[str, tuple[str, float]] = {}
    for street, near, dist in rows:  # (the civic's street, the nearest street's name, how far)
        if street not in best or dist < best[street][1]:
            best[street] = (near, float(dist))
    return best


def landmark_rows(session: Session, mid: int) -> list[LandmarkRow]:
    """Every landmark of the town."""
    rows = session.execute(text(
        f"SELECT name, coalesce(aliases, '') AS aliases, {_XY.format(g='geom')} FROM landmarks "
        "WHERE municipality_id = :m ORDER BY id"), {"m": mid})
    return [LandmarkRow(r.name, r.aliases, _place(r)) for r in rows]


def meeting_points(session: Session, mid: int) -> list[tuple[str, str, Gap]]:
    """Every pair of street names that meet: (name a, name b, their ``Gap``).

    The point is on ``ST_Intersection`` when the pieces touch, else the middle
    of the shortest line between them (a gap under ``TOUCH_M``).
    """
    rows = session.execute(text(f"""
        WITH pairs AS (
            SELECT DISTINCT ON (a.name, b.name) a.name AS an, b.name AS bn,
                   ST_Distance(a.geom, b.geom) AS gap,
                   CASE WHEN ST_Intersects(a.geom, b.geom)
                        THEN ST_PointOnSurface(ST_Intersection(a.geom, b.geom))
                        ELSE ST_LineInterpolatePoint(ST_ShortestLine(a.geom, b.geom), 0.5) END AS p
            FROM streets a JOIN streets b
              ON b.municipality_id = a.municipality_id AND a.name < b.name
             AND ST_DWithin(a.geom, b.geom, :touch)
            WHERE a.municipality_id = :m
            ORDER BY a.name, b.name, ST_Distance(a.geom, b.geom), a.id, b.id)
        SELECT an, bn, gap, {_XY.format(g='p')} FROM pairs"""), {"m": mid, "touch": TOUCH_M}).all()
    return [(r.an, r.bn, Gap(float(r.gap), _place(r))) for r in rows]


def closest_between(session: Session, mid: int, names_a: list[str], names_b: list[str]) -> Gap | None:
    """The gap between two streets that do not meet, at the midpoint of the shortest line between them."""
    row = session.execute(text(f"""
        WITH a AS (SELECT ST_Union(geom) g FROM streets WHERE municipality_id = :m AND name = ANY(:a)),
             b AS (SELECT ST_Union(geom) g FROM streets WHERE municipality_id = :m AND name = ANY(:b)),
             l AS (SELECT ST_ShortestLine(a.g, b.g) AS line FROM a, b)
        SELECT ST_Length(line) AS gap, {_XY.format(g='ST_LineInterpolatePoint(line, 0.5)')} FROM l
        WHERE line IS NOT NULL"""), {"m": mid, "a": names_a, "b": names_b}).first()
    return Gap(float(row.gap), _place(row)) if row else None


def point_along_piece(session: Session, street_pk: int, fraction: float) -> MapPoint:
    """The point at ``fraction`` of one street piece's length (range interpolation)."""
    row = session.execute(text(f"""
        WITH l AS (SELECT ST_GeometryN(ST_Multi(ST_LineMerge(geom)), 1) AS g FROM streets WHERE id = :id)
        SELECT {_XY.format(g='ST_LineInterpolatePoint(g, :f)')} FROM l"""),
        {"id": street_pk, "f": min(max(fraction, 0.0), 1.0)}).one()
    return _place(row)


def point_between_civics(session: Session, mid: int, names: list[str], a: tuple[float, float],
                         b: tuple[float, float], t: float) -> MapPoint:
    """The point ``t`` of the way from civic ``a`` to civic ``b`` along their street.

    Both civics are projected on the street piece nearest to them; the point is
    interpolated along that line and shifted off it by the civics' interpolated
    offset, so it lands on the buildings' side rather than mid-road. Where the
    projections coincide, the straight line from ``a`` to ``b`` is used.
    """
    row = session.execute(text(f"""
        WITH pa AS (SELECT ST_SetSRID(ST_MakePoint(:ax, :ay), {METRIC_SRID}) g),
             pb AS (SELECT ST_SetSRID(ST_MakePoint(:bx, :by), {METRIC_SRID}) g),
             merged AS (SELECT ST_LineMerge(ST_Union(geom)) g FROM streets
                        WHERE municipality_id = :m AND name = ANY(:names)),
             line AS (
                SELECT d.geom g FROM merged, ST_Dump(merged.g) d, pa, pb
                ORDER BY ST_Distance(d.geom, pa.g) + ST_Distance(d.geom, pb.g) LIMIT 1),
             f AS (SELECT line.g, ST_LineLocatePoint(line.g, pa.g) fa, ST_LineLocatePoint(line.g, pb.g) fb,
                          pa.g pa, pb.g pb FROM line, pa, pb),
             q AS (SELECT CASE WHEN abs(fb - fa) * ST_Length(g) < 1.0
                        THEN ST_LineInterpolatePoint(ST_MakeLine(pa, pb), :t)
                        ELSE ST_Translate(ST_LineInterpolatePoint(g, fa + (fb - fa) * :t),
                            (1 - :t) * (ST_X(pa) - ST_X(ST_LineInterpolatePoint(g, fa)))
                              + :t * (ST_X(pb) - ST_X(ST_LineInterpolatePoint(g, fb))),
                            (1 - :t) * (ST_Y(pa) - ST_Y(ST_LineInterpolatePoint(g, fa)))
                              + :t * (ST_Y(pb) - ST_Y(ST_LineInterpolatePoint(g, fb)))) END AS p
                   FROM f)
        SELECT {_XY.format(g='p')} FROM q"""),
        {"m": mid, "names": names, "ax": a[0], "ay": a[1], "bx": b[0], "by": b[1], "t": t}).first()
    if row is None:  # the civics' street has no line at all: straight between them
        row = session.execute(text(f"""
            WITH q AS (SELECT ST_LineInterpolatePoint(ST_MakeLine(
                ST_SetSRID(ST_MakePoint(:ax, :ay), {METRIC_SRID}),
                ST_SetSRID(ST_MakePoint(:bx, :by), {METRIC_SRID})), :t) p)
            SELECT {_XY.format(g='p')} FROM q"""),
            {"ax": a[0], "ay": a[1], "bx": b[0], "by": b[1], "t": t}).one()
    return _place(row)


# The street nearest metric (:x, :y) of municipality :mid, and its point nearest (x, y).
_STREET_COLUMNS = "rs.name AS name, rs.street_id AS street_id, rs.d AS distance_m, " + _XY.format(g="rs.cp")
_REVERSE_STREET = """LEFT JOIN LATERAL (
        SELECT s.name, s.street_id, ST_Distance(s.geom, {point}) AS d, ST_ClosestPoint(s.geom, {point}) AS cp
        FROM streets s WHERE s.municipality_id = :mid ORDER BY s.geom <-> {point} LIMIT 1) rs ON true"""


_POINT = f"ST_SetSRID(ST_MakePoint(:x, :y), {METRIC_SRID})"
_NEAREST_STREET = text(f"SELECT {_STREET_COLUMNS} FROM (SELECT 1) one "
                       + _REVERSE_STREET.format(point=_POINT))


def nearest_street(session: Session, mid: int, x: float, y: float) -> NearStreet | None:
    """The street nearest (x, y), or None when the town has no streets."""
    row = session.execute(_NEAREST_STREET, {"mid": mid, "x": x, "y": y}).one()
    return None if row.name is None else NearStreet(row.name, row.street_id, float(row.distance_m), _place(row))


def nearest_civic(session: Session, mid: int, streets: list[str], x: float, y: float,
                  within_m: float) -> NearCivic | None:
    """The civic on ``streets`` nearest (x, y) within ``within_m``, or None."""
    row = session.execute(text(f"""
        WITH p AS (SELECT ST_SetSRID(ST_MakePoint(:x, :y), {METRIC_SRID}) g)
        SELECT a.address_id, a.street, a.number, ST_Distance(a.geom, p.g) AS distance_m, {_XY.format(g='a.geom')}
        FROM addresses a, p WHERE a.municipality_id = :m AND a.street = ANY(:streets)
          AND ST_DWithin(a.geom, p.g, :within)
        ORDER BY a.geom <-> p.g LIMIT 1"""),
        {"m": mid, "x": x, "y": y, "streets": streets, "within": within_m}).first()
    return NearCivic(row.address_id, row.street, row.number, float(row.distance_m), _place(row)) if row else None


def address_by_id(session: Session, mid: int, address_id: str) -> AddressRow | None:
    """One civic by its address id, or None."""
    row = session.execute(text(
        f"SELECT address_id, street, number, postcode, {_XY.format(g='geom')} FROM addresses "
        "WHERE municipality_id = :m AND address_id = :a"), {"m": mid, "a": address_id}).first()
    return AddressRow(row.address_id, row.street, row.number, row.postcode, _place(row)) if row else None


def similar_names(session: Session, mid: int, folded: str, limit: int = 5) -> list[tuple[str, float]]:
    """Street and landmark names most like ``folded`` by trigram similarity (GIN-indexed)."""
    session.execute(text("SELECT set_config('pg_trgm.similarity_threshold', '0.15', true)"))
    rows = session.execute(text("""
        SELECT name, max(s) FROM (
            SELECT name, similarity(geo_urp_fold(name), :q) s FROM streets
            WHERE municipality_id = :m AND geo_urp_fold(name) % :q
            UNION ALL
            SELECT name, similarity(geo_urp_fold(name || ' ' || coalesce(aliases, '')), :q) FROM landmarks
            WHERE municipality_id = :m AND geo_urp_fold(name || ' ' || coalesce(aliases, '')) % :q) c
        GROUP BY name ORDER BY max(s) DESC, name LIMIT :n"""), {"m": mid, "q": folded, "n": limit}).all()
    return [(r[0], round(float(r[1]), 2)) for r in rows]
