"""information requests without a place: ``reports.geom`` may be NULL, for them only

An information request ("when is the registry office open?") is about no place: the operator
answers it on the phone and logs it without an address. Its report has no point; every other
service's report must have one, which a check constraint keeps (``info_request`` is the one
service that never makes an incident, ``reasoning.rules.ALWAYS_NO_INCIDENT``).

Revision ID: 0013
Revises: 0012
"""
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

# Named as the models' naming convention names it (``ck_<table>_<name>``); op.f keeps it as written.
CHECK = "ck_reports_placed_unless_information"


def upgrade() -> None:
    op.alter_column("reports", "geom", nullable=True)
    op.create_check_constraint(op.f(CHECK), "reports", "geom IS NOT NULL OR service_code = 'info_request'")


def downgrade() -> None:
    # A column that needs a place cannot hold a report without one: such a report is placed at a
    # point inside its town's boundary, as it was before this revision. None is ever deleted; a
    # town without a boundary stops the downgrade, naming why.
    op.execute("""
        UPDATE reports r SET geom = ST_PointOnSurface(m.boundary)
        FROM municipalities m WHERE r.geom IS NULL AND m.id = r.municipality_id AND m.boundary IS NOT NULL
    """)
    op.execute("""
        DO $$ BEGIN
          IF EXISTS (SELECT 1 FROM reports WHERE geom IS NULL) THEN
            RAISE EXCEPTION 'reports without a place in a town without a boundary: load its boundary, then downgrade';
          END IF;
        END $$
    """)
    op.drop_constraint(op.f(CHECK), "reports", type_="check")
    op.alter_column("reports", "geom", nullable=False)
