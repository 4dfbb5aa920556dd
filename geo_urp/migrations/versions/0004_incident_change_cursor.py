"""incidents.changed_xid: the transaction that last changed an incident

A map polling ``GET /api/incidents?since=`` by time can miss a change: a long
transaction (a recomputation, a reload of the layers) stamps ``updated_at`` when
it starts working and commits later, after the poller has moved past that
time. Each incident now records the transaction that last wrote it (set by the
database, whatever the code that writes). A poll answers with ``next_since``, the
oldest transaction still running when it read: every change it could not see
yet is at or after it, so the next poll gets it.

Revision ID: 0004
Revises: 0003
"""
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER TABLE incidents ADD COLUMN changed_xid xid8 NOT NULL DEFAULT pg_current_xact_id()")
    op.execute(
        "CREATE FUNCTION incidents_stamp_xid() RETURNS trigger LANGUAGE plpgsql AS $$ "
        "BEGIN NEW.changed_xid := pg_current_xact_id(); RETURN NEW; END $$")
    op.execute("CREATE TRIGGER incidents_stamp_xid BEFORE UPDATE ON incidents "
               "FOR EACH ROW EXECUTE FUNCTION incidents_stamp_xid()")
    op.create_index("ix_incidents_muni_changed_xid", "incidents", ["municipality_id", "changed_xid"])


def downgrade() -> None:
    op.drop_index("ix_incidents_muni_changed_xid", table_name="incidents")
    op.execute("DROP TRIGGER incidents_stamp_xid ON incidents")
    op.execute("DROP FUNCTION incidents_stamp_xid()")
    op.execute("ALTER TABLE incidents DROP COLUMN changed_xid")
