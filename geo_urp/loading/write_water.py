"""Storing the water topology built by ``water_topology`` for one municipality."""
from __future__ import annotations

from sqlalchemy import insert
from sqlalchemy.orm import Session

from geo_urp.loading.validate import LayerResult
from geo_urp.loading.water_topology import (
    PipeIn,
    SourceIn,
    ValveIn,
    build_water_topology,
)
from geo_urp.loading.write_layers import to_wkb
from geo_urp.models import Pipe, PipePart, Valve, ValveSegment, WaterSource


def _operable(value) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return value.strip().lower() not in ("false", "0", "no", "n", "f")
    return bool(value)


def store_water(session: Session, mid: int, results: dict[str, LayerResult], options,
                problems: list[str]) -> list[str]:
    """Build the pipe graph, valve segments and per-pipe isolation traces, and insert them."""
    pipe_rows = results["water_pipes"].rows
    valve_rows = results["water_valves"].rows if "water_valves" in results else []
    source_rows = results["water_sources"].rows if "water_sources" in results else []
    topo = build_water_topology(
        [PipeIn(r["pipe_id"], r["geometry"]) for r in pipe_rows],
        [ValveIn(r["valve_id"], r["geometry"], _operable(r.get("operable"))) for r in valve_rows],
        [SourceIn(r["source_id"], r["geometry"]) for r in source_rows],
        node_tolerance=options.node_tolerance_m, valve_tolerance=options.valve_tolerance_m,
        source_tolerance=options.source_tolerance_m,
    )
    problems.extend(topo.problems)
    session.execute(insert(Pipe), [{
        "municipality_id": mid, "pipe_id": r["pipe_id"], "diameter_mm": _number(r.get("diameter_mm")),
        "material": r.get("material"), "props": r["props"], "geom": to_wkb(r["geometry"]),
        "segment_nos": topo.pipes[r["pipe_id"]].segment_nos,
        "valves_to_close": topo.pipes[r["pipe_id"]].valves_to_close,
        "isolated_segment_nos": topo.pipes[r["pipe_id"]].isolated_segment_nos,
        "unsupplied_segment_nos": topo.pipes[r["pipe_id"]].unsupplied_segment_nos,
        "reaches_source": topo.pipes[r["pipe_id"]].reaches_source,
    } for r in pipe_rows])
    session.execute(insert(PipePart), [{
        "municipality_id": mid, "pipe_id": p.pipe_id, "seq": p.seq, "segment_no": p.segment_no,
        "geom": to_wkb(p.geom)} for p in topo.parts])
    session.execute(insert(ValveSegment), [{
        "municipality_id": mid, "segment_no": s.segment_no, "pipe_ids": list(s.pipe_ids),
        "valve_ids": list(s.valve_ids), "has_source": s.has_source, "reaches_source": s.reaches_source,
        "length_m": s.length_m, "geom": to_wkb(s.geom)} for s in topo.segments])
    if valve_rows:
        session.execute(insert(Valve), [{
            "municipality_id": mid, "valve_id": r["valve_id"], "operable": _operable(r.get("operable")),
            "pipe_id": topo.valves[r["valve_id"]].pipe_id,
            "segment_nos": list(topo.valves[r["valve_id"]].segment_nos),
            "props": r["props"], "geom": to_wkb(r["geometry"])} for r in valve_rows])
    if source_rows:
        session.execute(insert(WaterSource), [{
            "municipality_id": mid, "source_id": r["source_id"], "pipe_id": topo.sources[r["source_id"]].pipe_id,
            "segment_no": topo.sources[r["source_id"]].segment_no, "props": r["props"],
            "geom": to_wkb(r["geometry"])} for r in source_rows])
    cut_off = sum(1 for p in topo.pipes.values() if not p.reaches_source)
    return [f"water: {len(pipe_rows)} pipes cut into {len(topo.parts)} parts, {len(topo.segments)} valve "
            f"segments, {len(valve_rows)} valves, {len(source_rows)} sources; "
            f"{cut_off} pipe(s) cut off from every source"]


def _number(value):
    try:
        return None if value is None else float(value)
    except (TypeError, ValueError):
        return None
