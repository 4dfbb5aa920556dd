"""Geometry steps of the water topology: clean layers, find junctions, place valves, cut pipes.

Used by ``water_topology`` only. Python vs PostGIS: done in Python with shapely
(STRtree for the nearest and within-distance queries, ``line_locate_point`` and
``substring`` to cut at valves) because the results feed straight into the
networkx graph built next; a round trip through PostGIS would add no precision
and a town's few thousand pipes take well under a second here.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import replace
from itertools import pairwise

import networkx as nx
import numpy as np
import shapely
from shapely.geometry import LineString, MultiLineString, Point
from shapely.ops import substring
from shapely.strtree import STRtree

# Cuts closer than this (metres) to a pipe end or to each other fall on the same point,
# so no part is ever a sliver of floating-point noise.
EPS = 1e-3


def _usable(kind: str, geom, problems: list[str], item_id: str):
    """The geometry if usable, else None with the reason reported."""
    if kind == "pipe" and isinstance(geom, MultiLineString):
        geom = shapely.line_merge(geom)  # a single-part multi-line is still one pipe
    want = LineString if kind == "pipe" else Point
    if not isinstance(geom, want) or geom.is_empty or (want is LineString and geom.length <= EPS):
        problems.append(f"{kind} {item_id} has no usable {want.__name__} geometry: left out of the network")
        return None
    return geom


def clean_layer(items: list, kind: str, problems: list[str]) -> tuple[list, list[str]]:
    """Items with usable geometry and unique ids, in id order; plus the ids left out."""
    kept, dropped, seen = {}, [], set()
    for item in items:
        item_id = getattr(item, f"{kind}_id")
        if item_id in seen:
            problems.append(f"duplicate {kind} id {item_id}: only the first is used")
            continue
        seen.add(item_id)
        geom = _usable(kind, item.geom, problems, item_id)
        if geom is None:
            dropped.append(item_id)
        else:
            kept[item_id] = item if geom is item.geom else replace(item, geom=geom)
    return [kept[k] for k in sorted(kept)], dropped


def end_nodes(geoms: np.ndarray, tolerance: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Junction id of each end point (2i start, 2i+1 end of pipe i), points, cluster sizes."""
    ends = np.empty(2 * len(geoms), dtype=object)
    ends[0::2] = shapely.get_point(geoms, 0)
    ends[1::2] = shapely.get_point(geoms, -1)
    a, b = STRtree(ends).query(ends, predicate="dwithin", distance=tolerance)
    close = nx.Graph()
    close.add_nodes_from(range(len(ends)))
    close.add_edges_from(zip(a[a < b].tolist(), b[a < b].tolist()))
    node_of = np.empty(len(ends), dtype=np.int64)
    size = np.empty(len(ends), dtype=np.int64)
    for comp in nx.connected_components(close):
        members = list(comp)
        node_of[members] = min(members)
        size[members] = len(members)
    return node_of, ends, size


def loose_end_problems(pipe_ids: list[str], tree: STRtree, ends: np.ndarray, size: np.ndarray,
                tolerance: float) -> list[str]:
    """Problems for pipe ends lying on another pipe's middle: not joined, likely a drawing slip."""
    lonely = np.flatnonzero(size == 1)
    if not len(lonely):
        return []
    hits_e, hits_p = tree.query(ends[lonely], predicate="dwithin", distance=tolerance)
    found = {}
    for e, p in zip(lonely[hits_e].tolist(), hits_p.tolist()):
        if p != e // 2:
            key = (pipe_ids[e // 2], pipe_ids[p])
            found[key] = min(found.get(key, np.inf), ends[e].distance(tree.geometries[p]))
    return [f"pipe {a} ends {d:.2f} m from the middle of pipe {b} without sharing an end point: "
            f"not connected (only end points make junctions)" for (a, b), d in sorted(found.items())]


def nearest(tree: STRtree, points: np.ndarray, max_distance: float | None
             ) -> dict[int, tuple[float, int]]:
    """For each point index, (distance, index) of the nearest tree geometry; ties to the lower index."""
    if not len(points) or not len(tree.geometries):
        return {}
    (qi, ti), dist = tree.query_nearest(points, max_distance=max_distance, return_distance=True,
                                        all_matches=True)
    best: dict[int, tuple[float, int]] = {}
    for q, t, d in zip(qi.tolist(), ti.tolist(), dist.tolist()):
        if q not in best or (d, t) < best[q]:
            best[q] = (d, t)
    return best


def nearest_any(tree: STRtree, points: np.ndarray, placed: dict[int, tuple[float, int]]
                ) -> dict[int, tuple[float, int]]:
    """(distance, pipe) of the nearest pipe at any distance, for the points not placed."""
    off = [i for i in range(len(points)) if i not in placed]
    far = nearest(tree, points[off], None)
    return {i: far[q] for q, i in enumerate(off) if q in far}


def off_network_problem(kind: str, item_id: str, distance: float | None, pipe_id: str | None,
                        tolerance: float) -> str:
    """The problem line for a valve or source that lies on no pipe."""
    where = f"nearest pipe {pipe_id} is {distance:.1f} m away" if pipe_id else "the network has no pipes"
    return f"{kind} {item_id} lies on no pipe ({where}; tolerance {tolerance:g} m)"


def place_valves(valves: list, geoms: np.ndarray, tree: STRtree, tolerance: float
                  ) -> tuple[dict[int, tuple[float, int]], dict[int, list[tuple[float, str]]], dict[int, float]]:
    """Each valve on its nearest pipe: (distance, pipe) per valve, cuts per pipe, positions."""
    valve_pts = np.array([v.geom for v in valves], dtype=object)
    on_pipe = nearest(tree, valve_pts, tolerance)
    placed = sorted(on_pipe)
    positions = (shapely.line_locate_point(geoms[[on_pipe[i][1] for i in placed]], valve_pts[placed])
                 if placed else [])
    cuts: dict[int, list[tuple[float, str]]] = defaultdict(list)
    position_of: dict[int, float] = {}
    for i, pos in zip(placed, np.asarray(positions).tolist()):
        p = on_pipe[i][1]
        length = geoms[p].length
        pos = 0.0 if pos < EPS else length if pos > length - EPS else pos
        cuts[p].append((pos, valves[i].valve_id))
        position_of[i] = pos
    return on_pipe, cuts, position_of


def cut_pipes(geoms: np.ndarray, node_of, cuts: dict[int, list[tuple[float, str]]]):
    """Parts (pipe index, seq, geom), the shut-valve graph, and each valve's two neighbours.

    Each pipe is walked as junction, parts and valves in order, junction. Junctions,
    parts and the gaps between back-to-back valves are nodes; a valve is a break.
    """
    parts: list[tuple[int, int, LineString]] = []
    net = nx.Graph()
    sides: dict[str, tuple[tuple, tuple]] = {}
    for p, geom in enumerate(geoms):
        chain: list[tuple] = [("j", int(node_of[2 * p]))]
        prev, seq = 0.0, 0
        for pos, valve_id in sorted(cuts.get(p, [])) + [(geom.length, None)]:
            if pos - prev > EPS:
                seq += 1
                parts.append((p, seq, substring(geom, prev, pos)))
                chain.append(("p", len(parts) - 1))
                prev = pos
            elif valve_id is not None and chain[-1][0] == "v":
                chain.append(("g", valve_id))  # nothing between two valves at one spot
            if valve_id is not None:
                chain.append(("v", valve_id))
        chain.append(("j", int(node_of[2 * p + 1])))
        net.add_nodes_from(n for n in chain if n[0] != "v")
        net.add_edges_from((x, y) for x, y in pairwise(chain) if x[0] != "v" and y[0] != "v")
        for k, n in enumerate(chain):
            if n[0] == "v":
                sides[n[1]] = (chain[k - 1], chain[k + 1])
    return parts, net, sides
