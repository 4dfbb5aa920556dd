"""One pass over an OSM file collecting what the layer importer needs.

osmium streams the file; objects are only valid inside the callbacks, so
everything is copied into plain Python structures here. The geometry of
multipolygon relations (building relations, municipal boundaries) is assembled
by osmium's area handler; simple ways are built from their node locations.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import osmium
import shapely.wkb
from shapely.geometry import LineString, Point, Polygon
from shapely.geometry.base import BaseGeometry

from geo_urp.layer_files.osm_landmarks import landmark_kind

#: highway values that are streets or paths someone could name in a report.
#: Not here on purpose: proposed/construction/abandoned (do not exist yet or any
#: more), platform/bus_stop/corridor/elevator/raceway (not streets).
STREET_HIGHWAYS = frozenset({
    "motorway", "trunk", "primary", "secondary", "tertiary", "unclassified", "residential",
    "motorway_link", "trunk_link", "primary_link", "secondary_link", "tertiary_link",
    "living_street", "pedestrian", "service", "track", "road", "footway", "path",
    "cycleway", "steps", "bridleway",
})


@dataclass
class NamedWay:
    """A named highway way: its tags and its nodes as ``(node_id, lon, lat)``."""

    way_id: int
    tags: dict[str, str]
    nodes: list[tuple[int, float, float]]


@dataclass
class TaggedObject:
    """A node, way or relation with interesting tags and its geometry (Point, line or polygon)."""

    osm_id: str  # "n123", "w123" or "r123"
    tags: dict[str, str]
    geom: BaseGeometry


@dataclass
class OsmData:
    """Everything the importer takes from the file."""

    ways: list[NamedWay] = field(default_factory=list)
    unnamed_highways: int = 0
    objects: list[TaggedObject] = field(default_factory=list)  # addresses and landmark candidates
    boundaries: list[TaggedObject] = field(default_factory=list)  # admin_level 8 areas
    lamps: list[TaggedObject] = field(default_factory=list)
    building_points: list[tuple[float, float]] = field(default_factory=list)


def is_interesting(tags: dict[str, str]) -> bool:
    """Whether the object gives an address or is a landmark."""
    return ("addr:housenumber" in tags and "addr:street" in tags) or landmark_kind(tags) is not None


class _Collector(osmium.SimpleHandler):
    """osmium handler filling an :class:`OsmData`."""

    def __init__(self) -> None:
        super().__init__()
        self.data = OsmData()
        self._wkb = osmium.geom.WKBFactory()

    def node(self, n: Any) -> None:
        tags = {t.k: t.v for t in n.tags}
        if not tags or not n.location.valid():
            return
        pt = Point(n.location.lon, n.location.lat)
        if tags.get("highway") == "street_lamp":
            self.data.lamps.append(TaggedObject(f"n{n.id}", tags, pt))
        if is_interesting(tags):
            self.data.objects.append(TaggedObject(f"n{n.id}", tags, pt))

    def way(self, w: Any) -> None:
        tags = {t.k: t.v for t in w.tags}
        if not tags:
            return
        is_street = tags.get("highway") in STREET_HIGHWAYS
        interesting = is_interesting(tags)
        if not (is_street or interesting or "building" in tags):
            return
        # Extracts cut at a bbox may lack some node locations: keep the ones present.
        nodes = [(nd.ref, nd.lon, nd.lat) for nd in w.nodes if nd.location.valid()]
        if is_street:
            if tags.get("name"):
                self.data.ways.append(NamedWay(w.id, tags, nodes))
            else:
                self.data.unnamed_highways += 1
        if len(nodes) < 2:
            return
        coords = [(lon, lat) for _, lon, lat in nodes]
        if "building" in tags:
            xs, ys = zip(*coords)
            self.data.building_points.append((sum(xs) / len(xs), sum(ys) / len(ys)))
        if interesting and not is_street:
            closed = w.is_closed() and len(coords) >= 4
            geom: BaseGeometry = Polygon(coords) if closed else LineString(coords)
            self.data.objects.append(TaggedObject(f"w{w.id}", tags, geom))

    def area(self, a: Any) -> None:
        # Closed ways are handled in way(); here only relations (multipolygons, boundaries).
        if a.from_way():
            return
        tags = {t.k: t.v for t in a.tags}
        admin8 = tags.get("boundary") == "administrative" and tags.get("admin_level") == "8"
        if not (admin8 or is_interesting(tags) or "building" in tags):
            return
        try:
            geom = shapely.wkb.loads(self._wkb.create_multipolygon(a), hex=True)
        except RuntimeError:  # incomplete or broken multipolygon: nothing usable
            return
        obj = TaggedObject(f"r{a.orig_id()}", tags, geom)
        if admin8:
            self.data.boundaries.append(obj)
        elif is_interesting(tags):
            self.data.objects.append(obj)
        if "building" in tags and not admin8:
            c = geom.centroid
            self.data.building_points.append((c.x, c.y))


def read_osm(path: Path) -> OsmData:
    """Read an ``.osm``/``.osm.pbf`` file and collect streets, addresses, landmarks, boundaries, lamps."""
    collector = _Collector()
    # The flex_mem index keeps node locations in memory; enough for town-sized extracts.
    collector.apply_file(str(path), locations=True, idx="flex_mem")
    return collector.data
