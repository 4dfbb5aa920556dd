"""The valve-segment graph and the one place where isolation is reasoned about.

A valve segment is what stays connected when every valve is shut; valves join
segments. ``SegmentGraph`` holds that graph (a networkx ``MultiGraph``: nodes are
segment numbers, edges are valves keyed by valve id) and which segments hold a
source. Two questions are asked of it, by the loader for every pipe and later by
incident reasoning for arbitrary sets of segments:

- ``isolation_trace``: which valves must be shut to cut some segments off
  (inoperable valves are passed through, so the segment behind one is cut off too);
- ``segments_without_source``: which other segments then lose every source.

Python vs PostGIS: this is pure graph reasoning (connected components, traces
through inoperable valves), done in Python with networkx. SQL would need recursive
CTEs per question and a town's segment graph is a few thousand nodes, which fits
in memory; PostGIS only stores the answers. The graph can be rebuilt from stored
rows with ``SegmentGraph.from_rows`` without touching geometry again.
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import networkx as nx

# Virtual node joined to every source segment: the root of the supply tree.
_ROOT = "__sources__"


class SegmentGraph:
    """Valve segments joined by valves, plus the segments that hold a source.

    A valve that touches one segment only (at a dead end, or with the network
    looping round it so both sides are the same segment) is a self-loop: it joins
    nothing and never needs closing.
    """

    def __init__(self) -> None:
        self.graph: nx.MultiGraph = nx.MultiGraph()
        self.source_segments: set[int] = set()
        self.operable: dict[str, bool] = {}
        self.valve_ends: dict[str, tuple[int, int]] = {}
        self._invalidate()

    def _invalidate(self) -> None:
        self._tree: tuple[dict[Any, Any], dict[Any, int]] | None = None
        self._stuck: nx.Graph | None = None

    def add_segment(self, segment_no: int, has_source: bool = False) -> None:
        """Add a segment (idempotent); ``has_source`` marks a tank, well or pump on it."""
        self.graph.add_node(segment_no)
        if has_source:
            self.source_segments.add(segment_no)
        self._invalidate()

    def add_valve(self, valve_id: str, operable: bool, segment_nos: Iterable[int]) -> None:
        """Add a valve between its one or two segments; a valve on no segment is ignored."""
        nos = sorted(set(segment_nos))
        if not nos:
            return
        if len(nos) > 2:
            raise ValueError(f"valve {valve_id} separates {len(nos)} segments; at most 2 expected")
        if valve_id in self.operable:
            raise ValueError(f"valve {valve_id} added twice")
        u, v = nos[0], nos[-1]
        self.graph.add_edge(u, v, key=valve_id)
        self.operable[valve_id] = bool(operable)
        self.valve_ends[valve_id] = (u, v)
        self._invalidate()

    @classmethod
    def from_rows(cls, valves: Iterable[tuple[str, bool, Iterable[int]]],
                  source_segments: Iterable[int], segment_nos: Iterable[int] = ()) -> SegmentGraph:
        """Rebuild from stored rows: ``(valve_id, operable, segment_nos)`` per valve.

        ``segment_nos`` may list every segment, so that ones without valves exist too;
        it is optional because such segments never change a trace.
        """
        sg = cls()
        for no in segment_nos:
            sg.add_segment(no)
        for no in source_segments:
            sg.add_segment(no, has_source=True)
        for valve_id, operable, nos in valves:
            sg.add_valve(valve_id, operable, nos)
        return sg

    def _supply_tree(self) -> tuple[dict[Any, Any], dict[Any, int]]:
        """Breadth-first tree from every source at once (all valves open): parents and depths."""
        if self._tree is None:
            simple = nx.Graph()
            simple.add_nodes_from(self.graph)
            simple.add_edges_from((u, v) for u, v in self.graph.edges() if u != v)
            simple.add_node(_ROOT)
            simple.add_edges_from((_ROOT, s) for s in self.source_segments)
            self._tree = (dict(nx.bfs_predecessors(simple, _ROOT)),
                          nx.single_source_shortest_path_length(simple, _ROOT))
        return self._tree

    @property
    def supplied(self) -> frozenset[int]:
        """Segments that reach a source in normal running (every valve open)."""
        return frozenset(self._supply_tree()[0])

    def reaches_source(self, segment_no: int) -> bool:
        """Whether the segment reaches a source with every valve open."""
        return segment_no in self._supply_tree()[0]

    def _inoperable_graph(self) -> nx.Graph:
        """Segments joined by inoperable valves only: what a crew cannot separate."""
        # A real graph, not a filtered view: networkx takes len() of the graph in
        # every component search, which is O(n) on a view.
        if self._stuck is None:
            self._stuck = nx.Graph()
            self._stuck.add_nodes_from(self.graph)
            self._stuck.add_edges_from((u, v) for u, v, k in self.graph.edges(keys=True)
                                       if not self.operable[k])
        return self._stuck


def _as_graph(topology_or_graph: Any) -> SegmentGraph:
    if isinstance(topology_or_graph, SegmentGraph):
        return topology_or_graph
    return topology_or_graph.segment_graph


def isolation_trace(topology_or_graph: Any, segment_nos: Iterable[int]) -> tuple[set[str], set[int]]:
    """Valves to shut and segments cut off to isolate ``segment_nos``.

    Every operable valve on the boundary is shut. An inoperable one cannot be, so
    the segment on its other side is cut off as well and the trace continues to
    that segment's valves. Valves with both sides cut off are not listed.
    Accepts a ``WaterTopology`` or a ``SegmentGraph``.
    """
    sg = _as_graph(topology_or_graph)
    g = sg.graph
    stuck = sg._inoperable_graph()
    isolated: set[int] = set()
    for no in segment_nos:
        if no in isolated:
            continue
        # Segments joined by inoperable valves behave as one segment.
        isolated |= nx.node_connected_component(stuck, no) if no in g else {no}
    to_close = {key for no in isolated if no in g
                for _, other, key in g.edges(no, keys=True)
                if other not in isolated and sg.operable[key]}
    return to_close, isolated


def segments_without_source(topology_or_graph: Any, closed_valves: Iterable[str],
                            isolated_segments: Iterable[int]) -> set[int]:
    """Segments, beyond the isolated ones, that lose every source with those valves shut.

    Only segments that reached a source with every valve open can lose it, so a
    network already cut off is not counted again. Isolated segments carry no water.

    Cost is local: a segment is known to keep supply as soon as its path up the
    breadth-first supply tree avoids the isolated segments and shut valves; only
    when that path is blocked is the network searched around it, and that search
    stops at the first segment whose own path is clear.
    """
    sg = _as_graph(topology_or_graph)
    g = sg.graph
    parents, depth = sg._supply_tree()
    cut = set(isolated_segments)
    closed = set(closed_valves)
    # Above the shallowest cut-off segment or shut valve nothing can block a path.
    blockers = cut | {no for key in closed for no in sg.valve_ends.get(key, ())}
    ceiling = min((depth[no] for no in blockers if no in depth), default=0)

    def valve_open(u: int, v: int) -> bool:
        return any(key not in closed for key in g[u][v])

    clear: dict[int, bool] = {}

    def path_clear(no: int) -> bool:
        # Walk up the supply tree until the root, a cut-off segment, a shut valve,
        # or a segment already answered; answer every segment walked.
        walked = []
        while True:
            if no in clear:
                result = clear[no]
                break
            if no in cut or no not in parents:
                result = False
                break
            walked.append(no)
            parent = parents[no]
            if parent == _ROOT or depth[no] < ceiling:
                result = True
                break
            if not valve_open(no, parent):
                result = False
                break
            no = parent
        for w in walked:
            clear[w] = result
        return result

    # Only segments next to the change can lose supply; every piece split off
    # touches one of them.
    frontier: set[int] = set()
    for no in cut:
        if no in g:
            frontier.update(g.adj[no])
    for key in closed:
        frontier.update(sg.valve_ends.get(key, ()))
    frontier = {no for no in frontier if no not in cut and no in parents}

    def still_joined(no: int):
        return (other for other, keys in g.adj[no].items()
                if other not in cut and any(key not in closed for key in keys))

    supplied_now: dict[int, bool] = {}
    lost: set[int] = set()
    for start in sorted(frontier):
        if start in supplied_now:
            continue
        seen = [start]
        found = path_clear(start)
        if not found:
            # A neighbours function on the plain graph rather than a filtered view:
            # networkx takes len() of the graph per search, which is O(n) on a view.
            for _, reached in nx.generic_bfs_edges(g, start, neighbors=still_joined):
                if reached in supplied_now:
                    found = supplied_now[reached]
                    break
                seen.append(reached)
                if path_clear(reached):
                    found = True
                    break
        for no in seen:
            supplied_now[no] = found
        if not found:
            lost.update(seen)
    return lost
