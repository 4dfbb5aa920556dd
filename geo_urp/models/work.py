"""Carrying a report to the end: its Open311 updates, the closing messages, the audit trail.

``ReportUpdate`` is one status change of one report, as Open311 clients follow it
(``servicerequestupdates``). ``OutboxMessage`` is one closing message (riscontro)
to one caller, kept until it is delivered or, for a call-back, until an operator
marks it done. ``AuditEntry`` says who did what to which object, and who looked at
a caller's contact data.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    PrimaryKeyConstraint,
    String,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from geo_urp.models.base import Base, municipality_fk

CHANNELS = ("email", "sms", "phone")          # phone: a call-back an operator makes
OUTBOX_STATUSES = ("pending", "sent", "failed", "done")


class ReportUpdate(Base):
    """One status change of a report (FixMyStreet's ``request_update``)."""

    __tablename__ = "report_updates"
    __table_args__ = (
        PrimaryKeyConstraint("id", "municipality_id"),  # with its town (migration 0015)
        ForeignKeyConstraint(["municipality_id", "report_id"], ["reports.municipality_id", "reports.id"],
                             ondelete="CASCADE"),
        Index("ix_report_updates_muni_at", "municipality_id", "updated_datetime"),
    )

    id: Mapped[int] = mapped_column(BigInteger, autoincrement=True)  # the update_id
    municipality_id: Mapped[int] = municipality_fk()
    report_id: Mapped[int] = mapped_column(BigInteger, index=True)
    __mapper_args__ = {"primary_key": [id]}
    status: Mapped[str] = mapped_column(String(16))   # open | closed (the report's Open311 status)
    stage: Mapped[str] = mapped_column(String(16))    # the incident's: assigned, in_progress, resolved, ...
    description: Mapped[str] = mapped_column(default="")
    updated_datetime: Mapped[datetime] = mapped_column(server_default=func.now())
    actor: Mapped[str] = mapped_column(default="system")


class OutboxMessage(Base):
    """A closing message to one caller, delivered by the worker (e-mail, SMS) or by an operator
    (a call-back). At most one per report: ``uq_outbox_municipality_id_report_id_purpose``."""

    __tablename__ = "outbox"
    __table_args__ = (
        PrimaryKeyConstraint("id", "municipality_id"),  # with its town (migration 0015)
        ForeignKeyConstraint(["municipality_id", "report_id"], ["reports.municipality_id", "reports.id"],
                             ondelete="CASCADE"),
        # Empties incident_id only, never the town (PostgreSQL 15's column list).
        ForeignKeyConstraint(["municipality_id", "incident_id"], ["incidents.municipality_id", "incidents.id"],
                             ondelete="SET NULL (incident_id)"),
        UniqueConstraint("municipality_id", "report_id", "purpose"),
        # What the worker looks for: the pending e-mails and SMS due now.
        Index("ix_outbox_due", "next_attempt_at", postgresql_where=text("status = 'pending' AND channel <> 'phone'")),
        Index("ix_outbox_muni_status", "municipality_id", "status"),
    )

    id: Mapped[int] = mapped_column(BigInteger, autoincrement=True)
    municipality_id: Mapped[int] = municipality_fk()
    report_id: Mapped[int] = mapped_column(BigInteger)
    incident_id: Mapped[int | None] = mapped_column(BigInteger)
    __mapper_args__ = {"primary_key": [id]}
    purpose: Mapped[str] = mapped_column(String(16), default="closing")
    channel: Mapped[str] = mapped_column(String(8))
    to: Mapped[str]
    language: Mapped[str] = mapped_column(String(8), default="it")
    subject: Mapped[str] = mapped_column(default="")
    text: Mapped[str]
    status: Mapped[str] = mapped_column(String(8), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None]
    next_attempt_at: Mapped[datetime] = mapped_column(server_default=func.now())
    # A worker's claim: while ``claimed_until`` is ahead, no other worker takes the message.
    claimed_by: Mapped[str | None]
    claimed_until: Mapped[datetime | None]
    # Set just before the point after which the message may have reached its receiver: a claim
    # that lapses after it means the worker died mid-send (see ``acting.outbox``).
    committed_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    sent_at: Mapped[datetime | None]
    done_by: Mapped[str | None]
    note: Mapped[str | None]


class AuditEntry(Base):
    """Who did what, when, to which object: assignments, status steps, merges, moves, outbox
    actions and every reading of a caller's contact data. Readable by an admin."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_object", "object_type", "object_id"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    at: Mapped[datetime] = mapped_column(server_default=func.now(), index=True)
    municipality_id: Mapped[int | None] = mapped_column(ForeignKey("municipalities.id", ondelete="CASCADE"))
    actor: Mapped[str]
    action: Mapped[str] = mapped_column(String(32))
    object_type: Mapped[str] = mapped_column(String(16))   # incident, report, outbox, contact
    object_id: Mapped[int] = mapped_column(BigInteger)
    detail: Mapped[dict] = mapped_column(default=dict)
