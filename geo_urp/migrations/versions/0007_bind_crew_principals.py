"""crew keys and logins made before crews were bound to a town: bind them where it is clear

Since revision 0004's release a crew principal (role ``crew``) sees only its own
town's work, and one without a municipality sees nothing. Keys and logins made
earlier carry only the crew id: each is bound here to the one municipality that
has a crew of that id. Where several towns have such a crew (or none has), the
row is left as it was, and it must be issued again with ``--municipality``.

Revision ID: 0007
Revises: 0006
"""
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_BIND = """
    UPDATE {table} t SET municipality_id = c.municipality_id
    FROM crews c
    WHERE t.role = 'crew' AND t.municipality_id IS NULL AND c.crew_id = t.crew_id
      AND (SELECT count(*) FROM crews o WHERE o.crew_id = t.crew_id) = 1
"""


def upgrade() -> None:
    for table in ("api_keys", "users"):
        op.execute(_BIND.format(table=table))


def downgrade() -> None:
    # Which rows were bound here is not recorded; a bound crew principal is valid under 0006 too.
    pass
