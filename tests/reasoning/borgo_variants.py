"""Copies of the Borgo fixture's layer folder with one thing changed, for tests that need
another layout (an extra circuit) or a reload (every asset renamed)."""
from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import select

from geo_urp.loading.loader import load_municipality
from geo_urp.models import Municipality
from tests.conftest import FIXTURES


def borgo_copy(folder: Path, edit: dict[str, Callable[[list[dict]], list[dict]]]) -> Path:
    """The Borgo layers in ``folder``, each layer named in ``edit`` rewritten by its function
    (features in, features out)."""
    shutil.copytree(FIXTURES / "borgo", folder)
    for layer, change in edit.items():
        path = folder / f"{layer}.geojson"
        data = json.loads(path.read_text())
        data["features"] = change(data["features"])
        path.write_text(json.dumps(data))
    return folder


def renamed(prefix: str, *keys: str) -> Callable[[list[dict]], list[dict]]:
    """Rename the ids under ``keys`` with ``prefix`` (``L01`` -> ``NL01``), and reverse the
    features' order, so that nothing numbered by position keeps its number."""
    def change(features: list[dict]) -> list[dict]:
        for f in features:
            for key in keys:
                if f["properties"].get(key) is not None:
                    f["properties"][key] = prefix + f["properties"][key]
        return features[::-1]
    return change


def borgo_with_c5(session, folder: Path) -> int:
    """Borgo with a third circuit C5 (L50-L53) on cabinet Q1, its lamps beside those of C1, loaded
    as the town ``borgo3`` from ``folder``; its municipality id."""
    def add_c5(features):
        extra = [{"type": "Feature", "properties": {"lamp_id": f"L5{n}", "circuit_id": "C5", "cabinet_id": "Q1"},
                  "geometry": {"type": "Point", "coordinates": [660150 + 30 * n, 5118560]}} for n in range(4)]
        return features + extra
    borgo_copy(folder, {"lamps": add_c5})
    load_municipality(session, folder, "borgo3")
    return session.scalar(select(Municipality.id).where(Municipality.slug == "borgo3"))
