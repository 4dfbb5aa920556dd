"""The council's hotspot layers on a Folium map: the hexagon choropleth, a heat layer, month by month.

``add_hotspots`` draws an answer of ``reading.hotspots`` (already k-suppressed: cells under the
threshold carry no count) as two overlays in the map's layer control:

- the cells, filled by class (hot red, cold blue, the rest a faint outline), with a tooltip
  in the reader's words (reports, class, trend); the page's script (``static/council_map.js``)
  recolours them by one month's count when the time slider moves, from the cells' ``monthly``;
- a heat layer of the cells' counts at their centres (Leaflet.heat as Folium ships it, served
  from ``/vendor/folium``): never of single reports, so it shows no household.
"""
from __future__ import annotations

import folium
from flask_babel import gettext
from folium.plugins import HeatMap

from geo_urp.showing.wording import named, names
from geo_urp.language import N_

CLASS = {"hot": N_("punto caldo"), "cold": N_("punto freddo"), "none": N_("nella norma")}
TREND = {"new": N_("nuovo"), "intensifying": N_("in crescita"), "persistent": N_("persistente"),
         "diminishing": N_("in calo"), "sporadic": N_("saltuario"), "none": N_("nessuna tendenza")}
CLASS_COLOURS = {"hot": "#d7191c", "cold": "#2c7bb6", "none": "#999999"}


def centre(geometry: dict) -> tuple[float, float]:
    """Latitude and longitude of a hexagon's centre (the mean of its six corners)."""
    ring = geometry["coordinates"][0][:-1]
    return (sum(p[1] for p in ring) / len(ring), sum(p[0] for p in ring) / len(ring))


def _cell_style(feature: dict) -> dict:
    cls = feature["properties"]["class"]
    return {"color": CLASS_COLOURS[cls], "weight": 1 if cls == "none" else 2,
            "fillColor": CLASS_COLOURS[cls], "fillOpacity": 0.05 if cls == "none" else 0.45}


def add_hotspots(m: folium.Map, answer: dict, before: folium.LayerControl, assets_base: str = "/vendor") -> dict:
    """Add the answer's cells and heat layer to ``m`` ahead of its layer control ``before``;
    returns the JavaScript names the page's script needs (``map``, ``cells``)."""
    suppressed = gettext("meno di %(k)s", k=answer["min_count"])
    features = [{"type": "Feature", "geometry": f["geometry"], "properties": {
        **f["properties"],
        "segnalazioni": suppressed if f["properties"]["count"] is None else f["properties"]["count"],
        "classe": named(CLASS, f["properties"]["class"]),
        "tendenza": named(TREND, f["properties"].get("trend") or "none")}} for f in answer["features"]]
    fields, aliases = ["segnalazioni", "classe"], [gettext("Segnalazioni"), gettext("Classe")]
    if answer.get("months"):
        fields.append("tendenza")
        aliases.append(gettext("Tendenza"))
    cells = folium.GeoJson({"type": "FeatureCollection", "features": features}, name=gettext("Punti caldi (celle)"),
                           style_function=_cell_style,
                           tooltip=folium.GeoJsonTooltip(fields=fields, aliases=aliases))
    heat = HeatMap([[*centre(f["geometry"]), f["properties"]["count"]] for f in answer["features"]
                    if f["properties"]["count"]], name=gettext("Densità delle segnalazioni"), show=False,
                   radius=30, blur=25, min_opacity=0.3)
    heat.default_js = [("leaflet-heat.js", f"{assets_base}/folium/leaflet_heat.min.js")]
    # Before the layer control, which lists the layers added before it (branca keeps a map's
    # children in order in ``_children``; folium has no other way to reach them).
    at = list(m._children.values()).index(before)
    m.add_child(cells, index=at)
    m.add_child(heat, index=at + 1)
    return {"map": m.get_name(), "cells": cells.get_name()}


def legend_words() -> dict:
    """The legend's and the slider's words: each class and trend in the reader's language."""
    return {"classes": names(CLASS), "trends": names(TREND), "colours": CLASS_COLOURS}
