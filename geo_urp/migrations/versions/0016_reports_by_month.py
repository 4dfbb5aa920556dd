"""reports partitioned by month of ``requested_datetime``

A contact centre keeps years of calls, nearly all closed; the work reads the few open ones and
the recent weeks. ``reports`` becomes a table partitioned by range of ``requested_datetime``, a
partition per calendar month (UTC bounds, ``reports_YYYY_MM``), so old months stay off the
indexes the day's work uses and can be detached to cheaper storage, and a default partition
(``reports_default``) so that no call is ever refused for want of its month (a call backdated
before the first month, say). ``report_partitions(since, months_ahead)`` makes the missing
partitions from ``since``'s month (at most ten years back) to ``months_ahead`` months after this
one: this migration for the calls already kept, the worker for the months ahead
(``acting.partitions``), an import of past calls before it writes them. It runs with its
owner's rights (the service's role may not create tables), and skips, with a warning, a month
whose calls already sit in the default partition.

PostgreSQL holds a unique constraint of a partitioned table only when it contains the
partition key, so:

- the primary key is ``(id, municipality_id, requested_datetime)``, and the rows pointing to a
  report (``caller_contacts``, ``incident_reports``, ``report_updates``, ``outbox``) carry its
  time too (``report_requested_datetime``) in their foreign key, which follows a report whose
  time is corrected (``ON UPDATE CASCADE``);
- one report per retried call, which the unique ``(municipality_id, api_key_id,
  idempotency_key)`` of ``reports`` kept, is kept by ``report_retries`` (keyed by them): the call
  stores its report and its retry row in one step, and a concurrent retry's row is refused;
- a report's ``token`` (128 random bits) is indexed, no longer unique by constraint.

Revision ID: 0016
Revises: 0015
"""
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

CHILDREN = ("caller_contacts", "incident_reports", "report_updates", "outbox")
MONTHS_AHEAD = 3

# Every index of reports but its keys, as the models name them.
INDEXES = (
    "CREATE INDEX idx_reports_geom ON reports USING gist (geom)",
    "CREATE INDEX ix_reports_municipality_id ON reports (municipality_id)",
    "CREATE INDEX ix_reports_muni_time ON reports (municipality_id, requested_datetime)",
    "CREATE INDEX ix_reports_muni_service_status ON reports (municipality_id, service_code, status)",
    "CREATE INDEX ix_reports_muni_change_no ON reports (municipality_id, change_no)",
    "CREATE INDEX ix_reports_change_pending ON reports (municipality_id) WHERE change_no IS NULL",
    "CREATE INDEX ix_reports_muni_open ON reports (municipality_id, requested_datetime) WHERE status = 'open'",
)
TRIGGERS = (
    "CREATE TRIGGER reports_change_pending BEFORE INSERT OR UPDATE ON reports "
    "FOR EACH ROW EXECUTE FUNCTION change_pending()",
    "CREATE CONSTRAINT TRIGGER reports_change_stamp AFTER INSERT OR UPDATE ON reports "
    "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW WHEN (NEW.change_no IS NULL) EXECUTE FUNCTION change_stamp()",
)
FOREIGN_KEYS = (
    "ALTER TABLE reports ADD CONSTRAINT fk_reports_municipality_id_municipalities "
    "FOREIGN KEY (municipality_id) REFERENCES municipalities (id) ON DELETE CASCADE",
    "ALTER TABLE reports ADD CONSTRAINT fk_reports_api_key_id_api_keys "
    "FOREIGN KEY (api_key_id) REFERENCES api_keys (id) ON DELETE SET NULL",
)

PARTITIONS = """
CREATE FUNCTION report_partitions(since timestamptz, months_ahead integer) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  m date := greatest(date_trunc('month', since AT TIME ZONE 'UTC'),
                     date_trunc('month', (now() - interval '10 years') AT TIME ZONE 'UTC'));
  last date := date_trunc('month', now() AT TIME ZONE 'UTC') + make_interval(months => months_ahead);
  made integer := 0;
BEGIN
  WHILE m <= last LOOP
    IF to_regclass(format('reports_%s', to_char(m, 'YYYY_MM'))) IS NULL THEN
      BEGIN
        EXECUTE format('CREATE TABLE %I PARTITION OF reports FOR VALUES FROM (%L) TO (%L)',
                       format('reports_%s', to_char(m, 'YYYY_MM')),
                       m::timestamp AT TIME ZONE 'UTC', (m + interval '1 month')::timestamp AT TIME ZONE 'UTC');
        made := made + 1;
      EXCEPTION WHEN check_violation THEN
        RAISE WARNING 'calls of % are in reports_default: that month keeps no partition of its own',
                      to_char(m, 'YYYY-MM');
      END;
    END IF;
    m := (m + interval '1 month')::date;
  END LOOP;
  RETURN made;
END $$"""

# The keys and indexes reports had (migration 0015), taken off the table the calls are copied
# from, so that the partitioned table's own bear their names.
OLD_KEYS = ("pk_reports", "uq_reports_municipality_id_api_key_id_idempotency_key", "uq_reports_municipality_id_token")
OLD_INDEXES = ("idx_reports_geom", "ix_reports_municipality_id", "ix_reports_muni_time", "ix_reports_muni_service_status",
               "ix_reports_muni_change_no", "ix_reports_change_pending", "ix_reports_muni_open")


def upgrade() -> None:
    for child in CHILDREN:
        op.execute(f"ALTER TABLE {child} DROP CONSTRAINT fk_{child}_municipality_id_reports")
        op.execute(f"ALTER TABLE {child} ADD COLUMN report_requested_datetime timestamptz")
        op.execute(f"UPDATE {child} c SET report_requested_datetime = r.requested_datetime "
                   "FROM reports r WHERE r.id = c.report_id")
        op.execute(f"ALTER TABLE {child} ALTER COLUMN report_requested_datetime SET NOT NULL")
    op.execute("""
        CREATE TABLE report_retries (
          api_key_id integer NOT NULL
            CONSTRAINT fk_report_retries_api_key_id_api_keys REFERENCES api_keys (id) ON DELETE CASCADE,
          idempotency_key varchar(200) NOT NULL,
          municipality_id integer NOT NULL
            CONSTRAINT fk_report_retries_municipality_id_municipalities REFERENCES municipalities (id) ON DELETE CASCADE,
          report_id bigint NOT NULL,
          CONSTRAINT pk_report_retries PRIMARY KEY (api_key_id, idempotency_key, municipality_id))""")
    op.execute("INSERT INTO report_retries SELECT api_key_id, idempotency_key, municipality_id, id FROM reports "
               "WHERE api_key_id IS NOT NULL AND idempotency_key IS NOT NULL")

    op.execute("ALTER TABLE reports RENAME TO reports_unpartitioned")
    for key in OLD_KEYS:
        op.execute(f"ALTER TABLE reports_unpartitioned DROP CONSTRAINT {key}")
    for index in OLD_INDEXES:
        op.execute(f"DROP INDEX {index}")
    op.execute("CREATE TABLE reports (LIKE reports_unpartitioned INCLUDING DEFAULTS INCLUDING CONSTRAINTS) "
               "PARTITION BY RANGE (requested_datetime)")
    op.execute("CREATE TABLE reports_default PARTITION OF reports DEFAULT")
    op.execute(PARTITIONS)
    op.execute(f"SELECT report_partitions(coalesce(min(requested_datetime), now()), {MONTHS_AHEAD}) "
               "FROM reports_unpartitioned")
    op.execute("INSERT INTO reports SELECT * FROM reports_unpartitioned")  # no trigger yet: numbers kept
    op.execute("ALTER SEQUENCE reports_id_seq OWNED BY NONE")
    op.execute("DROP TABLE reports_unpartitioned")
    op.execute("ALTER SEQUENCE reports_id_seq OWNED BY reports.id")
    op.execute("ALTER TABLE reports ADD CONSTRAINT pk_reports PRIMARY KEY (id, municipality_id, requested_datetime)")
    for statement in (*FOREIGN_KEYS, *INDEXES, *TRIGGERS):
        op.execute(statement)
    op.execute("CREATE INDEX ix_reports_token ON reports (token)")
    op.execute("CREATE INDEX ix_reports_retried ON reports (api_key_id, idempotency_key) "
               "WHERE idempotency_key IS NOT NULL")
    for child in CHILDREN:
        op.execute(f"ALTER TABLE {child} ADD CONSTRAINT fk_{child}_municipality_id_reports "
                   "FOREIGN KEY (municipality_id, report_id, report_requested_datetime) "
                   "REFERENCES reports (municipality_id, id, requested_datetime) ON DELETE CASCADE ON UPDATE CASCADE")


def downgrade() -> None:
    op.execute("DROP FUNCTION report_partitions(timestamptz, integer)")
    for child in CHILDREN:
        op.execute(f"ALTER TABLE {child} DROP CONSTRAINT fk_{child}_municipality_id_reports")
    op.execute("CREATE TABLE reports_whole (LIKE reports INCLUDING DEFAULTS INCLUDING CONSTRAINTS)")
    op.execute("INSERT INTO reports_whole SELECT * FROM reports")
    op.execute("ALTER SEQUENCE reports_id_seq OWNED BY NONE")
    op.execute("DROP TABLE reports")  # and its partitions
    op.execute("ALTER TABLE reports_whole RENAME TO reports")
    op.execute("ALTER SEQUENCE reports_id_seq OWNED BY reports.id")
    op.execute("ALTER TABLE reports ADD CONSTRAINT pk_reports PRIMARY KEY (id, municipality_id)")
    op.execute("ALTER TABLE reports ADD CONSTRAINT uq_reports_municipality_id_api_key_id_idempotency_key "
               "UNIQUE (municipality_id, api_key_id, idempotency_key)")
    op.execute("ALTER TABLE reports ADD CONSTRAINT uq_reports_municipality_id_token UNIQUE (municipality_id, token)")
    for statement in (*FOREIGN_KEYS, *INDEXES, *TRIGGERS):
        op.execute(statement)
    op.execute("DROP TABLE report_retries")
    for child in CHILDREN:
        op.execute(f"ALTER TABLE {child} DROP COLUMN report_requested_datetime")
        op.execute(f"ALTER TABLE {child} ADD CONSTRAINT fk_{child}_municipality_id_reports "
                   "FOREIGN KEY (municipality_id, report_id) REFERENCES reports (municipality_id, id) ON DELETE CASCADE")
