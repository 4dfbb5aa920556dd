"""What a burst main should shut and leave dry, from a town's raw layer files and its leak calls alone.

The ground truth for tests of the water engine, written apart from it: nothing of
``geo_urp`` is imported and no stored table is read, so a bug in the engine's
isolation cannot hide in its own expectation. The rules are those of the product
spec, with the loader's documented choices where the spec is silent:

- pipes whose end points lie within 0.5 m of each other are joined (chains of close
  ends are one junction); a pipe end on the middle of another pipe joins nothing;
- a valve lies on the nearest pipe within 1 m (ties: the smallest ``pipe_id``),
  anywhere along it, and cuts it there; a valve at a pipe end stands between that
  pipe and the junction, so the other pipes meeting there stay joined;
- a source feeds the nearest pipe piece within 25 m;
- an operable valve can be shut, an inoperable one cannot: a crew must go past it;
- a burst is where its leak calls point: each call is projected onto the burst pipe,
  the break is at the median of those positions along it, and the pipe piece nearest
  that spot is the broken one (a spot on a valve, where two pieces meet: the first
  of them along the pipe).

The network is a graph of pipe pieces, junctions and valves. Isolating a break walks
it from the broken piece, stopping at operable valves and passing inoperable ones, so
the pieces of the pipe beyond an operable valve part-way along it keep their water.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import shapely
from shapely.geometry import LineString
from shapely.ops import substring

JOIN_M, VALVE_M, SOURCE_M = 0.5, 1.0, 25.0
SNAP_M = 1e-3  # a cut this close to a pipe end (or to another cut) falls on it
TIE_M = 1e-3  # nearest-piece distances this close count as a tie when counting addresses
FALSE_WORDS = ("false", "0", "no", "n", "f")


@dataclass
class Network:
    """Pipe pieces cut at valves, and the graph joining pieces, junctions and valves.

    Nodes are ``("piece", i)`` (index into ``pieces``, each pipe's pieces in order
    along it), ``("junction", j)`` and ``("valve", valve_id)``; ``sides`` holds each
    placed valve's two neighbours. Geometries are in the metric CRS ``srid`` (the
    pipes' UTM zone).
    """

    srid: int
    lines: dict[str, LineString] = field(default_factory=dict)  # each whole pipe
    pieces: list[tuple[str, LineString]] = field(default_factory=list)
    graph: nx.Graph = field(default_factory=nx.Graph)
    sides: dict[str, tuple[tuple, tuple]] = field(default_factory=dict)
    operable: dict[str, bool] = field(default_factory=dict)
    source_pieces: set[int] = field(default_factory=set)


@dataclass(frozen=True)
class BurstTruth:
    """Valves to shut for a burst, pieces left dry (by pipe) and the dry address count's bounds."""

    valves_to_close: frozenset[str]
    dry: dict[str, list[LineString]]
    addresses: tuple[int, int]  # (at least, at most): equal unless a nearest piece is a tie
    srid: int  # the metric CRS of the geometries


def _layer(town_dir: Path, name: str, srid: int | None = None) -> gpd.GeoDataFrame:
    """A layer in metres, in ``srid`` if given, else (when in degrees) in its UTM zone.

    GeoJSON without a CRS is WGS84 (RFC 7946); a missing file is an empty layer.
    """
    path = Path(town_dir) / f"{name}.geojson"
    if not path.exists():
        return gpd.GeoDataFrame(geometry=[], crs=srid)
    gdf = gpd.read_file(path)
    gdf = gdf.set_crs(4326) if gdf.crs is None else gdf
    if srid is not None:
        return gdf.to_crs(srid)
    return gdf.to_crs(gdf.estimate_utm_crs()) if gdf.crs.is_geographic else gdf


def _operable(value) -> bool:
    """The ``operable`` flag: missing means operable; 'false', 'no', 0 and the like mean not."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return True
    if isinstance(value, str):
        return value.strip().lower() not in FALSE_WORDS
    return bool(value)


def _nearest(targets: np.ndarray, point, within: float) -> int | None:
    """Index of the nearest target within ``within`` metres; exact ties go to the lower index."""
    if not len(targets):
        return None
    d = shapely.distance(targets, point)
    k = int(np.argmin(d))
    return k if d[k] <= within else None


def _junctions(lines: list[LineString]) -> list[int]:
    """Junction number of each end (2i: start of pipe i, 2i+1: its end)."""
    ends = [shapely.get_point(g, k) for g in lines for k in (0, -1)]
    close = nx.Graph()
    close.add_nodes_from(range(len(ends)))
    for a, p in enumerate(ends):
        close.add_edges_from((a, b) for b in range(a + 1, len(ends)) if p.distance(ends[b]) <= JOIN_M)
    number = {}
    for j, comp in enumerate(nx.connected_components(close)):
        number.update(dict.fromkeys(comp, j))
    return [number[a] for a in range(len(ends))]


def build_network(town_dir: Path) -> Network:
    """Read ``water_pipes``, ``water_valves`` and ``water_sources`` and cut the pipes at valves."""
    pipes = _layer(town_dir, "water_pipes")
    pipes = pipes.assign(pipe_id=pipes["pipe_id"].astype(str),  # ids compare as plain strings
                         geometry=shapely.line_merge(pipes.geometry.values)).sort_values("pipe_id")
    pipe_ids, lines = list(pipes["pipe_id"]), list(pipes.geometry)
    line_geoms = np.array(lines, dtype=object)
    net = Network(pipes.crs.to_epsg(), dict(zip(pipe_ids, lines)))
    valves = _layer(town_dir, "water_valves", net.srid)
    cuts: dict[int, list[tuple[float, str]]] = {}
    for _, v in valves.iterrows():
        net.operable[str(v["valve_id"])] = _operable(v.get("operable"))
        p = _nearest(line_geoms, v.geometry, VALVE_M)
        if p is not None:
            at = lines[p].project(v.geometry)
            at = 0.0 if at < SNAP_M else lines[p].length if at > lines[p].length - SNAP_M else at
            cuts.setdefault(p, []).append((at, str(v["valve_id"])))
    junction = _junctions(lines)
    for p, line in enumerate(lines):
        # Walk the pipe: its first junction, pieces and valves in order, its last junction.
        chain, done = [("junction", junction[2 * p])], 0.0
        for at, valve_id in sorted(cuts.get(p, [])) + [(line.length, None)]:
            if at - done > SNAP_M:
                net.pieces.append((pipe_ids[p], substring(line, done, at)))
                chain.append(("piece", len(net.pieces) - 1))
                done = at
            if valve_id is not None:
                chain.append(("valve", valve_id))
        chain.append(("junction", junction[2 * p + 1]))
        net.graph.add_nodes_from(chain)
        net.graph.add_edges_from(zip(chain, chain[1:]))
        net.sides.update({n[1]: (chain[k - 1], chain[k + 1]) for k, n in enumerate(chain) if n[0] == "valve"})
    piece_geoms = np.array([g for _, g in net.pieces], dtype=object)
    for point in _layer(town_dir, "water_sources", net.srid).geometry:
        k = _nearest(piece_geoms, point, SOURCE_M)
        if k is not None:
            net.source_pieces.add(k)
    return net


def _reach(graph: nx.Graph, starts: Iterable, blocked: set) -> set:
    """Nodes reachable from ``starts`` without entering ``blocked``."""
    seen, stack = set(), [s for s in starts if s not in blocked]
    while stack:
        n = stack.pop()
        if n not in seen:
            seen.add(n)
            stack.extend(m for m in graph[n] if m not in blocked and m not in seen)
    return seen


def _joins_something(net: Network, valve_id: str, side: tuple) -> bool:
    """Whether a valve's outer side leads anywhere: to a pipe piece, or to another valve.

    A valve facing a bare dead end (a pipe end meeting nothing) separates nothing.
    """
    if side[0] == "valve":
        return True  # the gap between two valves at one spot
    behind = _reach(net.graph, [side], {n for n in net.graph if n[0] == "valve"})
    touching = {m for n in behind for m in net.graph[n] if m[0] == "valve"} - {("valve", valve_id)}
    return any(n[0] == "piece" for n in behind) or bool(touching)


def broken_piece(net: Network, pipe_id: str, leak_points: list) -> int:
    """The piece of ``pipe_id`` at the median of the leak calls' positions along it (metric points)."""
    if pipe_id not in net.lines:
        raise KeyError(f"no pipe {pipe_id} in the network")
    if not leak_points:
        raise ValueError(f"a burst on {pipe_id} needs the positions of its leak calls")
    line = net.lines[pipe_id]
    spot = line.interpolate(float(np.median([line.project(p) for p in leak_points])))
    own = [k for k, (pid, _) in enumerate(net.pieces) if pid == pipe_id]
    return min(own, key=lambda k: (net.pieces[k][1].distance(spot), k))


def isolate(net: Network, start_piece: int) -> tuple[set[str], set]:
    """Valves to shut and the nodes cut off to isolate the piece ``start_piece``."""
    region, stops, stack = set(), set(), [("piece", start_piece)]
    while stack:
        n = stack.pop()
        if n in region:
            continue
        if n[0] == "valve" and net.operable[n[1]]:
            stops.add(n[1])  # shut here; what lies beyond keeps its water
            continue
        region.add(n)  # a pipe piece, a junction, or an inoperable valve walked past
        stack.extend(net.graph[n])
    to_close = set()
    for valve_id in stops:
        outer = [s for s in net.sides[valve_id] if s not in region]
        if outer and _joins_something(net, valve_id, outer[0]):
            to_close.add(valve_id)
    return to_close, region


def dry_pieces(net: Network, start_piece: int) -> tuple[set[str], set[int]]:
    """Valves to shut and the pieces without water: the cut-off ones, and the ones that
    reached a source with every valve open but reach none once those valves are shut."""
    to_close, region = isolate(net, start_piece)
    sources = [("piece", k) for k in net.source_pieces]
    before = _reach(net.graph, sources, set())
    after = _reach(net.graph, sources, region | {("valve", v) for v in to_close})
    dry = {n[1] for n in region | (before - after) if n[0] == "piece"}
    return to_close, dry


def dry_address_bounds(town_dir: Path, net: Network, dry: set[int], buffer_m: float) -> tuple[int, int]:
    """How many addresses have their nearest pipe piece within ``buffer_m`` and dry.

    An address equally near a dry and a wet piece (within ``TIE_M``), or at the edge
    of the buffer, may go either way: it counts in the upper bound only.
    """
    geoms = np.array([g for _, g in net.pieces], dtype=object)
    is_dry = np.array([k in dry for k in range(len(geoms))])
    low = high = 0
    for point in _layer(town_dir, "addresses", net.srid).geometry:
        d = shapely.distance(geoms, point)
        tied = d <= d.min() + TIE_M
        if d.min() > buffer_m + TIE_M or not is_dry[tied].any():
            continue
        high += 1
        low += bool(is_dry[tied].all() and d.min() < buffer_m - TIE_M)
    return low, high


def burst_truth(town_dir: Path, pipe_id: str, leak_lonlats: list[tuple[float, float]],
                address_buffer_m: float = 80.0) -> BurstTruth:
    """What a burst on ``pipe_id`` should shut and leave dry, from the town's layer files.

    ``leak_lonlats``: where its leak calls were made (WGS84 longitude, latitude); the
    break is put at the median of their positions along the pipe (``broken_piece``).
    """
    net = build_network(town_dir)
    leaks = gpd.GeoSeries(gpd.points_from_xy(*zip(*leak_lonlats)) if leak_lonlats else [], crs=4326)
    to_close, dry = dry_pieces(net, broken_piece(net, pipe_id, list(leaks.to_crs(net.srid))))
    by_pipe: dict[str, list[LineString]] = {}
    for k in sorted(dry):
        by_pipe.setdefault(net.pieces[k][0], []).append(net.pieces[k][1])
    return BurstTruth(frozenset(to_close), by_pipe,
                      dry_address_bounds(town_dir, net, dry, address_buffer_m), net.srid)
