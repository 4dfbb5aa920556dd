"""The water network: pipes, valves, sources, and the topology built at load time.

The loader cuts pipes at valves into ``PipePart``s, groups the parts that stay
connected when every valve is shut into ``ValveSegment``s, and stores for each
pipe the answer of its isolation trace, so that later stages read it in one
indexed lookup instead of walking a graph per request.
"""
from __future__ import annotations

from geoalchemy2 import WKBElement
from sqlalchemy import Integer, String, UniqueConstraint
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from geo_urp.models.base import Base, geom, municipality_fk


def _text_array():
    return mapped_column(ARRAY(String), default=list, nullable=False)


def _int_array():
    return mapped_column(ARRAY(Integer), default=list, nullable=False)


class Pipe(Base):
    """A water main, with its isolation trace precomputed."""

    __tablename__ = "water_pipes"
    __table_args__ = (UniqueConstraint("municipality_id", "pipe_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    municipality_id: Mapped[int] = municipality_fk()
    pipe_id: Mapped[str]
    diameter_mm: Mapped[float | None]
    material: Mapped[str | None]
    props: Mapped[dict] = mapped_column(default=dict)
    geom: Mapped[WKBElement] = geom("LINESTRING")
    segment_nos: Mapped[list[int]] = _int_array()
    # The isolation trace: operable valves to shut, the segments they shut off,
    # and the further segments that then lose every source.
    valves_to_close: Mapped[list[str]] = _text_array()
    isolated_segment_nos: Mapped[list[int]] = _int_array()
    unsupplied_segment_nos: Mapped[list[int]] = _int_array()
    reaches_source: Mapped[bool] = mapped_column(default=True)


class PipePart(Base):
    """A piece of a pipe between two cuts (its ends or valves), in one valve segment."""

    __tablename__ = "water_pipe_parts"

    id: Mapped[int] = mapped_column(primary_key=True)
    municipality_id: Mapped[int] = municipality_fk()
    pipe_id: Mapped[str] = mapped_column(index=True)
    seq: Mapped[int]
    segment_no: Mapped[int] = mapped_column(index=True)
    geom: Mapped[WKBElement] = geom("LINESTRING")


class Valve(Base):
    """A valve, snapped onto the pipe it cuts."""

    __tablename__ = "water_valves"
    __table_args__ = (UniqueConstraint("municipality_id", "valve_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    municipality_id: Mapped[int] = municipality_fk()
    valve_id: Mapped[str]
    operable: Mapped[bool] = mapped_column(default=True)
    pipe_id: Mapped[str | None]  # None: the valve lies on no pipe (reported at load)
    segment_nos: Mapped[list[int]] = _int_array()
    props: Mapped[dict] = mapped_column(default=dict)
    geom: Mapped[WKBElement] = geom("POINT")


class WaterSource(Base):
    """A tank, well or pumping station feeding the network."""

    __tablename__ = "water_sources"
    __table_args__ = (UniqueConstraint("municipality_id", "source_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    municipality_id: Mapped[int] = municipality_fk()
    source_id: Mapped[str]
    pipe_id: Mapped[str | None]
    segment_no: Mapped[int | None]
    props: Mapped[dict] = mapped_column(default=dict)
    geom: Mapped[WKBElement] = geom("POINT")


class ValveSegment(Base):
    """What stays connected when every valve is shut: the unit a crew isolates."""

    __tablename__ = "water_valve_segments"
    __table_args__ = (UniqueConstraint("municipality_id", "segment_no"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    municipality_id: Mapped[int] = municipality_fk()
    segment_no: Mapped[int]
    pipe_ids: Mapped[list[str]] = _text_array()
    valve_ids: Mapped[list[str]] = _text_array()  # valves on its boundary
    has_source: Mapped[bool] = mapped_column(default=False)
    reaches_source: Mapped[bool] = mapped_column(default=True)
    length_m: Mapped[float]
    geom: Mapped[WKBElement] = geom("MULTILINESTRING")
