"""Where a submitted report is: from lat/long, an ``address_id`` or an ``address_string``.

lat/long wins when given (a phone's GPS or a click on the operator's map), then
``address_id`` (a civic picked from a list), then ``address_string`` (what the
caller said, through the geocoder). A point farther outside the municipality
than the margin, or an address the geocoder cannot place, places only with a
weak match or finds ambiguous, is refused with a 400 that says why and, for
text, which places came closest, so the operator can ask the caller again
instead of sending a crew to a guess. The place comes with its snap
(``snapping``): the street, and the lamp or water main of the call's network.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace

from sqlalchemy.orm import Session

from geo_urp.errors import BadInput, NotFound
from geo_urp.language import N_
from geo_urp.locating import geocoder, snapping
from geo_urp.locating.snapping import Snap, SnapLimits
from geo_urp.models import Municipality
from geo_urp.municipalities import municipality_for


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


_DECIMAL = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


def _number(fields: Mapping[str, str], name: str, low: float, high: float) -> float:
    raw = str(fields.get(name)).strip()
    try:
        # float() also reads "4_6.2", "nan", "inf" and digits of other scripts ("٤٦"): none of them
        # is a coordinate as Open311 writes one.
        value = float(raw) if _DECIMAL.fullmatch(raw) else None
    except ValueError:
        value = None
    if value is None or not low <= value <= high:
        raise BadInput(N_("%(field)s deve essere un numero da %(low)s a %(high)s (gradi WGS84), non %(value)s"),
                       field=name, low=f"{low:g}", high=f"{high:g}", value=repr(raw),
                       details=[{"field": name, "value": raw}])
    return value


def _given(fields: Mapping[str, str], name: str) -> bool:
    return str(fields.get(name) or "").strip() != ""


def has_location(fields: Mapping[str, str]) -> bool:
    """Whether a submission names a place at all (lat or long, address_id or address_string)."""
    return any(_given(fields, name) for name in ("lat", "long", "address_id", "address_string"))


def _from_latlong(session: Session, muni: Municipality, fields: Mapping[str, str], margin_m: float) -> Place:
    lat = _number(fields, "lat", -90, 90)
    lon = _number(fields, "long", -180, 180)
    point = snapping.project(session, muni.id, lat, lon)
    if point.outside_m > margin_m:
        raise BadInput(N_("lat/long (%(lat)s, %(long)s) cade %(outside)s m fuori da %(town)s; si accettano al "
                          "massimo %(margin)s m fuori"), lat=lat, long=lon, outside=f"{point.outside_m:.0f}",
                       town=muni.name, margin=f"{margin_m:.0f}", details=[{"field": "lat"}, {"field": "long"}])
    try:
        label = geocoder.reverse_geocode(session, muni.id, point.x, point.y).label
    except NotFound:  # a town without streets: the caller's words are the label
        label = None
    return Place(point.x, point.y, label or _text(fields, "address_string"), "latlong", None)


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
        text = (N_("address_string %(query)s non è stato trovato a %(town)s; il più vicino: %(near)s") if near
                else N_("address_string %(query)s non è stato trovato a %(town)s"))
        raise BadInput(text, query=repr(query), town=muni.name, near=near,
                       details=[{"field": "address_string", "value": query, "candidates": exc.details}]) from None
    best = result.best
    if result.ambiguous:
        options = [best] + result.alternatives
        listed = _choices([{"label": m.label, "score": m.score} for m in options])
        raise BadInput(N_("address_string %(query)s è ambiguo a %(town)s: %(listed)s; aggiungi il numero civico, "
                          "una via che incrocia o invia lat/long"), query=repr(query), town=muni.name, listed=listed,
                       details=[{"field": "address_string", "value": query,
                                 "candidates": [m.as_dict() for m in options]}])
    if not result.confident:
        options = [best] + result.alternatives
        listed = _choices([{"label": m.label, "score": m.score} for m in options])
        raise BadInput(N_("address_string %(query)s non è stato trovato con sicurezza a %(town)s; il più vicino: "
                          "%(listed)s"), query=repr(query), town=muni.name, listed=listed,
                       details=[{"field": "address_string", "value": query,
                                 "candidates": [m.as_dict() for m in options]}])
    return Place(best.x, best.y, best.label, best.kind, best.score, best.address_id, best.street_id)


def _from_address_id(session: Session, muni: Municipality, address_id: str) -> Place:
    try:
        match = geocoder.geocode_address_id(session, muni.id, address_id)
    except NotFound:
        raise BadInput(N_("address_id %(value)s non è un numero civico di %(town)s"), value=repr(address_id),
                       town=muni.name, details=[{"field": "address_id", "value": address_id}]) from None
    return Place(match.x, match.y, match.label, match.kind, match.score, match.address_id, match.street_id)


def place(session: Session, muni: Municipality, fields: Mapping[str, str], margin_m: float,
          network: str | None = None, limits: SnapLimits = SnapLimits()) -> tuple[Place, Snap]:
    """The point of a submission from its location fields, and its snap to the street and to
    ``network``'s asset; ``BadInput`` saying what is missing or wrong.

    The place carries the postcode of its civic (or the town's, when it has one).
    """
    where = _place(session, muni, fields, margin_m)
    snap = snapping.snap(session, muni.id, where.x, where.y, network, limits)
    return replace(where, zipcode=geocoder.postcode(session, muni.id, where.address_id)), snap


def _place(session: Session, muni: Municipality, fields: Mapping[str, str], margin_m: float) -> Place:
    has_lat, has_long = _given(fields, "lat"), _given(fields, "long")
    if has_lat or has_long:
        if not (has_lat and has_long):
            missing = "long" if has_lat else "lat"
            raise BadInput(N_("%(field)s manca: lat e long vanno insieme"), field=missing,
                           details=[{"field": missing}])
        return _from_latlong(session, muni, fields, margin_m)
    if _given(fields, "address_id"):
        return _from_address_id(session, muni, str(fields["address_id"]).strip())
    if _given(fields, "address_string"):
        return _from_text(session, muni, str(fields["address_string"]).strip())
    raise BadInput(N_("serve un luogo: lat e long, address_string o address_id"),
                   details=[{"field": "lat"}, {"field": "long"}, {"field": "address_string"},
                            {"field": "address_id"}])


def locate_text(session: Session, jurisdiction_id: str | None, bound_to: int | None, query: str | None) -> dict:
    """``GET /api/geocode``: best match and alternatives for ``query`` in the municipality asked for."""
    muni = municipality_for(session, jurisdiction_id, bound_to)
    return geocoder.geocode(session, muni.id, query).as_dict()
