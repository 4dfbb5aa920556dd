"""The town as a night planner sees it: lamps, speakable addresses and pipes, read once.

Three KNN queries in PostGIS give each address its nearest lamp and pipe and each
lamp its room to the next one; the planner then works on these rows in Python.
"""
from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from typing import NamedTuple

import shapely
from sqlalchemy import text
from sqlalchemy.orm import Session

from geo_urp.errors import BadInput
from geo_urp.locating.snapping import DEFAULT_PIPE_MAX_M


class TownLamp(NamedTuple):
    lamp_id: str
    circuit_id: str
    cabinet_id: str
    x: float
    y: float
    nn_m: float  # distance to the nearest other lamp


class TownAddress(NamedTuple):
    address_id: str
    street: str
    number: str
    x: float
    y: float
    lamp_id: str | None       # nearest lamp, its circuit and cabinet
    circuit_id: str | None
    cabinet_id: str | None
    part_segment: int | None  # valve segment of the nearest pipe part (None: no main within snapping reach)
    pipe_id: str | None       # nearest pipe and its segments
    pipe_segments: list[int]


class TownPipe(NamedTuple):
    pipe_id: str
    length_m: float
    line: shapely.LineString


@dataclass
class Town:
    """The layers a night is planned on, read once, in a fixed order."""

    lamps_of_circuit: dict[str, list[TownLamp]]
    circuits_of_cabinet: dict[str, list[str]]
    speakable: list[TownAddress]  # addresses a caller can name unambiguously
    pipes: list[TownPipe]
    street_names: list[str]

    def speakable_near(self, x: float, y: float, radius_m: float) -> list[TownAddress]:
        """Speakable addresses within ``radius_m`` of a metric point."""
        return [a for a in self.speakable if math.dist((a.x, a.y), (x, y)) <= radius_m]

    @staticmethod
    def distance_to_pipe(x: float, y: float, pipe: TownPipe) -> float:
        """Metres from a metric point to a pipe."""
        return shapely.distance(shapely.Point(x, y), pipe.line)

    @staticmethod
    def points_along(session: Session, mid: int, pipe_id: str) -> list[tuple[float, float, float]]:
        """Points inside a pipe (15%..85% of its length) and their room to the nearest other pipe."""
        rows = session.execute(text(
            "SELECT ST_X(q.g), ST_Y(q.g), (SELECT ST_Distance(o.geom, q.g) FROM water_pipes o "
            " WHERE o.municipality_id = :mid AND o.pipe_id <> :p ORDER BY o.geom <-> q.g LIMIT 1) "
            "FROM (SELECT f, ST_LineInterpolatePoint(geom, f) AS g FROM water_pipes, "
            " generate_series(0.15, 0.85, 0.05) AS f WHERE municipality_id = :mid AND pipe_id = :p) q "
            "ORDER BY q.f"), {"mid": mid, "p": pipe_id}).all()
        return [(x, y, room if room is not None else 50.0) for x, y, room in rows if room is None or room > 1.5]


def read_town(session: Session, mid: int) -> Town:
    """Lamps with their room, addresses with their nearest lamp and pipe, pipes: three KNN queries."""
    lamps = [TownLamp(*r) for r in session.execute(text(
        "SELECT l.lamp_id, l.circuit_id, l.cabinet_id, ST_X(l.geom), ST_Y(l.geom), "
        " coalesce((SELECT ST_Distance(o.geom, l.geom) FROM lamps o WHERE o.municipality_id = :mid "
        "  AND o.id <> l.id ORDER BY o.geom <-> l.geom LIMIT 1), 50) "
        "FROM lamps l WHERE l.municipality_id = :mid ORDER BY l.lamp_id"), {"mid": mid})]
    by_circuit: dict[str, list[TownLamp]] = defaultdict(list)
    by_cabinet: dict[str, set[str]] = defaultdict(set)
    for lamp in lamps:
        if lamp.nn_m > 0.5:  # two lamps on one spot cannot be told apart by position
            by_circuit[lamp.circuit_id].append(lamp)
            by_cabinet[lamp.cabinet_id].add(lamp.circuit_id)
    # Speakable: its street is a plain official street name and no other civic has the same number.
    addresses = [TownAddress(*r[:10], list(r[10] or [])) for r in session.execute(text(
        "SELECT a.address_id, a.street, a.number, ST_X(a.geom), ST_Y(a.geom), lamp.lamp_id, lamp.circuit_id, "
        " lamp.cabinet_id, part.segment_no, pipe.pipe_id, pipe.segment_nos "
        "FROM (SELECT *, count(*) OVER (PARTITION BY street, lower(number)) AS same FROM addresses "
        "      WHERE municipality_id = :mid) a "
        "LEFT JOIN LATERAL (SELECT lamp_id, circuit_id, cabinet_id FROM lamps l WHERE l.municipality_id = :mid "
        " ORDER BY l.geom <-> a.geom LIMIT 1) lamp ON true "
        # A main counts for a home only within the distance intake snaps to (else the call is not on the network).
        "LEFT JOIN LATERAL (SELECT segment_no FROM water_pipe_parts p WHERE p.municipality_id = :mid "
        " AND ST_DWithin(p.geom, a.geom, :pipe_m) ORDER BY p.geom <-> a.geom LIMIT 1) part ON true "
        "LEFT JOIN LATERAL (SELECT pipe_id, segment_nos FROM water_pipes w WHERE w.municipality_id = :mid "
        " AND ST_DWithin(w.geom, a.geom, :pipe_m) ORDER BY w.geom <-> a.geom LIMIT 1) pipe ON true "
        "WHERE a.same = 1 AND a.street !~ '[0-9/()-]' AND EXISTS (SELECT 1 FROM streets s WHERE s.municipality_id = :mid AND s.name = a.street) "
        "ORDER BY a.address_id"), {"mid": mid, "pipe_m": DEFAULT_PIPE_MAX_M})]
    pipes = [TownPipe(p, length, shapely.from_wkb(bytes(wkb))) for p, length, wkb in session.execute(text(
        "SELECT pipe_id, ST_Length(geom), ST_AsBinary(geom) FROM water_pipes WHERE municipality_id = :mid "
        "ORDER BY pipe_id"), {"mid": mid})]
    names = sorted(session.execute(text("SELECT DISTINCT name FROM streets WHERE municipality_id = :mid"),
                                   {"mid": mid}).scalars())
    if not addresses:
        raise BadInput(f"municipality {mid} has no addresses a caller could name")
    return Town(dict(by_circuit), {c: sorted(v) for c, v in sorted(by_cabinet.items())}, addresses, pipes, names)
