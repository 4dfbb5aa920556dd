"""Read models kept for the council's trends: the optional districts layer and weekly counts.

``District`` is a zone of the town (quartiere, frazione) from the optional ``districts``
layer, used only to split the council's trend tables. ``TrendWeek`` holds, per town,
service, crew area, district, ISO week and month, how many reports were made, closed and
closed by their due time, and a histogram of hours to resolve (``acting.trend_counts``, which
keeps them up to date from ``trend_refreshes.upto_change``; migrations 0012, 0014). Only counts: no
report, no text, no caller.
"""
from __future__ import annotations

from datetime import date, datetime

from geoalchemy2 import WKBElement
from sqlalchemy import BigInteger, ForeignKey, Integer, PrimaryKeyConstraint, String, UniqueConstraint, func
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from geo_urp.models.base import Base, geom, municipality_fk


class District(Base):
    """A district of the town: the council's trend tables are split by it when the layer is loaded."""

    __tablename__ = "districts"
    __table_args__ = (UniqueConstraint("municipality_id", "district_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    municipality_id: Mapped[int] = municipality_fk()
    district_id: Mapped[str]
    name: Mapped[str]
    props: Mapped[dict] = mapped_column(default=dict)
    geom: Mapped[WKBElement] = geom("MULTIPOLYGON")


class TrendWeek(Base):
    """The reports of one service in one crew area and district, in one week's days of one month."""

    __tablename__ = "trend_weeks"
    __table_args__ = (PrimaryKeyConstraint("municipality_id", "service_code", "week", "month", "area_id",
                                           "district_id"),)

    # The primary key leads with it, so it needs no index of its own.
    municipality_id: Mapped[int] = mapped_column(ForeignKey("municipalities.id", ondelete="CASCADE"))
    service_code: Mapped[str] = mapped_column(String(64))
    area_id: Mapped[str]      # "" when the report lies in no crew area
    district_id: Mapped[str]  # "" when in no district (or the town has no districts layer)
    week: Mapped[date]        # the Monday of the ISO week
    month: Mapped[date]       # the first day of the month
    n: Mapped[int]
    closed: Mapped[int]
    with_due: Mapped[int]     # closed reports that had an expected_datetime
    on_time: Mapped[int]      # of those, closed by it
    hours: Mapped[list[int]] = mapped_column(ARRAY(Integer))  # closed reports per resolve-time bucket


class TrendRefresh(Base):
    """Up to which change of the town, and on which load of the layers, ``trend_weeks`` counts its reports."""

    __tablename__ = "trend_refreshes"
    __table_args__ = (PrimaryKeyConstraint("municipality_id"),)

    municipality_id: Mapped[int] = mapped_column(ForeignKey("municipalities.id", ondelete="CASCADE"))
    upto_change: Mapped[int | None] = mapped_column(BigInteger)  # None: never counted yet
    layers_loaded_at: Mapped[datetime | None]
    version: Mapped[int] = mapped_column(BigInteger, server_default="0")
    refreshed_at: Mapped[datetime] = mapped_column(server_default=func.now())
