"""Reading layer files (GeoJSON, GeoPackage, Shapefile) with pyogrio into the metric CRS.

A file that cannot be read, or whose CRS is missing or plainly wrong, fails the
whole load with a message naming the file: nothing is guessed.
"""
from __future__ import annotations

import csv
from pathlib import Path

import geopandas as gpd
import pyogrio
from pyproj import CRS

from geo_urp.errors import LayerLoadError
from geo_urp.loading.layers import CREWS_FILE, LAYERS

EXTENSIONS = (".geojson", ".gpkg", ".shp")


def find_layer_files(folder: Path) -> dict[str, Path]:
    """Map each layer name to its file in ``folder``; two files for one layer is an error."""
    if not folder.is_dir():
        raise LayerLoadError(f"layer folder {folder} does not exist or is not a folder")
    found: dict[str, Path] = {}
    for name in LAYERS:
        candidates = [folder / f"{name}{ext}" for ext in EXTENSIONS if (folder / f"{name}{ext}").exists()]
        if len(candidates) > 1:
            raise LayerLoadError(
                f"layer {name!r} has {len(candidates)} files ({', '.join(p.name for p in candidates)}): keep one"
            )
        if candidates:
            found[name] = candidates[0]
    return found


def read_layer(path: Path, target_srid: int) -> gpd.GeoDataFrame:
    """Read one layer file and reproject it to ``target_srid``.

    GeoJSON is WGS84 by definition (RFC 7946); other formats must declare a CRS.
    Coordinates that cannot be longitude/latitude in a file said to be in degrees
    mean the declared CRS is wrong, and the file is refused.
    """
    try:
        gdf = pyogrio.read_dataframe(path)
    except Exception as exc:  # pyogrio raises several GDAL error types
        raise LayerLoadError(f"cannot read {path.name}: {exc}") from exc
    if not isinstance(gdf, gpd.GeoDataFrame) or gdf.geometry is None:
        raise LayerLoadError(f"{path.name} has no geometry column")
    if gdf.crs is None:
        if path.suffix.lower() == ".geojson":
            gdf = gdf.set_crs(4326)
        else:
            raise LayerLoadError(
                f"{path.name} declares no CRS (for a Shapefile, the .prj file is missing): "
                "cannot tell where its coordinates are"
            )
    crs = CRS.from_user_input(gdf.crs)
    present = gdf.geometry[~gdf.geometry.is_empty & gdf.geometry.notna()]
    if crs.is_geographic and len(present):
        minx, miny, maxx, maxy = present.total_bounds
        if minx < -180 or maxx > 180 or miny < -90 or maxy > 90:
            raise LayerLoadError(
                f"{path.name} says its CRS is {crs.to_string()} (degrees) but has coordinates "
                f"up to ({maxx:.0f}, {maxy:.0f}): the declared CRS is wrong"
            )
    if crs.to_epsg() != target_srid:
        gdf = gdf.to_crs(target_srid)
    return gdf


def read_crews(path: Path) -> list[dict[str, str]]:
    """Read ``crews.csv`` as a list of rows; an unreadable file fails the load."""
    try:
        with path.open(newline="", encoding="utf-8-sig") as fh:
            reader = csv.DictReader(fh)
            if reader.fieldnames is None:
                raise LayerLoadError(f"{CREWS_FILE} is empty")
            return [dict(row) for row in reader]
    except UnicodeDecodeError as exc:
        raise LayerLoadError(f"cannot read {CREWS_FILE}: not UTF-8 text ({exc.reason})") from exc
    except csv.Error as exc:
        raise LayerLoadError(f"cannot read {CREWS_FILE}: {exc}") from exc
