"""Read models kept for the council: reports counted per hexagon cell and month.

Years of reports are too many to count for every hotspot map; ``hotspot_cells`` holds the
counts per municipality, cell size, service, month and cell (PostGIS ``ST_HexagonGrid``
indices ``i``, ``j``), kept up to date by ``acting.hotspot_counts.refresh`` from the reports
written since ``hotspot_refreshes.upto_change`` (migrations 0011, 0014). Only counts: no report, no
text, no caller. ``hotspot_answers`` keeps the maps worked out from them (``reading.hotspots``).
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, ForeignKey, Integer, PrimaryKeyConstraint, String, func
from sqlalchemy.orm import Mapped, mapped_column

from geo_urp.models.base import Base


class HotspotCell(Base):
    """The reports of one service in one hexagon cell in one month."""

    __tablename__ = "hotspot_cells"
    __table_args__ = (PrimaryKeyConstraint("municipality_id", "cell_m", "service_code", "month", "i", "j"),)

    # The primary key leads with it, so it needs no index of its own.
    municipality_id: Mapped[int] = mapped_column(ForeignKey("municipalities.id", ondelete="CASCADE"))
    cell_m: Mapped[int] = mapped_column(Integer)
    service_code: Mapped[str] = mapped_column(String(64))
    month: Mapped[date]
    i: Mapped[int]
    j: Mapped[int]
    n: Mapped[int]


class HotspotRefresh(Base):
    """Up to which change of the town ``hotspot_cells`` counts its reports at a cell size."""

    __tablename__ = "hotspot_refreshes"
    __table_args__ = (PrimaryKeyConstraint("municipality_id", "cell_m"),)

    # The primary key leads with it, so it needs no index of its own.
    municipality_id: Mapped[int] = mapped_column(ForeignKey("municipalities.id", ondelete="CASCADE"))
    cell_m: Mapped[int] = mapped_column(Integer)
    upto_change: Mapped[int | None] = mapped_column(BigInteger)  # None: never counted yet
    # Raised whenever the counts change, so answers worked out from older counts are not reused.
    version: Mapped[int] = mapped_column(BigInteger, server_default="0")
    refreshed_at: Mapped[datetime] = mapped_column(server_default=func.now())


class HotspotAnswer(Base):
    """A hotspot map already worked out, with the version of the counts it was worked out from."""

    __tablename__ = "hotspot_answers"
    __table_args__ = (PrimaryKeyConstraint("municipality_id", "question"),)

    municipality_id: Mapped[int] = mapped_column(ForeignKey("municipalities.id", ondelete="CASCADE"))
    question: Mapped[str] = mapped_column(String(200))
    version: Mapped[int] = mapped_column(BigInteger)
    answer: Mapped[dict]
    made_at: Mapped[datetime] = mapped_column(server_default=func.now())
