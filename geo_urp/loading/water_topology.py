"""Water network topology from plain geometries: pipe parts, valve segments, isolation.

The loader hands over the ``water_pipes``, ``water_valves`` and ``water_sources``
layers as plain objects already in the municipality's metric CRS (metres) and
stores what comes back. No database and no Flask here, so it is tested alone.

Python vs PostGIS: all of it runs in Python. Cutting pipes at valves and nearest
queries use shapely (STRtree, ``line_locate_point``, ``substring``); connectivity
is graph reasoning with networkx (connected components, traces), which SQL does
poorly and which fits in memory for a town's few thousand pipes. PostGIS stores
the parts and segments and answers the spatial lookups of reports against them.

Model (SPEC §2), with the choices made where the SPEC is silent:

- Junctions are pipe *end points* within ``node_tolerance`` of each other,
  clustered by single linkage (a chain of close ends is one junction). A pipe end
  on the middle of another pipe is not a junction; it is reported as a problem.
- A valve lies on the nearest pipe within ``valve_tolerance`` (ties: smallest
  ``pipe_id``), anywhere along it, and cuts it there. A valve at a pipe end
  separates that pipe from the junction, not the other pipes meeting there.
- Valve segments are the connected components with every valve shut, numbered
  from 1 by their smallest ``(pipe_id, seq)`` part (ids compare as plain strings).
  Between two valves at the same spot (or a junction whose every pipe is valved
  at its end) lies a segment of zero length with no pipes; those come last.
- A valve whose other side is a dead end touches one segment only.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, replace
from itertools import pairwise

import networkx as nx
import numpy as np
import shapely
from shapely.geometry import LineString, MultiLineString, Point
from shapely.ops import substring
from shapely.strtree import STRtree

from geo_urp.loading.water_isolation import SegmentGraph, isolation_trace, segments_without_source

__all__ = [
    "PipeIn", "ValveIn", "SourceIn", "PipePartOut", "SegmentOut", "ValveOut", "SourceOut",
    "PipeOut", "WaterTopology", "SegmentGraph", "build_water_topology", "isolation_trace",
    "segments_without_source",
]

# Cuts closer than this (metres) to a pipe end or to each other fall on the same point,
# so no part is ever a sliver of floating-point noise.
_EPS = 1e-3


@dataclass
class PipeIn:
    pipe_id: str
    geom: LineString


@dataclass
class ValveIn:
    valve_id: str
    geom: Point
    operable: bool = True


@dataclass
class SourceIn:
    source_id: str
    geom: Point


@dataclass
class PipePartOut:
    pipe_id: str
    seq: int  # 1, 2, ... along the pipe's digitised direction
    segment_no: int
    geom: LineString


@dataclass
class SegmentOut:
    segment_no: int
    pipe_ids: list[str]
    valve_ids: list[str]  # valves on its boundary
    has_source: bool
    reaches_source: bool
    length_m: float
    geom: MultiLineString


@dataclass
class ValveOut:
    valve_id: str
    pipe_id: str | None  # None: on no pipe
    segment_nos: list[int]  # 2 normally, 1 at a dead end, none when on no pipe
    operable: bool
    position_m: float | None = None  # distance along the pipe from its start
    distance_m: float | None = None  # to the nearest pipe (None when there are no pipes)


@dataclass
class SourceOut:
    source_id: str
    pipe_id: str | None
    segment_no: int | None
    distance_m: float | None = None


@dataclass
class PipeOut:
    pipe_id: str
    segment_nos: list[int]
    valves_to_close: list[str]
    isolated_segment_nos: list[int]
    unsupplied_segment_nos: list[int]
    reaches_source: bool


@dataclass
class WaterTopology:
    parts: list[PipePartOut] = field(default_factory=list)
    segments: list[SegmentOut] = field(default_factory=list)
    valves: dict[str, ValveOut] = field(default_factory=dict)  # by valve_id, in id order
    sources: dict[str, SourceOut] = field(default_factory=dict)
    pipes: dict[str, PipeOut] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    segment_graph: SegmentGraph = field(default_factory=SegmentGraph)


def _usable(kind: str, geom, problems: list[str], item_id: str):
    """The geometry if usable, else None with the reason reported."""
    if kind == "pipe" and isinstance(geom, MultiLineString):
        geom = shapely.line_merge(geom)  # a single-part multi-line is still one pipe
    want = LineString if kind == "pipe" else Point
    if not isinstance(geom, want) or geom.is_empty or (want is LineString and geom.length <= _EPS):
        problems.append(f"{kind} {item_id} has no usable {want.__name__} geometry: left out of the network")
        return None
    return geom


def _clean(items: list, kind: str, problems: list[str]) -> tuple[list, list[str]]:
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


def _end_nodes(geoms: np.ndarray, tolerance: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
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


def _loose_ends(pipe_ids: list[str], tree: STRtree, ends: np.ndarray, size: np.ndarray,
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


def _nearest(tree: STRtree, points: np.ndarray, max_distance: float | None
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


def build_water_topology(pipes: list[PipeIn], valves: list[ValveIn], sources: list[SourceIn],
                         node_tolerance: float = 0.5, valve_tolerance: float = 1.0,
                         source_tolerance: float = 25.0) -> WaterTopology:
    """Cut pipes at valves, group parts into valve segments, trace every pipe's isolation."""
    problems: list[str] = []
    pipes, bad_pipes = _clean(list(pipes), "pipe", problems)
    valves, bad_valves = _clean(list(valves), "valve", problems)
    sources, bad_sources = _clean(list(sources), "source", problems)
    pipe_ids = [p.pipe_id for p in pipes]
    geoms = np.array([p.geom for p in pipes], dtype=object)
    tree = STRtree(geoms)
    node_of, ends, size = _end_nodes(geoms, node_tolerance) if len(pipes) else ([], [], [])
    if len(pipes):
        problems += _loose_ends(pipe_ids, tree, ends, size, node_tolerance)

    # Place each valve on its nearest pipe, at the point closest to it.
    valve_pts = np.array([v.geom for v in valves], dtype=object)
    on_pipe = _nearest(tree, valve_pts, valve_tolerance)
    placed = sorted(on_pipe)
    positions = shapely.line_locate_point(geoms[[on_pipe[i][1] for i in placed]], valve_pts[placed]) \
        if placed else []
    cuts: dict[int, list[tuple[float, str]]] = defaultdict(list)
    position_of: dict[int, float] = {}
    for i, pos in zip(placed, np.asarray(positions).tolist()):
        p = on_pipe[i][1]
        length = geoms[p].length
        pos = 0.0 if pos < _EPS else length if pos > length - _EPS else pos
        cuts[p].append((pos, valves[i].valve_id))
        position_of[i] = pos

    # Walk each pipe: junction, parts and valves in order, junction. Parts, junctions and
    # the gaps between back-to-back valves are nodes; a valve is a break between neighbours.
    parts: list[tuple[int, int, LineString]] = []  # (pipe index, seq, geom)
    net = nx.Graph()
    sides: dict[str, tuple[tuple, tuple]] = {}
    for p, geom in enumerate(geoms):
        chain: list[tuple] = [("j", int(node_of[2 * p]))]
        prev, seq = 0.0, 0
        for pos, valve_id in sorted(cuts.get(p, [])) + [(geom.length, None)]:
            if pos - prev > _EPS:
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

    # Components with every valve shut. Empty ones (no parts) are segments only when
    # they join two or more valve sides: otherwise they are a dead end.
    valves_at: dict[tuple, list[str]] = defaultdict(list)
    for valve_id, (a, b) in sides.items():
        valves_at[a].append(valve_id)
        valves_at[b].append(valve_id)
    ranked = []
    for comp in nx.connected_components(net):
        part_idx = [n[1] for n in comp if n[0] == "p"]
        touching = sorted(v for n in comp for v in valves_at.get(n, ()))
        if part_idx:
            ranked.append(((0, min(part_idx), ""), comp, part_idx))
        elif len(touching) >= 2:
            ranked.append(((1, 0, touching[0]), comp, part_idx))
    segment_of_node: dict[tuple, int] = {}
    segment_parts: dict[int, list[int]] = {}
    for no, (_, comp, part_idx) in enumerate(sorted(ranked, key=lambda r: r[0]), start=1):
        segment_parts[no] = sorted(part_idx)
        for n in comp:
            segment_of_node[n] = no
    part_segment = {k: no for no, idx in segment_parts.items() for k in idx}

    # Sources go on the nearest part, hence onto a segment.
    source_pts = np.array([s.geom for s in sources], dtype=object)
    part_tree = STRtree([g for _, _, g in parts])
    src_on = _nearest(part_tree, source_pts, source_tolerance)
    source_segments = {part_segment[t] for _, t in src_on.values()}

    sg = SegmentGraph()
    for no in segment_parts:
        sg.add_segment(no, has_source=no in source_segments)
    valve_segments: dict[str, list[int]] = {}
    for valve_id, (a, b) in sides.items():
        nos = sorted({segment_of_node[n] for n in (a, b) if n in segment_of_node})
        valve_segments[valve_id] = nos
    operable = {v.valve_id: bool(v.operable) for v in valves}
    for valve_id in sorted(valve_segments):
        sg.add_valve(valve_id, operable[valve_id], valve_segments[valve_id])

    topo = WaterTopology(segment_graph=sg)
    topo.parts = [PipePartOut(pipe_ids[p], seq, part_segment[k], g)
                  for k, (p, seq, g) in enumerate(parts)]
    boundary: dict[int, set[str]] = defaultdict(set)
    for valve_id, nos in valve_segments.items():
        for no in nos:
            boundary[no].add(valve_id)
    for no, idx in segment_parts.items():
        lines = [parts[k][2] for k in idx]
        topo.segments.append(SegmentOut(
            no, sorted({pipe_ids[parts[k][0]] for k in idx}), sorted(boundary[no]),
            no in source_segments, sg.reaches_source(no), float(sum(g.length for g in lines)),
            MultiLineString(lines)))

    off_pipe = [i for i in range(len(valves)) if i not in on_pipe]
    far = _nearest(tree, valve_pts[off_pipe], None)
    far_of = {i: far[q] for q, i in enumerate(off_pipe) if q in far}
    for i, v in enumerate(valves):
        if i in on_pipe:
            d, p = on_pipe[i]
            topo.valves[v.valve_id] = ValveOut(v.valve_id, pipe_ids[p], valve_segments[v.valve_id],
                                               operable[v.valve_id], position_of[i], d)
            continue
        d, p = far_of.get(i, (None, None))
        topo.valves[v.valve_id] = ValveOut(v.valve_id, None, [], operable[v.valve_id], None, d)
        where = (f"nearest pipe {pipe_ids[p]} is {d:.1f} m away" if p is not None
                 else "the network has no pipes")
        problems.append(f"valve {v.valve_id} lies on no pipe ({where}; tolerance {valve_tolerance:g} m)")
    for valve_id in bad_valves:
        topo.valves[valve_id] = ValveOut(valve_id, None, [], True)
    for v in valves:
        nos = valve_segments.get(v.valve_id, [])
        a, b = sides.get(v.valve_id, (None, None))
        if len(nos) == 1 and a in segment_of_node and b in segment_of_node:
            problems.append(f"valve {v.valve_id} separates nothing: the network loops round it "
                            f"and both sides are segment {nos[0]}")
        if not v.operable:
            problems.append(f"valve {v.valve_id} is marked inoperable: isolation traces go past it "
                            "to the next valves")

    src_off = [i for i in range(len(sources)) if i not in src_on]
    src_far = _nearest(tree, source_pts[src_off], None)
    src_far_of = {i: src_far[q] for q, i in enumerate(src_off) if q in src_far}
    for i, s in enumerate(sources):
        if i in src_on:
            d, t = src_on[i]
            p = parts[t][0]
            topo.sources[s.source_id] = SourceOut(s.source_id, pipe_ids[p], part_segment[t], d)
            continue
        d, p = src_far_of.get(i, (None, None))
        topo.sources[s.source_id] = SourceOut(s.source_id, None, None, d)
        where = (f"nearest pipe {pipe_ids[p]} is {d:.1f} m away" if p is not None
                 else "the network has no pipes")
        problems.append(f"source {s.source_id} lies on no pipe ({where}; tolerance {source_tolerance:g} m)")
    for source_id in bad_sources:
        topo.sources[source_id] = SourceOut(source_id, None, None)

    topo.pipes = _pipe_answers(pipe_ids, parts, part_segment, sg)
    for pipe_id in bad_pipes:
        topo.pipes[pipe_id] = PipeOut(pipe_id, [], [], [], [], False)
    topo.pipes = dict(sorted(topo.pipes.items()))
    topo.valves = dict(sorted(topo.valves.items()))
    topo.sources = dict(sorted(topo.sources.items()))
    if pipes and not source_segments:
        problems.append("no water source lies on the network: no pipe can be reached from any source")
    elif pipes:
        problems += [f"pipe {pid} cannot be reached from any source"
                     for pid, ans in topo.pipes.items() if pid not in bad_pipes and not ans.reaches_source]
    topo.problems = problems
    return topo


def _pipe_answers(pipe_ids: list[str], parts: list, part_segment: dict[int, int],
                  sg: SegmentGraph) -> dict[str, PipeOut]:
    """Each pipe's isolation trace and the segments it leaves without water."""
    segs_of: dict[int, set[int]] = defaultdict(set)
    for k, (p, _, _) in enumerate(parts):
        segs_of[p].add(part_segment[k])
    answers: dict[str, PipeOut] = {}
    # Most pipes lie wholly inside one segment, so traces repeat; compute each once.
    memo: dict[tuple[int, ...], tuple] = {}
    for p, pipe_id in enumerate(pipe_ids):
        key = tuple(sorted(segs_of[p]))
        if key not in memo:
            to_close, isolated = isolation_trace(sg, key)
            lost = segments_without_source(sg, to_close, isolated)
            memo[key] = (sorted(to_close), sorted(isolated), sorted(lost),
                         any(sg.reaches_source(no) for no in key))
        to_close, isolated, lost, reaches = memo[key]
        answers[pipe_id] = PipeOut(pipe_id, list(key), list(to_close), list(isolated), list(lost), reaches)
    return answers
