"""The layer loader against arbitrary layer files (hypothesis): it loads what it can and says why it
rejected the rest, or refuses the folder with a ``LayerLoadError`` and changes nothing; it never
fails in any other way.

Each example replaces Borgo's lamps (points, ids, circuit and cabinet ids) or streets (lines,
ids, names, house-number ranges) with generated features: good ones, and ones with odd
geometries (empty, non-finite, one point for a line, the wrong type, nested nonsense, far away),
ids of any type (missing, blank, repeated, numbers, long or non-Latin text) and junk
properties, and loads the folder over a good Borgo.
"""
from __future__ import annotations

import json
import math
import shutil

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from geo_urp.db import session_scope
from geo_urp.errors import LayerLoadError
from geo_urp.loading.loader import LoadOptions, load_municipality
from geo_urp.models import Municipality
from tests.conftest import BORGO, BORGO_ORIGIN
from tests.loading.test_loader import _snapshot

X0, Y0 = BORGO_ORIGIN
_coord = st.one_of(st.floats(0, 1000).map(lambda v: v), st.just(math.nan), st.just(math.inf),
                   st.floats(-1e9, 1e9), st.just(1e300))
_xy = st.tuples(_coord, _coord).map(lambda p: [X0 + p[0], Y0 + p[1]] if all(map(math.isfinite, p)) else list(p))
_good_xy = st.tuples(st.floats(5, 995), st.floats(5, 995)).map(lambda p: [X0 + p[0], Y0 + p[1]])
_point = st.one_of(_good_xy.map(lambda c: {"type": "Point", "coordinates": c}),
                   _xy.map(lambda c: {"type": "Point", "coordinates": c}),
                   st.just({"type": "Point", "coordinates": []}))
_line = st.one_of(st.lists(_good_xy, min_size=2, max_size=5).map(lambda c: {"type": "LineString", "coordinates": c}),
                  st.lists(_xy, min_size=0, max_size=4).map(lambda c: {"type": "LineString", "coordinates": c}),
                  st.lists(_good_xy, min_size=1, max_size=1).map(lambda c: {"type": "LineString", "coordinates": c}))
_odd_geometry = st.one_of(st.none(), st.just({"type": "Polygon", "coordinates": [[[X0, Y0], [X0 + 1, Y0],
                                                                                   [X0, Y0]]]}),
                          st.just({"type": "GeometryCollection", "geometries": []}),
                          st.just({"type": "MultiPoint", "coordinates": [[X0 + 5, Y0 + 5], [X0 + 6, Y0 + 6]]}))
_text = st.one_of(st.none(), st.just(""), st.just("   "), st.text(max_size=40),
                  st.sampled_from(["L01", "C1", "Q1", "Via Roma", "S1", "Ⅻ", "جادة", "\u0000x", "a" * 300]))
_value = st.one_of(_text, st.integers(-10**12, 10**12), st.floats(allow_nan=True), st.booleans(),
                   st.lists(st.integers(), max_size=3))


def _lamp(geometry, lamp_id, circuit, cabinet, extra):
    return {"type": "Feature", "geometry": geometry,
            "properties": {"lamp_id": lamp_id, "circuit_id": circuit, "cabinet_id": cabinet, **extra}}


def _street(geometry, street_id, name, l_from, extra):
    return {"type": "Feature", "geometry": geometry,
            "properties": {"street_id": street_id, "name": name, "l_from": l_from, "l_to": l_from, **extra}}


_extra = st.dictionaries(st.sampled_from(["note", "height", "alt_names", "r_from", "colour"]), _value, max_size=3)
_lamps = st.lists(st.builds(_lamp, st.one_of(_point, _line, _odd_geometry), _value, _value, _value, _extra),
                  max_size=12)
_streets = st.lists(st.builds(_street, st.one_of(_line, _point, _odd_geometry), _value, _value, _value, _extra),
                    max_size=8)


def _write(folder, layer: str, features: list[dict]) -> None:
    path = folder / f"{layer}.geojson"
    doc = json.loads(path.read_text(encoding="utf-8"))
    doc["features"] = features
    # allow_nan: a file may carry NaN and Infinity (GDAL reads them); the loader must cope.
    path.write_text(json.dumps(doc, allow_nan=True), encoding="utf-8")


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(layer=st.sampled_from(["lamps", "streets"]), lamps=_lamps, streets=_streets, strict=st.booleans())
def test_any_layer_file_loads_with_reasons_or_is_refused_changing_nothing(borgo_db_url, tmp_path_factory, layer,
                                                                         lamps, streets, strict):
    # Each load is a transaction of its own, committed or rolled back, as `layers load` does: a
    # transaction held across all examples would hold back every other test's change cursor.
    with session_scope(borgo_db_url) as session:
        mid = session.scalar(select(Municipality.id).where(Municipality.slug == "borgo"))
        before = _snapshot(session, mid)
    folder = tmp_path_factory.mktemp("layers") / "borgo"
    shutil.copytree(BORGO, folder)
    _write(folder, layer, lamps if layer == "lamps" else streets)
    try:
        with session_scope(borgo_db_url) as session:
            report = load_municipality(session, folder, "borgo", options=LoadOptions(strict=strict))
    except LayerLoadError as refused:
        assert str(refused)  # it says what was wrong
        with session_scope(borgo_db_url) as session:
            assert _snapshot(session, mid) == before
        return
    result = report.results.get(layer)
    if result is not None:
        assert result.kept + len(result.rejections) == result.read
        assert all(str(r) for r in result.rejections)
    # The good Borgo back for the next example.
    with session_scope(borgo_db_url) as session:
        load_municipality(session, BORGO, "borgo")
