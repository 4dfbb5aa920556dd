"""Layers as GeoJSON in WGS84, straight from PostGIS.

PostGIS does the reprojection and the serialisation (``ST_AsGeoJSON`` with
``jsonb_build_object``), so a layer of thousands of features is one query and
no geometry passes through Python objects.
"""
from __future__ import annotations

import json

from sqlalchemy import text
from sqlalchemy.orm import Session

from geo_urp.errors import NotFound
from geo_urp.language import N_
from geo_urp.loading import layer_cache

# layer -> (table, id column, properties to publish). Only layer data: no report, no person.
MAP_LAYERS: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "crew_areas": ("crew_areas", "area_id", ("area_id", "name")),
    "streets": ("streets", "street_id", ("street_id", "name")),
    "water_pipes": ("water_pipes", "pipe_id", ("pipe_id", "diameter_mm", "material", "segment_nos")),
    "water_valves": ("water_valves", "valve_id", ("valve_id", "operable", "pipe_id")),
    "water_sources": ("water_sources", "source_id", ("source_id",)),
    "lamps": ("lamps", "lamp_id", ("lamp_id", "circuit_id", "cabinet_id")),
    "lighting_cabinets": ("lighting_cabinets", "cabinet_id", ("cabinet_id", "circuit_count", "lamp_count")),
    "landmarks": ("landmarks", "name", ("name", "aliases")),
    "addresses": ("addresses", "address_id", ("address_id", "street", "number")),
}


def layer_collection(session: Session, municipality_id: int, layer: str) -> dict:
    """One layer of a municipality as a GeoJSON FeatureCollection (``properties.id`` on each)."""
    table, id_col, props = MAP_LAYERS[layer]
    pairs = ", ".join(f"'{p}', {p}" for p in props)
    sql = text(
        "SELECT coalesce(jsonb_agg(jsonb_build_object("
        "  'type', 'Feature', 'id', " + id_col + ","
        "  'geometry', ST_AsGeoJSON(ST_Transform(geom, 4326), 7)::jsonb,"
        "  'properties', jsonb_build_object('id', " + id_col + ", " + pairs + ")"
        f") ORDER BY {id_col}), '[]'::jsonb) FROM {table} "
        "WHERE municipality_id = :mid AND geom IS NOT NULL")
    features = session.execute(sql, {"mid": municipality_id}).scalar()
    return {"type": "FeatureCollection", "features": features}


def layer_json(session: Session, municipality_id: int, layer: str) -> str:
    """``layer_collection`` as JSON text, made once per load of the town's layers (``layer_cache``):
    what a page fetches when its reader asks for a layer it does not carry (the civic numbers)."""
    if layer not in MAP_LAYERS:
        raise NotFound(N_("layer %(value)s non è stato trovato; livelli: %(layers)s"), value=repr(layer),
                       layers=", ".join(MAP_LAYERS),
                       details=[{"field": "layer", "value": layer}])
    return layer_cache.cached(session, municipality_id, f"layer json {layer}",
                              lambda: json.dumps(layer_collection(session, municipality_id, layer),
                                                 ensure_ascii=False, separators=(",", ":")))


def town_bounds(session: Session, municipality_id: int) -> list[list[float]] | None:
    """[[south, west], [north, east]] of the town's streets (else its boundary), for fitting a map."""
    row = session.execute(text(
        "SELECT ST_YMin(b), ST_XMin(b), ST_YMax(b), ST_XMax(b) FROM (SELECT ST_Transform(coalesce("
        " (SELECT ST_SetSRID(ST_Extent(geom)::geometry, ST_SRID(m.boundary)) FROM streets WHERE municipality_id = :mid),"
        " m.boundary), 4326)::box2d AS b FROM municipalities m WHERE m.id = :mid) s"),
        {"mid": municipality_id}).one_or_none()
    if row is None or row[0] is None:
        return None
    return [[row[0], row[1]], [row[2], row[3]]]


def boundary_geojson(session: Session, municipality_id: int) -> dict | None:
    """The municipality's boundary as a GeoJSON geometry."""
    return session.execute(text(
        "SELECT ST_AsGeoJSON(ST_Transform(boundary, 4326), 7)::jsonb FROM municipalities WHERE id = :mid"),
        {"mid": municipality_id}).scalar()
