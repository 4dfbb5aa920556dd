"""Reports (Open311 service requests) and the caller's contact data, kept apart.

``Report`` holds only what Open311 may show; ``CallerContact`` holds the
personal data (GDPR), readable only by roles that need it and erased once the
closing message is sent.
"""
from __future__ import annotations

from datetime import datetime

from geoalchemy2 import WKBElement
from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ColumnElement,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from geo_urp.models.base import Base, geom, municipality_fk


class Report(Base):
    """One call or submission: an Open311 service request, placed and snapped."""

    __tablename__ = "reports"
    __table_args__ = (
        # Keyed with its town, so the rows of a call can be distributed by town (migration 0015).
        PrimaryKeyConstraint("id", "municipality_id"),
        # 128 random bits: unique by chance, not by a constraint (a partitioned table holds none
        # without its id). One report per retried call: ``ReportRetry``.
        Index("ix_reports_token", "token"),
        CheckConstraint("geom IS NOT NULL OR service_code = 'info_request'",
                        name="placed_unless_information"),
        Index("ix_reports_muni_time", "municipality_id", "requested_datetime"),
        Index("ix_reports_muni_service_status", "municipality_id", "service_code", "status"),
        Index("ix_reports_muni_change_no", "municipality_id", "change_no"),
        # The calls still being worked: a handful among years of closed ones (migration 0006).
        Index("ix_reports_muni_open", "municipality_id", "requested_datetime", postgresql_where=text("status = 'open'")),
        # A partition per block of four million ids, in the order calls arrived (migration 0016):
        # a lookup by id reads one partition (``acting.partitions`` makes them ahead).
        {"postgresql_partition_by": "RANGE (id)"},
    )

    id: Mapped[int] = mapped_column(BigInteger, autoincrement=True)
    municipality_id: Mapped[int] = municipality_fk()
    token: Mapped[str] = mapped_column(String(64))
    service_code: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="open")  # open | closed
    status_notes: Mapped[str | None]
    description: Mapped[str | None]
    agency_responsible: Mapped[str | None]
    service_notice: Mapped[str | None]
    requested_datetime: Mapped[datetime]
    updated_datetime: Mapped[datetime]
    expected_datetime: Mapped[datetime | None]
    address: Mapped[str | None]  # the label of where it was placed
    address_id: Mapped[str | None]
    zipcode: Mapped[str | None]
    media_url: Mapped[str | None]
    attributes: Mapped[dict] = mapped_column(default=dict)
    # Every report has a place but an information request logged without one (migration 0013).
    geom: Mapped[WKBElement | None] = geom("POINT", nullable=True)
    # Locating: how the point was found and which assets it concerns.
    geocode_kind: Mapped[str | None]
    geocode_score: Mapped[float | None]
    street_id: Mapped[str | None]
    lamp_id: Mapped[str | None]
    circuit_id: Mapped[str | None]
    cabinet_id: Mapped[str | None]
    pipe_id: Mapped[str | None]
    segment_no: Mapped[int | None]
    call_back: Mapped[bool] = mapped_column(default=False)
    # The language the caller's closing message is written in (``it``, or ``en`` when asked).
    language: Mapped[str] = mapped_column(String(8), default="it", server_default="it")
    # The api key it came with (its retries with an Idempotency-Key: ``retry``).
    api_key_id: Mapped[int | None] = mapped_column(ForeignKey("api_keys.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    # The town's change that last wrote the row (migration 0014), for the council's read models
    # (``acting.hotspot_counts``, ``acting.trend_counts``). PostgreSQL numbers it at commit; the
    # ORM never writes it.
    change_no: Mapped[int | None] = mapped_column(BigInteger, deferred=True)

    # Ids are unique on their own (one sequence): the session knows a report by its id.
    __mapper_args__ = {"primary_key": [id]}

    contact: Mapped["CallerContact | None"] = relationship(
        back_populates="report", uselist=False, cascade="all, delete-orphan"
    )
    retry: Mapped["ReportRetry | None"] = relationship(uselist=False, cascade="all, delete-orphan")

    @property
    def service_request_id(self) -> str:
        """The Open311 id: the row id as a string, unique across municipalities."""
        return str(self.id)


def report_of(rows) -> ColumnElement[bool]:
    """The join of ``rows`` (a model pointing to a report: ``IncidentReport``, ``CallerContact``,
    ``OutboxMessage``, ...) with their report, on the whole key their foreign key names: the id
    and the town. On Citus (docs/SCALING.md) a join of a town's rows must equate their towns."""
    return (rows.report_id == Report.id) & (rows.municipality_id == Report.municipality_id)


class CallerContact(Base):
    """Personal data of the caller: seen only by operators (SPEC §6), erased on schedule."""

    __tablename__ = "caller_contacts"
    __table_args__ = (
        PrimaryKeyConstraint("report_id", "municipality_id"),
        ForeignKeyConstraint(["municipality_id", "report_id"], ["reports.municipality_id", "reports.id"],
                             ondelete="CASCADE"),
    )

    report_id: Mapped[int] = mapped_column(BigInteger)
    municipality_id: Mapped[int] = mapped_column(Integer)  # the report's
    __mapper_args__ = {"primary_key": [report_id]}
    first_name: Mapped[str | None]
    last_name: Mapped[str | None]
    phone: Mapped[str | None]
    email: Mapped[str | None]
    device_id: Mapped[str | None]
    account_id: Mapped[str | None]
    erase_after: Mapped[datetime | None]
    erased_at: Mapped[datetime | None]

    report: Mapped[Report] = relationship(back_populates="contact")


class ReportRetry(Base):
    """The one report of a call sent with an ``Idempotency-Key``: a second report for the same
    api key, key and town is refused by this table's key (migration 0016: a partitioned
    ``reports`` holds no unique key without its id), so a retry finds the first report."""

    __tablename__ = "report_retries"
    __table_args__ = (
        PrimaryKeyConstraint("api_key_id", "idempotency_key", "municipality_id"),
        ForeignKeyConstraint(["municipality_id", "report_id"], ["reports.municipality_id", "reports.id"],
                             ondelete="CASCADE"),
    )

    api_key_id: Mapped[int] = mapped_column(ForeignKey("api_keys.id", ondelete="CASCADE"))
    idempotency_key: Mapped[str] = mapped_column(String(200))
    municipality_id: Mapped[int] = mapped_column(Integer)  # the report's
    report_id: Mapped[int] = mapped_column(BigInteger)
