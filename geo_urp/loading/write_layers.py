"""Writing validated layers into PostGIS and building the stored topology.

Rows go in with SQLAlchemy Core bulk inserts (batched by psycopg2). The
lighting hierarchy is aggregated in PostGIS, where the lamps already are; the
water graph is reasoned about in Python with networkx (``water_topology``) and
its answers stored, so later stages read them in one lookup.
"""
from __future__ import annotations

from geoalchemy2.shape import from_shape
from shapely.geometry import MultiLineString, MultiPolygon
from shapely.geometry.base import BaseGeometry
from sqlalchemy import delete, insert, text
from sqlalchemy.orm import Session

from geo_urp.loading.validate import LayerResult
from geo_urp.models import (
    METRIC_SRID,
    Address,
    Cabinet,
    Circuit,
    Crew,
    CrewArea,
    District,
    Lamp,
    Landmark,
    Pipe,
    PipePart,
    Street,
    Valve,
    ValveSegment,
    WaterSource,
)

LAYER_TABLES = (Street, Address, Landmark, Cabinet, Circuit, Lamp, PipePart, ValveSegment,
                Valve, WaterSource, Pipe, CrewArea, District, Crew)


def to_wkb(geom: BaseGeometry):
    """A shapely geometry as a GeoAlchemy2 element in the metric CRS."""
    return from_shape(geom, srid=METRIC_SRID)


def _multi(geom: BaseGeometry) -> BaseGeometry:
    if geom.geom_type == "Polygon":
        return MultiPolygon([geom])
    if geom.geom_type == "LineString":
        return MultiLineString([geom])
    return geom


def clear_layers(session: Session, municipality_id: int) -> None:
    """Delete every layer row of a municipality (reports and incidents stay)."""
    for model in LAYER_TABLES:
        session.execute(delete(model).where(model.municipality_id == municipality_id))


def _rows(result: LayerResult, mid: int, fields: tuple[str, ...], multi: bool = False) -> list[dict]:
    out = []
    for r in result.rows:
        row = {f: r.get(f) for f in fields}
        row["municipality_id"] = mid
        row["props"] = r["props"]
        row["geom"] = to_wkb(_multi(r["geometry"]) if multi else r["geometry"])
        out.append(row)
    return out


def insert_layers(session: Session, mid: int, results: dict[str, LayerResult]) -> None:
    """Insert the kept rows of every layer except the boundary and the water topology."""
    plan = {
        "streets": (Street, ("street_id", "name", "alt_names", "l_from", "l_to", "r_from", "r_to"), True),
        "landmarks": (Landmark, ("name", "aliases"), False),
        "lighting_cabinets": (Cabinet, ("cabinet_id",), False),
        "lamps": (Lamp, ("lamp_id", "circuit_id", "cabinet_id"), False),
        "crew_areas": (CrewArea, ("area_id", "name"), True),
        "districts": (District, ("district_id", "name"), True),
    }
    for layer, (model, fields, multi) in plan.items():
        if layer in results and results[layer].rows:
            session.execute(insert(model), _rows(results[layer], mid, fields, multi))
    if "addresses" in results and results["addresses"].rows:
        rows = _rows(results["addresses"], mid, ("street", "number", "postcode"))
        for pos, (row, src) in enumerate(zip(rows, results["addresses"].rows), start=1):
            # Files may omit address ids: number them in file order, stable across reloads.
            row["address_id"] = str(src.get("address_id") or f"A{pos:06d}")
            row["postcode"] = None if row["postcode"] is None else str(row["postcode"])
        session.execute(insert(Address), rows)
    if "crews" in results and results["crews"].rows:
        session.execute(insert(Crew), [{**r, "municipality_id": mid} for r in results["crews"].rows])


def build_lighting(session: Session, mid: int, problems: list[str]) -> list[str]:
    """Aggregate lamps into circuits and cabinets in PostGIS; report inconsistencies."""
    params = {"mid": mid}
    lamps = session.execute(text("SELECT count(*) FROM lamps WHERE municipality_id = :mid"), params).scalar()
    if not lamps:
        return []
    for circuit, cabinets in session.execute(text(
            "SELECT circuit_id, array_agg(DISTINCT cabinet_id ORDER BY cabinet_id) FROM lamps "
            "WHERE municipality_id = :mid GROUP BY circuit_id HAVING count(DISTINCT cabinet_id) > 1"), params):
        problems.append(f"circuit {circuit} has lamps naming several cabinets ({', '.join(cabinets)}); "
                        "it is put on the one most of its lamps name")
    unknown = session.execute(text(
        "SELECT DISTINCT l.cabinet_id FROM lamps l WHERE l.municipality_id = :mid AND NOT EXISTS "
        "(SELECT 1 FROM lighting_cabinets c WHERE c.municipality_id = :mid AND c.cabinet_id = l.cabinet_id) "
        "ORDER BY 1"), params).scalars().all()
    for cab in unknown:
        problems.append(f"lamps name cabinet {cab}, which is not in lighting_cabinets: kept without a position")
    session.execute(text(
        "INSERT INTO lighting_cabinets (municipality_id, cabinet_id, located, props, circuit_count, lamp_count) "
        "SELECT :mid, unnest(CAST(:cabs AS text[])), false, '{}'::jsonb, 0, 0"), {**params, "cabs": list(unknown)})
    session.execute(text(
        "INSERT INTO lighting_circuits (municipality_id, circuit_id, cabinet_id, lamp_count, geom) "
        "SELECT :mid, circuit_id, mode() WITHIN GROUP (ORDER BY cabinet_id), count(*), "
        "ST_Multi(ST_Collect(geom ORDER BY lamp_id)) FROM lamps WHERE municipality_id = :mid "
        "GROUP BY circuit_id"), params)
    session.execute(text(
        "UPDATE lighting_cabinets c SET circuit_count = s.n, lamp_count = s.lamps FROM "
        "(SELECT cabinet_id, count(*) AS n, sum(lamp_count) AS lamps FROM lighting_circuits "
        " WHERE municipality_id = :mid GROUP BY cabinet_id) s "
        "WHERE c.municipality_id = :mid AND c.cabinet_id = s.cabinet_id"), params)
    circuits, cabinets = session.execute(text(
        "SELECT (SELECT count(*) FROM lighting_circuits WHERE municipality_id = :mid), "
        "(SELECT count(*) FROM lighting_cabinets WHERE municipality_id = :mid AND circuit_count > 0)"),
        params).one()
    return [f"lighting: {lamps} lamps on {circuits} circuits fed by {cabinets} cabinets"]


def check_addresses(session: Session, mid: int) -> list[str]:
    """Addresses whose street name is not the name of any street (kept, but reported)."""
    rows = session.execute(text(
        "SELECT a.street, count(*) FROM addresses a WHERE a.municipality_id = :mid AND NOT EXISTS "
        "(SELECT 1 FROM streets s WHERE s.municipality_id = :mid AND s.name = a.street) "
        "GROUP BY a.street ORDER BY a.street"), {"mid": mid}).all()
    return [f"{n} address(es) on {street!r}, which is not the name of any street" for street, n in rows]


def build_water(session: Session, mid: int, results: dict[str, LayerResult], options, problems: list[str]) -> list[str]:
    """Build the water topology in Python and store pipes, parts, segments, valves, sources."""
    if "water_pipes" not in results or not results["water_pipes"].rows:
        return []
    from geo_urp.loading import write_water

    return write_water.store_water(session, mid, results, options, problems)
