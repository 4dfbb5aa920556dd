"""index incidents.absorbed_into_id

Recomputation finds the incidents absorbed into the open ones (at any depth)
and deleting an incident sets its absorbed ones' pointer to NULL: both look
incidents up by ``absorbed_into_id``, a sequential scan of every incident ever
made without this index.

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
