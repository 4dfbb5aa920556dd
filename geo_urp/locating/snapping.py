"""Snapping a report's point to what it concerns: the street, the lamp, the water main.

All of it happens in PostGIS, where the layers are: each lookup is one KNN query
(``ORDER BY geom <-> point LIMIT 1``, served by the GiST index) bounded by
``ST_DWithin`` so that a point far from any lamp or pipe snaps to nothing rather
than to something two streets away. A lamp brings its circuit and cabinet; a
water main is found through its parts (``water_pipe_parts``), so the report
lands on the valve segment of the piece of pipe it is next to, not just on the
pipe. Distances are settings (``SNAP_*_MAX_M``), passed in as ``SnapLimits``.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.orm import Session

from geo_urp.models import METRIC_SRID

DEFAULT_LAMP_MAX_M = 60.0
DEFAULT_PIPE_MAX_M = 80.0
DEFAULT_STREET_MAX_M = 150.0


@dataclass(frozen=True)
class SnapLimits:
    """How far (metres) a point may be from a lamp, a pipe or a street to snap to it."""

    lamp_m: float = DEFAULT_LAMP_MAX_M
    pipe_m: float = DEFAULT_PIPE_MAX_M
    street_m: float = DEFAULT_STREET_MAX_M

    @classmethod
    def from_config(cls, config: Mapping) -> "SnapLimits":
        """The limits from settings (``SNAP_LAMP_MAX_M``, ``SNAP_PIPE_MAX_M``, ``SNAP_STREET_MAX_M``)."""
        return cls(float(config.get("SNAP_LAMP_MAX_M", DEFAULT_LAMP_MAX_M)),
                   float(config.get("SNAP_PIPE_MAX_M", DEFAULT_PIPE_MAX_M)),
                   float(config.get("SNAP_STREET_MAX_M", DEFAULT_STREET_MAX_M)))


@dataclass(frozen=True)
class StreetSnap:
    """The nearest street segment."""

    street_id: str
    name: str
    distance_m: float


@dataclass(frozen=True)
class LampSnap:
    """The nearest lamp, with the circuit and cabinet that feed it."""

    lamp_id: str
    circuit_id: str
    cabinet_id: str
    distance_m: float


@dataclass(frozen=True)
class PipeSnap:
    """The nearest water main and the valve segment of the part of it that is nearest."""

    pipe_id: str
    segment_no: int
    distance_m: float


@dataclass(frozen=True)
class Snap:
    """Everything a point snapped to; None where nothing was close enough or not asked."""

    street: StreetSnap | None = None
    lamp: LampSnap | None = None
    pipe: PipeSnap | None = None

    def report_fields(self) -> dict:
        """The ``Report`` columns this snap fills."""
        out: dict = {}
        if self.street:
            out["street_id"] = self.street.street_id
        if self.lamp:
            out.update(lamp_id=self.lamp.lamp_id, circuit_id=self.lamp.circuit_id,
                       cabinet_id=self.lamp.cabinet_id)
        if self.pipe:
            out.update(pipe_id=self.pipe.pipe_id, segment_no=self.pipe.segment_no)
        return out


_POINT = f"ST_SetSRID(ST_MakePoint(:x, :y), {METRIC_SRID})"

# One KNN look-up per network around ``{point}``; ``{max}`` names the distance parameter,
# ``{when}`` a condition that, when false, skips the look-up (PostgreSQL tests it once, before the scan).
_STREET_Q = """
    SELECT street_id, name, ST_Distance(geom, {point}) AS d FROM streets
    WHERE {when} municipality_id = :mid AND ST_DWithin(geom, {point}, :{max})
    ORDER BY geom <-> {point} LIMIT 1"""

_LAMP_Q = """
    SELECT lamp_id, circuit_id, cabinet_id, ST_Distance(geom, {point}) AS d FROM lamps
    WHERE {when} municipality_id = :mid AND ST_DWithin(geom, {point}, :{max})
    ORDER BY geom <-> {point} LIMIT 1"""

_PIPE_Q = """
    SELECT pipe_id, segment_no, ST_Distance(geom, {point}) AS d FROM water_pipe_parts
    WHERE {when} municipality_id = :mid AND ST_DWithin(geom, {point}, :{max})
    ORDER BY geom <-> {point}, pipe_id LIMIT 1"""

_STREET_SQL, _LAMP_SQL, _PIPE_SQL = (text(q.format(point=_POINT, when="", max="max_m"))
                                     for q in (_STREET_Q, _LAMP_Q, _PIPE_Q))


def asset_lookups(point: str) -> str:
    """The lamp and water-main look-ups around the SQL point ``point`` as ``LEFT JOIN LATERAL``s
    (aliases ``l`` and ``p``), asked only when ``:want_lamp`` / ``:want_pipe`` is true, within
    ``:lamp_m`` / ``:pipe_m``: for statements that snap as part of a larger question."""
    return (f"LEFT JOIN LATERAL ({_LAMP_Q.format(point=point, when=':want_lamp AND', max='lamp_m')}) l ON true "
            f"LEFT JOIN LATERAL ({_PIPE_Q.format(point=point, when=':want_pipe AND', max='pipe_m')}) p ON true")


# ``snap``: the three look-ups in one round trip.
_SNAP_SQL = text(f"""
    SELECT s.street_id, s.name, s.d, l.lamp_id, l.circuit_id, l.cabinet_id, l.d, p.pipe_id, p.segment_no, p.d
    FROM (SELECT 1) AS one
    LEFT JOIN LATERAL ({_STREET_Q.format(point=_POINT, when="", max="street_m")}) s ON true
    {asset_lookups(_POINT)}""")


def _params(municipality_id: int, x: float, y: float, max_m: float) -> dict:
    return {"mid": municipality_id, "x": float(x), "y": float(y), "max_m": float(max_m)}


def nearest_street(session: Session, municipality_id: int, x: float, y: float,
                   max_m: float = DEFAULT_STREET_MAX_M) -> StreetSnap | None:
    """The street segment nearest metric (x, y) within ``max_m``, else None."""
    row = session.execute(_STREET_SQL, _params(municipality_id, x, y, max_m)).first()
    return StreetSnap(row[0], row[1], round(row[2], 1)) if row else None


def nearest_lamp(session: Session, municipality_id: int, x: float, y: float,
                 max_m: float = DEFAULT_LAMP_MAX_M) -> LampSnap | None:
    """The lamp nearest metric (x, y) within ``max_m``, with its circuit and cabinet, else None."""
    row = session.execute(_LAMP_SQL, _params(municipality_id, x, y, max_m)).first()
    return LampSnap(row[0], row[1], row[2], round(row[3], 1)) if row else None


def nearest_pipe(session: Session, municipality_id: int, x: float, y: float,
                 max_m: float = DEFAULT_PIPE_MAX_M) -> PipeSnap | None:
    """The water main nearest metric (x, y) within ``max_m`` and the valve segment there, else None."""
    row = session.execute(_PIPE_SQL, _params(municipality_id, x, y, max_m)).first()
    return PipeSnap(row[0], int(row[1]), round(row[2], 1)) if row else None


def snap_params(network: str | None, limits: SnapLimits) -> dict:
    """The parameters of ``asset_lookups`` (and of the street look-up's ``:street_m``)."""
    return {"street_m": float(limits.street_m), "lamp_m": float(limits.lamp_m), "pipe_m": float(limits.pipe_m),
            "want_lamp": network == "lighting", "want_pipe": network == "water"}


def asset_snaps(row, start: int) -> tuple[LampSnap | None, PipeSnap | None]:
    """The lamp and main of ``asset_lookups``' seven columns (l.lamp_id, l.circuit_id,
    l.cabinet_id, l.d, p.pipe_id, p.segment_no, p.d) read from ``row[start:]``."""
    r = row[start:start + 7]
    return (LampSnap(r[0], r[1], r[2], round(r[3], 1)) if r[0] is not None else None,
            PipeSnap(r[4], int(r[5]), round(r[6], 1)) if r[4] is not None else None)


def snap(session: Session, municipality_id: int, x: float, y: float, network: str | None,
         limits: SnapLimits = SnapLimits()) -> Snap:
    """Snap metric (x, y) to its street and, for ``network`` "lighting" or "water", to that asset.

    One query: the same look-ups as ``nearest_street``, ``nearest_lamp`` and ``nearest_pipe``.
    """
    r = session.execute(_SNAP_SQL, {"mid": municipality_id, "x": float(x), "y": float(y),
                                    **snap_params(network, limits)}).one()
    return Snap(StreetSnap(r[0], r[1], round(r[2], 1)) if r[0] is not None else None, *asset_snaps(r, 3))


@dataclass(frozen=True)
class Projected:
    """A WGS84 point in the metric CRS, and how far outside the municipality it lies."""

    x: float
    y: float
    outside_m: float  # 0 inside the boundary (or when the boundary is unknown)


# A WGS84 point in the metric CRS (``:lat``, ``:lon``), and how far outside municipality ``m``
# the SQL point ``{g}`` lies (0 inside, or when the boundary is unknown).
WGS84_POINT = f"ST_Transform(ST_SetSRID(ST_MakePoint(:lon, :lat), 4326), {METRIC_SRID})"
OUTSIDE_M = "COALESCE(CASE WHEN ST_Covers(m.boundary, {g}) THEN 0 ELSE ST_Distance(m.boundary, {g}) END, 0)"

_PROJECT_SQL = text(f"""
    SELECT ST_X(p.g), ST_Y(p.g), {OUTSIDE_M.format(g="p.g")}
    FROM (SELECT {WGS84_POINT} AS g) p JOIN municipalities m ON m.id = :mid""")


def project(session: Session, municipality_id: int, lat: float, lon: float) -> Projected:
    """WGS84 (lat, lon) in the metric CRS, with its distance outside the municipality's boundary."""
    row = session.execute(_PROJECT_SQL, {"mid": municipality_id, "lat": float(lat), "lon": float(lon)}).one()
    return Projected(float(row[0]), float(row[1]), round(float(row[2]), 1))


_ASSET_COLUMNS = ("street_id", "lamp_id", "circuit_id", "cabinet_id", "pipe_id", "segment_no")


def resnap_open_reports(session: Session, municipality_id: int, network_of: Mapping[str, str | None],
                        limits: SnapLimits = SnapLimits()) -> int:
    """Snap every open report of a municipality again, to the layers loaded now; return how many
    changed street, lamp or main.

    Asset ids and valve-segment numbers belong to one load of the layers: after a reload a
    report's old ``lamp_id`` may name another lamp or none. ``network_of`` maps a service code
    to the network its calls snap to (the catalog's). A report placed on a street the new
    layers no longer have keeps its point and gets the nearest street.
    """
    rows = session.execute(text(
        "SELECT id, service_code, ST_X(geom), ST_Y(geom), " + ", ".join(_ASSET_COLUMNS) +
        " FROM reports WHERE municipality_id = :mid AND status = 'open' ORDER BY id"),
        {"mid": municipality_id}).all()
    changed = 0
    for row in rows:
        fresh = dict.fromkeys(_ASSET_COLUMNS)
        fresh.update(snap(session, municipality_id, row[2], row[3], network_of.get(row[1]), limits).report_fields())
        if tuple(fresh[c] for c in _ASSET_COLUMNS) != tuple(row[4:]):
            session.execute(text(
                "UPDATE reports SET " + ", ".join(f"{c} = :{c}" for c in _ASSET_COLUMNS) + " WHERE id = :id"),
                {**fresh, "id": row[0]})
            changed += 1
    return changed
