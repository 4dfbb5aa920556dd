"""Water topology: valve segments, isolation traces and lost supply on hand-checked networks."""
from __future__ import annotations

import random

import networkx as nx
import pytest
from shapely.geometry import LineString, Point

from geo_urp.loading.water_topology import (
    PipeIn, SegmentGraph, SourceIn, ValveIn, build_water_topology, isolation_trace,
    segments_without_source,
)

# The town (metres; y grows upwards). S1 feeds P01. "V5!" is inoperable.
#
#                                   P12 (150,50)
#                                    |                                  V7 (400,100)
#                                    |  ends on P02's middle: no joint  |
#      S1                            |                                 P08
#      A(0,0)--V1--B(100,0)--V2-----+-----C(200,0)--V5!--F(300,0)--V6--G(400,0)  P11 (400.8,0)->(500,0)
#              P01  |       P02 (110,0)     |   P05 (250,0)    P07 (350,0)        0.8 m gap: not joined
#              (50,0)|                       |
#                   V3 (100,-10)             V4 (200,-50)               V9 (250,40): on no pipe
#                  P03                      P04
#                    |                       |
#      D(100,-100) + (100,-100.3)--P06-------E(200,-100)     P09 (500,-100)-(600,-100)
#      P03 ends at D, P06 starts 0.3 m below: joined          P10 (600.3,-100)-(700,-100): joined to P09
#
# Loop: B-C-E-D-B. Segments with every valve shut (numbered by smallest (pipe, seq)):
#   1: P01 start (holds S1)        2: P01 end + P02 start + P03 start
#   3: P02 end + P04 start + P05 start   4: P03 end + P06 + P04 end
#   5: P05 end + P07 start         6: P07 end + P08 (dead-end branch; V7 at its tip)
#   7: P09 + P10 (no source)       8: P11 (no source)      9: P12 (no source)
SEGMENTS = {
    1: (["P01"], ["V1"]),
    2: (["P01", "P02", "P03"], ["V1", "V2", "V3"]),
    3: (["P02", "P04", "P05"], ["V2", "V4", "V5"]),
    4: (["P03", "P04", "P06"], ["V3", "V4"]),
    5: (["P05", "P07"], ["V5", "V6"]),
    6: (["P07", "P08"], ["V6", "V7"]),
    7: (["P09", "P10"], []),
    8: (["P11"], []),
    9: (["P12"], []),
}

# pipe: (segments, valves to close, isolated segments, unsupplied segments)
PIPE_ANSWERS = {
    "P01": ([1, 2], ["V2", "V3"], [1, 2], [3, 4, 5, 6]),
    # V5 is stuck, so segment 5 goes dark too and V6 must be shut behind it.
    "P02": ([2, 3], ["V1", "V3", "V4", "V6"], [2, 3, 5], [4, 6]),
    "P03": ([2, 4], ["V1", "V2", "V4"], [2, 4], [3, 5, 6]),
    "P04": ([3, 4], ["V2", "V3", "V6"], [3, 4, 5], [6]),  # the dead-end branch loses supply
    "P05": ([3, 5], ["V2", "V4", "V6"], [3, 5], [6]),
    "P06": ([4], ["V3", "V4"], [4], []),  # the loop keeps everything else fed
    "P07": ([5, 6], ["V2", "V4"], [3, 5, 6], []),  # skips V5, includes segment 3
    "P08": ([6], ["V6"], [6], []),
    "P09": ([7], [], [7], []),
    "P10": ([7], [], [7], []),
    "P11": ([8], [], [8], []),
    "P12": ([9], [], [9], []),
}


def line(*xy: tuple[float, float]) -> LineString:
    return LineString(xy)


def town_pipes() -> list[PipeIn]:
    return [
        PipeIn("P01", line((0, 0), (100, 0))),
        PipeIn("P02", line((100, 0), (200, 0))),
        PipeIn("P03", line((100, 0), (100, -100))),
        PipeIn("P04", line((200, 0), (200, -100))),
        PipeIn("P05", line((200, 0), (300, 0))),
        PipeIn("P06", line((100, -100.3), (200, -100))),
        PipeIn("P07", line((300, 0), (400, 0))),
        PipeIn("P08", line((400, 0), (400, 100))),
        PipeIn("P09", line((500, -100), (600, -100))),
        PipeIn("P10", line((600.3, -100), (700, -100))),
        PipeIn("P11", line((400.8, 0), (500, 0))),
        PipeIn("P12", line((150, 0), (150, 50))),
    ]


def town_valves() -> list[ValveIn]:
    return [
        ValveIn("V1", Point(50, 0.4)),  # mid-pipe, a little off the line
        ValveIn("V2", Point(110, 0)),
        ValveIn("V3", Point(100, -10)),
        ValveIn("V4", Point(200, -50)),
        ValveIn("V5", Point(250, 0), operable=False),
        ValveIn("V6", Point(350, 0)),
        ValveIn("V7", Point(400, 100)),
        ValveIn("V9", Point(250, 40)),
    ]


def town_sources() -> list[SourceIn]:
    return [SourceIn("S1", Point(0, 5)), SourceIn("S2", Point(900, 900))]


@pytest.fixture(scope="module")
def town():
    return build_water_topology(town_pipes(), town_valves(), town_sources())


def test_segments_exact(town):
    got = {s.segment_no: (s.pipe_ids, s.valve_ids) for s in town.segments}
    assert got == SEGMENTS
    assert [s.segment_no for s in town.segments if s.has_source] == [1]
    assert [s.segment_no for s in town.segments if s.reaches_source] == [1, 2, 3, 4, 5, 6]


def test_valve_in_middle_of_pipe_cuts_it(town):
    p01 = [p for p in town.parts if p.pipe_id == "P01"]
    assert [(p.seq, p.segment_no) for p in p01] == [(1, 1), (2, 2)]
    assert p01[0].geom.length == pytest.approx(50)
    assert p01[0].geom.coords[-1] == pytest.approx((50, 0))
    assert town.valves["V1"].position_m == pytest.approx(50)
    assert town.segments[0].length_m == pytest.approx(50)
    # segment 4: P03 below V3 (90 m) + P06 + P04 below V4 (50 m)
    assert town.segments[3].length_m == pytest.approx(90 + LineString([(100, -100.3), (200, -100)]).length + 50)


@pytest.mark.parametrize("valve_id, pipe_id, segment_nos", [
    ("V1", "P01", [1, 2]), ("V2", "P02", [2, 3]), ("V3", "P03", [2, 4]), ("V4", "P04", [3, 4]),
    ("V5", "P05", [3, 5]), ("V6", "P07", [5, 6]),
    ("V7", "P08", [6]),  # at the dead end
    ("V9", None, []),  # on no pipe
])
def test_valves(town, valve_id, pipe_id, segment_nos):
    v = town.valves[valve_id]
    assert (v.pipe_id, v.segment_nos) == (pipe_id, segment_nos)
    assert v.operable is (valve_id != "V5")


@pytest.mark.parametrize("pipe_id", sorted(PIPE_ANSWERS))
def test_pipe_isolation(town, pipe_id):
    ans = town.pipes[pipe_id]
    assert (ans.segment_nos, ans.valves_to_close, ans.isolated_segment_nos,
            ans.unsupplied_segment_nos) == PIPE_ANSWERS[pipe_id]
    assert ans.reaches_source is (pipe_id <= "P08")


def test_sources(town):
    assert (town.sources["S1"].pipe_id, town.sources["S1"].segment_no) == ("P01", 1)
    assert (town.sources["S2"].pipe_id, town.sources["S2"].segment_no) == (None, None)


EXPECTED_PROBLEMS = [
    "valve V9 lies on no pipe (nearest pipe P05 is 40.0 m away",
    "source S2 lies on no pipe (nearest pipe P08",
    "pipe P09 cannot be reached from any source",
    "pipe P10 cannot be reached from any source",
    "pipe P11 cannot be reached from any source",
    "pipe P12 cannot be reached from any source",
    "pipe P12 ends 0.00 m from the middle of pipe P02",
    "valve V5 is marked inoperable",
]


@pytest.mark.parametrize("expected", EXPECTED_PROBLEMS)
def test_problems_reported(town, expected):
    assert any(p.startswith(expected) for p in town.problems), town.problems


def test_no_other_problems(town):
    # Nothing about the dead-end valve V7, the 0.3 m joints, or the supplied pipes.
    assert len(town.problems) == len(EXPECTED_PROBLEMS), town.problems


def test_graph_rebuilt_from_rows_gives_same_answers(town):
    rows = [(v.valve_id, v.operable, v.segment_nos) for v in town.valves.values()]
    sources = [s.segment_no for s in town.sources.values() if s.segment_no is not None]
    sg = SegmentGraph.from_rows(rows, sources)
    for pipe_id, (segs, close, isolated, lost) in PIPE_ANSWERS.items():
        got_close, got_isolated = isolation_trace(sg, set(segs))
        assert (sorted(got_close), sorted(got_isolated)) == (close, isolated)
        assert sorted(segments_without_source(sg, got_close, got_isolated)) == lost


def test_trace_of_arbitrary_set(town):
    # Isolating segments 2 and 4 together: V3 is internal, not listed.
    close, isolated = isolation_trace(town, {2, 4})
    assert (close, isolated) == ({"V1", "V2", "V4"}, {2, 4})
    # Shutting only V6 by hand cuts the dead end off.
    assert segments_without_source(town, {"V6"}, set()) == {6}


@pytest.mark.parametrize("gap, joined", [(0.3, True), (0.49, True), (0.8, False)])
def test_end_points_joined_within_tolerance(gap, joined):
    topo = build_water_topology(
        [PipeIn("A", line((0, 0), (100, 0))), PipeIn("B", line((100 + gap, 0), (200, 0)))],
        [], [SourceIn("S", Point(0, 0))])
    assert len(topo.segments) == (1 if joined else 2)
    assert topo.pipes["B"].reaches_source is joined


def test_valve_near_junction_goes_on_nearest_pipe():
    # A T junction at (100,0); the valve is 0.4 m down the branch C, within 1 m of A and B too.
    pipes = [PipeIn("A", line((0, 0), (100, 0))), PipeIn("B", line((100, 0), (200, 0))),
             PipeIn("C", line((100, 0), (100, -100)))]
    topo = build_water_topology(pipes, [ValveIn("V", Point(100.1, -0.4))], [SourceIn("S", Point(0, 0))])
    assert topo.valves["V"].pipe_id == "C"
    assert {s.segment_no: s.pipe_ids for s in topo.segments} == {1: ["A", "B", "C"], 2: ["C"]}
    # C spans both segments, so isolating it isolates everything: nothing to shut.
    assert (topo.pipes["C"].valves_to_close, topo.pipes["C"].isolated_segment_nos) == ([], [1, 2])
    assert (topo.pipes["B"].valves_to_close, topo.pipes["B"].unsupplied_segment_nos) == (["V"], [2])


def test_valve_exactly_at_junction_goes_on_smallest_pipe_id():
    pipes = [PipeIn("B", line((100, 0), (200, 0))), PipeIn("A", line((0, 0), (100, 0)))]
    topo = build_water_topology(pipes, [ValveIn("V", Point(100, 0))], [SourceIn("S", Point(0, 0))])
    assert (topo.valves["V"].pipe_id, topo.valves["V"].segment_nos) == ("A", [1, 2])
    assert topo.pipes["A"].unsupplied_segment_nos == [2]


def test_two_valves_at_one_spot_make_a_zero_length_segment():
    topo = build_water_topology([PipeIn("P", line((0, 0), (100, 0)))],
                                [ValveIn("Va", Point(50, 0)), ValveIn("Vb", Point(50, 0))],
                                [SourceIn("S", Point(0, 0))])
    assert [(s.segment_no, s.pipe_ids, s.valve_ids, s.length_m) for s in topo.segments] == [
        (1, ["P"], ["Va"], 50.0), (2, ["P"], ["Vb"], 50.0), (3, [], ["Va", "Vb"], 0.0)]
    assert isolation_trace(topo, {2}) == ({"Vb"}, {2})
    assert segments_without_source(topo, {"Va"}, set()) == {2, 3}


def test_valve_with_loop_round_it_is_reported():
    # A ring pipe cut once: both sides of the valve are the same segment.
    topo = build_water_topology([PipeIn("R", line((0, 0), (100, 0), (100, 100), (0, 0)))],
                                [ValveIn("V", Point(50, 0))], [SourceIn("S", Point(0, 0))])
    assert topo.valves["V"].segment_nos == [1]
    assert topo.pipes["R"].valves_to_close == []
    assert any(p.startswith("valve V separates nothing") for p in topo.problems)


def test_bad_and_duplicate_inputs_are_reported_not_fatal():
    topo = build_water_topology(
        [PipeIn("A", line((0, 0), (10, 0))), PipeIn("A", line((0, 5), (10, 5))),
         PipeIn("Z", LineString())],
        [ValveIn("V", Point())], [])
    assert list(topo.pipes) == ["A", "Z"] and topo.pipes["Z"].segment_nos == []
    assert topo.valves["V"].pipe_id is None
    assert any("duplicate pipe id A" in p for p in topo.problems)
    assert any("no water source lies on the network" in p for p in topo.problems)


def grid(n: int, seed: int = 1, valve_share: float = 0.65):
    """An n x n street grid of 100 m pipes, valves at random points, a few stuck, 3 sources."""
    rnd = random.Random(seed)
    pipes, valves = [], []
    for i in range(n):
        for j in range(n):
            if i + 1 < n:
                pipes.append(PipeIn(f"H{i}_{j}", line((i * 100, j * 100), (i * 100 + 100, j * 100))))
            if j + 1 < n:
                pipes.append(PipeIn(f"V{i}_{j}", line((i * 100, j * 100), (i * 100, j * 100 + 100))))
    for k, p in enumerate(rnd.sample(pipes, k=int(len(pipes) * valve_share))):
        at = p.geom.interpolate(rnd.choice([0.3, 2.0, 50.0, rnd.uniform(0, 100)]))
        valves.append(ValveIn(f"W{k}", Point(at.x, at.y + 0.2), operable=rnd.random() > 0.1))
    sources = [SourceIn(f"S{k}", Point(rnd.uniform(0, n * 100), rnd.uniform(0, n * 100)))
               for k in range(3)]
    return pipes, valves, sources


def brute_unsupplied(sg: SegmentGraph, closed: set[str], isolated: set[int]) -> set[int]:
    """Reference answer: whole-graph components after the change."""
    h = nx.MultiGraph(sg.graph)
    h.remove_edges_from([(u, v, k) for u, v, k in sg.graph.edges(keys=True) if k in closed])
    h.remove_nodes_from(isolated)
    lost = set()
    for comp in nx.connected_components(h):
        if not comp & sg.source_segments:
            lost |= comp & sg.supplied
    return lost


@pytest.mark.parametrize("seed", [1, 2])
def test_local_search_matches_whole_graph_components(seed):
    topo = build_water_topology(*grid(12, seed))
    sg = topo.segment_graph
    assert len(topo.segments) > 50
    checked = 0
    for ans in topo.pipes.values():
        close, isolated = isolation_trace(sg, set(ans.segment_nos))
        assert sorted(isolated) == ans.isolated_segment_nos
        # every closed valve is operable and has exactly one side isolated
        assert all(sg.operable[v] and len(set(sg.valve_ends[v]) & isolated) == 1 for v in close)
        assert set(ans.unsupplied_segment_nos) == brute_unsupplied(sg, close, isolated)
        checked += bool(ans.unsupplied_segment_nos)
    assert checked > 0  # the grid must actually exercise lost supply
