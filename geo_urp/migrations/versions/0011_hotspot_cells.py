"""council hotspots: reports counted per hexagon cell and month, and the reports' change cursor

- ``reports.changed_xid``: the transaction that last wrote a report (the default on insert, a
  trigger on update), as ``incidents.changed_xid`` is (0004). Read models kept for the council
  use it to find, after a refresh, every report written since: each transaction older than the
  oldest one still running at the refresh was already visible to it. Rows older than this
  revision keep NULL: they were all visible to the first refresh. The default is set after the
  column is added, so the table is not rewritten.
- ``hotspot_cells``: per municipality, cell size, service and month (Europe/Rome), the reports
  in each hexagon of PostGIS's ``ST_HexagonGrid`` layout (``i``, ``j``);
- ``hotspot_refreshes``: per municipality and cell size, the cursor up to which
  ``hotspot_cells`` holds every report, and a version raised whenever its counts change;
- ``hotspot_answers``: hotspot maps already worked out (Gi*, FDR, trends), kept with the
  version of the counts they read, so a repeated question is answered from the database by
  whichever worker receives it;
- ``hotspot_of(x, y, cell_m)``: the ``ST_HexagonGrid`` cell (``i``, ``j``) a point falls in.

Revision ID: 0011
Revises: 0010
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER TABLE reports ADD COLUMN changed_xid xid8")
    op.execute("ALTER TABLE reports ALTER COLUMN changed_xid SET DEFAULT pg_current_xact_id()")
    op.execute(
        "CREATE FUNCTION reports_stamp_xid() RETURNS trigger LANGUAGE plpgsql AS $$ "
        "BEGIN NEW.changed_xid := pg_current_xact_id(); RETURN NEW; END $$")
    op.execute("CREATE TRIGGER reports_stamp_xid BEFORE UPDATE ON reports "
               "FOR EACH ROW EXECUTE FUNCTION reports_stamp_xid()")
    op.create_index("ix_reports_muni_changed_xid", "reports", ["municipality_id", "changed_xid"])
    op.create_table(
        "hotspot_cells",
        sa.Column("municipality_id", sa.Integer(),
                  sa.ForeignKey("municipalities.id", ondelete="CASCADE",
                                name="fk_hotspot_cells_municipality_id_municipalities"), nullable=False),
        sa.Column("cell_m", sa.Integer(), nullable=False),
        sa.Column("service_code", sa.String(64), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("i", sa.Integer(), nullable=False),
        sa.Column("j", sa.Integer(), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("municipality_id", "cell_m", "service_code", "month", "i", "j",
                                name="pk_hotspot_cells"),
    )
    op.execute(
        "CREATE TABLE hotspot_refreshes ("
        " municipality_id integer NOT NULL"
        " CONSTRAINT fk_hotspot_refreshes_municipality_id_municipalities"
        " REFERENCES municipalities (id) ON DELETE CASCADE,"
        " cell_m integer NOT NULL,"
        " upto_xid xid8 NOT NULL,"
        " version bigint NOT NULL DEFAULT 0,"
        " refreshed_at timestamptz NOT NULL DEFAULT now(),"
        " CONSTRAINT pk_hotspot_refreshes PRIMARY KEY (municipality_id, cell_m))")

    op.create_table(
        "hotspot_answers",
        sa.Column("municipality_id", sa.Integer(),
                  sa.ForeignKey("municipalities.id", ondelete="CASCADE",
                                name="fk_hotspot_answers_municipality_id_municipalities"), nullable=False),
        sa.Column("question", sa.String(200), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("answer", postgresql.JSONB(), nullable=False),
        sa.Column("made_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.PrimaryKeyConstraint("municipality_id", "question", name="pk_hotspot_answers"),
    )
    # PostGIS's hexagon grid puts cell (i, j) of edge s at (1.5 s i, sqrt(3) s (j + (i mod 2) / 2)),
    # flat-topped, odd columns raised by half a cell. A point's cell is the one with the nearest
    # centre, which lies in the column at or just right of the point's: the nearer of the two
    # columns' nearest centres. Arithmetic instead of a join to the grid, so years of reports are
    # counted per cell in one pass.
    op.execute("""
        CREATE FUNCTION hotspot_of(x float8, y float8, cell_m float8, OUT i integer, OUT j integer)
        LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
        DECLARE
          c integer := floor(x / (1.5 * cell_m));
          h float8 := sqrt(3) * cell_m;
          j0 integer := round(y / h - 0.5 * (c & 1));
          j1 integer := round(y / h - 0.5 * ((c + 1) & 1));
        BEGIN
          IF (x - 1.5 * cell_m * c) ^ 2 + (y - h * (j0 + 0.5 * (c & 1))) ^ 2
             <= (x - 1.5 * cell_m * (c + 1)) ^ 2 + (y - h * (j1 + 0.5 * ((c + 1) & 1))) ^ 2 THEN
            i := c; j := j0;
          ELSE
            i := c + 1; j := j1;
          END IF;
        END $$""")


def downgrade() -> None:
    op.execute("DROP FUNCTION hotspot_of(float8, float8, float8)")
    op.drop_table("hotspot_answers")
    op.drop_table("hotspot_refreshes")
    op.drop_table("hotspot_cells")
    op.drop_index("ix_reports_muni_changed_xid", table_name="reports")
    op.execute("DROP TRIGGER reports_stamp_xid ON reports")
    op.execute("DROP FUNCTION reports_stamp_xid()")
    op.execute("ALTER TABLE reports DROP COLUMN changed_xid")
