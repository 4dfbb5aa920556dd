"""Benchmark: load a generated town of 20,000 addresses, 5,000 lamps and 3,000 pipes.

Usage: .venv/bin/python -m benchmarks.bench_load [--addresses 20000 --lamps 5000 --pipes 3000]
Creates a scratch database on the embedded server (or DATABASE_URL's), loads the
town twice (a first load and a replacement), times ``isolate_pipes`` for every
pipe, prints the figures and drops the database. Not a test: it measures.
"""
from __future__ import annotations

import argparse
import json
import random
import statistics
import tempfile
import time
from pathlib import Path

from sqlalchemy import select

from benchmarks.scratch import scratch_database
from geo_urp.db import session_scope
from geo_urp.reasoning.isolation import isolate_pipes
from geo_urp.loading.loader import load_municipality
from geo_urp.models import Municipality, Pipe

X0, Y0 = 650000, 5110000
CRS = {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::32632"}}


def _write(folder: Path, layer: str, features: list) -> None:
    (folder / f"{layer}.geojson").write_text(json.dumps({"type": "FeatureCollection", "crs": CRS, "features": [
        {"type": "Feature", "properties": p, "geometry": g} for p, g in features]}))


def generate(folder: Path, n_addr: int, n_lamps: int, n_pipes: int, seed: int = 7) -> None:
    """A square grid town: streets and pipes on the grid, valves at junctions (N-1), lamps along streets."""
    rnd = random.Random(seed)
    # a k x k grid of blocks has 2*k*(k+1) edges; pick k so pipes ~= n_pipes
    k = 1
    while 2 * k * (k + 1) < n_pipes:
        k += 1
    step = 100.0
    size = k * step
    _write(folder, "boundary", [({"name": "Benchmark"}, {"type": "Polygon", "coordinates": [[
        [X0 - 50, Y0 - 50], [X0 + size + 50, Y0 - 50], [X0 + size + 50, Y0 + size + 50], [X0 - 50, Y0 + size + 50],
        [X0 - 50, Y0 - 50]]]})])
    edges = []
    for i in range(k + 1):
        for j in range(k):
            edges.append(((i, j), (i, j + 1)))  # vertical
            edges.append(((j, i), (j + 1, i)))  # horizontal
    edges = edges[:n_pipes]
    pt = lambda n: [X0 + n[0] * step, Y0 + n[1] * step]  # noqa: E731
    streets = [({"street_id": f"S{e}", "name": f"Via {e // 4 + 1} Benchmark", "l_from": 1, "l_to": 19,
                 "r_from": 2, "r_to": 20}, {"type": "LineString", "coordinates": [pt(a), pt(b)]})
               for e, (a, b) in enumerate(edges)]
    _write(folder, "streets", streets)
    _write(folder, "water_pipes", [({"pipe_id": f"P{e}", "diameter_mm": rnd.choice([80, 100, 150, 200])},
                                    {"type": "LineString", "coordinates": [pt(a), pt(b)]})
                                   for e, (a, b) in enumerate(edges)])
    # N-1 valves at each junction, 3 m from it along each pipe but one.
    at_node: dict = {}
    for e, (a, b) in enumerate(edges):
        at_node.setdefault(a, []).append((e, a, b))
        at_node.setdefault(b, []).append((e, b, a))
    valves = []
    for node, incident in sorted(at_node.items()):
        for e, near, far in incident[1:]:
            x0, y0 = pt(near)
            x1, y1 = pt(far)
            f = 3.0 / step
            valves.append(({"valve_id": f"V{len(valves)}", "operable": rnd.random() > 0.03},
                           {"type": "Point", "coordinates": [x0 + (x1 - x0) * f, y0 + (y1 - y0) * f]}))
    _write(folder, "water_valves", valves)
    _write(folder, "water_sources", [({"source_id": "W1"}, {"type": "Point", "coordinates": pt((0, 0))})])
    lamps = []
    for n in range(n_lamps):
        e = n * len(edges) // n_lamps
        (a, b) = edges[e]
        t = rnd.random()
        x0, y0 = pt(a)
        x1, y1 = pt(b)
        lamps.append(({"lamp_id": f"L{n}", "circuit_id": f"C{n // 12}", "cabinet_id": f"Q{n // 60}"},
                      {"type": "Point", "coordinates": [x0 + (x1 - x0) * t + 4, y0 + (y1 - y0) * t + 4]}))
    _write(folder, "lamps", lamps)
    _write(folder, "lighting_cabinets", [({"cabinet_id": f"Q{q}"}, lamps[q * 60][1]) for q in range((n_lamps + 59) // 60)])
    addrs = []
    for n in range(n_addr):
        e = n % len(edges)
        (a, b) = edges[e]
        t = (n // len(edges) + 1) / (n_addr // len(edges) + 2)
        x0, y0 = pt(a)
        x1, y1 = pt(b)
        addrs.append(({"street": streets[e][0]["name"], "number": str(n // len(edges) + 1)},
                      {"type": "Point", "coordinates": [x0 + (x1 - x0) * t + 8, y0 + (y1 - y0) * t + 8]}))
    _write(folder, "addresses", addrs)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--addresses", type=int, default=20000)
    ap.add_argument("--lamps", type=int, default=5000)
    ap.add_argument("--pipes", type=int, default=3000)
    args = ap.parse_args()
    with scratch_database() as url:
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            t = time.perf_counter()
            generate(folder, args.addresses, args.lamps, args.pipes)
            print(f"generated town in {time.perf_counter() - t:.1f} s")
            for label in ("first load", "reload (replace)"):
                t = time.perf_counter()
                with session_scope(url) as s:
                    report = load_municipality(s, folder, "bench")
                print(f"{label}: {time.perf_counter() - t:.1f} s")
            print("\n".join(line for line in report.lines() if "topology" in line or "  " + "layer" in line
                            or line.strip().split(" ")[0] in ("addresses", "lamps", "water_pipes", "water_valves")))
        with session_scope(url) as s:
            mid = s.scalar(select(Municipality.id).where(Municipality.slug == "bench"))
            pipes = s.scalars(select(Pipe.pipe_id).where(Pipe.municipality_id == mid)).all()
            times = []
            for pid in pipes:
                t = time.perf_counter()
                isolate_pipes(s, mid, pid)
                times.append((time.perf_counter() - t) * 1000)
            times.sort()
            print(f"isolate_pipes, one pipe, {len(times)} pipes: median {statistics.median(times):.2f} ms, "
                  f"p95 {times[int(len(times) * 0.95)]:.2f} ms, max {times[-1]:.2f} ms")
            sets = [random.Random(i).sample(pipes, 3) for i in range(200)]
            t = time.perf_counter()
            for group in sets:
                isolate_pipes(s, mid, group)
            print(f"isolate_pipes, sets of 3 pipes: {(time.perf_counter() - t) * 1000 / len(sets):.2f} ms each")


if __name__ == "__main__":
    main()
