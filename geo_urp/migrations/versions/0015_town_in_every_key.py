"""the municipality in every key of a call's rows, so they can be distributed by town

A contact centre's database for hundreds of towns is distributed by municipality (Citus,
``docs/SCALING.md``): a call's report, contact, incident link, history, updates and closing
message live with their town, and a distributed database enforces a primary key, a unique
constraint or a foreign key only when it holds the distribution column. So:

- ``reports``, ``incidents``, ``incident_events``, ``report_updates`` and ``outbox`` are keyed
  by ``(id, municipality_id)``; ``caller_contacts`` and ``incident_reports`` by
  ``(report_id, municipality_id)``. Ids stay unique on their own (one sequence each), so the
  Open311 ``service_request_id`` and every id in the APIs are unchanged, and the key's index,
  leading with the id, still finds a row by its id alone;
- ``caller_contacts``, ``incident_reports`` and ``incident_events`` gain ``municipality_id``
  (their report's or incident's), and every foreign key between these tables names the town
  too: a row can only point to a row of its own town;
- an ``Idempotency-Key`` and a report's ``token`` are unique within the town, as is a report's
  closing message (``outbox``: one per report and purpose).

Downgrading refuses (and changes nothing) once a key serving every town has used one
``Idempotency-Key`` in two towns: the key before this revision was unique across towns.

A foreign key that empties a reference when its row goes (``absorbed_into_id``, an outbox
message's ``incident_id``) empties only that column (``ON DELETE SET NULL (column)``), never
the town.

Revision ID: 0015
Revises: 0014
"""
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

# table -> (primary key columns after, before)
KEYS = {
    "reports": ("id, municipality_id", "id"),
    "incidents": ("id, municipality_id", "id"),
    "caller_contacts": ("report_id, municipality_id", "report_id"),
    "incident_reports": ("report_id, municipality_id", "report_id"),
    "incident_events": ("id, municipality_id", "id"),
    "report_updates": ("id, municipality_id", "id"),
    "outbox": ("id, municipality_id", "id"),
}
# (table, column, referred table, ON DELETE): every reference between a call's rows.
REFERENCES = (
    ("caller_contacts", "report_id", "reports", "CASCADE"),
    ("incident_reports", "report_id", "reports", "CASCADE"),
    ("incident_reports", "incident_id", "incidents", "CASCADE"),
    ("incident_events", "incident_id", "incidents", "CASCADE"),
    ("report_updates", "report_id", "reports", "CASCADE"),
    ("outbox", "report_id", "reports", "CASCADE"),
    ("outbox", "incident_id", "incidents", "SET NULL"),
    ("incidents", "absorbed_into_id", "incidents", "SET NULL"),
)
# (table, column, parent table, the parent's row): the rows that gain their town.
GAINS_TOWN = (
    ("caller_contacts", "report_id", "reports"),
    ("incident_reports", "report_id", "reports"),
    ("incident_events", "incident_id", "incidents"),
)
# (table, name before, columns before, name after, columns after)
UNIQUES = (
    ("reports", "uq_reports_api_key_id_idempotency_key", "api_key_id, idempotency_key",
     "uq_reports_municipality_id_api_key_id_idempotency_key", "municipality_id, api_key_id, idempotency_key"),
    ("reports", "uq_reports_token", "token", "uq_reports_municipality_id_token", "municipality_id, token"),
    ("outbox", "uq_outbox_report_id_purpose", "report_id, purpose",
     "uq_outbox_municipality_id_report_id_purpose", "municipality_id, report_id, purpose"),
)


def upgrade() -> None:
    for table, column, parent in GAINS_TOWN:
        op.execute(f"ALTER TABLE {table} ADD COLUMN municipality_id integer")
        op.execute(f"UPDATE {table} c SET municipality_id = p.municipality_id FROM {parent} p WHERE p.id = c.{column}")
        op.execute(f"ALTER TABLE {table} ALTER COLUMN municipality_id SET NOT NULL")
    for table, column, referred, _ in REFERENCES:
        op.execute(f"ALTER TABLE {table} DROP CONSTRAINT fk_{table}_{column}_{referred}")
    for table, before, _, after, columns in UNIQUES:
        op.execute(f"ALTER TABLE {table} DROP CONSTRAINT {before}")
        op.execute(f"ALTER TABLE {table} ADD CONSTRAINT {after} UNIQUE ({columns})")
    for table, (columns, _) in KEYS.items():
        op.execute(f"ALTER TABLE {table} DROP CONSTRAINT pk_{table}")
        op.execute(f"ALTER TABLE {table} ADD CONSTRAINT pk_{table} PRIMARY KEY ({columns})")
    for table, column, referred, on_delete in REFERENCES:
        # SET NULL of the reference only: the row keeps its town.
        action = f"SET NULL ({column})" if on_delete == "SET NULL" else on_delete
        op.execute(f"ALTER TABLE {table} ADD CONSTRAINT fk_{table}_municipality_id_{referred} "
                   f"FOREIGN KEY (municipality_id, {column}) REFERENCES {referred} (municipality_id, id) "
                   f"ON DELETE {action}")


def downgrade() -> None:
    for table, column, referred, _ in REFERENCES:
        op.execute(f"ALTER TABLE {table} DROP CONSTRAINT fk_{table}_municipality_id_{referred}")
    for table, (_, columns) in KEYS.items():
        op.execute(f"ALTER TABLE {table} DROP CONSTRAINT pk_{table}")
        op.execute(f"ALTER TABLE {table} ADD CONSTRAINT pk_{table} PRIMARY KEY ({columns})")
    for table, before, columns, after, _ in UNIQUES:
        op.execute(f"ALTER TABLE {table} DROP CONSTRAINT {after}")
        op.execute(f"ALTER TABLE {table} ADD CONSTRAINT {before} UNIQUE ({columns})")
    for table, column, referred, on_delete in REFERENCES:
        op.execute(f"ALTER TABLE {table} ADD CONSTRAINT fk_{table}_{column}_{referred} "
                   f"FOREIGN KEY ({column}) REFERENCES {referred} (id) ON DELETE {on_delete}")
    for table, _, _ in GAINS_TOWN:
        op.execute(f"ALTER TABLE {table} DROP COLUMN municipality_id")
