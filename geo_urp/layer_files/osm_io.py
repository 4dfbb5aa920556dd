"""Deterministic GeoJSON reading and writing for the layer builders.

The OSM importer and the utility synthesiser both write RFC 7946 GeoJSON
(WGS84, exterior rings counter-clockwise, no ``crs`` member). Coordinates are
rounded and features written one per line in a fixed order, so the same input
gives byte-identical files that diff well under version control.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterable

import shapely
from shapely.geometry import mapping, shape
from shapely.geometry.base import BaseGeometry

#: 7 decimals of a degree is about 1 cm: far below the loader's 0.5 m tolerance.
COORD_DECIMALS = 7

Feature = tuple[BaseGeometry, dict[str, Any]]


def _round_coords(obj: Any, ndigits: int) -> Any:
    """Round every number in a nested coordinate list (tuples become lists)."""
    if isinstance(obj, (list, tuple)):
        return [_round_coords(v, ndigits) for v in obj]
    # ``+ 0.0`` turns a rounded ``-0.0`` into ``0.0`` so output never flips sign.
    return round(float(obj), ndigits) + 0.0


def geometry_json(geom: BaseGeometry, ndigits: int = COORD_DECIMALS) -> dict[str, Any]:
    """GeoJSON geometry dict of ``geom`` with RFC 7946 ring orientation and rounded coordinates."""
    if geom.geom_type in ("Polygon", "MultiPolygon"):
        geom = shapely.orient_polygons(geom, exterior_cw=False)
    data = mapping(geom)
    return {"type": data["type"], "coordinates": _round_coords(data["coordinates"], ndigits)}


def write_geojson(path: Path, features: Iterable[Feature], ndigits: int = COORD_DECIMALS) -> int:
    """Write ``(geometry, properties)`` pairs as a FeatureCollection; return how many were written.

    Features keep the order given; properties keep their insertion order.
    """
    lines = []
    for geom, props in features:
        feat = {"type": "Feature", "properties": props, "geometry": geometry_json(geom, ndigits)}
        lines.append(json.dumps(feat, ensure_ascii=False, separators=(",", ":")))
    path.parent.mkdir(parents=True, exist_ok=True)
    body = ",\n".join(lines)
    text = '{"type":"FeatureCollection","features":[\n' + body + ("\n" if lines else "") + "]}\n"
    path.write_text(text, encoding="utf-8")
    return len(lines)


def read_geojson(path: Path) -> list[Feature]:
    """Read a GeoJSON FeatureCollection as ``(geometry, properties)`` pairs (features without geometry skipped)."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    out: list[Feature] = []
    for feat in data.get("features", []):
        if feat.get("geometry"):
            out.append((shape(feat["geometry"]), dict(feat.get("properties") or {})))
    return out
