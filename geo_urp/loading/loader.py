"""``layers load``: a folder of layer files into PostGIS, all or nothing.

The files are read and checked first; then, in one transaction, the
municipality's previous layers are replaced and its topology rebuilt. Any
failure rolls back and leaves the previous layers in place.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import shapely
from pyproj import CRS, Transformer
from shapely.geometry import MultiPolygon
from shapely.geometry.base import BaseGeometry
from sqlalchemy import select
from sqlalchemy.orm import Session

from geo_urp.errors import LayerLoadError
from geo_urp.loading import crews as crews_io
from geo_urp.loading import write_layers
from geo_urp.loading.layers import CREWS_FILE, CREWS_WITHOUT, LAYERS, MANDATORY
from geo_urp.loading.readers import find_layer_files, read_layer
from geo_urp.loading.validate import LayerResult, looks_like_wrong_crs, validate_layer
from geo_urp.models import METRIC_SRID, Municipality

SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")


@dataclass
class LoadOptions:
    """Tolerances and switches of one load (defaults from settings)."""

    boundary_margin_m: float = 1000.0
    node_tolerance_m: float = 0.5
    valve_tolerance_m: float = 1.0
    source_tolerance_m: float = 25.0
    strict: bool = False


@dataclass
class LoadReport:
    """What a load read, kept, rejected and built."""

    slug: str
    name: str
    results: dict[str, LayerResult] = field(default_factory=dict)
    off: list[str] = field(default_factory=list)
    topology: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    margin_m: float = 1000.0

    def summary(self) -> dict:
        """The JSON summary stored on the municipality."""
        return {
            "layers": {k: {"read": r.read, "kept": r.kept, "rejected": len(r.rejections),
                           "outside_boundary": r.outside} for k, r in self.results.items()},
            "off": self.off, "topology": self.topology, "problems": self.problems,
        }

    def lines(self) -> list[str]:
        """A human-readable report, one line per fact."""
        out = [f"municipality {self.slug} ({self.name})",
               f"  {'layer':<18} {'read':>6} {'kept':>6} {'rejected':>8}"]
        for name, r in self.results.items():
            out.append(f"  {name:<18} {r.read:>6} {r.kept:>6} {len(r.rejections):>8}")
        for name, r in self.results.items():
            if r.rejections:
                out.append(f"  {name}: rejected")
                out += [f"    {rej}" for rej in r.rejections[:50]]
                if len(r.rejections) > 50:
                    out.append(f"    ... and {len(r.rejections) - 50} more")
            for note in r.notes[:20]:
                out.append(f"  {name}: {note}")
            if r.outside_note(self.margin_m):
                out.append(f"  {name}: {r.outside_note(self.margin_m)}")
        out += [f"  topology: {t}" for t in self.topology]
        out += [f"  warning: {p}" for p in self.problems[:50]]
        out += [f"  off: {o}" for o in self.off]
        return out


def _check_slug(slug: str) -> None:
    if not SLUG.match(slug):
        raise LayerLoadError(
            f"municipality slug {slug!r} must be lower-case letters, digits and '-', at most 64 characters")


def _boundary_shape(result: LayerResult) -> MultiPolygon:
    if not result.rows:
        raise LayerLoadError("boundary layer has no usable polygon: " +
                             "; ".join(str(r) for r in result.rejections) or "it is empty")
    merged = shapely.union_all([r["geometry"] for r in result.rows])
    return merged if isinstance(merged, MultiPolygon) else MultiPolygon([merged])


def _check_boundary_place(boundary: BaseGeometry, path: Path) -> None:
    """Refuse a boundary that cannot lie where the metric CRS is usable (a wrong CRS)."""
    area = CRS.from_epsg(METRIC_SRID).area_of_use
    to_wgs = Transformer.from_crs(METRIC_SRID, 4326, always_xy=True)
    lon, lat = to_wgs.transform(*boundary.centroid.coords[0])
    # One zone's width of slack: towns just across a UTM zone edge are fine.
    if not (area.west - 6 <= lon <= area.east + 6 and area.south - 6 <= lat <= area.north + 6):
        raise LayerLoadError(
            f"{path.name}: the boundary lies at lon {lon:.2f}, lat {lat:.2f}, outside the area "
            f"EPSG:{METRIC_SRID} serves ({area.name}): is the file's CRS right?")


def read_folder(folder: Path, options: LoadOptions) -> tuple[dict[str, LayerResult], list[dict] | None, MultiPolygon, dict]:
    """Read and validate every layer of ``folder``; raise ``LayerLoadError`` on a file that fails."""
    files = find_layer_files(folder)
    missing = [m for m in MANDATORY if m not in files]
    if missing:
        raise LayerLoadError(
            f"{folder}: mandatory layer(s) missing: " + ", ".join(f"{m}.geojson/.gpkg/.shp" for m in missing))
    results: dict[str, LayerResult] = {}
    bres = validate_layer(LAYERS["boundary"], read_layer(files["boundary"], METRIC_SRID), None, 0)
    results["boundary"] = bres
    boundary = _boundary_shape(bres)
    _check_boundary_place(boundary, files["boundary"])
    for name, path in files.items():
        if name == "boundary":
            continue
        res = validate_layer(LAYERS[name], read_layer(path, METRIC_SRID), boundary, options.boundary_margin_m)
        if looks_like_wrong_crs(res):
            raise LayerLoadError(
                f"{path.name}: {res.read - res.kept} of {res.read} features lie far outside the boundary: "
                "is the file's declared CRS right?")
        results[name] = res
    crew_rows = None
    if (folder / CREWS_FILE).exists():
        area_ids = {r["area_id"] for r in results["crew_areas"].rows} if "crew_areas" in results else set()
        results["crews"] = crews_io.validate_crews(folder / CREWS_FILE, area_ids)
        crew_rows = results["crews"].rows
    return results, crew_rows, boundary, files


def load_municipality(session: Session, folder: Path, slug: str, name: str | None = None,
                      options: LoadOptions | None = None) -> LoadReport:
    """Load or replace the layers of municipality ``slug`` from ``folder`` in ``session``.

    Nothing is committed here: the caller commits, or rolls back on error, so a
    failed load leaves the previous layers untouched.
    """
    options = options or LoadOptions()
    _check_slug(slug)
    results, crew_rows, boundary, files = read_folder(Path(folder), options)
    if options.strict:
        bad = [f"{layer}: {rej}" for layer, r in results.items() for rej in r.rejections]
        if bad:
            raise LayerLoadError(f"{len(bad)} feature(s) rejected and --strict is set; nothing loaded",
                                 details=bad)
    brow = results["boundary"].rows[0]
    name = name or brow.get("name") or slug
    report = LoadReport(slug, name, results, margin_m=options.boundary_margin_m)
    report.off = [f"{spec.name}: {spec.without}" for spec in LAYERS.values()
                  if spec.without and spec.name not in files]
    if crew_rows is None:
        report.off.append(f"crews: {CREWS_WITHOUT}")

    muni = session.scalar(select(Municipality).where(Municipality.slug == slug).with_for_update())
    if muni is None:
        muni = Municipality(slug=slug, name=name)
        session.add(muni)
        session.flush()
    muni.name = name
    muni.istat_code = brow.get("istat_code")
    muni.boundary = write_layers.to_wkb(boundary)
    muni.boundary_approximate = str(brow["props"].get("approximate", "")).lower() in ("true", "1", "yes")
    write_layers.clear_layers(session, muni.id)
    write_layers.insert_layers(session, muni.id, results)
    report.topology += write_layers.build_lighting(session, muni.id, report.problems)
    report.topology += write_layers.build_water(session, muni.id, results, options, report.problems)
    report.problems += write_layers.check_addresses(session, muni.id)
    muni.layer_summary = report.summary()
    muni.layers_loaded_at = datetime.now(timezone.utc)
    session.flush()
    return report
