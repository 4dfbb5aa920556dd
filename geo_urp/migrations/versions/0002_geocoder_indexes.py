"""geocoder indexes: folded-name function and trigram GIN indexes

The geocoder compares names folded the same way Python folds them (lower case,
no accents, apostrophes as spaces). ``unaccent`` is only STABLE (its dictionary
could change), so an index cannot use it directly; ``geo_urp_fold`` pins the
dictionary and is declared IMMUTABLE, the usual way to index unaccented text.
The trigram GIN indexes serve ``similarity`` / ``word_similarity`` look-ups of
street, address-street and landmark names (the geocoder's "did you mean" list).

Revision ID: 0002
Revises: 0001
"""
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

FOLD = """
CREATE OR REPLACE FUNCTION geo_urp_fold(value text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT regexp_replace(
        lower(public.unaccent('public.unaccent'::regdictionary,
                              translate(value, '''`\u2019\u2018"', '     '))),
        '\\s+', ' ', 'g')
$$
"""

INDEXES = (
    ("ix_streets_name_fold_trgm", "streets", "geo_urp_fold(name)"),
    ("ix_addresses_street_fold_trgm", "addresses", "geo_urp_fold(street)"),
    ("ix_landmarks_name_fold_trgm", "landmarks",
     "geo_urp_fold(name || ' ' || coalesce(aliases, ''))"),
)


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.execute("CREATE EXTENSION IF NOT EXISTS unaccent")
    op.execute(FOLD)
    for name, table, expr in INDEXES:
        op.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {table} USING gin (({expr}) gin_trgm_ops)")


def downgrade() -> None:
    for name, _table, _expr in INDEXES:
        op.execute(f"DROP INDEX IF EXISTS {name}")
    op.execute("DROP FUNCTION IF EXISTS geo_urp_fold(text)")
