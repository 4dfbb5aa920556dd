"""reports: a partial index on the open calls of each municipality

Years of closed calls pile up in ``reports``; the open ones (calls still being
worked) are a handful. A recomputation starts from the open calls that no
incident holds, and without this index it read the whole table to find them.

Revision ID: 0006
Revises: 0005
"""
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_reports_muni_open", "reports", ["municipality_id", "requested_datetime"],
                    postgresql_where="status = 'open'")


def downgrade() -> None:
    op.drop_index("ix_reports_muni_open", table_name="reports")
