"""Isolating water mains at run time: which valves to shut, and what is left dry.

``isolate_pipes`` answers, for one pipe or a set of suspected pipes, which
valves a crew must shut (inoperable valves skipped), which valve segments that
cuts off, and which further segments lose every source. A single pipe's answer
was computed at load time and is read in one indexed lookup; a set of pipes is
traced on the municipality's segment graph, rebuilt from stored rows once per
load of the layers (``loading.layer_cache``). ``isolate_break`` answers the same
for a break at one spot of a main: only the valve segment holding the break is
shut off, so a valve part-way along the main (an in-line valve) is closed instead
of the valves beyond the junction on its other side. The graph algorithms
themselves are ``loading.water_trace``'s, which the loader also runs to
precompute each pipe.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from geo_urp.errors import NotFound
from geo_urp.loading import layer_cache
from geo_urp.loading.water_trace import (
    SegmentGraph,
    isolation_trace,
    segments_without_source,
)
from geo_urp.models import Pipe, Valve, ValveSegment


@dataclass(frozen=True)
class Isolation:
    """What shutting off ``pipe_ids`` takes and what it leaves dry."""

    pipe_ids: tuple[str, ...]
    valves_to_close: tuple[str, ...]
    isolated_segment_nos: tuple[int, ...]
    unsupplied_segment_nos: tuple[int, ...]

    @property
    def affected_segment_nos(self) -> tuple[int, ...]:
        """Every segment without water once the valves are shut."""
        return tuple(sorted(set(self.isolated_segment_nos) | set(self.unsupplied_segment_nos)))


def isolate_pipes(session: Session, municipality_id: int, pipe_ids: list[str] | tuple[str, ...] | str) -> Isolation:
    """The isolation of one pipe (precomputed) or of a set of pipes (traced now)."""
    ids = (pipe_ids,) if isinstance(pipe_ids, str) else tuple(dict.fromkeys(pipe_ids))
    rows = session.execute(select(Pipe.pipe_id, Pipe.segment_nos, Pipe.valves_to_close,
                                  Pipe.isolated_segment_nos, Pipe.unsupplied_segment_nos)
                           .where(Pipe.municipality_id == municipality_id, Pipe.pipe_id.in_(ids))).all()
    missing = sorted(set(ids) - {r.pipe_id for r in rows})
    if missing:
        raise NotFound(f"no water pipe {', '.join(missing)} in this municipality")
    if len(rows) == 1:
        r = rows[0]
        return Isolation(ids, tuple(sorted(r.valves_to_close)), tuple(sorted(r.isolated_segment_nos)),
                         tuple(sorted(r.unsupplied_segment_nos)))
    graph = segment_graph(session, municipality_id)
    start = {no for r in rows for no in r.segment_nos}
    valves, isolated = isolation_trace(graph, start)
    dry = segments_without_source(graph, valves, isolated)
    return Isolation(ids, tuple(sorted(valves)), tuple(sorted(isolated)), tuple(sorted(dry)))


def isolate_break(session: Session, municipality_id: int, pipe_id: str, segment_no: int) -> Isolation:
    """The isolation of a break on ``pipe_id`` inside its valve segment ``segment_no``.

    The trace starts from that segment alone, so the main's parts beyond an in-line
    valve keep their water unless that valve is inoperable (then the trace goes past
    it, as for any other). For a main wholly inside one segment this is the main's
    precomputed answer. ``NotFound`` when the main is not in the layers or has no part
    in that segment.
    """
    nos = session.scalar(select(Pipe.segment_nos).where(Pipe.municipality_id == municipality_id,
                                                       Pipe.pipe_id == pipe_id))
    if nos is None:
        raise NotFound(f"no water pipe {pipe_id} in this municipality")
    if segment_no not in nos:
        raise NotFound(f"water pipe {pipe_id} has no part in valve segment {segment_no} "
                       f"(its segments: {', '.join(map(str, sorted(nos))) or 'none'})")
    if len(set(nos)) == 1:
        return isolate_pipes(session, municipality_id, pipe_id)
    graph = segment_graph(session, municipality_id)
    valves, isolated = isolation_trace(graph, {segment_no})
    dry = segments_without_source(graph, valves, isolated)
    return Isolation((pipe_id,), tuple(sorted(valves)), tuple(sorted(isolated)), tuple(sorted(dry)))


def segment_graph(session: Session, municipality_id: int) -> SegmentGraph:
    """The municipality's valve-segment graph, built from its stored rows once per load of the layers."""
    def build() -> SegmentGraph:
        valves = session.execute(select(Valve.valve_id, Valve.operable, Valve.segment_nos)
                                 .where(Valve.municipality_id == municipality_id)).tuples()
        segments = session.execute(select(ValveSegment.segment_no, ValveSegment.has_source)
                                   .where(ValveSegment.municipality_id == municipality_id)).all()
        return SegmentGraph.from_rows(valves, (no for no, has in segments if has), (no for no, _ in segments))

    return layer_cache.cached(session, municipality_id, "valve-segment graph", build)


class DryAreas:
    """What each valve segment's failure leaves dry, on one load of a municipality's network:
    the segments isolated to fix it and those left without a source. Worked out per segment
    on first use and kept with the graph."""

    def __init__(self, graph: SegmentGraph):
        self.graph = graph
        self._known: dict[int, frozenset[int]] = {}

    @property
    def segments(self) -> list[int]:
        """Every valve segment of the network, in order."""
        return sorted(self.graph.graph.nodes)

    def of(self, failed_segment: int) -> frozenset[int]:
        """The segments without water once ``failed_segment`` fails and is isolated."""
        if failed_segment not in self._known:
            valves, isolated = isolation_trace(self.graph, {failed_segment})
            self._known[failed_segment] = frozenset(isolated | segments_without_source(self.graph, valves, isolated))
        return self._known[failed_segment]


def dry_areas(session: Session, municipality_id: int) -> DryAreas:
    """The municipality's ``DryAreas``, one per load of its layers."""
    return layer_cache.cached(session, municipality_id, "dry areas",
                              lambda: DryAreas(segment_graph(session, municipality_id)))
