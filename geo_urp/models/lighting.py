"""Street lighting: cabinets feed circuits, circuits feed lamps."""
from __future__ import annotations

from geoalchemy2 import WKBElement
from sqlalchemy import UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from geo_urp.models.base import Base, geom, municipality_fk


class Cabinet(Base):
    """A lighting cabinet (quadro): the first common upstream device of its circuits."""

    __tablename__ = "lighting_cabinets"
    __table_args__ = (UniqueConstraint("municipality_id", "cabinet_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    municipality_id: Mapped[int] = municipality_fk()
    cabinet_id: Mapped[str]
    circuit_count: Mapped[int] = mapped_column(default=0)
    lamp_count: Mapped[int] = mapped_column(default=0)
    # True when the cabinet is only named by lamps and has no point of its own.
    located: Mapped[bool] = mapped_column(default=True)
    props: Mapped[dict] = mapped_column(default=dict)
    geom: Mapped[WKBElement | None] = geom("POINT", nullable=True)


class Circuit(Base):
    """A lighting circuit, derived from its lamps at load time."""

    __tablename__ = "lighting_circuits"
    __table_args__ = (UniqueConstraint("municipality_id", "circuit_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    municipality_id: Mapped[int] = municipality_fk()
    circuit_id: Mapped[str]
    cabinet_id: Mapped[str] = mapped_column(index=True)
    lamp_count: Mapped[int]
    geom: Mapped[WKBElement] = geom("MULTIPOINT")


class Lamp(Base):
    """A street lamp on its circuit and cabinet."""

    __tablename__ = "lamps"
    __table_args__ = (UniqueConstraint("municipality_id", "lamp_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    municipality_id: Mapped[int] = municipality_fk()
    lamp_id: Mapped[str]
    circuit_id: Mapped[str] = mapped_column(index=True)
    cabinet_id: Mapped[str] = mapped_column(index=True)
    props: Mapped[dict] = mapped_column(default=dict)
    geom: Mapped[WKBElement] = geom("POINT")
