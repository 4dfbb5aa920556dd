"""What each layer of SPEC §2 is: its geometry kinds, required and optional fields.

The one table the loader, the validators and the docs read, so that a new
layer or field is added in one place.
"""
from __future__ import annotations

from dataclasses import dataclass, field

POLYGONAL = ("Polygon", "MultiPolygon")
LINEAR = ("LineString", "MultiLineString")
POINT = ("Point",)


@dataclass(frozen=True)
class LayerSpec:
    """The contract of one layer file."""

    name: str
    geometry: tuple[str, ...]
    required: tuple[str, ...]
    optional: tuple[str, ...] = ()
    id_field: str | None = None
    # What the service cannot do while this layer is absent (None: mandatory).
    without: str | None = None
    integer_fields: tuple[str, ...] = field(default=())


LAYERS: dict[str, LayerSpec] = {
    spec.name: spec
    for spec in (
        LayerSpec("boundary", POLYGONAL, ("name",), ("istat_code",)),
        LayerSpec("streets", LINEAR, ("street_id", "name"),
                  ("l_from", "l_to", "r_from", "r_to", "alt_names"), id_field="street_id",
                  integer_fields=("l_from", "l_to", "r_from", "r_to")),
        LayerSpec("addresses", POINT, ("street", "number"), ("postcode", "address_id"),
                  id_field="address_id",
                  without="geocoding to civic numbers is off: addresses are placed on streets only"),
        LayerSpec("landmarks", POINT, ("name",), ("aliases",),
                  without="landmarks (\"davanti al municipio\") cannot be geocoded"),
        LayerSpec("lighting_cabinets", POINT, ("cabinet_id",), id_field="cabinet_id",
                  without="cabinets have no position: cabinet incidents point at their lamps"),
        LayerSpec("lamps", POINT, ("lamp_id", "circuit_id", "cabinet_id"), id_field="lamp_id",
                  without="lighting roll-up is off: street-light calls are not grouped by circuit"),
        LayerSpec("water_pipes", ("LineString",), ("pipe_id",), ("diameter_mm", "material"),
                  id_field="pipe_id",
                  without="water reasoning is off: no burst mains, no valves to close"),
        LayerSpec("water_valves", POINT, ("valve_id",), ("operable",), id_field="valve_id",
                  without="no valves: a burst main cannot be isolated"),
        LayerSpec("water_sources", POINT, ("source_id",), id_field="source_id",
                  without="no sources: areas losing supply cannot be computed"),
        LayerSpec("crew_areas", POLYGONAL, ("area_id", "name"), id_field="area_id",
                  without="no crew areas: incidents get no area and no crew"),
        LayerSpec("districts", POLYGONAL, ("district_id", "name"), id_field="district_id",
                  without="no districts: the council's trends have no per-district table"),
    )
}
MANDATORY = ("boundary", "streets")
# Load order: the boundary first (others are checked against it).
LOAD_ORDER = tuple(LAYERS)
CREWS_FILE = "crews.csv"
CREW_FIELDS = ("crew_id", "name", "area_ids", "skills")
CREW_OPTIONAL = ("phone", "email")
CREWS_WITHOUT = "no crews: incidents get an area but no crew"
