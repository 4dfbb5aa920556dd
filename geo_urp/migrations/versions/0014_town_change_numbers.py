"""per-town change numbers instead of transaction ids, for every cursor over reports and incidents

The operator map's ``next_since`` and the council's read models (``hotspot_refreshes``,
``trend_refreshes``) found what changed since they last read by ``changed_xid``, the
PostgreSQL transaction that last wrote a row, against the oldest transaction still running.
Transaction ids belong to one server: they mean nothing on another node of a distributed
database (each Citus worker numbers its own), after a dump is restored elsewhere, or to a
reader following a replica. They become a number per town:

- ``town_changes``: per municipality, the last change number handed out;
- ``reports.change_no``, ``incidents.change_no``: the number of the change that last wrote the
  row. Any write leaves it NULL and names its town (trigger ``change_pending``, whatever the
  code that writes) and, when the transaction commits, ``change_stamp`` (a deferred constraint
  trigger, so it runs at commit, once per transaction) raises each named town's counter and
  writes the number into that town's pending rows. The counter's row stays locked from then
  until the commit ends, so numbers are handed out in commit order: a reader that sees a town's counter at N sees every
  row numbered up to N, and ``change_no > N`` is the whole of what changed after it. The lock is
  held only for the stamp and the commit, so calls of one town still work side by side (family
  locks, ``geo_urp.locks``) and only their commits queue.

A writer at REPEATABLE READ or SERIALIZABLE whose town's counter another transaction raised
meanwhile fails at commit with a serialization error, to be retried as such errors are (the
service writes at READ COMMITTED).

Rows written before this revision keep number 0 (they were all seen by any earlier reader);
the council's read models count every report afresh on their next refresh (``upto_change``
NULL), so nothing counted by a transaction id is trusted across the change.

Revision ID: 0014
Revises: 0013
"""
import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

TABLES = ("reports", "incidents")

# The towns a transaction has left rows pending in, as ",3,7," in a transaction-local setting: a
# savepoint rolled back takes its towns off with its rows.
PENDING = """
CREATE FUNCTION change_pending() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  towns text := coalesce(nullif(current_setting('geo_urp.pending_towns', true), ''), ',');
BEGIN
  -- change_stamp's own write carries the number; every other write leaves it pending (a number
  -- written by anyone else is not kept) and names its town for the stamp.
  IF TG_OP = 'UPDATE' AND current_setting('geo_urp.stamping', true) = 'on' THEN
    RETURN NEW;
  END IF;
  NEW.change_no := NULL;
  IF position(',' || NEW.municipality_id || ',' IN towns) = 0 THEN
    PERFORM set_config('geo_urp.pending_towns', towns || NEW.municipality_id || ',', true);
  END IF;
  RETURN NEW;
END $$"""

# Runs at commit for the first pending row: numbers the pending rows of every town this
# transaction named (in id order, so two transactions touching the same towns lock their
# counters in the same order; each statement names one town) and empties the list, so the other
# queued rows' calls return at once. A row made pending after that (constraints set immediate,
# then more writes) names its town again.
STAMP = """
CREATE FUNCTION change_stamp() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  town integer;
  n bigint;
BEGIN
  PERFORM set_config('geo_urp.stamping', 'on', true);
  FOR town IN
    SELECT DISTINCT CAST(named AS integer)
    FROM unnest(string_to_array(current_setting('geo_urp.pending_towns', true), ',')) AS named
    WHERE named <> '' ORDER BY 1
  LOOP
    INSERT INTO town_changes AS t (municipality_id, change_no) VALUES (town, 1)
    ON CONFLICT (municipality_id) DO UPDATE SET change_no = t.change_no + 1
    RETURNING t.change_no INTO n;
    UPDATE reports SET change_no = n WHERE municipality_id = town AND change_no IS NULL;
    UPDATE incidents SET change_no = n WHERE municipality_id = town AND change_no IS NULL;
  END LOOP;
  PERFORM set_config('geo_urp.pending_towns', '', true);
  PERFORM set_config('geo_urp.stamping', '', true);
  RETURN NULL;
END $$"""


def upgrade() -> None:
    op.create_table(
        "town_changes",
        sa.Column("municipality_id", sa.Integer(),
                  sa.ForeignKey("municipalities.id", ondelete="CASCADE",
                                name="fk_town_changes_municipality_id_municipalities"), nullable=False),
        sa.Column("change_no", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("municipality_id", name="pk_town_changes"),
    )
    op.execute(PENDING)
    op.execute(STAMP)
    for table in TABLES:
        op.execute(f"DROP TRIGGER {table}_stamp_xid ON {table}")
        op.execute(f"DROP FUNCTION {table}_stamp_xid()")
        op.drop_index(f"ix_{table}_muni_changed_xid", table_name=table)
        op.execute(f"ALTER TABLE {table} DROP COLUMN changed_xid")
        # Existing rows read 0 without the table being rewritten; new writes get NULL, then a number.
        op.execute(f"ALTER TABLE {table} ADD COLUMN change_no bigint DEFAULT 0")
        op.execute(f"ALTER TABLE {table} ALTER COLUMN change_no DROP DEFAULT")
        # The rows past a cursor, and the rows a commit must still number (change_no IS NULL).
        op.create_index(f"ix_{table}_muni_change_no", table, ["municipality_id", "change_no"])
        op.execute(f"CREATE TRIGGER {table}_change_pending BEFORE INSERT OR UPDATE ON {table} "
                   "FOR EACH ROW EXECUTE FUNCTION change_pending()")
        op.execute(f"CREATE CONSTRAINT TRIGGER {table}_change_stamp AFTER INSERT OR UPDATE ON {table} "
                   "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW WHEN (NEW.change_no IS NULL) "
                   "EXECUTE FUNCTION change_stamp()")
    for table in ("hotspot_refreshes", "trend_refreshes"):
        op.execute(f"ALTER TABLE {table} DROP COLUMN upto_xid")
        # NULL: count every report afresh at the next refresh.
        op.execute(f"ALTER TABLE {table} ADD COLUMN upto_change bigint")


def downgrade() -> None:
    for table in ("hotspot_refreshes", "trend_refreshes"):
        op.execute(f"ALTER TABLE {table} DROP COLUMN upto_change")
        # '0': count every report afresh at the next refresh, as before this revision.
        op.execute(f"ALTER TABLE {table} ADD COLUMN upto_xid xid8 NOT NULL DEFAULT '0'")
        op.execute(f"ALTER TABLE {table} ALTER COLUMN upto_xid DROP DEFAULT")
    for table in TABLES:
        op.execute(f"DROP TRIGGER {table}_change_stamp ON {table}")
        op.execute(f"DROP TRIGGER {table}_change_pending ON {table}")
        op.drop_index(f"ix_{table}_muni_change_no", table_name=table)
        op.execute(f"ALTER TABLE {table} DROP COLUMN change_no")
    # As migrations 0004 (incidents) and 0011 (reports) made them: a report's cursor may be NULL
    # (written before it), an incident's is the transaction of the downgrade.
    op.execute("ALTER TABLE incidents ADD COLUMN changed_xid xid8 NOT NULL DEFAULT pg_current_xact_id()")
    op.execute("ALTER TABLE reports ADD COLUMN changed_xid xid8")
    op.execute("ALTER TABLE reports ALTER COLUMN changed_xid SET DEFAULT pg_current_xact_id()")
    for table in TABLES:
        op.execute(
            f"CREATE FUNCTION {table}_stamp_xid() RETURNS trigger LANGUAGE plpgsql AS $$ "
            "BEGIN NEW.changed_xid := pg_current_xact_id(); RETURN NEW; END $$")
        op.execute(f"CREATE TRIGGER {table}_stamp_xid BEFORE UPDATE ON {table} "
                   f"FOR EACH ROW EXECUTE FUNCTION {table}_stamp_xid()")
        op.create_index(f"ix_{table}_muni_changed_xid", table, ["municipality_id", "changed_xid"])
    op.execute("DROP FUNCTION change_stamp()")
    op.execute("DROP FUNCTION change_pending()")
    op.drop_table("town_changes")
