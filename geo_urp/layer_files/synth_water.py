"""Synthetic water network: mains under the streets, sources at the town's edge, valves by the N-1 rule.

The street lines are noded (split wherever they meet), so every pipe ends
exactly where the pipes it connects to end: the loader joins end points within
0.5 m. Only the parts of the network reachable from a source are kept. At a
junction of N pipes, N-1 of them get a valve a few metres from the junction,
on the pipe; the main (largest diameter) stays open, as in usual practice.
"""
from __future__ import annotations

import random
from collections import defaultdict
from typing import Any

import networkx as nx
import shapely
from shapely.geometry import LineString, Point
from shapely.strtree import STRtree

from geo_urp.layer_files.synth_geo import Street, Town, padded_id

#: Street class -> main diameter (mm). Paths, tracks and motorways carry no main.
DIAMETERS = {
    "trunk": 200, "primary": 200, "secondary": 200, "trunk_link": 200, "primary_link": 200,
    "secondary_link": 200, "tertiary": 150, "tertiary_link": 150,
    "residential": 100, "unclassified": 100, "living_street": 100, "road": 100,
    "pedestrian": 80, "service": 80,
}
LARGE_MATERIALS = ("ductile iron", "ductile iron", "ductile iron", "steel")
SMALL_MATERIALS = ("HDPE", "HDPE", "ductile iron", "cast iron")
VALVE_DISTANCE_M = 3.0
NODING_GRID_M = 0.05
INOPERABLE_SHARE = 0.03
SECOND_SOURCE_SHARE = 0.15  # a separate network this big (share of length) gets its own source


def _key(p: tuple[float, float]) -> tuple[float, float]:
    """Graph node key of an end point (mm precision: noded ends are bit-identical anyway)."""
    return (round(p[0], 3), round(p[1], 3))


def noded_pipes(streets: list[Street]) -> list[tuple[LineString, int]]:
    """Pipe lines (street lines split where they meet) with the diameter of the street above them."""
    mains = [s for s in streets if s.highway in DIAMETERS]
    if not mains:
        return []
    # Snap-rounding to a 5 cm grid nodes near misses too: a T-junction end that
    # misses the crossing street by millimetres (coordinate rounding) still joins.
    noded = shapely.union_all([s.line for s in mains], grid_size=NODING_GRID_M)
    parts = [noded] if noded.geom_type == "LineString" else list(noded.geoms)
    tree = STRtree([s.line for s in mains])
    out = []
    for part in parts:
        mid = part.interpolate(0.5, normalized=True)
        near = tree.query(mid, predicate="dwithin", distance=0.01)
        if len(near) == 0:
            near = [tree.nearest(mid)]
        diameter = max(DIAMETERS[mains[int(i)].highway] for i in near)
        out.append((part, diameter))
    out.sort(key=lambda pd: (-round(pd[0].centroid.y), round(pd[0].centroid.x), round(pd[0].length, 3)))
    return out


def _pick_sources(graph: nx.MultiGraph) -> list[tuple[float, float]]:
    """One source at the far end of the largest network, a second at another edge or network."""
    comps = sorted(nx.connected_components(graph),
                   key=lambda c: (-sum(d["length"] for _, _, d in graph.subgraph(c).edges(data=True)), min(c)))
    if not comps:
        return []
    nodes = list(graph.nodes)
    cx = sum(n[0] for n in nodes) / len(nodes)
    cy = sum(n[1] for n in nodes) / len(nodes)

    def far_end(comp: set, ref: tuple[float, float]) -> tuple[float, float]:
        ends = [n for n in comp if graph.degree(n) == 1] or list(comp)
        return max(sorted(ends), key=lambda n: (n[0] - ref[0]) ** 2 + (n[1] - ref[1]) ** 2)

    first = far_end(comps[0], (cx, cy))
    total = sum(d["length"] for _, _, d in graph.edges(data=True))
    if len(comps) > 1:
        second_len = sum(d["length"] for _, _, d in graph.subgraph(comps[1]).edges(data=True))
        if second_len >= SECOND_SOURCE_SHARE * total:
            return [first, far_end(comps[1], (cx, cy))]
    second = far_end(comps[0], first)
    return [first] if second == first else [first, second]


def synth_water(town: Town, rng: random.Random) -> tuple[list, list, list, dict[str, int]]:
    """Pipe, source and valve features (metric) plus counts of what was dropped."""
    pipes = noded_pipes(town.streets)
    graph = nx.MultiGraph()
    for k, (line, _) in enumerate(pipes):
        graph.add_edge(_key(line.coords[0]), _key(line.coords[-1]), key=k, length=line.length)
    sources = _pick_sources(graph)
    reachable = set().union(*(nx.node_connected_component(graph, s) for s in sources)) if sources else set()
    kept = [(line, d) for line, d in pipes if _key(line.coords[0]) in reachable]

    pipe_feats: list[tuple[LineString, dict[str, Any]]] = []
    ends: dict[tuple[float, float], list[tuple[int, bool]]] = defaultdict(list)
    for n, (line, diameter) in enumerate(kept):
        materials = LARGE_MATERIALS if diameter >= 150 else SMALL_MATERIALS
        pipe_id = padded_id("P", n + 1, len(kept), 4)
        pipe_feats.append((line, {"pipe_id": pipe_id, "diameter_mm": diameter, "material": rng.choice(materials)}))
        ends[_key(line.coords[0])].append((n, False))
        ends[_key(line.coords[-1])].append((n, True))

    source_feats = []
    for i, s in enumerate(sources, start=1):
        kind, label = ("tank", "Serbatoio") if i == 1 else ("well", "Pozzo")
        source_feats.append((Point(s), {"source_id": f"S{i}", "kind": kind, "name": f"{label} {i}"}))

    valve_spots: list[tuple[Point, str]] = []
    for node in sorted(ends):
        incident = ends[node]
        if len(incident) < 3:
            continue  # a valve rule for junctions; bends and dead ends need none
        biggest = max(kept[n][1] for n, _ in incident)
        mains = [pos for pos, (n, _) in enumerate(incident) if kept[n][1] == biggest]
        skip = rng.choice(mains)
        for pos, (n, at_end) in enumerate(incident):
            if pos == skip:
                continue
            line = kept[n][0]
            d = min(VALVE_DISTANCE_M, line.length / 3)
            valve_spots.append((line.interpolate(line.length - d if at_end else d), pipe_feats[n][1]["pipe_id"]))
    broken = set(rng.sample(range(len(valve_spots)), max(1, round(INOPERABLE_SHARE * len(valve_spots))))
                 if valve_spots else [])
    valve_feats = [
        (pt, {"valve_id": padded_id("V", i + 1, len(valve_spots), 4), "operable": i not in broken, "pipe_id": pid})
        for i, (pt, pid) in enumerate(valve_spots)
    ]
    return pipe_feats, source_feats, valve_feats, {"pipes_unreachable_dropped": len(pipes) - len(kept)}
