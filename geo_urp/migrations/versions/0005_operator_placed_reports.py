"""incident_reports.placed_by: the operator who put a report in its incident

The live rules re-weigh a burst's calls as evidence arrives and split off the
no-water calls its dry area does not explain. A call an operator moved or merged
into the burst is the operator's judgement, not evidence to re-weigh: with the
operator's name on its link the rules leave it where it was put.

Revision ID: 0005
Revises: 0004
"""
import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("incident_reports", sa.Column("placed_by", sa.String(), nullable=True))


def downgrade() -> None:
    op.drop_column("incident_reports", "placed_by")
