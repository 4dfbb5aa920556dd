"""The council's page (SPEC §6): ``/council``, where problems concentrate and what is open now.

One town at a time (the first the login may see, or ``?jurisdiction_id=``): its own layers
as the base map (``maps.municipality_map``, Leaflet from ``/vendor``); over them the hotspots
of a service and period (``reading.hotspots``: hexagons by Gi* class with their trend, a heat
layer, a slider over the months, ``council_maps``) and the open incidents in the aggregate
view (``reading.council``: no caller, no report, no text); a table of incidents per kind and
status. ``/council/hotspots.csv`` gives the hotspot cells as a table, suppressed as on the map.
Every word is in the login's language (``wording``).
"""
from __future__ import annotations

from datetime import datetime, timezone

import folium
import csv
import io

from flask import Blueprint, Response, current_app, g, render_template, request
from flask_babel import gettext

from geo_urp.errors import NotFound
from geo_urp.models.incidents import STATUSES
from geo_urp.catalog import catalog_for
from geo_urp.reading import council, hotspots
from geo_urp.reading.privacy import COUNCIL_GRID_M, council_services
from geo_urp.showing.auth import municipality_ids, require
from geo_urp.showing.database import get_session
from geo_urp.showing import council_maps
from geo_urp.showing.maps import layer_control, municipality_map
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


def town_asked(session):
    """The town asked for (``jurisdiction_id``) among those the login may see, and all of them."""
    mids = municipality_ids(g.principal, request.args.get("jurisdiction_id"))
    towns = council.towns(session, municipality_ids(g.principal, None))
    town = next((t for t in towns if t.id in mids), None)
    if town is None:
        raise NotFound(gettext("nessun comune è ancora caricato"))
    return town, towns


def _hotspots(session, town) -> tuple[hotspots.Question, dict]:
    """The hotspot question of the page's form (with the trend: the slider needs the months) and its answer."""
    args = {**request.args.to_dict(), "jurisdiction_id": town.slug, "trend": "1"}
    question = hotspots.ask(session, args, g.principal.municipality_id)
    answer = hotspots.hotspots(session, question)
    session.commit()  # the counts brought up to date and the answer kept, for the next reader
    return question, answer


@bp.get("/council")
@require("council")
def overview():
    """The town's hotspots and open incidents on its own map, aggregated, and the counts per kind and status."""
    session = get_session()
    town, towns = town_asked(session)
    question, answer = _hotspots(session, town)
    m = municipality_map(session, town.slug, assets_base="/vendor", layers_collapsed=True,
                         tiles_url=current_app.config["MAP_TILES_URL"],
                         tiles_attribution=current_app.config["MAP_TILES_ATTRIBUTION"])
    control = layer_control(m)
    js_names = council_maps.add_hotspots(m, answer, control)
    collection = council.open_incidents_map(session, [town.id])
    if collection["features"]:
        control_at = list(m._children.values()).index(control)
        m.add_child(_incidents_layer(collection), index=control_at)
    root = m.get_root()
    root.render()
    trends = {t: sum(1 for f in answer["features"] if f["properties"].get("trend") == t)
              for t in council_maps.TREND}
    return render_template(
        "council.html", principal=g.principal, municipality=town,
        map_header=root.header.render(), map_html=root.html.render(), map_script=root.script.render(),
        open_count=len(collection["features"]), counts=council.counts(session, [town.id]),
        statuses=STATUSES, question=question, answer=answer, js_names=js_names, trend_counts=trends,
        legend=council_maps.legend_words(),
        monthly=[f["properties"].get("monthly") for f in answer["features"]],
        services=council_service_names(session, town),
        towns=towns if len(towns) > 1 else [], grid_m=COUNCIL_GRID_M,
        read_at=local_time(datetime.now(timezone.utc)))


def council_service_names(session, town) -> dict[str, str]:
    """The services the council's maps and tables count, code -> name in the reader's language,
    in the catalog's order."""
    catalog = catalog_for(session, town.id)
    shown = set(council_services(catalog, town.service_settings))
    return {svc.code: gettext(svc.name) for svc in catalog.services if svc.code in shown}


CSV_COLUMNS = ("i", "j", "lat", "lon", "count", "class", "gi_z", "gi_p", "trend")


@bp.get("/council/hotspots.csv")
@require("council")
def hotspots_csv():
    """The hotspot cells of the page's question as CSV: one row per hexagon, suppressed as on the map."""
    session = get_session()
    town, _ = town_asked(session)
    question, answer = _hotspots(session, town)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for f in answer["features"]:
        p = f["properties"]
        lat, lon = council_maps.centre(f["geometry"])
        writer.writerow([p["i"], p["j"], round(lat, 6), round(lon, 6), "" if p["count"] is None else p["count"],
                         p["class"], "" if p["gi_z"] is None else p["gi_z"], "" if p["gi_p"] is None else p["gi_p"],
                         p.get("trend", "")])
    name = f"hotspots-{town.slug}-{question.service_code or 'all'}-{question.first:%Y-%m}-{question.last:%Y-%m}.csv"
    return Response(out.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})
