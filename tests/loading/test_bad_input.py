"""Bad layer input: each kind gets its own clear message, and nothing changes.

Each case copies the Borgo fixture, breaks one thing, and loads it over a good
Borgo already in the database.
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import geopandas as gpd
import pyogrio
import pytest
from shapely.geometry import Point
from sqlalchemy import select

from geo_urp.errors import LayerLoadError
from geo_urp.loading.layers import LAYERS
from geo_urp.loading.loader import LoadOptions, load_municipality
from geo_urp.loading.validate import validate_layer
from geo_urp.models import Municipality
from tests.conftest import BORGO
from tests.loading.test_loader import _snapshot


def _edit(folder: Path, layer: str, change) -> None:
    path = folder / f"{layer}.geojson"
    data = json.loads(path.read_text())
    change(data["features"])
    path.write_text(json.dumps(data))


def _feature(features, key, value):
    return next(f for f in features if f["properties"].get(key) == value)


def missing_id(fs):
    del _feature(fs, "lamp_id", "L02")["properties"]["lamp_id"]


def duplicate_id(fs):
    _feature(fs, "lamp_id", "L03")["properties"]["lamp_id"] = "L01"


def wrong_geometry_type(fs):
    _feature(fs, "street_id", "S3")["geometry"] = {"type": "Point", "coordinates": [660550, 5118550]}


def unrepairable_geometry(fs):
    # A "polygon" whose points all lie on one line: repairing it gives a line, not an area.
    fs[0]["geometry"] = {"type": "Polygon", "coordinates": [[[660000, 5118000], [660500, 5118000],
                                                             [661000, 5118000], [660000, 5118000]]]}


def far_outside(fs):
    _feature(fs, "lamp_id", "L05")["geometry"]["coordinates"] = [711000, 5118500]


def infinite_coordinate(fs):
    _feature(fs, "lamp_id", "L04")["geometry"]["coordinates"] = [float("inf"), 5118500]


def nan_in_a_line(fs):
    _feature(fs, "street_id", "S3")["geometry"]["coordinates"][0] = [float("nan"), 5118550]


def house_number_past_integers(fs):
    _feature(fs, "street_id", "S3")["properties"]["l_from"] = 10 ** 12


def id_that_is_a_list(fs):
    _feature(fs, "lamp_id", "L04")["properties"]["lamp_id"] = ["L04", "L05"]


# (layer, change, expected words in the rejection)
FEATURE_CASES = {
    "missing id": ("lamps", missing_id, "missing lamp_id"),
    "duplicate id": ("lamps", duplicate_id, "duplicate lamp_id 'L01' (first at feature 1)"),
    "wrong geometry type": ("streets", wrong_geometry_type, "geometry is Point, expected LineString or MultiLineString"),
    "invalid geometry": ("crew_areas", unrepairable_geometry, "cannot be repaired into a Polygon"),
    "far outside the boundary": ("lamps", far_outside, "lies 50.0 km outside the boundary"),
    "infinite coordinate": ("lamps", infinite_coordinate, "coordinate that is not a finite number"),
    "NaN in a line": ("streets", nan_in_a_line, "coordinate that is not a finite number"),
    "house number past integers": ("streets", house_number_past_integers,
                                   "l_from must be a whole number from -2147483648 to 2147483647"),
    "id that is a list": ("lamps", id_that_is_a_list, "lamp_id must be one value, not a list"),
}


@pytest.fixture()
def loaded(session):
    """A good Borgo in the database, and its snapshot."""
    load_municipality(session, BORGO, "borgo")
    mid = session.scalar(select(Municipality.id).where(Municipality.slug == "borgo"))
    return mid, _snapshot(session, mid)


@pytest.fixture()
def broken(tmp_path):
    folder = tmp_path / "borgo"
    shutil.copytree(BORGO, folder)
    return folder


@pytest.mark.parametrize("case", sorted(FEATURE_CASES))
def test_bad_feature_is_rejected_with_its_reason(session, loaded, broken, case):
    layer, change, words = FEATURE_CASES[case]
    _edit(broken, layer, change)
    report = load_municipality(session, broken, "borgo")
    reasons = [str(r) for r in report.results[layer].rejections]
    assert len(reasons) == 1 and words in reasons[0], reasons
    assert report.results[layer].kept == report.results[layer].read - 1
    assert any(words in line for line in report.lines())


@pytest.mark.parametrize("case", sorted(FEATURE_CASES))
def test_strict_load_with_a_bad_feature_changes_nothing(session, loaded, broken, case):
    mid, before = loaded
    layer, change, words = FEATURE_CASES[case]
    _edit(broken, layer, change)
    with pytest.raises(LayerLoadError) as err:
        load_municipality(session, broken, "borgo", options=LoadOptions(strict=True))
    assert any(words in d for d in err.value.details)
    assert _snapshot(session, mid) == before


def unreadable(folder):
    (folder / "lamps.geojson").write_text('{"type": "FeatureCollection", "features": [ {oops')


def shapefile_without_prj(folder):
    gdf = pyogrio.read_dataframe(folder / "lamps.geojson")
    (folder / "lamps.geojson").unlink()
    pyogrio.write_dataframe(gdf, folder / "lamps.shp")
    (folder / "lamps.prj").unlink()


def degrees_declared_metres_given(folder):
    data = json.loads((folder / "lamps.geojson").read_text())
    data["crs"]["properties"]["name"] = "urn:ogc:def:crs:OGC:1.3:CRS84"
    (folder / "lamps.geojson").write_text(json.dumps(data))


def other_projected_crs(folder):
    data = json.loads((folder / "water_valves.geojson").read_text())
    data["crs"]["properties"]["name"] = "urn:ogc:def:crs:EPSG::3857"
    (folder / "water_valves.geojson").write_text(json.dumps(data))


def no_streets(folder):
    (folder / "streets.geojson").unlink()


def two_files_for_one_layer(folder):
    gdf = pyogrio.read_dataframe(folder / "landmarks.geojson")
    pyogrio.write_dataframe(gdf, folder / "landmarks.gpkg")


# change -> words the error must contain
FILE_CASES = {
    "unreadable file": (unreadable, "cannot read lamps.geojson"),
    "missing CRS": (shapefile_without_prj, "lamps.shp declares no CRS"),
    "wrong CRS (degrees declared)": (degrees_declared_metres_given, "the declared CRS is wrong"),
    "wrong CRS (other projection)": (other_projected_crs, "is the file's declared CRS right?"),
    "mandatory layer missing": (no_streets, "mandatory layer(s) missing: streets"),
    "two files for one layer": (two_files_for_one_layer, "layer 'landmarks' has 2 files"),
}


@pytest.mark.parametrize("case", sorted(FILE_CASES))
def test_bad_file_fails_the_load_and_changes_nothing(session, loaded, broken, case):
    mid, before = loaded
    change, words = FILE_CASES[case]
    change(broken)
    with pytest.raises(LayerLoadError) as err:
        load_municipality(session, broken, "borgo")
    assert words in err.value.message
    assert _snapshot(session, mid) == before


def test_repairable_geometry_is_repaired_and_said(session, broken):
    def bow_tie(fs):
        fs[1]["geometry"] = {"type": "Polygon", "coordinates": [[[660500, 5118000], [661000, 5119000],
                                                                 [661000, 5118000], [660500, 5119000],
                                                                 [660500, 5118000]]]}
    _edit(broken, "crew_areas", bow_tie)
    report = load_municipality(session, broken, "borgo")
    assert report.results["crew_areas"].kept == 2
    assert any("repaired invalid geometry (Self-intersection" in n for n in report.results["crew_areas"].notes)


def test_bad_crew_rows_are_rejected(session, broken):
    text = (broken / "crews.csv").read_text()
    text += "X1,Squadra fantasma,A9,lighting,,\nX2,Squadra maghi,A1,magic,,\n"
    (broken / "crews.csv").write_text(text)
    report = load_municipality(session, broken, "borgo")
    reasons = [str(r) for r in report.results["crews"].rejections]
    assert "area(s) A9 not in crew_areas" in reasons[0]
    assert "unknown skill(s) magic" in reasons[1]
    assert report.results["crews"].kept == 4


def test_features_just_outside_the_boundary_are_kept_and_said(session, broken):
    def step_out(fs):
        _feature(fs, "lamp_id", "L05")["geometry"]["coordinates"] = [661300, 5118500]   # 300 m east
    _edit(broken, "lamps", step_out)
    report = load_municipality(session, broken, "borgo")
    lamps = report.results["lamps"]
    assert lamps.outside == 1 and round(lamps.outside_max_m) == 300
    assert "lamps: 1 kept feature(s) lie outside the boundary, the farthest 300 m (within the 1000 m margin)" \
        in "\n".join(report.lines())
    assert report.summary()["layers"]["lamps"]["outside_boundary"] == 1
    assert report.results["streets"].outside == 0


@pytest.mark.parametrize("value", [float("inf"), float("-inf"), float("nan"), "  "])
def test_an_id_that_is_no_value_is_missing_not_stored_as_text(value):
    # A GeoPackage or shapefile can hold a float column whose value is infinite; text is "None"
    # or "inf" only by accident of formatting.
    lamps = gpd.GeoDataFrame({"lamp_id": [value, "L02"], "circuit_id": ["C1", "C1"], "cabinet_id": ["Q1", "Q1"]},
                             geometry=[Point(660100, 5118100), Point(660120, 5118100)], crs=32632)
    result = validate_layer(LAYERS["lamps"], lamps, None, 1000)
    assert [str(r) for r in result.rejections] == ["feature 1: missing lamp_id"]
    assert [row["lamp_id"] for row in result.rows] == ["L02"]
