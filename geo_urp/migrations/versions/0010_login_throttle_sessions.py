"""logins: failures that throttle the form, sessions that end

- ``login_failures``: each login refused for its password (or unknown user), by name and
  address, that throttle the login form (``accounts.attempt_login``);
- ``revoked_logins``: login sessions ended by logging out, whose cookies are refused;
- ``users.session_epoch``: raised when the password changes, ending every session of the login.

Sessions opened before this revision carry no epoch nor session id and are refused: their
logins log in again.

Revision ID: 0010
Revises: 0009
"""
import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.add_column("users", sa.Column("session_epoch", sa.Integer(), server_default="0", nullable=False))
    op.create_table(
        "login_failures",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column("username", sa.String(80), nullable=False),
        sa.Column("address", sa.String(64), nullable=False),
        sa.Column("at", _TS, server_default=sa.func.now(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_login_failures"),
    )
    op.create_index("ix_login_failures_username_at", "login_failures", ["username", "at"])
    op.create_index("ix_login_failures_address_at", "login_failures", ["address", "at"])
    op.create_index("ix_login_failures_at", "login_failures", ["at"])
    op.create_table(
        "revoked_logins",
        sa.Column("sid", sa.String(32), nullable=False),
        sa.Column("revoked_at", _TS, server_default=sa.func.now(), nullable=False),
        sa.PrimaryKeyConstraint("sid", name="pk_revoked_logins"),
    )
    op.create_index("ix_revoked_logins_revoked_at", "revoked_logins", ["revoked_at"])


def downgrade() -> None:
    op.drop_table("revoked_logins")
    op.drop_table("login_failures")
    op.drop_column("users", "session_epoch")
