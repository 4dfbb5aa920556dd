"""work orders to the end: report updates, the closing-message outbox, the audit trail

- ``report_updates``: every status change of every report (Open311 servicerequestupdates);
- ``outbox``: one closing message per caller, durable, with its delivery state;
- ``audit_log``: who did what, and who read a caller's contact data;
- ``reports.language``: the language of the caller's closing message;
- ``incidents.dispatch_note``: why no crew could be named, for the operators;
- ``incidents.priority_reasons``: why it is more urgent than its kind alone;
- ``municipalities.service_settings``: per-service settings of a town (its SLA hours).

Revision ID: 0008
Revises: 0007
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.add_column("reports", sa.Column("language", sa.String(8), server_default="it", nullable=False))
    op.add_column("incidents", sa.Column("dispatch_note", sa.String(), nullable=True))
    op.add_column("incidents", sa.Column("priority_reasons", postgresql.ARRAY(sa.String()), server_default="{}",
                                         nullable=False))
    op.add_column("municipalities", sa.Column("service_settings", postgresql.JSONB(), server_default="{}",
                                              nullable=False))
    op.create_table(
        "report_updates",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column("municipality_id", sa.Integer(), sa.ForeignKey(
            "municipalities.id", ondelete="CASCADE", name="fk_report_updates_municipality_id_municipalities"),
            nullable=False),
        sa.Column("report_id", sa.BigInteger(), sa.ForeignKey(
            "reports.id", ondelete="CASCADE", name="fk_report_updates_report_id_reports"), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("stage", sa.String(16), nullable=False),
        sa.Column("description", sa.String(), nullable=False),
        sa.Column("updated_datetime", _TS, server_default=sa.func.now(), nullable=False),
        sa.Column("actor", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_report_updates"),
    )
    op.create_index("ix_report_updates_municipality_id", "report_updates", ["municipality_id"])
    op.create_index("ix_report_updates_report_id", "report_updates", ["report_id"])
    op.create_index("ix_report_updates_muni_at", "report_updates", ["municipality_id", "updated_datetime"])

    op.create_table(
        "outbox",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("municipality_id", sa.Integer(), sa.ForeignKey(
            "municipalities.id", ondelete="CASCADE", name="fk_outbox_municipality_id_municipalities"),
            nullable=False),
        sa.Column("report_id", sa.BigInteger(), sa.ForeignKey(
            "reports.id", ondelete="CASCADE", name="fk_outbox_report_id_reports"), nullable=False),
        sa.Column("incident_id", sa.BigInteger(), sa.ForeignKey(
            "incidents.id", ondelete="SET NULL", name="fk_outbox_incident_id_incidents"), nullable=True),
        sa.Column("purpose", sa.String(16), nullable=False),
        sa.Column("channel", sa.String(8), nullable=False),
        sa.Column("to", sa.String(), nullable=False),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("subject", sa.String(), nullable=False),
        sa.Column("text", sa.String(), nullable=False),
        sa.Column("status", sa.String(8), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.String(), nullable=True),
        sa.Column("next_attempt_at", _TS, server_default=sa.func.now(), nullable=False),
        sa.Column("claimed_by", sa.String(), nullable=True),
        sa.Column("claimed_until", _TS, nullable=True),
        sa.Column("committed_at", _TS, nullable=True),
        sa.Column("created_at", _TS, server_default=sa.func.now(), nullable=False),
        sa.Column("sent_at", _TS, nullable=True),
        sa.Column("done_by", sa.String(), nullable=True),
        sa.Column("note", sa.String(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_outbox"),
        sa.UniqueConstraint("report_id", "purpose", name="uq_outbox_report_id_purpose"),
    )
    op.create_index("ix_outbox_municipality_id", "outbox", ["municipality_id"])
    op.create_index("ix_outbox_muni_status", "outbox", ["municipality_id", "status"])
    op.create_index("ix_outbox_due", "outbox", ["next_attempt_at"],
                    postgresql_where=sa.text("status = 'pending' AND channel <> 'phone'"))

    op.create_table(
        "audit_log",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("at", _TS, server_default=sa.func.now(), nullable=False),
        sa.Column("municipality_id", sa.Integer(), sa.ForeignKey(
            "municipalities.id", ondelete="CASCADE", name="fk_audit_log_municipality_id_municipalities"),
            nullable=True),
        sa.Column("actor", sa.String(), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("object_type", sa.String(16), nullable=False),
        sa.Column("object_id", sa.BigInteger(), nullable=False),
        sa.Column("detail", postgresql.JSONB(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_audit_log"),
    )
    op.create_index("ix_audit_log_at", "audit_log", ["at"])
    op.create_index("ix_audit_log_object", "audit_log", ["object_type", "object_id"])


def downgrade() -> None:
    op.drop_table("audit_log")
    op.drop_table("outbox")
    op.drop_table("report_updates")
    op.drop_column("municipalities", "service_settings")
    op.drop_column("incidents", "priority_reasons")
    op.drop_column("incidents", "dispatch_note")
    op.drop_column("reports", "language")
