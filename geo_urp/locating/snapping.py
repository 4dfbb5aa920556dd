"""Snapping a report's point to what it concerns: the street, the lamp, the water main.

All of it happens in PostGIS, where the layers are: each lookup is one KNN query
(``ORDER BY geom <-> point LIMIT 1``, served by the GiST index) bounded by
``ST_DWithin`` so that a point far from any lamp or pipe snaps to nothing rather
than to something two streets away. A lamp brings its circuit and cabinet; a
water main is found through its parts (``water_pipe_parts``), so the report
lands on the valve segment of the piece of pipe it is next to, not just on the
pipe. Distances are settings (``SNAP_*_MAX_M``), passed in as ``SnapLimits``.
Projecting a lat/long to the metric CRS and measuring it against the town's
boundary (``project``) is the one step done in Python, on the boundary kept per
load of the layers: it is a single point, asked before anything is looked up.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import shapely
from geoalchemy2.shape import to_shape
from pyproj import Transformer
from shapely.geometry import Point
from shapely.geometry.base import BaseGeometry
from sqlalchemy import func, select, text, update
from sqlalchemy.orm import Session

from geo_urp.loading import layer_cache
from geo_urp.models import METRIC_SRID, WGS84, Municipality, Report

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

# The nearest street, lamp and water-main part around metric (:x, :y) of municipality :mid,
# each within its distance and by KNN (``<->``, served by the GiST index); the lamp and the
# main only when the call's network asks for them (PostgreSQL tests :want_* once, before
# scanning). One round trip for all three.
_SNAP_SQL = text(f"""
    SELECT s.street_id, s.name AS street_name, s.d AS street_d,
           l.lamp_id, l.circuit_id, l.cabinet_id, l.d AS lamp_d,
           p.pipe_id, p.segment_no, p.d AS pipe_d
    FROM (SELECT {_POINT} AS g) pt
    LEFT JOIN LATERAL (
        SELECT street_id, name, ST_Distance(geom, pt.g) AS d FROM streets
        WHERE municipality_id = :mid AND ST_DWithin(geom, pt.g, :street_m)
        ORDER BY geom <-> pt.g LIMIT 1) s ON true
    LEFT JOIN LATERAL (
        SELECT lamp_id, circuit_id, cabinet_id, ST_Distance(geom, pt.g) AS d FROM lamps
        WHERE :want_lamp AND municipality_id = :mid AND ST_DWithin(geom, pt.g, :lamp_m)
        ORDER BY geom <-> pt.g LIMIT 1) l ON true
    LEFT JOIN LATERAL (
        SELECT pipe_id, segment_no, ST_Distance(geom, pt.g) AS d FROM water_pipe_parts
        WHERE :want_pipe AND municipality_id = :mid AND ST_DWithin(geom, pt.g, :pipe_m)
        ORDER BY geom <-> pt.g, pipe_id LIMIT 1) p ON true""")


def snap(session: Session, municipality_id: int, x: float, y: float, network: str | None,
         limits: SnapLimits = SnapLimits()) -> Snap:
    """Snap metric (x, y) to its street and, for ``network`` "lighting" or "water", to that asset."""
    r = session.execute(_SNAP_SQL, {
        "mid": municipality_id, "x": float(x), "y": float(y), "street_m": float(limits.street_m),
        "lamp_m": float(limits.lamp_m), "pipe_m": float(limits.pipe_m),
        "want_lamp": network == "lighting", "want_pipe": network == "water"}).one()
    return Snap(
        StreetSnap(r.street_id, r.street_name, round(r.street_d, 1)) if r.street_id is not None else None,
        LampSnap(r.lamp_id, r.circuit_id, r.cabinet_id, round(r.lamp_d, 1)) if r.lamp_id is not None else None,
        PipeSnap(r.pipe_id, int(r.segment_no), round(r.pipe_d, 1)) if r.pipe_id is not None else None)


@dataclass(frozen=True)
class Projected:
    """A WGS84 point in the metric CRS, and how far outside the municipality it lies."""

    x: float
    y: float
    outside_m: float  # 0 inside the boundary (or when the boundary is unknown)


# WGS84 longitude/latitude to the metric CRS: the same PROJ transformation PostGIS's
# ``ST_Transform`` applies, done here because a call's point is needed before any query of it.
_TO_METRIC = Transformer.from_crs(WGS84, METRIC_SRID, always_xy=True)


def _boundary(session: Session, municipality_id: int) -> BaseGeometry | None:
    """The municipality's boundary (metric CRS), read once per load of its layers (``layer_cache``):
    a reload is what replaces it."""
    def read() -> BaseGeometry | None:
        raw = session.scalar(select(Municipality.boundary).where(Municipality.id == municipality_id))
        if raw is None:
            return None
        shape = to_shape(raw)
        shapely.prepare(shape)  # every call asks it one point-in-polygon question
        return shape
    return layer_cache.cached(session, municipality_id, "boundary", read)


def project(session: Session, municipality_id: int, lat: float, lon: float) -> Projected:
    """WGS84 (lat, lon) in the metric CRS, with its distance outside the municipality's boundary
    (0 inside, or when the boundary is unknown).

    Worked out in Python on the boundary of this load of the layers (``_boundary``), with the
    same PROJ and GEOS operations PostGIS's ``ST_Transform``, ``ST_Covers`` and ``ST_Distance``
    use: one statement fewer on every call that comes with lat/long.
    """
    x, y = _TO_METRIC.transform(float(lon), float(lat))
    boundary, point = _boundary(session, municipality_id), Point(x, y)
    outside = 0.0 if boundary is None or boundary.covers(point) else boundary.distance(point)
    return Projected(float(x), float(y), round(float(outside), 1))


_ASSET_COLUMNS = ("street_id", "lamp_id", "circuit_id", "cabinet_id", "pipe_id", "segment_no")


def resnap_open_reports(session: Session, municipality_id: int, network_of: Mapping[str, str | None],
                        limits: SnapLimits = SnapLimits()) -> int:
    """Snap every open report of a municipality again, to the layers loaded now; return how many
    changed street, lamp or main.

    Asset ids and valve-segment numbers belong to one load of the layers: after a reload a
    report's old ``lamp_id`` may name another lamp or none. ``network_of`` maps a service code
    to the network its calls snap to (the catalog's). A report placed on a street the new
    layers no longer have keeps its point and gets the nearest street; one without a point (an
    information request) has nothing to snap.
    """
    rows = session.execute(
        select(Report.id, Report.service_code, func.ST_X(Report.geom).label("x"), func.ST_Y(Report.geom).label("y"),
               *(getattr(Report, c) for c in _ASSET_COLUMNS))
        .where(Report.municipality_id == municipality_id, Report.status == "open", Report.geom.is_not(None))
        .order_by(Report.id)).all()
    changed = 0
    for row in rows:
        fresh = dict.fromkeys(_ASSET_COLUMNS)
        fresh.update(snap(session, municipality_id, row.x, row.y, network_of.get(row.service_code), limits)
                     .report_fields())
        if any(fresh[c] != getattr(row, c) for c in _ASSET_COLUMNS):
            session.execute(update(Report).where(Report.id == row.id).values(**fresh))
            changed += 1
    return changed
