"""Rebuild the demo town's layer files (layers/mezzolombardo) from the bundled OSM extract.

Stand-in until the ``python -m geo_urp layers ...`` commands exist; it calls the
same two functions. Run from the repository root: ``python scripts/build_demo_layers.py``.
"""
from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from geo_urp.loading.osm import from_osm, parse_clip  # noqa: E402
from geo_urp.loading.synth import synth_utilities  # noqa: E402

PBF = ROOT / "data" / "osm" / "mezzolombardo_bbox.osm.pbf"
#: The built-up area of Mezzolombardo (the extract reaches far into the valley).
CLIP = "11.07,46.19,11.11,46.228"
OUT = ROOT / "layers" / "mezzolombardo"
SEED = 1


def main() -> None:
    """Import the OSM layers, then synthesise the utilities with the demo seed."""
    print("from-osm:", from_osm(PBF, parse_clip(CLIP), OUT))
    print("synth-utilities:", synth_utilities(OUT, SEED))


if __name__ == "__main__":
    main()
