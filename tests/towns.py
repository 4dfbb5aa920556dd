"""A second town for tests: Marcallo con Casone's real boundary and official street
names (data/marcallo) on a generated, rotated grid of streets, a layout unlike
Mezzolombardo's, with synthetic utilities from ``synth_utilities``."""
from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import numpy as np
import shapely
from pyproj import Transformer
from shapely.geometry import LineString, Point, mapping, shape

from geo_urp.layer_files.synth import synth_utilities

DATA = Path(__file__).resolve().parent.parent / "data" / "marcallo"
_UTM = Transformer.from_crs(4326, 32632, always_xy=True)
_WGS = Transformer.from_crs(32632, 4326, always_xy=True)


def _to(transformer, geom):
    return shapely.transform(geom, lambda xy: np.column_stack(transformer.transform(xy[:, 0], xy[:, 1])))


def _names() -> list[str]:
    with (DATA / "marcallo_streets_anncsu.csv").open(encoding="utf-8") as fh:
        rows = [r for r in csv.DictReader(fh) if r["DUG"] in ("VIA", "VIALE", "PIAZZA", "VICOLO", "LARGO")]
    return [f"{r['DUG'].title()} {r['DUF'].title().replace(' Di ', ' di ').replace(' Del ', ' del ')}" for r in rows]


def _fc(features) -> dict:
    return {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": p, "geometry": mapping(_to(_WGS, g))} for g, p in features]}


def marcallo_town(folder: Path, seed: int = 2, spacing: float = 130.0, lines: int = 9) -> Path:
    """Write the layer folder of the second town into ``folder`` and return it."""
    folder.mkdir(parents=True, exist_ok=True)
    src = json.loads((DATA / "marcallo_boundary_istat2026.geojson").read_text())["features"][0]
    boundary = _to(_UTM, shape(src["geometry"]))
    (folder / "boundary.geojson").write_text(json.dumps(_fc([(boundary, {
        "name": src["properties"]["name"], "istat_code": src["properties"]["com_istat_code"]})])))
    centre = boundary.centroid
    angle = math.radians(20)
    ux, uy = math.cos(angle), math.sin(angle)  # one grid direction; the other is (-uy, ux)
    half = (lines - 1) / 2 * spacing
    inner = boundary.buffer(-60)
    names = iter(_names())
    streets, addresses = [], []
    for direction, (dx, dy), (ox, oy) in (("a", (ux, uy), (-uy, ux)), ("b", (-uy, ux), (ux, uy))):
        for i in range(lines):
            off = -half + i * spacing
            name = next(names)
            highway = "secondary" if i == lines // 2 else "residential"
            number = 1
            for j in range(lines - 1):
                a = (-half + j * spacing, off)
                b = (-half + (j + 1) * spacing, off)
                piece = LineString([(centre.x + dx * p[0] + ox * p[1], centre.y + dy * p[0] + oy * p[1])
                                    for p in (a, b)])
                if not inner.contains(piece):
                    continue
                sid = f"{direction}{i}-{j}"
                streets.append((piece, {"street_id": sid, "name": name, "highway": highway}))
                for k in range(1, 5):
                    at = piece.interpolate(k / 5, normalized=True)
                    for side, parity in ((12, 1), (-12, 0)):
                        p = Point(at.x + ox * side, at.y + oy * side)
                        addresses.append((p, {"street": name, "number": str(number + (0 if parity else 1))}))
                    number += 2
    town_hall = streets[len(streets) // 2][0].interpolate(0.5, normalized=True)
    (folder / "streets.geojson").write_text(json.dumps(_fc(streets)))
    (folder / "addresses.geojson").write_text(json.dumps(_fc(addresses)))
    (folder / "landmarks.geojson").write_text(json.dumps(_fc([
        (Point(town_hall.x + 15, town_hall.y + 15), {"name": "Municipio di Marcallo con Casone",
                                                      "aliases": "municipio;comune"})])))
    synth_utilities(folder, seed)
    return folder
