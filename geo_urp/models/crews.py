"""Crew areas (zones of the town) and the crews that work in them."""
from __future__ import annotations

from geoalchemy2 import WKBElement
from sqlalchemy import String, UniqueConstraint
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from geo_urp.models.base import Base, geom, municipality_fk

SKILLS = ("lighting", "water", "roads", "drains", "green", "social", "general")


class CrewArea(Base):
    """A zone of the town served by its own crews."""

    __tablename__ = "crew_areas"
    __table_args__ = (UniqueConstraint("municipality_id", "area_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    municipality_id: Mapped[int] = municipality_fk()
    area_id: Mapped[str]
    name: Mapped[str]
    props: Mapped[dict] = mapped_column(default=dict)
    geom: Mapped[WKBElement] = geom("MULTIPOLYGON")


class Crew(Base):
    """A crew with its skills and the areas it covers (``crews.csv``)."""

    __tablename__ = "crews"
    __table_args__ = (UniqueConstraint("municipality_id", "crew_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    municipality_id: Mapped[int] = municipality_fk()
    crew_id: Mapped[str]
    name: Mapped[str]
    area_ids: Mapped[list[str]] = mapped_column(ARRAY(String), default=list)
    skills: Mapped[list[str]] = mapped_column(ARRAY(String), default=list)
    phone: Mapped[str | None]
    email: Mapped[str | None]
    props: Mapped[dict] = mapped_column(default=dict)
