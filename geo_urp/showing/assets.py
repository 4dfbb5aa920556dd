"""Leaflet served by the service itself, so maps work with no internet.

Folium's pages ask CDNs for Leaflet, jQuery, Bootstrap and icon fonts; here each
map gets its assets pointed at copies shipped in the XStatic packages on PyPI
(the exact Leaflet and jQuery versions Folium uses), and plugins' scripts from Folium's
own package. The blueprint serves them under ``/vendor/``; a map written to a file gets them copied beside it.
"""
from __future__ import annotations

import shutil
from pathlib import Path

import folium
import xstatic.pkg.jquery as xs_jquery
import xstatic.pkg.leaflet as xs_leaflet
from flask import Blueprint, abort, send_from_directory

VENDOR = {"leaflet": Path(xs_leaflet.BASE_DIR), "jquery": Path(xs_jquery.BASE_DIR)}
# Plugins' scripts Folium ships in its own package (Leaflet.heat for the council's heat layer);
# only its ``.js`` files are served, not its page templates.
FOLIUM_SCRIPTS = Path(folium.__file__).parent / "templates"
bp = Blueprint("assets", __name__)


def use_local_assets(m: folium.Map, base: str) -> folium.Map:
    """Point this map's JS and CSS at ``base`` (a URL prefix or a relative folder)."""
    m.default_js = [("leaflet", f"{base}/leaflet/leaflet.js"),
                    ("jquery", f"{base}/jquery/jquery.min.js")]
    m.default_css = [("leaflet_css", f"{base}/leaflet/leaflet.css")]
    return m


def copy_assets(folder: Path) -> None:
    """Copy the vendored assets into ``folder`` (for a map saved as a file)."""
    for name, src in VENDOR.items():
        dest = folder / name
        if dest.exists():
            shutil.rmtree(dest)
        shutil.copytree(src, dest, ignore=shutil.ignore_patterns("*.map", "*esm*", "*slim*", "*-src*"))


@bp.get("/vendor/<package>/<path:filename>")
def vendor(package: str, filename: str):
    """Serve a file of a vendored package."""
    if package == "folium" and filename.endswith(".js"):
        return send_from_directory(FOLIUM_SCRIPTS, filename, max_age=86400)
    if package not in VENDOR:
        abort(404)
    return send_from_directory(VENDOR[package], filename, max_age=86400)
