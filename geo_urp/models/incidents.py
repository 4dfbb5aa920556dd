"""Incidents: the common cause behind a group of reports, with its history."""
from __future__ import annotations

from datetime import datetime

from geoalchemy2 import WKBElement
from sqlalchemy import (
    BigInteger,
    ColumnElement,
    ForeignKeyConstraint,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    func,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from geo_urp.models.base import Base, geom, municipality_fk

KINDS = (
    "lamp", "lighting_circuit", "lighting_cabinet", "water_main_burst", "water_outage",
    "flooding", "road_damage", "noise", "social_distress", "other",
)
STATUSES = ("open", "assigned", "in_progress", "resolved", "closed")
# The statuses of an incident still being worked on: not yet resolved, closed or absorbed.
OPEN_STATUSES = ("open", "assigned", "in_progress")


class Incident(Base):
    """What failed, where the crew goes, who goes, and why we think so (SPEC §4)."""

    __tablename__ = "incidents"
    __table_args__ = (
        # Keyed with its town, so the rows of a call can be distributed by town (migration 0015).
        PrimaryKeyConstraint("id", "municipality_id"),
        # Empties absorbed_into_id only, never the town (PostgreSQL 15's column list).
        ForeignKeyConstraint(["municipality_id", "absorbed_into_id"], ["incidents.municipality_id", "incidents.id"],
                             ondelete="SET NULL (absorbed_into_id)"),
        Index("ix_incidents_muni_status_kind", "municipality_id", "status", "kind"),
        Index("ix_incidents_muni_change_no", "municipality_id", "change_no"),
    )

    id: Mapped[int] = mapped_column(BigInteger, autoincrement=True)
    municipality_id: Mapped[int] = municipality_fk()
    __mapper_args__ = {"primary_key": [id]}  # ids are unique on their own (one sequence)
    kind: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default="open")
    priority: Mapped[int] = mapped_column(default=3)
    # Why it is more urgent than its kind alone (``reasoning.priority``), in Italian: "al buio di notte", ...
    priority_reasons: Mapped[list[str]] = mapped_column(ARRAY(String), default=list, server_default="{}")
    confidence: Mapped[float] = mapped_column(default=0.5)
    # What the operator reads aloud (SPEC §4), in Italian; worded for each reader from
    # ``explanation_parts`` (as are ``dispatch_note`` and ``priority_reasons``).
    explanation: Mapped[str] = mapped_column(default="")
    # The message parts (``reasoning.words``) of the explanation: {"description": part,
    # "dispatch_note": part or null, "priority_reasons": [part, ...]}; {} before it is described.
    explanation_parts: Mapped[dict] = mapped_column(default=dict, server_default="{}")
    asset_ids: Mapped[list[str]] = mapped_column(ARRAY(String), default=list)
    valves_to_close: Mapped[list[str]] = mapped_column(ARRAY(String), default=list)
    affected_segment_nos: Mapped[list[int]] = mapped_column(ARRAY(Integer), default=list)
    affected_addresses: Mapped[int | None]
    area_id: Mapped[str | None]
    crew_id: Mapped[str | None]
    # Why no crew could be named (no crew of the skill covers the area, no area, an outside
    # agency): the operators are shown it and dispatch by hand. None when a crew is named.
    dispatch_note: Mapped[str | None]
    # An incident absorbed by a larger one (lamp -> circuit -> cabinet) points to it.
    absorbed_into_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    geom: Mapped[WKBElement] = geom("GEOMETRY")
    opened_at: Mapped[datetime] = mapped_column(server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now())
    resolved_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    # The town's change that last wrote the row, for pollers' cursors (migration 0014). PostgreSQL
    # numbers it when the writing transaction commits (NULL until then): the ORM never writes it
    # and reads it only when asked.
    change_no: Mapped[int | None] = mapped_column(BigInteger, deferred=True)


class IncidentReport(Base):
    """The link of a report to its one incident: a report is never counted twice."""

    __tablename__ = "incident_reports"
    __table_args__ = (
        PrimaryKeyConstraint("report_id", "municipality_id"),
        ForeignKeyConstraint(["municipality_id", "report_id"], ["reports.municipality_id", "reports.id"],
                             ondelete="CASCADE"),
        ForeignKeyConstraint(["municipality_id", "incident_id"], ["incidents.municipality_id", "incidents.id"],
                             ondelete="CASCADE"),
    )

    report_id: Mapped[int] = mapped_column(BigInteger)
    municipality_id: Mapped[int] = mapped_column(Integer)  # the report's and the incident's
    incident_id: Mapped[int] = mapped_column(BigInteger, index=True)
    __mapper_args__ = {"primary_key": [report_id]}
    # Who put the report here when an operator did (a move or a merge): the live rules then
    # never take it out again on their own (null: placed by the rules).
    placed_by: Mapped[str | None]


def incident_of(rows) -> ColumnElement[bool]:
    """The join of ``rows`` (a model pointing to an incident: ``IncidentReport``, ``IncidentEvent``,
    ...) with their incident, on the whole key their foreign key names, as ``reports.report_of``."""
    return (rows.incident_id == Incident.id) & (rows.municipality_id == Incident.municipality_id)


class IncidentEvent(Base):
    """One change in an incident's history: created, grew, merged, moved, status."""

    __tablename__ = "incident_events"
    __table_args__ = (
        PrimaryKeyConstraint("id", "municipality_id"),
        ForeignKeyConstraint(["municipality_id", "incident_id"], ["incidents.municipality_id", "incidents.id"],
                             ondelete="CASCADE"),
    )

    id: Mapped[int] = mapped_column(BigInteger, autoincrement=True)
    municipality_id: Mapped[int] = mapped_column(Integer)  # the incident's
    incident_id: Mapped[int] = mapped_column(BigInteger, index=True)
    __mapper_args__ = {"primary_key": [id]}
    at: Mapped[datetime] = mapped_column(server_default=func.now())
    actor: Mapped[str]
    action: Mapped[str] = mapped_column(String(32))
    detail: Mapped[dict] = mapped_column(default=dict)
