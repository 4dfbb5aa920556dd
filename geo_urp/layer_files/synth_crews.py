"""Synthetic crew areas (zones covering the whole boundary) and the crews working them.

The town is cut across its main axis (the principal direction of the street
centres) at the quantiles of the street centres, so each zone has about the
same number of streets. The cuts are straight strips intersected with the
boundary, so the zones tile it with no gap. Each zone gets a lighting, a water,
a roads (and green) and a drains crew; one general/social crew covers all.
"""
from __future__ import annotations

import csv
import io
import random

import numpy as np
import shapely
from shapely.geometry import Polygon
from shapely.geometry.base import BaseGeometry

from geo_urp.layer_files.synth_geo import Town, to_wgs84

CREW_COLUMNS = ("crew_id", "name", "area_ids", "skills", "phone", "email")
#: (skills, Italian team name, e-mail slug) of the crews every zone gets.
ZONE_CREWS = (
    ("lighting", "Illuminazione", "illuminazione"),
    ("water", "Acquedotto", "acquedotto"),
    ("roads green", "Strade e verde", "strade"),
    ("drains", "Fognature", "fognature"),
)


def zone_count(town: Town) -> int:
    """Two zones for a small town, three for a bigger street network."""
    return 3 if len(town.streets) >= 150 else 2


def _zone_names(k: int, north_south: bool) -> list[str]:
    if north_south:
        return {2: ["Zona Nord", "Zona Sud"], 3: ["Zona Nord", "Zona Centro", "Zona Sud"]}[k]
    return {2: ["Zona Ovest", "Zona Est"], 3: ["Zona Ovest", "Zona Centro", "Zona Est"]}[k]


def crew_areas(town: Town, k: int | None = None) -> list[tuple[BaseGeometry, dict[str, str]]]:
    """``k`` zones (WGS84 geometries) with ``area_id`` A1.. and a name, north to south or west to east."""
    k = k or zone_count(town)
    pts = np.array([[s.line.centroid.x, s.line.centroid.y] for s in town.streets])
    centre = pts.mean(axis=0)
    # Principal axis of the street centres: the town's long direction.
    _, vecs = np.linalg.eigh(np.cov((pts - centre).T)) if len(pts) > 2 else (None, np.eye(2))
    axis = vecs[:, -1]
    north_south = abs(axis[1]) >= abs(axis[0])
    # Orient the axis so zones come north first (or west first).
    if (north_south and axis[1] > 0) or (not north_south and axis[0] < 0):
        axis = -axis
    perp = np.array([-axis[1], axis[0]])
    t = (pts - centre) @ axis
    cuts = [float(np.quantile(t, q / k)) for q in range(1, k)]
    minx, miny, maxx, maxy = town.boundary.bounds
    reach = 2.0 * max(maxx - minx, maxy - miny, 1.0) + float(np.abs(t).max() if len(t) else 0.0)
    edges = [-reach] + cuts + [reach]
    names = _zone_names(k, north_south)
    zones = []
    for i in range(k):
        a, b = edges[i], edges[i + 1]
        corners = [centre + a * axis - reach * perp, centre + b * axis - reach * perp,
                   centre + b * axis + reach * perp, centre + a * axis + reach * perp]
        strip = to_wgs84(Polygon([tuple(c) for c in corners]).segmentize(reach / 50))
        # Cut in WGS84 against the original boundary: the zones tile it exactly.
        zone = shapely.make_valid(town.boundary_wgs84.intersection(strip))
        polys = [g for g in getattr(zone, "geoms", [zone]) if g.geom_type in ("Polygon", "MultiPolygon")]
        zones.append((shapely.union_all(polys), {"area_id": f"A{i + 1}", "name": names[i]}))
    return zones


def crews_csv(area_rows: list[dict[str, str]], town_slug: str, rng: random.Random) -> str:
    """``crews.csv`` text: four crews per zone plus a general/social crew for all zones (fictional contacts)."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(CREW_COLUMNS)
    n = 0

    def row(name: str, areas: str, skills: str, slug: str) -> None:
        nonlocal n
        n += 1
        phone = f"+39 0461 {rng.randint(100, 999)} {rng.randint(100, 999)}"
        writer.writerow((f"CR{n:02d}", name, areas, skills, phone, f"{slug}@{town_slug}.example.org"))

    for area in area_rows:
        zone = area["name"].replace("Zona ", "").lower()
        for skills, label, slug in ZONE_CREWS:
            row(f"Squadra {label} {area['name']}", area["area_id"], skills, f"{slug}.{zone}")
    row("Servizi generali e sociali", " ".join(a["area_id"] for a in area_rows), "general social", "servizi")
    return buf.getvalue()
