"""Shared geometry helpers for the utility synthesiser: projection, loading a town, side offsets.

The synthesiser works in metres (EPSG:32632, the project's default metric CRS)
and writes WGS84; these helpers keep both directions in one place.
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from pyproj import Transformer
from shapely.geometry import LineString, Point
from shapely.geometry.base import BaseGeometry

from geo_urp.layer_files.osm_io import read_geojson

METRIC_EPSG = 32632
_FWD = Transformer.from_crs(4326, METRIC_EPSG, always_xy=True)
_BACK = Transformer.from_crs(METRIC_EPSG, 4326, always_xy=True)


def _apply(tr: Transformer, geom: BaseGeometry) -> BaseGeometry:
    def fn(xy: np.ndarray) -> np.ndarray:
        x, y = tr.transform(xy[:, 0], xy[:, 1])
        return np.column_stack([x, y])
    return shapely.transform(geom, fn)


def to_metric(geom: BaseGeometry) -> BaseGeometry:
    """WGS84 lon/lat -> EPSG:32632 metres."""
    return _apply(_FWD, geom)


def to_wgs84(geom: BaseGeometry) -> BaseGeometry:
    """EPSG:32632 metres -> WGS84 lon/lat."""
    return _apply(_BACK, geom)


def rng_for(seed: int, part: str) -> random.Random:
    """An independent random stream per part, so changing one part never shifts another's numbers."""
    return random.Random(f"geo_urp-synth-{seed}-{part}")


@dataclass
class Street:
    """One street feature in metres."""

    line: LineString
    name: str
    highway: str
    street_id: str


@dataclass
class Town:
    """What the synthesiser reads from a town's layer folder, in metres."""

    streets: list[Street]
    boundary: BaseGeometry
    boundary_wgs84: BaseGeometry
    osm_lamps: list[tuple[Point, dict[str, Any]]] = field(default_factory=list)


def _lines(geom: BaseGeometry) -> list[LineString]:
    if geom.geom_type == "LineString":
        return [geom]
    return [g for g in getattr(geom, "geoms", []) if g.geom_type == "LineString"]


def load_town(layer_dir: Path) -> Town:
    """Read streets (required), boundary and street lamps (optional) from a layer folder.

    Without a boundary file, the streets' convex hull buffered by 150 m stands in.
    """
    path = layer_dir / "streets.geojson"
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing: the synthesiser needs the streets")
    streets: list[Street] = []
    for geom, props in read_geojson(path):
        for k, line in enumerate(_lines(geom)):
            sid = str(props.get("street_id", "")) + (f"/{k}" if k else "")
            streets.append(Street(to_metric(line), str(props.get("name") or ""),
                                  str(props.get("highway") or "unclassified"), sid))
    if not streets:
        raise ValueError(f"{path} holds no street line")
    bpath = layer_dir / "boundary.geojson"
    if bpath.exists() and read_geojson(bpath):
        wgs = shapely.make_valid(shapely.union_all([g for g, _ in read_geojson(bpath)]))
    else:
        hull = shapely.MultiLineString([s.line for s in streets]).convex_hull.buffer(150.0)
        wgs = to_wgs84(hull)
    lamps_path = layer_dir / "street_lamps.geojson"
    lamps = [(to_metric(g), p) for g, p in read_geojson(lamps_path)] if lamps_path.exists() else []
    return Town(streets, to_metric(wgs), wgs, [(g, p) for g, p in lamps if g.geom_type == "Point"])


def side_point(line: LineString, dist: float, offset: float) -> Point:
    """Point ``dist`` metres along ``line`` moved ``offset`` metres to its left (negative: right)."""
    dist = min(max(dist, 0.0), line.length)
    a = line.interpolate(max(dist - 1.0, 0.0))
    b = line.interpolate(min(dist + 1.0, line.length))
    p = line.interpolate(dist)
    dx, dy = b.x - a.x, b.y - a.y
    norm = (dx * dx + dy * dy) ** 0.5
    if norm == 0:
        return p
    return Point(p.x - dy / norm * offset, p.y + dx / norm * offset)


def padded_id(prefix: str, index: int, total: int, width: int) -> str:
    """``prefix`` + 1-based number, zero-padded to ``width`` digits or more if ``total`` needs them."""
    return f"{prefix}{index:0{max(width, len(str(total)))}d}"
