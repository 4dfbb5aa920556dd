"""Folium maps of a municipality's layers.

Each layer is one GeoJSON overlay (from ``geojson.layer_collection``) in a layer
control: lamps coloured by circuit, pipes by diameter, valves by operability,
crew areas filled. Base tiles come from ``MAP_TILES_URL`` when set; with no
tiles the streets layer is the base, so the map also works offline. A page that
draws live layers in the browser adds them to the same control (``layer_control``).
The layers are named in the reader's language (Flask-Babel: a map written outside a
request, ``write_map``, is named in Italian). A page where the map shares the screen with
forms asks for the control ``layers_collapsed``: an icon that opens the list on hover or
tap, so the list of a dozen layers never covers the map on a laptop or a phone.

A page that draws the same map for every request takes it from ``drawn_map``: the map rendered
once per load of the town's layers (``layer_cache``), per reader's language and settings. Such a
page may leave the civic numbers out (``civic_numbers=False``: thousands of points nobody sees
until asked for) and fetch them when its reader ticks them (``/api/layers/addresses``).
"""
from __future__ import annotations

import hashlib
import html
from pathlib import Path

import folium
from flask_babel import get_locale, gettext
from sqlalchemy.orm import Session

from geo_urp import municipalities
from geo_urp.loading import layer_cache
from geo_urp.models import Municipality
from geo_urp.showing import assets
from geo_urp.showing.geojson import boundary_geojson, layer_collection, town_bounds

PALETTE = ("#e6194b", "#3cb44b", "#4363d8", "#f58231", "#911eb4", "#42d4f4", "#f032e6",
           "#9a6324", "#800000", "#469990", "#000075", "#808000", "#bfef45", "#dcbeff")
AREA_COLOURS = ("#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e")


def colour_for(key: str) -> str:
    """A stable colour for an id (the same circuit has the same colour on every map)."""
    return PALETTE[int(hashlib.md5(key.encode()).hexdigest(), 16) % len(PALETTE)]


def pipe_style(diameter) -> dict:
    """Thicker and darker for bigger mains."""
    d = float(diameter or 80)
    return {"color": "#08306b" if d >= 200 else "#2171b5" if d >= 150 else "#6baed6",
            "weight": 2 + d / 50, "opacity": 0.9}


def _text_safe(collection: dict) -> dict:
    """The collection with every text property HTML-escaped: Folium's tooltips write values as HTML,
    and layer names come from files anyone may have edited (OpenStreetMap)."""
    for feature in collection.get("features", []):
        props = feature.get("properties") or {}
        for key, value in props.items():
            if isinstance(value, str):
                props[key] = html.escape(value)
    return collection


def _points(data: dict, name: str, colour, radius: float, tooltip: list[str], show: bool = True):
    return folium.GeoJson(
        data, name=name, show=show,
        marker=folium.CircleMarker(radius=radius, fill=True, fill_opacity=0.9, weight=1),
        style_function=lambda f: {"color": "#333", "fillColor": colour(f["properties"]),
                                  "radius": radius},
        tooltip=folium.GeoJsonTooltip(fields=tooltip),
    )


def municipality_map(session: Session, slug: str, assets_base: str = "/vendor", tiles_url: str = "",
                     tiles_attribution: str = "", layers_collapsed: bool = False,
                     civic_numbers: bool = True) -> folium.Map:
    """A map of every layer loaded for municipality ``slug`` (the civic numbers only when ``civic_numbers``);
    its layer control an icon when ``layers_collapsed``."""
    muni = municipalities.by_slug(session, slug, field="municipality")
    m = folium.Map(tiles=None, control_scale=True, prefer_canvas=True)
    assets.use_local_assets(m, assets_base)
    if tiles_url:
        folium.TileLayer(tiles_url, attr=tiles_attribution or "tiles", name=gettext("mappa di base")).add_to(m)
    bounds = town_bounds(session, muni.id)
    if bounds:
        m.fit_bounds(bounds)
        folium.GeoJson(boundary_geojson(session, muni.id), name=gettext("confine comunale"),
                       style_function=lambda f: {"color": "#444", "weight": 2, "fill": False,
                                                 "dashArray": "6 4"}).add_to(m)
    mid = muni.id
    areas = _text_safe(layer_collection(session, mid, "crew_areas"))
    area_colour = {f["properties"]["area_id"]: AREA_COLOURS[i % len(AREA_COLOURS)]
                   for i, f in enumerate(areas["features"])}
    layers = [
        folium.GeoJson(areas, name=gettext("zone delle squadre"), style_function=lambda f: {
            "color": area_colour[f["properties"]["area_id"]], "fillOpacity": 0.12, "weight": 1},
            tooltip=folium.GeoJsonTooltip(fields=["area_id", "name"])),
        folium.GeoJson(_text_safe(layer_collection(session, mid, "streets")), name=gettext("strade"),
                       style_function=lambda f: {"color": "#555", "weight": 3},
                       tooltip=folium.GeoJsonTooltip(fields=["name", "street_id"])),
        folium.GeoJson(_text_safe(layer_collection(session, mid, "water_pipes")), name=gettext("condotte dell'acqua (per diametro)"),
                       style_function=lambda f: pipe_style(f["properties"]["diameter_mm"]),
                       tooltip=folium.GeoJsonTooltip(fields=["pipe_id", "diameter_mm", "material", "segment_nos"])),
        _points(_text_safe(layer_collection(session, mid, "water_valves")), gettext("valvole dell'acqua"),
                lambda p: "#2ca02c" if p["operable"] else "#d62728", 4, ["valve_id", "operable", "pipe_id"]),
        _points(_text_safe(layer_collection(session, mid, "water_sources")), gettext("fonti dell'acqua"),
                lambda p: "#17becf", 8, ["source_id"]),
        _points(_text_safe(layer_collection(session, mid, "lamps")), gettext("lampioni (per circuito)"),
                lambda p: colour_for(p["circuit_id"]), 3, ["lamp_id", "circuit_id", "cabinet_id"]),
        _points(_text_safe(layer_collection(session, mid, "lighting_cabinets")),
                gettext("quadri dell'illuminazione"), lambda p: "#000", 7,
                ["cabinet_id", "circuit_count", "lamp_count"]),
        _points(_text_safe(layer_collection(session, mid, "landmarks")), gettext("luoghi noti"),
                lambda p: "#ffd700", 6, ["name", "aliases"]),
    ]
    if civic_numbers:
        layers.append(_points(_text_safe(layer_collection(session, mid, "addresses")), gettext("numeri civici"),
                              lambda p: "#999", 2, ["street", "number"], show=False))
    for layer in layers:
        if layer.data.get("features"):
            layer.add_to(m)
    folium.LayerControl(collapsed=layers_collapsed).add_to(m)
    return m


def layer_control(m: folium.Map) -> folium.LayerControl:
    """The layer control of a map made by ``municipality_map``: a page that draws live layers in the
    browser adds them to it by its JavaScript name (``get_name()``)."""
    return next(child for child in m._children.values() if isinstance(child, folium.LayerControl))


def drawn_map(session: Session, muni: Municipality, assets_base: str = "/vendor", tiles_url: str = "",
              tiles_attribution: str = "", layers_collapsed: bool = False, civic_numbers: bool = True) -> dict:
    """``municipality_map`` rendered for a page: ``header``, ``html`` and ``script`` (Folium's three parts),
    the map's and its layer control's JavaScript names (``map_name``, ``control_name``).

    Drawn once per load of the town's layers and kept (``layer_cache``): the map holds layer data and
    the layers' names in the reader's language, nothing of a request or a user but that language,
    which is part of the key with the arguments."""
    def draw() -> dict:
        m = municipality_map(session, muni.slug, assets_base=assets_base, tiles_url=tiles_url,
                             tiles_attribution=tiles_attribution, layers_collapsed=layers_collapsed,
                             civic_numbers=civic_numbers)
        root = m.get_root()
        root.render()
        return {"header": root.header.render(), "html": root.html.render(), "script": root.script.render(),
                "map_name": m.get_name(), "control_name": layer_control(m).get_name()}

    fact = ("drawn map", str(get_locale()), assets_base, tiles_url, tiles_attribution, layers_collapsed,
            civic_numbers)
    return layer_cache.cached(session, muni.id, repr(fact), draw)


def write_map(session: Session, slug: str, out: Path, tiles_url: str = "", tiles_attribution: str = "") -> Path:
    """Write the map to ``out`` with its assets beside it, in ``<out stem>_files/``."""
    out = Path(out)
    folder = out.parent / f"{out.stem}_files"
    folder.mkdir(parents=True, exist_ok=True)
    assets.copy_assets(folder)
    m = municipality_map(session, slug, assets_base=folder.name, tiles_url=tiles_url,
                         tiles_attribution=tiles_attribution)
    m.save(str(out))
    return out
