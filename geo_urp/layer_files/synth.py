"""Synthesise a town's utility layers (SPEC §2) from its streets: lighting, water, crew areas, crews.

Real utility networks are not open data, so the demo town gets plausible ones
built on its real streets: ``lamps`` and ``lighting_cabinets``, ``water_pipes``,
``water_sources`` and ``water_valves``, ``crew_areas`` and ``crews.csv``. The
same seed always gives byte-identical files; every output feature carries
(or is itself) synthetic data, never mistaken for the municipality's records.
"""
from __future__ import annotations

import re
import unicodedata
from pathlib import Path
from typing import Any

from geo_urp.layer_files.osm_io import read_geojson, write_geojson
from geo_urp.layer_files.synth_crews import crew_areas, crews_csv
from geo_urp.layer_files.synth_geo import load_town, rng_for, to_wgs84
from geo_urp.layer_files.synth_lighting import synth_lighting
from geo_urp.layer_files.synth_water import synth_water


def _to_wgs84(features: list[tuple[Any, dict[str, Any]]]) -> list[tuple[Any, dict[str, Any]]]:
    return [(to_wgs84(g), p) for g, p in features]


def _slug(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-") or "town"


def synth_utilities(layer_dir: str | Path, seed: int) -> dict[str, int]:
    """Write the synthetic utility layers into ``layer_dir`` (which holds ``streets.geojson``); return counts.

    Reads ``streets`` (with its ``highway`` attribute), and ``boundary`` and
    ``street_lamps`` when present; real OSM lamps are kept among the lamps.
    """
    layer_dir = Path(layer_dir)
    town = load_town(layer_dir)
    lamps, cabinets = synth_lighting(town, rng_for(seed, "lighting"))
    pipes, sources, valves, water_notes = synth_water(town, rng_for(seed, "water"))
    areas = crew_areas(town)

    # The boundary's name gives the crews' (fictional) e-mail domain.
    bpath = layer_dir / "boundary.geojson"
    town_name = next((p.get("name") for _, p in read_geojson(bpath)), None) if bpath.exists() else None
    csv_text = crews_csv([p for _, p in areas], _slug(town_name or layer_dir.name), rng_for(seed, "crews"))
    (layer_dir / "crews.csv").write_text(csv_text, encoding="utf-8")

    counts = {
        "lamps": write_geojson(layer_dir / "lamps.geojson", _to_wgs84(lamps)),
        "circuits": len({p["circuit_id"] for _, p in lamps}),
        "lighting_cabinets": write_geojson(layer_dir / "lighting_cabinets.geojson", _to_wgs84(cabinets)),
        "water_pipes": write_geojson(layer_dir / "water_pipes.geojson", _to_wgs84(pipes)),
        "water_sources": write_geojson(layer_dir / "water_sources.geojson", _to_wgs84(sources)),
        "water_valves": write_geojson(layer_dir / "water_valves.geojson", _to_wgs84(valves)),
        "crew_areas": write_geojson(layer_dir / "crew_areas.geojson", areas),
        "crews": csv_text.count("\n") - 1,
        "osm_lamps_kept": sum(1 for _, p in lamps if p["source"] == "osm"),
    }
    counts.update(water_notes)
    return counts
