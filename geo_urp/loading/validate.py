"""Checking each feature of a layer against its contract (SPEC §2).

A bad feature is rejected with a reason that names it (missing id, duplicate
id, wrong geometry kind, unrepairable geometry, far outside the boundary); the
rest of the layer is kept. Geometry work here is per-feature shapely, vectorised
where it counts (the boundary test), before anything touches the database.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from geo_urp.loading.layers import LayerSpec

# A layer whose features mostly lie far from the town is in the wrong CRS.
WRONG_CRS_SHARE = 0.5
# The integer columns (house-number ranges) are PostgreSQL integers.
INTEGER_RANGE = (-2**31, 2**31 - 1)


@dataclass
class Rejection:
    """One feature left out, and why."""

    feature: int  # 1-based position in the file
    feature_id: str | None
    reason: str

    def __str__(self) -> str:
        who = f"feature {self.feature}" + (f" ({self.feature_id})" if self.feature_id else "")
        return f"{who}: {self.reason}"


@dataclass
class LayerResult:
    """The outcome of validating one layer: rows to store, rejections, notes."""

    layer: str
    read: int = 0
    rows: list[dict] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    # Kept features that lie outside the boundary, within the margin, and the farthest one (m).
    outside: int = 0
    outside_max_m: float = 0.0

    @property
    def kept(self) -> int:
        return len(self.rows)

    def outside_note(self, margin_m: float) -> str | None:
        """A sentence about the kept features outside the boundary, None when there are none."""
        if not self.outside:
            return None
        return (f"{self.outside} kept feature(s) lie outside the boundary, the farthest "
                f"{self.outside_max_m:.0f} m (within the {margin_m:.0f} m margin)")


def _is_blank(value) -> bool:
    """No value: None, a number that is not finite (NaN, infinity), or blank text."""
    if value is None:
        return True
    if isinstance(value, (float, np.floating)) and not math.isfinite(value):
        return True
    return isinstance(value, str) and not value.strip()


def _clean(value):
    """A JSON-friendly version of a pandas cell: numpy values as Python ones, a list (a JSON
    array in the file) as a list of such values, and no number that is not finite (JSON has none)."""
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if _is_blank(value):  # None, blank text, and numbers that are not finite
        return None
    if hasattr(value, "item"):  # numpy scalar
        return value.item()
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    return value


def _is_listed(value) -> bool:
    """Whether a cell holds a JSON array or object, where one value is expected."""
    return isinstance(value, (np.ndarray, list, tuple, dict))


def _single(value):
    """A one-value array as that value. GDAL reads a column as a list type for every feature
    when one feature's value is an array, so the others' values arrive as arrays of one."""
    if isinstance(value, (np.ndarray, list, tuple)) and len(value) == 1:
        return value[0]
    return value


def _as_text(value) -> str:
    value = _clean(value)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _fix_geometry(geom: BaseGeometry, allowed: tuple[str, ...]) -> tuple[BaseGeometry | None, str | None, str | None]:
    """Return (geometry, note, rejection reason) for one feature's geometry."""
    if geom is None or geom.is_empty:
        return None, None, "has no geometry"
    if geom.has_z:
        geom = shapely.force_2d(geom)
    if not np.isfinite(shapely.get_coordinates(geom)).all():
        return None, None, "has a coordinate that is not a finite number (NaN or infinity)"
    if geom.geom_type == "MultiLineString" and "LineString" in allowed and "MultiLineString" not in allowed:
        merged = shapely.line_merge(geom)
        if merged.geom_type == "LineString":
            geom = merged
    if geom.geom_type not in allowed:
        return None, None, f"geometry is {geom.geom_type}, expected {' or '.join(allowed)}"
    note = None
    if not geom.is_valid:
        why = shapely.is_valid_reason(geom)
        repaired = shapely.make_valid(geom)
        if repaired.geom_type == "GeometryCollection":
            parts = [g for g in repaired.geoms if g.geom_type in allowed or
                     g.geom_type.replace("Multi", "") in allowed]
            repaired = shapely.union_all(parts) if parts else repaired
        same_kind = repaired.geom_type in allowed or (
            repaired.geom_type.startswith("Multi") and repaired.geom_type[5:] in allowed
            and any(a.startswith("Multi") for a in allowed))
        if repaired.is_empty or not same_kind:
            return None, None, f"invalid geometry ({why}) cannot be repaired into a {allowed[0]}"
        geom, note = repaired, f"repaired invalid geometry ({why})"
    if geom.geom_type in ("LineString", "MultiLineString") and geom.length == 0:
        return None, None, "line has zero length"
    return geom, note, None


def validate_layer(spec: LayerSpec, gdf: gpd.GeoDataFrame, boundary: BaseGeometry | None,
                   margin_m: float) -> LayerResult:
    """Validate every feature of one layer; ``boundary`` is None for the boundary itself."""
    result = LayerResult(spec.name, read=len(gdf))
    known = set(spec.required) | set(spec.optional)
    extra_cols = [c for c in gdf.columns if c != gdf.geometry.name and c not in known]
    seen: dict[str, int] = {}
    near = boundary.buffer(margin_m) if boundary is not None else None
    if near is not None:
        shapely.prepare(near)
        shapely.prepare(boundary)
    records = gdf.to_dict("records")
    geoms = list(gdf.geometry)
    single = tuple(dict.fromkeys((*spec.required, *spec.integer_fields)))
    for pos, (rec, geom) in enumerate(zip(records, geoms), start=1):
        rec.update({f: _single(rec[f]) for f in single if f in rec})
        raw_id = rec.get(spec.id_field) if spec.id_field else None
        fid = _as_text(raw_id) if not _is_listed(raw_id) and not _is_blank(raw_id) else None
        listed = [f for f in single if _is_listed(rec.get(f))]
        if listed:
            result.rejections.append(Rejection(pos, fid, f"{', '.join(listed)} must be one value, not a list"))
            continue
        missing = [f for f in spec.required if _is_blank(rec.get(f))]
        if missing:
            result.rejections.append(Rejection(pos, fid, f"missing {', '.join(missing)}"))
            continue
        geom, note, problem = _fix_geometry(geom, spec.geometry)
        if problem:
            result.rejections.append(Rejection(pos, fid, problem))
            continue
        if near is not None and not near.intersects(geom):
            km = boundary.distance(geom) / 1000
            result.rejections.append(Rejection(pos, fid, f"lies {km:.1f} km outside the boundary"))
            continue
        outside_m = boundary.distance(geom) if near is not None and not boundary.intersects(geom) else 0.0
        if fid is not None:
            if fid in seen:
                result.rejections.append(
                    Rejection(pos, fid, f"duplicate {spec.id_field} {fid!r} (first at feature {seen[fid]})"))
                continue
            seen[fid] = pos
        row = {f: _as_text(rec[f]) for f in spec.required}
        for f in spec.optional:
            if f in rec and not _is_blank(rec[f]):
                # house numbers as read: _coerce_integers says why one is not a whole number
                row[f] = rec[f] if f in spec.integer_fields else _clean(rec[f])
        bad_int = _coerce_integers(row, spec.integer_fields)
        if bad_int:
            result.rejections.append(Rejection(pos, fid, bad_int))
            continue
        row["props"] = {c: _clean(rec[c]) for c in extra_cols if not _is_blank(rec[c])}
        row["geometry"] = geom
        if outside_m:
            result.outside += 1
            result.outside_max_m = max(result.outside_max_m, outside_m)
        if note:
            result.notes.append(f"feature {pos}" + (f" ({fid})" if fid else "") + f": {note}")
        result.rows.append(row)
    return result


def _coerce_integers(row: dict, fields: tuple[str, ...]) -> str | None:
    """Turn number-range fields into ints in place; return a reason when one is not a number."""
    for f in fields:
        if f in row and row[f] is not None:
            try:
                value = float(row[f])
            except (TypeError, ValueError):
                return f"{f} must be a whole number, not {row[f]!r}"
            if not value.is_integer():
                return f"{f} must be a whole number, not {row[f]!r}"
            if not INTEGER_RANGE[0] <= value <= INTEGER_RANGE[1]:
                return f"{f} must be a whole number from {INTEGER_RANGE[0]} to {INTEGER_RANGE[1]}, not {row[f]!r}"
            row[f] = int(value)
    return None


def looks_like_wrong_crs(result: LayerResult) -> bool:
    """True when most features of a layer were rejected for lying outside the boundary."""
    outside = sum(1 for r in result.rejections if "outside the boundary" in r.reason)
    return result.read > 0 and outside / result.read > WRONG_CRS_SHARE
