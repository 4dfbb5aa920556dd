"""Tests of the OSM importer: a tiny hand-made extract with exact answers, and the real Mezzolombardo extract."""
from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import osmium
import pytest
from shapely.geometry import MultiPoint, box, shape

from geo_urp.layer_files.osm import from_osm, hull_boundary, parse_clip
from geo_urp.layer_files.osm_read import OsmData

ROOT = Path(__file__).resolve().parents[2]
PBF = ROOT / "data" / "osm" / "mezzolombardo_bbox.osm.pbf"
CLIP = (11.07, 46.19, 11.11, 46.228)


def layer(folder: Path, name: str) -> list[dict]:
    return json.loads((folder / f"{name}.geojson").read_text(encoding="utf-8"))["features"]


# --- a tiny extract built here -------------------------------------------------------------

NODES = {
    1: (11.001, 46.005), 2: (11.005, 46.005), 3: (11.009, 46.005),  # Via Roma, 2 is the crossing
    4: (11.005, 46.001), 5: (11.005, 46.009),  # Via Verdi through 2
    6: (11.009, 46.008),  # end of an unnamed way from 3
    7: (11.005, 46.050),  # Strada Lunga runs from 5 far north, out of the clip
    20: (11.0018, 46.0018), 21: (11.0022, 46.0018), 22: (11.0022, 46.0022), 23: (11.0018, 46.0022),  # building
    40: (10.99, 45.99), 41: (11.02, 45.99), 42: (11.02, 46.02), 43: (10.99, 46.02),  # municipal boundary
    60: (11.008, 46.002), 61: (11.015, 46.003), 62: (11.008, 46.004),  # Via Curva leaves the clip and returns
}
NODE_TAGS = {
    30: ((11.003, 46.006), {"addr:street": "Via Roma", "addr:housenumber": "3;5", "addr:city": "Prova"}),
    31: ((11.006, 46.006), {"amenity": "townhall", "name": "Municipio di Prova"}),
    32: ((11.004, 46.0052), {"highway": "street_lamp", "ref": "7"}),
    33: ((11.030, 46.005), {"addr:street": "Via Roma", "addr:housenumber": "99"}),  # outside everything
}
WAYS = {
    10: ([1, 2, 3], {"highway": "residential", "name": "Via Roma"}),
    11: ([4, 2, 5], {"highway": "tertiary", "name": "Via Verdi", "alt_name": "Via Giuseppe Verdi"}),
    12: ([3, 6], {"highway": "residential"}),
    13: ([5, 7], {"highway": "secondary", "name": "Strada Lunga"}),
    14: ([20, 21, 22, 23, 20], {"building": "yes", "addr:street": "Via Roma", "addr:housenumber": "12/A",
                                "addr:postcode": "38017"}),
    15: ([60, 61, 62], {"highway": "residential", "name": "Via Curva"}),
    50: ([40, 41, 42, 43, 40], {}),
}
RELATION = (50, {"type": "boundary", "boundary": "administrative", "admin_level": "8",
                 "name": "Prova", "ref:ISTAT": "099999"})


def write_osm_xml(path: Path, with_boundary: bool) -> None:
    """Write the tiny extract as OSM XML (nodes, then ways, then the optional boundary relation)."""
    def tags(d: dict[str, str]) -> str:
        return "".join(f'<tag k="{k}" v="{v}"/>' for k, v in d.items())

    lines = ['<?xml version="1.0" encoding="UTF-8"?>', '<osm version="0.6" generator="test">']
    for nid, (lon, lat) in NODES.items():
        lines.append(f'<node id="{nid}" version="1" lat="{lat}" lon="{lon}"/>')
    for nid, ((lon, lat), t) in NODE_TAGS.items():
        lines.append(f'<node id="{nid}" version="1" lat="{lat}" lon="{lon}">{tags(t)}</node>')
    for wid, (refs, t) in WAYS.items():
        nds = "".join(f'<nd ref="{r}"/>' for r in refs)
        lines.append(f'<way id="{wid}" version="1">{nds}{tags(t)}</way>')
    if with_boundary:
        way_id, t = RELATION
        lines.append(f'<relation id="900" version="1"><member type="way" ref="{way_id}" role="outer"/>'
                     f'{tags(t)}</relation>')
    lines.append("</osm>")
    path.write_text("\n".join(lines), encoding="utf-8")


@pytest.fixture()
def tiny(tmp_path: Path) -> tuple[Path, dict]:
    src = tmp_path / "tiny.osm"
    write_osm_xml(src, with_boundary=True)
    out = tmp_path / "town"
    return out, from_osm(src, (11.0, 46.0, 11.01, 46.01), out)


def test_tiny_streets_split_clipped_and_named(tiny):
    out, counts = tiny
    streets = {f["properties"]["street_id"]: f for f in layer(out, "streets")}
    assert set(streets) == {"w10-1", "w10-2", "w11-1", "w11-2", "w13-1", "w15-1a", "w15-1b"}
    assert counts["streets"] == 7
    assert streets["w10-1"]["geometry"]["coordinates"] == [[11.001, 46.005], [11.005, 46.005]]
    assert streets["w10-2"]["geometry"]["coordinates"] == [[11.005, 46.005], [11.009, 46.005]]
    # The road running far north is cut at the clip edge.
    assert streets["w13-1"]["geometry"]["coordinates"] == [[11.005, 46.009], [11.005, 46.01]]
    assert streets["w11-1"]["properties"] == {"street_id": "w11-1", "name": "Via Verdi", "highway": "tertiary",
                                              "osm_id": "w11", "alt_names": "Via Giuseppe Verdi"}
    assert "alt_names" not in streets["w10-1"]["properties"]
    for part in ("w15-1a", "w15-1b"):
        assert max(x for x, _ in streets[part]["geometry"]["coordinates"]) == pytest.approx(11.01)
    assert counts["unnamed_highways_dropped"] == 1


def test_tiny_addresses_landmarks_lamps_boundary(tiny):
    out, counts = tiny
    addresses = {f["properties"]["address_id"]: f["properties"] for f in layer(out, "addresses")}
    assert addresses == {
        "n30-1": {"address_id": "n30-1", "street": "Via Roma", "number": "3"},
        "n30-2": {"address_id": "n30-2", "street": "Via Roma", "number": "5"},
        "w14": {"address_id": "w14", "street": "Via Roma", "number": "12/A", "postcode": "38017"},
    }
    building = box(11.0018, 46.0018, 11.0022, 46.0022)
    w14 = next(f for f in layer(out, "addresses") if f["properties"]["address_id"] == "w14")
    assert building.contains(shape(w14["geometry"]))

    (hall,) = layer(out, "landmarks")
    assert hall["properties"]["name"] == "Municipio di Prova"
    assert hall["properties"]["kind"] == "townhall"
    assert {"municipio", "comune"} <= set(hall["properties"]["aliases"].split(";"))
    assert hall["geometry"]["coordinates"] == [11.006, 46.006]

    assert [f["properties"] for f in layer(out, "street_lamps")] == [{"osm_id": "n32", "ref": "7"}]
    (bound,) = layer(out, "boundary")
    assert bound["properties"] == {"name": "Prova", "istat_code": "099999", "approximate": False, "osm_id": "r900"}
    assert shape(bound["geometry"]).equals(box(10.99, 45.99, 11.02, 46.02))
    assert counts["boundary_approximate"] == 0


def test_tiny_without_boundary_relation_uses_approximate_hull(tmp_path):
    src = tmp_path / "tiny.osm"
    write_osm_xml(src, with_boundary=False)
    counts = from_osm(src, (11.0, 46.0, 11.01, 46.01), tmp_path / "town")
    (bound,) = layer(tmp_path / "town", "boundary")
    assert bound["properties"]["approximate"] is True
    assert bound["properties"]["name"] == "Prova"  # from addr:city
    assert box(11.0, 46.0, 11.01, 46.01).buffer(1e-9).contains(shape(bound["geometry"]))
    assert counts["boundary_approximate"] == 1


def test_hull_follows_the_built_up_area():
    data = OsmData(building_points=[(11.002 + 0.0005 * i, 46.002 + 0.0004 * (i % 3)) for i in range(8)])
    clip = box(11.0, 46.0, 11.05, 46.05)
    hull = hull_boundary(data, clip)
    pts = MultiPoint(data.building_points)
    assert hull.contains(pts)
    # Buffered by ~150 m: reaches 100 m beyond the buildings but not 300 m.
    assert hull.contains(pts.convex_hull.buffer(0.001))
    assert not hull.contains(pts.convex_hull.buffer(0.004))
    assert hull.area < clip.area / 10


def test_output_is_deterministic(tmp_path):
    src = tmp_path / "tiny.osm"
    write_osm_xml(src, with_boundary=True)
    from_osm(src, (11.0, 46.0, 11.01, 46.01), tmp_path / "a")
    from_osm(src, (11.0, 46.0, 11.01, 46.01), tmp_path / "b")
    for f in (tmp_path / "a").iterdir():
        assert f.read_bytes() == (tmp_path / "b" / f.name).read_bytes(), f.name


def test_parse_clip(tmp_path):
    assert parse_clip("11.07, 46.19,11.11,46.228") == (11.07, 46.19, 11.11, 46.228)
    poly = tmp_path / "clip.geojson"
    poly.write_text(json.dumps({"type": "FeatureCollection", "features": [{
        "type": "Feature", "properties": {}, "geometry": box(11.0, 46.0, 11.01, 46.01).__geo_interface__}]}))
    assert parse_clip(str(poly)) == poly
    with pytest.raises(ValueError):
        parse_clip("11.11,46.19,11.07,46.228")  # min > max
    with pytest.raises(ValueError):
        parse_clip(str(tmp_path / "missing.geojson"))


def test_polygon_file_clip(tmp_path):
    src = tmp_path / "tiny.osm"
    write_osm_xml(src, with_boundary=True)
    poly = tmp_path / "clip.geojson"
    poly.write_text(json.dumps({"type": "FeatureCollection", "features": [{
        "type": "Feature", "properties": {}, "geometry": box(11.0, 46.0, 11.0055, 46.01).__geo_interface__}]}))
    from_osm(src, poly, tmp_path / "west")
    streets = {f["properties"]["street_id"]: f for f in layer(tmp_path / "west", "streets")}
    assert set(streets) == {"w10-1", "w10-2", "w11-1", "w11-2", "w13-1"}
    assert streets["w10-2"]["geometry"]["coordinates"] == [[11.005, 46.005], [11.0055, 46.005]]


# --- the real extract ----------------------------------------------------------------------

@pytest.fixture(scope="module")
def mezzo(tmp_path_factory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("mezzolombardo")
    return out, from_osm(PBF, CLIP, out)


def test_real_counts_in_expected_ranges(mezzo):
    _, counts = mezzo
    assert 150 <= counts["streets"] <= 300
    assert 550 <= counts["addresses"] <= 800
    assert 15 <= counts["landmarks"] <= 40
    assert 5 <= counts["street_lamps"] <= 21
    assert counts["boundary_approximate"] == 0


def test_real_boundary_is_the_municipality(mezzo):
    out, _ = mezzo
    (bound,) = layer(out, "boundary")
    assert bound["properties"]["name"] == "Mezzolombardo"
    assert bound["properties"]["istat_code"] == "022117"
    assert bound["geometry"]["type"] in ("Polygon", "MultiPolygon")
    town = shape(bound["geometry"])
    for name in ("streets", "addresses", "landmarks", "street_lamps"):
        assert all(town.buffer(1e-6).contains(shape(f["geometry"])) for f in layer(out, name)), name
    assert all(box(*CLIP).buffer(1e-6).contains(shape(f["geometry"])) for f in layer(out, "streets"))


def test_real_streets_named_unique_and_typed(mezzo):
    out, _ = mezzo
    streets = layer(out, "streets")
    ids = [f["properties"]["street_id"] for f in streets]
    assert len(ids) == len(set(ids))
    assert all(f["properties"]["name"] and f["properties"]["highway"] for f in streets)
    assert all(f["geometry"]["type"] == "LineString" for f in streets)
    names = {f["properties"]["name"] for f in streets}
    assert 40 <= len(names) <= 80
    assert "Via Cesare Battisti" in names or "Piazza Cesare Battisti" in names


def test_real_address_streets_exist(mezzo):
    out, _ = mezzo
    names = {f["properties"]["name"] for f in layer(out, "streets")}
    streets = Counter(f["properties"]["street"] for f in layer(out, "addresses"))
    missing = {s: n for s, n in streets.items() if s not in names}
    share = 1 - sum(missing.values()) / sum(streets.values())
    # Known OSM inconsistencies: "Via IV Novembre" on addresses vs "Via Quattro Novembre" on the way.
    assert share >= 0.97, missing


def test_real_house_numbers_kept_as_written(mezzo):
    out, _ = mezzo
    raw: set[str] = set()
    for obj in osmium.FileProcessor(str(PBF)):
        number = obj.tags.get("addr:housenumber")
        if number:
            raw.update(n.strip() for n in number.split(";"))
    numbers = [f["properties"]["number"] for f in layer(out, "addresses")]
    assert set(numbers) <= raw
    assert any("/" in n for n in numbers)  # "12/A" style kept, not normalised


def test_real_landmarks(mezzo):
    out, _ = mezzo
    marks = layer(out, "landmarks")
    kinds = Counter(f["properties"]["kind"] for f in marks)
    assert kinds["townhall"] == 1
    assert kinds["church"] >= 5
    assert kinds["school"] >= 3
    assert kinds["pharmacy"] >= 1 and kinds["station"] == 1 and kinds["cemetery"] == 1
    aliases = {a for f in marks for a in f["properties"]["aliases"].split(";")}
    assert {"municipio", "chiesa", "scuola", "farmacia", "stazione", "cimitero", "ufficio postale",
            "scuola elementare", "scuola media"} <= aliases
