"""council trends: districts, and reports counted per town, service, area, district, week and month

- ``districts``: the optional layer of the town's districts (quartieri, frazioni), polygons
  with ``district_id`` and ``name``, as ``crew_areas`` are;
- ``trend_weeks``: per municipality, service, crew area, district, ISO week and month (a week
  that straddles two months is two rows; Europe/Rome), the reports made, how many are
  closed, how many of those had a due time and how many were closed by it, and a histogram
  of the closed ones' hours to resolve in the fixed buckets of ``acting.trend_counts``;
- ``trend_refreshes``: per municipality, the cursor up to which ``trend_weeks`` holds every
  report, the layers' load it placed them in, and a version raised whenever a count changes.

Revision ID: 0012
Revises: 0011
"""
import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry
from sqlalchemy.dialects import postgresql

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_geospatial_table(
        "districts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("municipality_id", sa.Integer(), nullable=False),
        sa.Column("district_id", sa.String(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("props", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("geom", Geometry(geometry_type="MULTIPOLYGON", srid=32632, dimension=2, spatial_index=False,
                                   from_text="ST_GeomFromEWKT", name="geometry", nullable=False), nullable=False),
        sa.ForeignKeyConstraint(["municipality_id"], ["municipalities.id"],
                                name=op.f("fk_districts_municipality_id_municipalities"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_districts")),
        sa.UniqueConstraint("municipality_id", "district_id", name=op.f("uq_districts_municipality_id_district_id")),
    )
    op.create_geospatial_index("idx_districts_geom", "districts", ["geom"], unique=False,
                               postgresql_using="gist", postgresql_ops={})
    op.create_index(op.f("ix_districts_municipality_id"), "districts", ["municipality_id"], unique=False)
    op.create_table(
        "trend_weeks",
        sa.Column("municipality_id", sa.Integer(),
                  sa.ForeignKey("municipalities.id", ondelete="CASCADE",
                                name="fk_trend_weeks_municipality_id_municipalities"), nullable=False),
        sa.Column("service_code", sa.String(64), nullable=False),
        sa.Column("area_id", sa.String(), nullable=False),
        sa.Column("district_id", sa.String(), nullable=False),
        sa.Column("week", sa.Date(), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.Column("closed", sa.Integer(), nullable=False),
        sa.Column("with_due", sa.Integer(), nullable=False),
        sa.Column("on_time", sa.Integer(), nullable=False),
        sa.Column("hours", postgresql.ARRAY(sa.Integer()), nullable=False),
        sa.PrimaryKeyConstraint("municipality_id", "service_code", "week", "month", "area_id", "district_id",
                                name="pk_trend_weeks"),
    )
    op.execute(
        "CREATE TABLE trend_refreshes ("
        " municipality_id integer NOT NULL"
        " CONSTRAINT fk_trend_refreshes_municipality_id_municipalities"
        " REFERENCES municipalities (id) ON DELETE CASCADE,"
        " upto_xid xid8 NOT NULL,"
        " layers_loaded_at timestamptz,"
        " version bigint NOT NULL DEFAULT 0,"
        " refreshed_at timestamptz NOT NULL DEFAULT now(),"
        " CONSTRAINT pk_trend_refreshes PRIMARY KEY (municipality_id))")


def downgrade() -> None:
    op.drop_table("trend_refreshes")
    op.drop_table("trend_weeks")
    op.drop_index(op.f("ix_districts_municipality_id"), table_name="districts")
    op.drop_geospatial_index("idx_districts_geom", table_name="districts", postgresql_using="gist",
                             column_name="geom")
    op.drop_geospatial_table("districts")
