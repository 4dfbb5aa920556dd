"""Build a town's layer files (SPEC §2) from an OpenStreetMap extract.

``from_osm`` reads an ``.osm.pbf`` (or ``.osm``) file, keeps what lies inside a
clip area (a bounding box or a polygon file) and the municipal boundary, and
writes ``streets``, ``addresses``, ``landmarks``, ``boundary`` and
``street_lamps`` as RFC 7946 GeoJSON. The output is derived from OSM and so is
under the ODbL ("© OpenStreetMap contributors").
"""
from __future__ import annotations

import math
from collections import Counter
from pathlib import Path
from typing import Any, Union

import numpy as np
import shapely
from pyproj import Transformer
from shapely.geometry import MultiPoint, Point, box
from shapely.geometry.base import BaseGeometry
from shapely.prepared import prep

from geo_urp.layer_files.osm_io import Feature, write_geojson
from geo_urp.layer_files.osm_landmarks import landmark_kind, landmark_names
from geo_urp.layer_files.osm_read import OsmData, TaggedObject, read_osm
from geo_urp.layer_files.osm_streets import street_features

BBox = tuple[float, float, float, float]
Clip = Union[BBox, str, Path, BaseGeometry]

#: Buffer around the built-up area when the extract has no municipal boundary.
HULL_BUFFER_M = 150.0
#: An unnamed landmark this close to one of the same kind is the same place mapped twice.
DUPLICATE_RADIUS_M = 100.0


def parse_clip(text: str) -> BBox | Path:
    """Parse a ``--clip`` value: ``"minlon,minlat,maxlon,maxlat"`` or the path of a polygon file."""
    parts = [p.strip() for p in text.split(",")]
    if len(parts) == 4:
        try:
            minlon, minlat, maxlon, maxlat = (float(p) for p in parts)
        except ValueError:
            pass
        else:
            if not (-180 <= minlon < maxlon <= 180 and -90 <= minlat < maxlat <= 90):
                raise ValueError(f"bad bounding box {text!r}: expected minlon,minlat,maxlon,maxlat in degrees")
            return (minlon, minlat, maxlon, maxlat)
    path = Path(text)
    if not path.is_file():
        raise ValueError(f"clip {text!r} is neither minlon,minlat,maxlon,maxlat nor an existing polygon file")
    return path


def clip_geometry(clip: Clip) -> BaseGeometry:
    """The clip area as a WGS84 (lon/lat) polygon."""
    if isinstance(clip, BaseGeometry):
        return clip
    if isinstance(clip, (tuple, list)):
        if len(clip) != 4:
            raise ValueError("a bounding box needs 4 numbers: minlon, minlat, maxlon, maxlat")
        return box(*(float(v) for v in clip))
    parsed = parse_clip(str(clip))
    if isinstance(parsed, tuple):
        return box(*parsed)
    import geopandas as gpd  # only needed for polygon files

    frame = gpd.read_file(parsed)
    if frame.crs is not None:
        frame = frame.to_crs(4326)
    area = shapely.make_valid(frame.geometry.union_all())
    if area.is_empty or area.area == 0:
        raise ValueError(f"clip file {parsed} holds no polygon")
    return area


def metric_transformers(lon: float, lat: float) -> tuple[Transformer, Transformer]:
    """WGS84 -> local UTM zone and back, for buffering in metres anywhere on Earth."""
    zone = int((lon + 180) // 6) + 1
    epsg = (32600 if lat >= 0 else 32700) + zone
    fwd = Transformer.from_crs(4326, epsg, always_xy=True)
    back = Transformer.from_crs(epsg, 4326, always_xy=True)
    return fwd, back


def reproject(geom: BaseGeometry, tr: Transformer) -> BaseGeometry:
    """``geom`` with every coordinate passed through ``tr``."""
    return shapely.transform(geom, lambda xy: np.column_stack(tr.transform(xy[:, 0], xy[:, 1])))


def as_point(geom: BaseGeometry) -> Point:
    """A point standing for a node, a building outline or an open way."""
    if geom.geom_type == "Point":
        return geom
    if geom.geom_type in ("LineString", "MultiLineString"):
        return geom.interpolate(0.5, normalized=True)
    if not geom.is_valid:
        geom = shapely.make_valid(geom)
    return geom.representative_point()


def _id_key(osm_id: str) -> tuple[int, int]:
    """Sort key putting nodes, then ways, then relations, each by numeric id."""
    return ("nwr".index(osm_id[0]), int(osm_id[1:]))


def _metres(a: Point, b: Point) -> float:
    """Approximate distance in metres between two lon/lat points (equirectangular; fine at town scale)."""
    k = math.cos(math.radians((a.y + b.y) / 2))
    return 111_320.0 * math.hypot((a.x - b.x) * k, a.y - b.y)


def _is_address(tags: dict[str, str]) -> bool:
    return bool(tags.get("addr:street", "").strip() and tags.get("addr:housenumber", "").strip())


def choose_boundary(data: OsmData, clip: BaseGeometry, town: str | None) -> TaggedObject | None:
    """The admin_level 8 boundary of the town: named ``town``, else the one holding the clip's centre."""
    if town:
        cands = [b for b in data.boundaries if b.tags.get("name", "").casefold() == town.casefold()]
    else:
        centre = clip.representative_point()
        cands = [b for b in data.boundaries if b.geom.contains(centre)]
    if not cands:
        return None
    return max(cands, key=lambda b: (b.geom.intersection(clip).area, -_id_key(b.osm_id)[1]))


def hull_boundary(data: OsmData, clip: BaseGeometry) -> BaseGeometry:
    """Approximate boundary: concave hull of buildings and addresses in the clip, buffered, cut to the clip."""
    inside = prep(clip)
    pts = [Point(p) for p in data.building_points]
    pts += [as_point(o.geom) for o in data.objects if _is_address(o.tags)]
    pts = [p for p in pts if inside.contains(p)]
    if len(pts) < 3:
        return clip  # nothing built: the clip is the best guess there is
    c = clip.centroid
    fwd, back = metric_transformers(c.x, c.y)
    metric = reproject(MultiPoint(pts), fwd)
    # A concave hull follows the built-up area better than a convex one in valleys.
    hull = shapely.concave_hull(metric, ratio=0.3).buffer(HULL_BUFFER_M)
    return reproject(hull, back).intersection(clip)


def _address_features(objects: list[TaggedObject], area: BaseGeometry) -> list[Feature]:
    inside = prep(area)
    out: list[Feature] = []
    for obj in sorted((o for o in objects if _is_address(o.tags)), key=lambda o: _id_key(o.osm_id)):
        pt = as_point(obj.geom)
        if not inside.contains(pt):
            continue
        # "12;14" is two addresses on one object; anything else is kept exactly as written.
        numbers = [n.strip() for n in obj.tags["addr:housenumber"].split(";") if n.strip()]
        for i, number in enumerate(numbers, start=1):
            props: dict[str, Any] = {
                "address_id": obj.osm_id if len(numbers) == 1 else f"{obj.osm_id}-{i}",
                "street": obj.tags["addr:street"].strip(),
                "number": number,
            }
            if obj.tags.get("addr:postcode"):
                props["postcode"] = obj.tags["addr:postcode"].strip()
            out.append((pt, props))
    return out


def _landmark_features(objects: list[TaggedObject], area: BaseGeometry) -> list[Feature]:
    inside = prep(area)
    found: list[tuple[Point, dict[str, Any]]] = []
    for obj in sorted(objects, key=lambda o: _id_key(o.osm_id)):
        kind = landmark_kind(obj.tags)
        if kind is None:
            continue
        pt = as_point(obj.geom)
        if not inside.contains(pt):
            continue
        name, aliases, generic = landmark_names(kind, obj.tags)
        found.append((pt, {"landmark_id": obj.osm_id, "name": name, "kind": kind,
                           "aliases": ";".join(aliases), "generic_name": generic}))
    # The same town hall is often both a node and a building: an unnamed copy
    # near a kept landmark of the same kind is dropped (named ones win).
    kept = [f for f in found if not f[1]["generic_name"]]
    for pt, props in (f for f in found if f[1]["generic_name"]):
        if not any(q["kind"] == props["kind"] and _metres(pt, p) < DUPLICATE_RADIUS_M for p, q in kept):
            kept.append((pt, props))
    return sorted(kept, key=lambda f: _id_key(f[1]["landmark_id"]))


def _lamp_features(lamps: list[TaggedObject], area: BaseGeometry) -> list[Feature]:
    inside = prep(area)
    out: list[Feature] = []
    for lamp in sorted(lamps, key=lambda o: _id_key(o.osm_id)):
        if inside.contains(lamp.geom):
            props = {"osm_id": lamp.osm_id}
            if lamp.tags.get("ref"):
                props["ref"] = lamp.tags["ref"]
            out.append((lamp.geom, props))
    return out


def from_osm(pbf_path: str | Path, clip: Clip, outdir: str | Path, town: str | None = None) -> dict[str, int]:
    """Write the OSM-derived layer files of one town into ``outdir``; return feature counts per layer.

    ``clip`` is a ``(minlon, minlat, maxlon, maxlat)`` box, a polygon file or a
    shapely geometry (WGS84). ``town`` picks the municipal boundary by name;
    without it the boundary holding the clip's centre is used. Everything is
    kept to the clip area intersected with that boundary.
    """
    area = clip_geometry(clip)
    data = read_osm(Path(pbf_path))
    outdir = Path(outdir)
    found = choose_boundary(data, area, town)
    if found is not None:
        boundary_geom = found.geom
        bprops: dict[str, Any] = {"name": found.tags["name"]}
        if found.tags.get("ref:ISTAT"):
            bprops["istat_code"] = found.tags["ref:ISTAT"]
        bprops.update({"approximate": False, "osm_id": found.osm_id})
        work_area = area.intersection(boundary_geom)
    else:
        boundary_geom = hull_boundary(data, area)
        cities = Counter(o.tags["addr:city"] for o in data.objects if o.tags.get("addr:city")
                         and area.contains(as_point(o.geom)))
        name = town or (cities.most_common(1)[0][0] if cities else "Unknown")
        bprops = {"name": name, "approximate": True}
        work_area = boundary_geom

    streets = street_features(data.ways, work_area)
    addresses = _address_features(data.objects, work_area)
    landmarks = _landmark_features(data.objects, work_area)
    lamps = _lamp_features(data.lamps, work_area)
    return {
        "streets": write_geojson(outdir / "streets.geojson", streets),
        "addresses": write_geojson(outdir / "addresses.geojson", addresses),
        "landmarks": write_geojson(outdir / "landmarks.geojson", landmarks),
        "boundary": write_geojson(outdir / "boundary.geojson", [(boundary_geom, bprops)]),
        "street_lamps": write_geojson(outdir / "street_lamps.geojson", lamps),
        "unnamed_highways_dropped": data.unnamed_highways,
        "boundary_approximate": int(found is None),
    }
