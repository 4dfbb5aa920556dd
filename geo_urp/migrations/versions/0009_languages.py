"""languages: a login's language, and an incident's explanation kept as message parts

- ``users.language``: the language the pages speak to the login (``it`` or ``en``, default ``it``);
- ``incidents.explanation_parts``: the message parts of the explanation, dispatch note and
  priority reasons (``reasoning.words``), worded in each reader's language when read.
  Incidents described before keep their texts (worded in English then) until described again.

Revision ID: 0009
Revises: 0008
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("users", sa.Column("language", sa.String(8), server_default="it", nullable=False))
    op.add_column("incidents", sa.Column("explanation_parts", postgresql.JSONB(), server_default="{}",
                                         nullable=False))


def downgrade() -> None:
    op.drop_column("incidents", "explanation_parts")
    op.drop_column("users", "language")
