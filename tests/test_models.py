"""The models describe the schema the migrations build: alembic's autogenerate finds no difference.

The comparison runs on the migrated test database with the hooks of ``geo_urp/migrations/env.py``
(``db.compared``: GeoAlchemy2's ``include_object``, and the partitions of ``reports`` left out),
so PostGIS's own tables are left out; GeoAlchemy2's
dialect reflects each spatial index as part of its geometry column.
"""
from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from geo_urp.db import compared, engine_for
from geo_urp.models import Base


def test_autogenerate_finds_no_difference_between_models_and_migrations(db_url):
    with engine_for(db_url).connect() as conn:
        context = MigrationContext.configure(conn, opts={
            "include_object": compared,
            "compare_type": True,
            "compare_server_default": True,
        })
        differences = compare_metadata(context, Base.metadata)
    assert differences == [], "\n".join(repr(d) for d in differences)
