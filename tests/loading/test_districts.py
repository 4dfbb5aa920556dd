"""The optional ``districts`` layer: loaded as crew areas are, rejected features named, absent means off."""
from __future__ import annotations

import json
import shutil

from sqlalchemy import select

from geo_urp.loading.loader import load_municipality
from geo_urp.models import District
from tests.conftest import BORGO, BORGO_ORIGIN


def _square(x0: float, y0: float, side: float) -> list:
    x, y = BORGO_ORIGIN[0] + x0, BORGO_ORIGIN[1] + y0
    return [[[x, y], [x + side, y], [x + side, y + side], [x, y + side], [x, y]]]


def _with_districts(tmp_path, features: list[dict]):
    folder = tmp_path / "borgo"
    shutil.copytree(BORGO, folder)
    (folder / "districts.geojson").write_text(json.dumps({
        "type": "FeatureCollection", "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::32632"}},
        "features": features}))
    return folder


def _feature(props: dict, coords: list) -> dict:
    return {"type": "Feature", "properties": props, "geometry": {"type": "Polygon", "coordinates": coords}}


def test_districts_are_loaded_and_a_feature_without_id_is_rejected(session, tmp_path):
    folder = _with_districts(tmp_path, [
        _feature({"district_id": "D1", "name": "Centro"}, _square(0, 0, 500)),
        _feature({"district_id": "D2", "name": "Oltrefiume", "ward": 7}, _square(500, 0, 500)),
        _feature({"name": "Senza codice"}, _square(0, 500, 500)),
    ])
    report = load_municipality(session, folder, "borgo")
    rows = session.execute(select(District.district_id, District.name, District.props)
                           .order_by(District.district_id)).all()
    assert [(r.district_id, r.name) for r in rows] == [("D1", "Centro"), ("D2", "Oltrefiume")]
    assert rows[1].props.get("ward") == 7  # extra attributes are kept
    result = report.results["districts"]
    assert (result.read, result.kept, len(result.rejections)) == (3, 2, 1)
    assert "district_id" in str(result.rejections[0])
    assert not any(o.startswith("districts:") for o in report.off)


def test_without_the_layer_there_are_no_districts_and_the_load_says_so(session, tmp_path):
    folder = _with_districts(tmp_path, [_feature({"district_id": "D1", "name": "Centro"}, _square(0, 0, 500))])
    load_municipality(session, folder, "borgo")
    report = load_municipality(session, BORGO, "borgo")  # a reload without the layer drops the old districts
    assert session.scalars(select(District)).all() == []
    assert any(o.startswith("districts:") and "district" in o for o in report.off)
