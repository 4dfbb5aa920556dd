"""Tests of the utility synthesiser: its invariants on a small grid town and on Mezzolombardo, and determinism."""
from __future__ import annotations

import csv
import filecmp
import io
import json
import shutil
from collections import Counter, defaultdict
from pathlib import Path

import networkx as nx
import pytest
import shapely
from shapely.geometry import LineString, Point, box, shape

from geo_urp.layer_files.osm import from_osm
from geo_urp.layer_files.osm_io import write_geojson
from geo_urp.layer_files.synth import synth_utilities
from geo_urp.layer_files.synth_geo import to_metric, to_wgs84

ROOT = Path(__file__).resolve().parents[2]
PBF = ROOT / "data" / "osm" / "mezzolombardo_bbox.osm.pbf"
CLIP = (11.07, 46.19, 11.11, 46.228)
SYNTH_FILES = ("lamps.geojson", "lighting_cabinets.geojson", "water_pipes.geojson", "water_sources.geojson",
               "water_valves.geojson", "crew_areas.geojson", "crews.csv")
SKILLS = {"lighting", "water", "roads", "drains", "green", "social", "general"}


def layer(folder: Path, name: str) -> list[tuple]:
    feats = json.loads((folder / f"{name}.geojson").read_text(encoding="utf-8"))["features"]
    return [(shape(f["geometry"]), f["properties"]) for f in feats]


def metric(folder: Path, name: str) -> list[tuple]:
    return [(to_metric(g), p) for g, p in layer(folder, name)]


def make_grid_town(folder: Path) -> None:
    """A 5 x 5 grid of 800 m streets near Mezzolombardo, a boundary around it and two real lamps."""
    x0, y0 = 664_000.0, 5_118_000.0
    streets = []
    for i in range(5):
        y = y0 + 200 * i
        streets.append((LineString([(x0, y), (x0 + 800, y)]), f"Via Orizzontale {i}", "primary" if i == 2 else
                        "residential"))
        x = x0 + 200 * i
        streets.append((LineString([(x, y0), (x, y0 + 800)]), f"Via Verticale {i}", "residential"))
    feats = [(to_wgs84(line), {"street_id": f"s{n}", "name": name, "highway": hw})
             for n, (line, name, hw) in enumerate(streets)]
    write_geojson(folder / "streets.geojson", feats)
    write_geojson(folder / "boundary.geojson",
                  [(to_wgs84(box(x0 - 300, y0 - 300, x0 + 1100, y0 + 1100)), {"name": "Griglia"})])
    write_geojson(folder / "street_lamps.geojson", [
        (to_wgs84(Point(x0 + 103, y0 + 4)), {"osm_id": "n1"}),
        (to_wgs84(Point(x0 + 404, y0 + 610)), {"osm_id": "n2"}),
    ])


def check_invariants(folder: Path) -> None:
    """Every SPEC/brief invariant of the synthetic layers, checked from the files alone."""
    boundary = shapely.union_all([g for g, _ in layer(folder, "boundary")])

    # Lighting: lamps on circuits of 8-15, circuits on one cabinet each, cabinets feed 3-8 circuits.
    lamps = layer(folder, "lamps")
    assert lamps
    lamp_ids = [p["lamp_id"] for _, p in lamps]
    assert len(set(lamp_ids)) == len(lamp_ids)
    cabinets = {p["cabinet_id"] for _, p in layer(folder, "lighting_cabinets")}
    per_circuit = Counter(p["circuit_id"] for _, p in lamps)
    assert all(p["circuit_id"] and p["cabinet_id"] in cabinets for _, p in lamps)
    if len(lamps) >= 8:
        assert all(8 <= n <= 15 for n in per_circuit.values()), per_circuit
    cabinet_of: dict[str, set[str]] = defaultdict(set)
    for _, p in lamps:
        cabinet_of[p["circuit_id"]].add(p["cabinet_id"])
    assert all(len(c) == 1 for c in cabinet_of.values())
    circuits_per_cabinet = Counter(next(iter(c)) for c in cabinet_of.values())
    assert set(circuits_per_cabinet) == cabinets
    if len(per_circuit) >= 3:
        assert all(3 <= n <= 8 for n in circuits_per_cabinet.values()), circuits_per_cabinet
    assert all(boundary.contains(g) for g, _ in lamps)
    real = {p["osm_id"] for _, p in layer(folder, "street_lamps")}
    assert real <= {p["osm_id"] for _, p in lamps if p["source"] == "osm"}

    # Water: every pipe reachable from a source, sources at pipe ends, valves on pipes.
    pipes = metric(folder, "water_pipes")
    assert pipes
    graph = nx.Graph()
    ends = []
    for line, p in pipes:
        a, b = line.coords[0], line.coords[-1]
        ends += [Point(a), Point(b)]
        graph.add_edge(a, b, pipe=p["pipe_id"])
    # The loader joins ends within 0.5 m: make sure no two distinct ends sit 1 mm - 0.5 m apart.
    tree = shapely.STRtree(ends)
    for i, j in zip(*tree.query(ends, predicate="dwithin", distance=0.5)):
        assert ends[i].distance(ends[j]) < 1e-3 or ends[i].distance(ends[j]) > 0.5
    sources = metric(folder, "water_sources")
    assert 1 <= len(sources) <= 2
    fed = set()
    for pt, _ in sources:
        node = min(graph.nodes, key=lambda n: pt.distance(Point(n)))
        assert pt.distance(Point(node)) <= 1.0
        fed |= nx.node_connected_component(graph, node)
    assert set(graph.nodes) == fed
    valves = metric(folder, "water_valves")
    by_id = {p["pipe_id"]: line for line, p in pipes}
    assert all(by_id[p["pipe_id"]].distance(pt) <= 1.0 for pt, p in valves)
    broken = sum(not p["operable"] for _, p in valves)
    assert 1 <= broken <= max(1, 0.1 * len(valves))
    # N-1 rule: at a junction of N pipes, N-1 valves close to it on its pipes.
    degree = Counter(n for line, _ in pipes for n in (line.coords[0], line.coords[-1]))
    for node, n in degree.items():
        if n >= 3:
            near = [pt for pt, p in valves if pt.distance(Point(node)) <= 3.05
                    and by_id[p["pipe_id"]].boundary.distance(pt) == pytest.approx(pt.distance(Point(node)), abs=0.05)]
            assert len(near) == n - 1, (node, n, len(near))
    assert sum(n - 1 for n in degree.values() if n >= 3) == len(valves)

    # Crew areas tile the boundary; crews cover every area with the four trades.
    areas = layer(folder, "crew_areas")
    assert 2 <= len(areas) <= 3
    union = shapely.union_all([g for g, _ in areas])
    assert boundary.symmetric_difference(union).area <= 1e-6 * boundary.area
    assert sum(g.area for g, _ in areas) == pytest.approx(boundary.area, rel=1e-6)
    area_ids = {p["area_id"] for _, p in areas}
    rows = list(csv.DictReader(io.StringIO((folder / "crews.csv").read_text(encoding="utf-8"))))
    assert list(rows[0]) == ["crew_id", "name", "area_ids", "skills", "phone", "email"]
    for row in rows:
        assert set(row["skills"].split()) <= SKILLS and set(row["area_ids"].split()) <= area_ids
        assert row["email"].endswith("example.org")
    for area in area_ids:
        skills = {s for r in rows if area in r["area_ids"].split() for s in r["skills"].split()}
        assert {"lighting", "water", "roads", "drains"} <= skills
    assert any(set(r["area_ids"].split()) == area_ids and "social" in r["skills"] for r in rows)


@pytest.fixture()
def grid(tmp_path: Path) -> Path:
    make_grid_town(tmp_path / "grid")
    return tmp_path / "grid"


def test_grid_town_invariants(grid):
    counts = synth_utilities(grid, seed=1)
    check_invariants(grid)
    assert counts["osm_lamps_kept"] == 2
    # 10 streets of 800 m, a lamp every 25-30 m from half a spacing in: 27-32 lamps each,
    # a few synthetic ones giving way to the two real lamps.
    assert 10 * 27 - 4 <= counts["lamps"] <= 10 * 32
    # The grid noded: 10 lines of 4 pipes; 9 inner crossings of 4 pipes and 12 edge tees of 3.
    assert counts["water_pipes"] == 40
    assert counts["water_valves"] == 9 * 3 + 12 * 2
    diam = Counter(p["diameter_mm"] for _, p in layer(grid, "water_pipes"))
    assert diam == {100: 36, 200: 4}


def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path, grid):
    other = tmp_path / "other"
    third = tmp_path / "third"
    shutil.copytree(grid, other)
    shutil.copytree(grid, third)
    synth_utilities(grid, seed=7)
    synth_utilities(other, seed=7)
    synth_utilities(third, seed=8)
    for name in SYNTH_FILES:
        assert (grid / name).read_bytes() == (other / name).read_bytes(), name
    assert any((grid / name).read_bytes() != (third / name).read_bytes() for name in SYNTH_FILES)
    assert (grid / "lamps.geojson").read_bytes() != (third / "lamps.geojson").read_bytes()


@pytest.fixture(scope="module")
def mezzo(tmp_path_factory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("mezzolombardo")
    from_osm(PBF, CLIP, out)
    return out, synth_utilities(out, seed=1)


def test_mezzolombardo_invariants_and_counts(mezzo):
    folder, counts = mezzo
    check_invariants(folder)
    assert 500 <= counts["lamps"] <= 2000
    assert 50 <= counts["water_pipes"] <= 400
    assert counts["crew_areas"] == 3 and counts["crews"] == 13


def test_committed_demo_layers_are_up_to_date(mezzo):
    folder, _ = mezzo
    committed = ROOT / "layers" / "mezzolombardo"
    if not committed.is_dir():
        pytest.skip("layers/mezzolombardo not generated")
    names = sorted(p.name for p in folder.iterdir())
    match, mismatch, errors = filecmp.cmpfiles(folder, committed, names, shallow=False)
    assert not mismatch and not errors, f"regenerate with the commands in layers/README.md: {mismatch or errors}"
