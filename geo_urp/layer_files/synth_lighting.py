"""Synthetic public lighting: lamps along lit streets, circuits of consecutive lamps, cabinets.

Lamps stand every 25-30 m along each street (the street's pieces merged by
name into runs), a few metres to one side; real OSM street lamps are kept and
take the place of synthetic ones nearby. Runs are visited in a nearest-next
order, so consecutive lamps are neighbours; the sequence is cut into circuits
of 8-15 lamps (preferring cuts where a street ends) and circuits into groups of
3-8 fed by one cabinet placed by the street near their centre.
"""
from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import shapely
from shapely.geometry import LineString, Point
from shapely.strtree import STRtree

from geo_urp.layer_files.synth_geo import Street, Town, padded_id, side_point

LIT_HIGHWAYS = frozenset({
    "primary", "secondary", "tertiary", "unclassified", "residential", "living_street", "pedestrian",
    "primary_link", "secondary_link", "tertiary_link", "road",
})
SPACING_M = (25.0, 30.0)
LAMP_SIDE_M = 4.0  # lamp posts stand at the kerb, not on the centreline
CABINET_SIDE_M = 3.0
OSM_LAMP_CLEARANCE_M = 12.0  # no synthetic lamp this close to a real one
CIRCUIT_SIZE = (8, 15)
CABINET_SIZE = (3, 8)


@dataclass
class Lamp:
    """A lamp before ids are given: where it is and where it came from."""

    point: Point
    street: str
    source: str  # "osm" or "synthetic"
    osm_id: str | None
    along: float  # metres along its run, for ordering


def street_runs(streets: list[Street]) -> list[tuple[str, LineString]]:
    """Lit street pieces merged by name into runs, in a deterministic order."""
    by_name: dict[str, list[LineString]] = defaultdict(list)
    for s in streets:
        if s.highway in LIT_HIGHWAYS:
            by_name[s.name].append(s.line)
    runs: list[tuple[str, LineString]] = []
    for name in sorted(by_name):
        merged = shapely.line_merge(shapely.MultiLineString(by_name[name]))
        parts = [merged] if merged.geom_type == "LineString" else list(merged.geoms)
        for part in sorted(parts, key=lambda g: (round(g.coords[0][0], 2), round(g.coords[0][1], 2))):
            runs.append((name, part))
    return runs


def partition(items: list[Any], starts: set[int], size: tuple[int, int], rng: random.Random) -> list[list[Any]]:
    """Cut ``items`` into consecutive groups of ``size[0]``..``size[1]``.

    A group closes when it reaches a size drawn for it, or earlier (once it has
    the minimum) where ``starts`` marks the first item of a new street. A short
    tail joins the previous group, or the two are split in halves if too long.
    """
    lo, hi = size
    if len(items) <= hi:
        return [items] if items else []
    groups: list[list[Any]] = [[]]
    target = rng.randint(lo, hi)
    for i, item in enumerate(items):
        cur = groups[-1]
        if cur and (len(cur) >= target or (i in starts and len(cur) >= lo)):
            groups.append([])
            target = rng.randint(lo, hi)
        groups[-1].append(item)
    if len(groups) > 1 and len(groups[-1]) < lo:
        tail = groups.pop()
        joined = groups.pop() + tail
        if len(joined) <= hi:
            groups.append(joined)
        else:
            half = (len(joined) + 1) // 2
            groups.extend([joined[:half], joined[half:]])
    return groups


def _run_order(runs: list[tuple[str, LineString]]) -> list[tuple[int, bool]]:
    """Visit order of runs as (index, reversed): start west, always go to the nearest unvisited end."""
    if not runs:
        return []
    left = set(range(len(runs)))
    first = min(left, key=lambda i: (runs[i][1].coords[0][0], i))
    order = [(first, False)]
    left.discard(first)
    end = Point(runs[first][1].coords[-1])
    while left:
        best = None
        for i in sorted(left):
            line = runs[i][1]
            for rev, p in ((False, line.coords[0]), (True, line.coords[-1])):
                d = end.distance(Point(p))
                if best is None or d < best[0]:
                    best = (d, i, rev)
        _, i, rev = best
        order.append((i, rev))
        left.discard(i)
        end = Point(runs[i][1].coords[0 if rev else -1])
    return order


def place_lamps(town: Town, runs: list[tuple[str, LineString]], rng: random.Random) -> list[list[Lamp]]:
    """Lamps of each run (same order as ``runs``), real OSM lamps included, sorted along the run."""
    per_run: list[list[Lamp]] = [[] for _ in runs]
    if not runs:
        return per_run
    tree = STRtree([line for _, line in runs])
    osm_points = [pt for pt, _ in town.osm_lamps]
    for pt, props in town.osm_lamps:
        i = int(tree.nearest(pt))
        per_run[i].append(Lamp(pt, runs[i][0], "osm", str(props.get("osm_id") or ""), runs[i][1].project(pt)))
    osm_tree = STRtree(osm_points) if osm_points else None
    for i, (name, line) in enumerate(runs):
        spacing = rng.uniform(*SPACING_M)
        if line.length < spacing:
            dists = [line.length / 2] if line.length >= 10.0 else []
        else:
            count = int((line.length - spacing / 2) // spacing) + 1
            dists = [spacing / 2 + k * spacing for k in range(count)]
        for d in dists:
            p = side_point(line, d, LAMP_SIDE_M)
            if not town.boundary.contains(p):
                continue  # a lamp outside the town would be rejected by the loader
            if osm_tree is not None and len(osm_tree.query(p, predicate="dwithin", distance=OSM_LAMP_CLEARANCE_M)):
                continue
            per_run[i].append(Lamp(p, name, "synthetic", None, d))
    for lamps in per_run:
        lamps.sort(key=lambda lamp: lamp.along)
    return per_run


def synth_lighting(town: Town, seed_rng: random.Random) -> tuple[list, list]:
    """Lamp features and cabinet features (metric geometries, SPEC §2 properties)."""
    runs = street_runs(town.streets)
    per_run = place_lamps(town, runs, seed_rng)
    sequence: list[Lamp] = []
    starts: set[int] = set()
    for i, rev in _run_order(runs):
        lamps = per_run[i][::-1] if rev else per_run[i]
        if lamps:
            starts.add(len(sequence))
            sequence.extend(lamps)
    index_of = {id(lamp): n for n, lamp in enumerate(sequence)}
    circuits = partition(sequence, starts, CIRCUIT_SIZE, seed_rng)
    circuit_starts = {n for n, c in enumerate(circuits) if index_of[id(c[0])] in starts}
    cabinets = partition(list(range(len(circuits))), circuit_starts, CABINET_SIZE, seed_rng)

    run_tree = STRtree([line for _, line in runs]) if runs else None
    lamp_feats, cabinet_feats = [], []
    n_lamp = 0
    for q, group in enumerate(cabinets, start=1):
        cabinet_id = padded_id("Q", q, len(cabinets), 2)
        points = [lamp.point for c in group for lamp in circuits[c]]
        centre = shapely.MultiPoint(points).centroid
        line = runs[int(run_tree.nearest(centre))][1]
        spot = side_point(line, line.project(centre), CABINET_SIDE_M)
        if not town.boundary.contains(spot):
            spot = line.interpolate(line.project(centre))
        cabinet_feats.append((spot, {"cabinet_id": cabinet_id, "circuits": len(group)}))
        for c in group:
            circuit_id = padded_id("C", c + 1, len(circuits), 3)
            for lamp in circuits[c]:
                n_lamp += 1
                lamp_feats.append((lamp.point, {
                    "lamp_id": padded_id("L", n_lamp, len(sequence), 4), "circuit_id": circuit_id,
                    "cabinet_id": cabinet_id, "street": lamp.street, "source": lamp.source,
                    "osm_id": lamp.osm_id,
                }))
    return lamp_feats, cabinet_feats
