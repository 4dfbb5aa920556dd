"""The council's page (SPEC §6): ``/council``, the open incidents as the council may see them.

One town at a time (the first the login may see, or ``?jurisdiction_id=``): its own layers
as the base map (``maps.municipality_map``, Leaflet from ``/vendor``), the open incidents over
them in the aggregate view (``reading.council``: no caller, no report, no text), and a
table of incidents per kind and status. Every word is in the login's language (``wording``).
"""
from __future__ import annotations

from datetime import datetime, timezone

import folium
from flask import Blueprint, current_app, g, render_template, request
from flask_babel import gettext

from geo_urp.errors import NotFound
from geo_urp.models.incidents import STATUSES
from geo_urp.reading import council
from geo_urp.reading.privacy import COUNCIL_GRID_M
from geo_urp.showing.auth import municipality_ids, require
from geo_urp.showing.database import get_session
from geo_urp.showing.maps import municipality_map
from geo_urp.showing.wording import KIND, STATUS, local_time, named

bp = Blueprint("council", __name__)

PRIORITY_COLOURS = {1: "#d62728", 2: "#ff7f0e", 3: "#1f77b4", 4: "#7f7f7f"}


def _incidents_layer(collection: dict) -> folium.GeoJson:
    """The open incidents as a Folium layer, each with a tooltip in the reader's words (kind, status, calls)."""
    features = [{**f, "properties": {
        "tipo": named(KIND, f["properties"]["kind"]), "stato": named(STATUS, f["properties"]["status"]),
        "priorita": f["properties"]["priority"], "chiamate": f["properties"]["report_count"]}}
        for f in collection["features"]]
    return folium.GeoJson(
        {"type": "FeatureCollection", "features": features}, name=gettext("Incidenti aperti"),
        marker=folium.CircleMarker(radius=8, fill=True, fill_opacity=0.8, weight=2),
        style_function=lambda f: {"color": PRIORITY_COLOURS.get(f["properties"]["priorita"], "#333"),
                                  "fillColor": PRIORITY_COLOURS.get(f["properties"]["priorita"], "#333"),
                                  "weight": 4, "radius": 8},
        tooltip=folium.GeoJsonTooltip(fields=["tipo", "stato", "priorita", "chiamate"],
                                      aliases=[gettext("Tipo"), gettext("Stato"), gettext("Priorità"),
                                               gettext("Chiamate")]))


@bp.get("/council")
@require("council")
def overview():
    """The town's open incidents on its own map, aggregated, and the counts per kind and status."""
    session = get_session()
    mids = municipality_ids(g.principal, request.args.get("jurisdiction_id"))
    towns = council.towns(session, municipality_ids(g.principal, None))
    town = next((t for t in towns if t.id in mids), None)
    if town is None:
        raise NotFound(gettext("nessun comune è ancora caricato"))
    m = municipality_map(session, town.slug, assets_base="/vendor",
                         tiles_url=current_app.config["MAP_TILES_URL"],
                         tiles_attribution=current_app.config["MAP_TILES_ATTRIBUTION"])
    collection = council.open_incidents_map(session, [town.id])
    if collection["features"]:
        # Before the layer control, which lists the layers added before it (branca keeps a map's
        # children in order in ``_children``; folium has no other way to reach them).
        control_at = next(i for i, child in enumerate(m._children.values()) if isinstance(child, folium.LayerControl))
        m.add_child(_incidents_layer(collection), index=control_at)
    root = m.get_root()
    root.render()
    return render_template(
        "council.html", principal=g.principal, municipality=town,
        map_header=root.header.render(), map_html=root.html.render(), map_script=root.script.render(),
        open_count=len(collection["features"]), counts=council.counts(session, [town.id]),
        statuses=STATUSES,
        towns=towns if len(towns) > 1 else [], grid_m=COUNCIL_GRID_M,
        read_at=local_time(datetime.now(timezone.utc)))
