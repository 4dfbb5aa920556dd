"""Where a submitted report is: from lat/long, an ``address_id`` or an ``address_string``.

lat/long wins when given (a phone's GPS or a click on the operator's map), then
``address_id`` (a civic picked from a list), then ``address_string`` (what the
caller said, through the geocoder). A point farther outside the municipality
than the margin, an address the geocoder cannot place, or one it finds
ambiguous is refused with a 400 that says why and, for text, which places came
closest, so the operator can ask the caller again instead of sending a crew to
a guess. The place comes with its snap (``snapping``): the street, and the lamp or
water main of the call's network.

A lat/long call, the common one (a phone's GPS, a click on the map), is placed in
one prepared statement (``_AT_POINT``): its point, how far outside the town it lies, the
street and civics for its label and the asset it snaps to.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

from sqlalchemy.orm import Session, attributes

from geo_urp.db import Prepared
from geo_urp.errors import BadInput, NotFound
from geo_urp.locating import geocoder, snapping
from geo_urp.locating import geocoder_sql as geo_sql
from geo_urp.reading.open311 import municipality_for
from geo_urp.locating.snapping import Snap, SnapLimits, StreetSnap
from geo_urp.models import Municipality


@dataclass(frozen=True)
class Place:
    """A report's point (metric CRS), its label and how it was found."""

    x: float
    y: float
    address: str | None
    kind: str            # latlong | address | interpolated | intersection | landmark | street
    score: float | None
    address_id: str | None = None
    street_id: str | None = None
    zipcode: str | None = None


def _number(fields: Mapping[str, str], name: str, low: float, high: float) -> float:
    raw = str(fields.get(name)).strip()
    try:
        # float() also reads "4_6.2", "nan" and "inf": none of them is a coordinate.
        value = float(raw) if "_" not in raw else None
    except ValueError:
        value = None
    if value is None or not low <= value <= high:
        raise BadInput(f"{name} must be a number from {low:g} to {high:g} (WGS84 degrees), not {raw!r}",
                       details=[{"field": name, "value": raw}])
    return value


def _given(fields: Mapping[str, str], name: str) -> bool:
    return str(fields.get(name) or "").strip() != ""


# ``layers_loaded_at`` is read here, after the town's lock was taken, not with the
# municipality's row before it: it names the layers this call is placed on. Columns:
# 0-2 the point and its distance outside, 3 layers_loaded_at, 4-11 the reverse look-ups
# (``geo_sql.REVERSE_COLUMNS``), 12-18 the lamp and the main (``snapping.asset_snaps``).
_AT_POINT = Prepared(f"""
    WITH pt AS (SELECT {snapping.WGS84_POINT} AS g)
    SELECT ST_X(pt.g), ST_Y(pt.g), {snapping.OUTSIDE_M.format(g="pt.g")}, m.layers_loaded_at,
           {geo_sql.REVERSE_COLUMNS},
           l.lamp_id, l.circuit_id, l.cabinet_id, l.d, p.pipe_id, p.segment_no, p.d
    FROM pt JOIN municipalities m ON m.id = :mid
    {geo_sql.reverse_lookups("pt.g")}
    {snapping.asset_lookups("pt.g")}""")


def _from_latlong(session: Session, muni: Municipality, fields: Mapping[str, str], margin_m: float,
                  network: str | None, limits: SnapLimits) -> tuple[Place, Snap]:
    lat = _number(fields, "lat", -90, 90)
    lon = _number(fields, "long", -180, 180)
    row = _AT_POINT.execute(session, {"mid": muni.id, "lat": lat, "lon": lon, "civic_m": geocoder.REVERSE_CIVIC_M,
                                      "civic_n": geocoder.REVERSE_NEARBY,
                                      **snapping.snap_params(network, limits)}).one()
    x, y, outside_m = float(row[0]), float(row[1]), round(float(row[2]), 1)
    if outside_m > margin_m:
        raise BadInput(f"lat/long ({lat}, {lon}) lies {outside_m:.0f} m outside {muni.name}; "
                       f"at most {margin_m:.0f} m outside is accepted",
                       details=[{"field": "lat"}, {"field": "long"}])
    attributes.set_committed_value(muni, "layers_loaded_at", row[3])
    near = geo_sql.street_row(row, 4)
    try:
        label = geocoder.reverse_from(session, muni.id, x, y, near, geo_sql.civic_rows(row[11])).label
    except NotFound:
        label = None
    street = (StreetSnap(near[1], near[0], round(near[2], 1))
              if near is not None and near[2] <= limits.street_m else None)
    snap = Snap(street, *snapping.asset_snaps(row, 12))
    return Place(x, y, label or _text(fields, "address_string"), "latlong", None), snap


def _text(fields: Mapping[str, str], name: str) -> str | None:
    value = str(fields.get(name) or "").strip()
    return value[:200] or None


def _choices(items: list[dict]) -> str:
    return "; ".join(f"{d.get('label')} ({d.get('score')})" for d in items[:5] if d.get("label"))


def _from_text(session: Session, muni: Municipality, query: str) -> Place:
    try:
        result = geocoder.geocode(session, muni.id, query, field="address_string")
    except NotFound as exc:
        near = _choices(exc.details)
        raise BadInput(f"address_string {query!r} could not be located in {muni.name}"
                       + (f"; closest: {near}" if near else ""),
                       details=[{"field": "address_string", "value": query, "candidates": exc.details}]) from None
    best = result.best
    if result.ambiguous:
        options = [best] + result.alternatives
        listed = _choices([{"label": m.label, "score": m.score} for m in options])
        raise BadInput(f"address_string {query!r} is ambiguous in {muni.name}: {listed}; "
                       "add the civic number, a cross street or send lat/long",
                       details=[{"field": "address_string", "value": query,
                                 "candidates": [m.as_dict() for m in options]}])
    return Place(best.x, best.y, best.label, best.kind, best.score, best.address_id, best.street_id)


def _from_address_id(session: Session, muni: Municipality, address_id: str) -> Place:
    try:
        match = geocoder.geocode_address_id(session, muni.id, address_id)
    except NotFound:
        raise BadInput(f"address_id {address_id!r} is not a civic number of {muni.name}",
                       details=[{"field": "address_id", "value": address_id}]) from None
    return Place(match.x, match.y, match.label, match.kind, match.score, match.address_id, match.street_id)


def place(session: Session, muni: Municipality, fields: Mapping[str, str], margin_m: float,
          network: str | None = None, limits: SnapLimits = SnapLimits()) -> tuple[Place, Snap]:
    """The point of a submission from its location fields, and its snap to the street and to
    ``network``'s asset; ``BadInput`` saying what is missing or wrong.

    The place carries the postcode of its civic (or the town's, when it has one).
    """
    found = _place(session, muni, fields, margin_m, network, limits)
    if isinstance(found, Place):
        found = (found, snapping.snap(session, muni.id, found.x, found.y, network, limits))
    where, snap = found
    return replace(where, zipcode=geocoder.postcode(session, muni.id, where.address_id)), snap


def _place(session: Session, muni: Municipality, fields: Mapping[str, str], margin_m: float,
           network: str | None, limits: SnapLimits) -> Place | tuple[Place, Snap]:
    has_lat, has_long = _given(fields, "lat"), _given(fields, "long")
    if has_lat or has_long:
        if not (has_lat and has_long):
            missing = "long" if has_lat else "lat"
            raise BadInput(f"{missing} is missing: lat and long go together",
                           details=[{"field": missing}])
        return _from_latlong(session, muni, fields, margin_m, network, limits)
    if _given(fields, "address_id"):
        return _from_address_id(session, muni, str(fields["address_id"]).strip())
    if _given(fields, "address_string"):
        return _from_text(session, muni, str(fields["address_string"]).strip())
    raise BadInput("a location is required: lat and long, address_string or address_id",
                   details=[{"field": "lat"}, {"field": "long"}, {"field": "address_string"},
                            {"field": "address_id"}])


def locate_text(session: Session, jurisdiction_id: str | None, bound_to: int | None, query: str | None) -> dict:
    """``GET /api/geocode``: best match and alternatives for ``query`` in the municipality asked for."""
    muni = municipality_for(session, jurisdiction_id, bound_to)
    return geocoder.geocode(session, muni.id, query).as_dict()
