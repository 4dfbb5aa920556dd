"""Named OSM highway ways -> street features split at intersections and clipped.

A street in OSM is many ways, and a way runs through several intersections.
The layer wants one feature per piece between intersections, so the
synthesiser can node its networks on it and the locator can say "between X
and Y". Pieces are numbered along the way before clipping, so a ``street_id``
such as ``w123-2`` does not change when the clip area changes.
"""
from __future__ import annotations

from collections import Counter
from string import ascii_lowercase
from typing import Any

from shapely.geometry import LineString
from shapely.geometry.base import BaseGeometry
from shapely.prepared import prep

from geo_urp.layer_files.osm_read import NamedWay

ALT_NAME_KEYS = ("alt_name", "official_name", "old_name")


def split_nodes(ways: list[NamedWay]) -> set[int]:
    """Node ids where streets must be split: shared by two ways, or met twice by one way (loops)."""
    ways_per_node: Counter[int] = Counter()
    for way in ways:
        refs = [ref for ref, _, _ in way.nodes]
        ways_per_node.update(set(refs))
        # A node repeated inside one way (a loop closing on itself mid-way) is a junction too.
        inner = Counter(refs[1:-1] if refs and refs[0] == refs[-1] else refs)
        ways_per_node.update({r: 1 for r, k in inner.items() if k > 1})
    return {ref for ref, k in ways_per_node.items() if k > 1}


def split_way(way: NamedWay, cut: set[int]) -> list[LineString]:
    """Pieces of one way between the cut nodes, in the way's direction.

    A degenerate piece comes back as an empty LineString rather than being
    dropped, so the numbering of the following pieces does not shift.
    """
    pieces: list[list[tuple[float, float]]] = [[]]
    last = len(way.nodes) - 1
    for i, (ref, lon, lat) in enumerate(way.nodes):
        pieces[-1].append((lon, lat))
        if 0 < i < last and ref in cut:
            pieces.append([(lon, lat)])
    out = []
    for coords in pieces:
        # Duplicate consecutive points (same node twice) make no geometry.
        uniq = [c for j, c in enumerate(coords) if j == 0 or c != coords[j - 1]]
        out.append(LineString(uniq) if len(uniq) >= 2 else LineString())
    return out


def _lines(geom: BaseGeometry) -> list[LineString]:
    """The non-empty LineStrings in a clip result (points and empties dropped)."""
    if geom.is_empty:
        return []
    if geom.geom_type == "LineString":
        return [geom]
    parts = getattr(geom, "geoms", [])
    return [g for part in parts for g in _lines(part)]


def alt_names(tags: dict[str, str]) -> str | None:
    """``;``-separated alternative names from alt/official/old name tags, None when there are none."""
    name = tags.get("name", "").strip()
    seen: list[str] = []
    for key in ALT_NAME_KEYS:
        for value in (tags.get(key) or "").split(";"):
            value = value.strip()
            if value and value != name and value not in seen:
                seen.append(value)
    return ";".join(seen) or None


def street_features(ways: list[NamedWay], area: BaseGeometry) -> list[tuple[LineString, dict[str, Any]]]:
    """Street pieces inside ``area`` (WGS84) with ``street_id``, ``name``, ``highway``, ``osm_id``, ``alt_names``."""
    cut = split_nodes(ways)
    inside = prep(area)
    features: list[tuple[LineString, dict[str, Any]]] = []
    for way in sorted(ways, key=lambda w: w.way_id):
        base = {"name": way.tags["name"].strip(), "highway": way.tags["highway"], "osm_id": f"w{way.way_id}"}
        alt = alt_names(way.tags)
        if alt:
            base["alt_names"] = alt
        for k, piece in enumerate(split_way(way, cut), start=1):
            if piece.is_empty or not inside.intersects(piece):
                continue
            parts = [piece] if inside.contains(piece) else _lines(piece.intersection(area))
            parts = [p for p in parts if p.length > 0]
            for j, part in enumerate(parts):
                # One piece cut by the clip into several parts: w123-2a, w123-2b, ...
                suffix = "" if len(parts) == 1 else ascii_lowercase[j % 26] * (1 + j // 26)
                features.append((part, {"street_id": f"w{way.way_id}-{k}{suffix}", **base}))
    return features
