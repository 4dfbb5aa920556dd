"""The town's base layers: streets, civic numbers (addresses) and landmarks."""
from __future__ import annotations

from geoalchemy2 import WKBElement
from sqlalchemy import Index, UniqueConstraint, func
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.sql.expression import Grouping

from geo_urp.models.base import Base, geom, municipality_fk


class Street(Base):
    """A street segment with its official name and optional house-number ranges."""

    __tablename__ = "streets"
    __table_args__ = (UniqueConstraint("municipality_id", "street_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    municipality_id: Mapped[int] = municipality_fk()
    street_id: Mapped[str]
    name: Mapped[str] = mapped_column(index=True)
    alt_names: Mapped[str | None]
    l_from: Mapped[int | None]
    l_to: Mapped[int | None]
    r_from: Mapped[int | None]
    r_to: Mapped[int | None]
    props: Mapped[dict] = mapped_column(default=dict)
    geom: Mapped[WKBElement] = geom("MULTILINESTRING")


class Address(Base):
    """A civic number: a point with its street's official name and the number as written."""

    __tablename__ = "addresses"
    __table_args__ = (
        UniqueConstraint("municipality_id", "address_id"),
        Index("ix_addresses_street_number", "municipality_id", "street", "number"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    municipality_id: Mapped[int] = municipality_fk()
    address_id: Mapped[str]
    street: Mapped[str]
    number: Mapped[str]
    postcode: Mapped[str | None]
    props: Mapped[dict] = mapped_column(default=dict)
    geom: Mapped[WKBElement] = geom("POINT")


class Landmark(Base):
    """A named place callers use as a reference ("davanti al municipio")."""

    __tablename__ = "landmarks"

    id: Mapped[int] = mapped_column(primary_key=True)
    municipality_id: Mapped[int] = municipality_fk()
    name: Mapped[str]
    aliases: Mapped[str | None]
    props: Mapped[dict] = mapped_column(default=dict)
    geom: Mapped[WKBElement] = geom("POINT")


def _fold_trigram_index(name: str, folded) -> Index:
    """A trigram GIN index on ``geo_urp_fold(folded)`` (migration 0002 made the function and these
    indexes): the geocoder's ``similarity`` look-ups of names folded as Python folds them."""
    return Index(name, func.geo_urp_fold(folded).label("folded"), postgresql_using="gin",
                 postgresql_ops={"folded": "gin_trgm_ops"})


_fold_trigram_index("ix_streets_name_fold_trgm", Street.name)
_fold_trigram_index("ix_addresses_street_fold_trgm", Address.street)
# Written as PostgreSQL stores it, "(name || ' ') || ...", so that autogenerate sees the same index.
_fold_trigram_index("ix_landmarks_name_fold_trgm",
                    Grouping(Landmark.name + " ").op("||")(func.coalesce(Landmark.aliases, "")))
