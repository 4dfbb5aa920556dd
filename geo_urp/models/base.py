"""Declarative base, the municipality, and the column types every model shares.

All municipalities of a database share the same tables (a contact centre answers
for several towns), so every domain row carries ``municipality_id`` and
geometries use one metric CRS, ``METRIC_SRID``, for the whole database: one SRID
per column keeps a single spatial index per table. Changing it needs a migration.
"""
from __future__ import annotations

from datetime import datetime

from geoalchemy2 import Geometry, WKBElement
from sqlalchemy import BigInteger, DateTime, ForeignKey, Integer, MetaData, String, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

METRIC_SRID = 32632  # UTM 32N: SPEC §2 default, good for northern and central Italy.
WGS84 = 4326

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Base of every geo_urp table."""

    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {dict: JSONB, datetime: DateTime(timezone=True)}


def geom(kind: str, nullable: bool = False, deferred: bool = False):
    """A geometry column of ``kind`` in the database's metric CRS, spatially indexed.

    ``deferred``: read only when the attribute is used (large shapes that SQL, not Python, works with).
    """
    return mapped_column(Geometry(kind, srid=METRIC_SRID), nullable=nullable, deferred=deferred)


def municipality_fk():
    """The ``municipality_id`` column every domain row carries."""
    return mapped_column(
        Integer, ForeignKey("municipalities.id", ondelete="CASCADE"), index=True, nullable=False
    )


class Municipality(Base):
    """A comune served by this instance, with its boundary and what is loaded."""

    __tablename__ = "municipalities"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str]
    istat_code: Mapped[str | None]
    srid: Mapped[int] = mapped_column(default=METRIC_SRID)
    # Read by PostGIS in queries; loaded into Python only when asked for.
    boundary: Mapped[WKBElement | None] = geom("MULTIPOLYGON", nullable=True, deferred=True)
    boundary_approximate: Mapped[bool] = mapped_column(default=False)
    # Per layer: features read/kept/rejected at the last load, and which
    # capabilities are off because an optional layer is missing.
    layer_summary: Mapped[dict] = mapped_column(default=dict, deferred=True)
    layers_loaded_at: Mapped[datetime | None]
    # Overrides of the incident rules (``reasoning.rules.DEFAULTS``) for this town.
    rules: Mapped[dict] = mapped_column(default=dict, server_default="{}")
    # Per service code, this town's settings over the defaults: ``{"noise": {"sla_hours": 2}}``
    # (``acting.service_levels``).
    service_settings: Mapped[dict] = mapped_column(default=dict, server_default="{}")
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())


class TownChange(Base):
    """The last change number handed out in a town: what its pollers' cursors count (migration 0014).

    PostgreSQL raises it when a transaction that wrote the town's reports or incidents commits,
    and numbers those rows with it (``reports.change_no``, ``incidents.change_no``).
    """

    __tablename__ = "town_changes"

    municipality_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("municipalities.id", ondelete="CASCADE"), primary_key=True)
    change_no: Mapped[int] = mapped_column(BigInteger)
