"""Water network topology from plain geometries: pipe parts, valve segments, isolation.

The loader hands over the ``water_pipes``, ``water_valves`` and ``water_sources``
layers as plain objects already in the municipality's metric CRS (metres) and
stores what comes back. No database and no Flask here, so it is tested alone.
The geometric steps live in ``water_geometry`` and the isolation logic (shared
with incident reasoning) in ``water_trace``; this module is the public face.

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
- A pipe is "cut off" when none of its segments reaches a source with every
  valve open; a pipe's ``unsupplied_segment_nos`` only lists segments that had
  supply before the trace shut its valves.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import networkx as nx
import numpy as np
from shapely.geometry import LineString, MultiLineString, Point
from shapely.strtree import STRtree

from geo_urp.loading.water_geometry import (
    clean_layer,
    cut_pipes,
    end_nodes,
    loose_end_problems,
    nearest,
    nearest_any,
    off_network_problem,
    place_valves,
)
from geo_urp.loading.water_trace import (
    SegmentGraph,
    isolation_trace,
    segments_without_source,
)

__all__ = [
    "PipeIn", "ValveIn", "SourceIn", "PipePartOut", "SegmentOut", "ValveOut", "SourceOut",
    "PipeOut", "WaterTopology", "SegmentGraph", "build_water_topology", "isolation_trace",
    "segments_without_source",
]


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


def _number_segments(net: nx.Graph, sides: dict[str, tuple[tuple, tuple]]
                     ) -> tuple[dict[int, list[int]], dict[tuple, int]]:
    """Segment number -> its part indices, and node -> segment number.

    Components with every valve shut; an empty one (no parts) is a segment only
    when it joins two or more valve sides, otherwise it is a dead end.
    """
    valves_at: dict[tuple, list[str]] = defaultdict(list)
    for valve_id, (a, b) in sides.items():
        valves_at[a].append(valve_id)
        valves_at[b].append(valve_id)
    ranked = []
    for comp in nx.connected_components(net):
        part_idx = sorted(n[1] for n in comp if n[0] == "p")
        touching = sorted(v for n in comp for v in valves_at.get(n, ()))
        if part_idx:
            ranked.append(((0, part_idx[0], ""), comp, part_idx))
        elif len(touching) >= 2:
            ranked.append(((1, 0, touching[0]), comp, part_idx))
    segment_of_node: dict[tuple, int] = {}
    segment_parts: dict[int, list[int]] = {}
    for no, (_, comp, part_idx) in enumerate(sorted(ranked, key=lambda r: r[0]), start=1):
        segment_parts[no] = part_idx
        segment_of_node.update(dict.fromkeys(comp, no))
    return segment_parts, segment_of_node


def build_water_topology(pipes: list[PipeIn], valves: list[ValveIn], sources: list[SourceIn],
                         node_tolerance: float = 0.5, valve_tolerance: float = 1.0,
                         source_tolerance: float = 25.0) -> WaterTopology:
    """Cut pipes at valves, group parts into valve segments, trace every pipe's isolation.

    Every pipe, valve and source id given gets an entry in the result, even when its
    geometry was unusable (then it is on no pipe / in no segment, and reported).
    """
    problems: list[str] = []
    pipes, bad_pipes = clean_layer(list(pipes), "pipe", problems)
    valves, bad_valves = clean_layer(list(valves), "valve", problems)
    sources, bad_sources = clean_layer(list(sources), "source", problems)
    pipe_ids = [p.pipe_id for p in pipes]
    geoms = np.array([p.geom for p in pipes], dtype=object)
    tree = STRtree(geoms)
    node_of, ends, size = end_nodes(geoms, node_tolerance) if len(pipes) else ([], [], [])
    if len(pipes):
        problems += loose_end_problems(pipe_ids, tree, ends, size, node_tolerance)
    valve_pts = np.array([v.geom for v in valves], dtype=object)
    on_pipe, cuts, position_of = place_valves(valves, geoms, tree, valve_tolerance)
    parts, net, sides = cut_pipes(geoms, node_of, cuts)
    segment_parts, segment_of_node = _number_segments(net, sides)
    part_segment = {k: no for no, idx in segment_parts.items() for k in idx}

    # Sources go on the nearest part, hence onto a segment.
    source_pts = np.array([s.geom for s in sources], dtype=object)
    part_tree = STRtree([g for _, _, g in parts])
    src_on = nearest(part_tree, source_pts, source_tolerance)
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

    far_of = nearest_any(tree, valve_pts, on_pipe)
    for i, v in enumerate(valves):
        if i in on_pipe:
            d, p = on_pipe[i]
            topo.valves[v.valve_id] = ValveOut(v.valve_id, pipe_ids[p], valve_segments[v.valve_id],
                                               operable[v.valve_id], position_of[i], d)
            continue
        d, p = far_of.get(i, (None, None))
        topo.valves[v.valve_id] = ValveOut(v.valve_id, None, [], operable[v.valve_id], None, d)
        problems.append(off_network_problem("valve", v.valve_id, d, pipe_ids[p] if p is not None else None,
                                     valve_tolerance))
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

    src_far_of = nearest_any(tree, source_pts, src_on)
    for i, s in enumerate(sources):
        if i in src_on:
            d, t = src_on[i]
            p = parts[t][0]
            topo.sources[s.source_id] = SourceOut(s.source_id, pipe_ids[p], part_segment[t], d)
            continue
        d, p = src_far_of.get(i, (None, None))
        topo.sources[s.source_id] = SourceOut(s.source_id, None, None, d)
        problems.append(off_network_problem("source", s.source_id, d, pipe_ids[p] if p is not None else None,
                                     source_tolerance))
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
