"""index incidents.absorbed_into_id

Recomputation walks down from the open incidents to those they absorbed (at
any depth), looking incidents up by ``absorbed_into_id``: without this index,
a sequential scan of every incident ever made at each step.

Revision ID: 0003
Revises: 0002
"""
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_incidents_absorbed_into_id", "incidents", ["absorbed_into_id"])


def downgrade() -> None:
    op.drop_index("ix_incidents_absorbed_into_id", table_name="incidents")
