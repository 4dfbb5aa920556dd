"""reports partitioned by ranges of id, in the order calls arrived

A contact centre keeps years of calls, nearly all closed; the day's work reads the few open ones
and the recent weeks. ``reports`` becomes a table partitioned by range of ``id``, a partition per
block of four million ids (``reports_from_0``, ``reports_from_4000000``, ...): ids follow
arrival, so each partition holds one stretch of time (two years of a contact centre's 2 million
calls a year), old ones stay off the indexes the day's calls write to, and a stretch no longer wanted on
the working database can be detached (docs/OPERATIONS.md). A default partition
(``reports_default``) takes any id no block holds yet, so that no call is ever refused for want
of a partition.

Why the id and not the call's time (``requested_datetime``): PostgreSQL 15 plans and locks every
partition for a statement that does not name the partition key, and the service finds reports by
id throughout (the ORM, the joins with ``incident_reports``, the foreign keys of the rows
pointing to a report). A lookup by id prunes to one partition when it is planned, and the
primary key ``(id, municipality_id)`` already holds the partition key, so no foreign key changes
(docs/SCALING.md point 4, with the figures of monthly partitions that were tried and taken back).
A statement that does not name an id still plans every partition (about 0.07 ms each), so blocks
are wide: a decade of 2 million calls a year is five.

``report_partitions(ids_to_come)`` makes the missing blocks from the one holding the sequence's
latest id to the one holding that id plus ``ids_to_come`` (at most a block further), and one
block more, so the next block is made before the first call reaches it: the worker each pass
(``acting.partitions``), an import of past calls before it writes them. It runs with its owner's
rights (the service's role may make no table) and starts from the sequence, never from an id its
caller names. ``report_blocks`` (the owner's alone; this migration makes with it the blocks of
the calls already kept) makes at most 100 blocks at once, one caller at a time (another returns
at once, making none and answering NULL), waits at most 200 ms for each lock a new partition
takes, on ``reports`` and the seven tables its keys join (calls queue behind a lock being waited
for; the worker tries again at its next pass), and
leaves to the default partition a block whose ids already sit there. Making a block reads the
default partition under that lock: an instant while it is empty, as it is unless the worker was
stopped while ids went past the block made ahead.

PostgreSQL holds a unique key of a partitioned table only when it contains the partition key, so:

- one report per retried call, which the unique ``(municipality_id, api_key_id,
  idempotency_key)`` of ``reports`` kept, is kept by ``report_retries`` (keyed by the api key,
  the ``Idempotency-Key`` and the town, pointing to the report): the call writes its report and
  its retry row in one savepoint, and a concurrent retry's row is refused. ``reports`` no longer
  has ``idempotency_key`` (``report_retries`` is where it is);
- a report's ``token`` (128 random bits) is indexed, no longer unique by constraint.

Revision ID: 0016
Revises: 0015
"""
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

# The rows pointing to a report: their foreign keys go while reports is rebuilt, then come back.
CHILDREN = ("caller_contacts", "incident_reports", "report_updates", "outbox")

# Every index of reports but its keys, as the models name them.
INDEXES = (
    "CREATE INDEX idx_reports_geom ON reports USING gist (geom)",
    "CREATE INDEX ix_reports_municipality_id ON reports (municipality_id)",
    "CREATE INDEX ix_reports_muni_time ON reports (municipality_id, requested_datetime)",
    "CREATE INDEX ix_reports_muni_service_status ON reports (municipality_id, service_code, status)",
    "CREATE INDEX ix_reports_muni_change_no ON reports (municipality_id, change_no)",
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
# The keys and indexes reports had (migration 0015), taken off the table the calls are copied
# from, so that the partitioned table's own bear their names.
OLD_KEYS = ("pk_reports", "uq_reports_municipality_id_api_key_id_idempotency_key", "uq_reports_municipality_id_token")
OLD_INDEXES = ("idx_reports_geom", "ix_reports_municipality_id", "ix_reports_muni_time",
               "ix_reports_muni_service_status", "ix_reports_muni_change_no", "ix_reports_muni_open")

# Ids a partition holds: a contact centre's two years (``reports_from_<first id>``).
BLOCK_IDS = 4_000_000

# The blocks holding ids first_id..last_id that are missing, made (at most 100 at once), by one
# caller at a time: another one busy making them, this call makes none and answers NULL (it does
# not wait). A block some of whose ids already sit in reports_default (its calls came before it
# was made) is left to the default partition. The owner's alone (no grant).
BLOCKS = f"""
CREATE FUNCTION report_blocks(first_id bigint, last_id bigint) RETURNS integer
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp SET lock_timeout = '200ms' AS $$
DECLARE
  width constant bigint := {BLOCK_IDS};
  most constant integer := 100;
  block bigint := greatest(first_id, 0) / width;
  last_block bigint := greatest(last_id, 0) / width;
  made integer := 0;
BEGIN
  IF last_block - block >= most THEN
    RAISE EXCEPTION 'report_blocks makes at most % blocks of % ids at once; asked for ids % to %',
                    most, width, first_id, last_id
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
  IF NOT pg_try_advisory_xact_lock(hashtext('geo_urp.report_blocks')) THEN
    RETURN NULL;  -- another is making them
  END IF;
  WHILE block <= last_block LOOP
    IF to_regclass(format('public.reports_from_%s', block * width)) IS NULL THEN
      IF EXISTS (SELECT 1 FROM public.reports_default WHERE id >= block * width AND id < (block + 1) * width) THEN
        RAISE NOTICE 'ids % to % are in reports_default: that block keeps no partition of its own',
                     block * width, (block + 1) * width - 1;
      ELSE
        BEGIN
          EXECUTE format('CREATE TABLE public.%I PARTITION OF public.reports FOR VALUES FROM (%s) TO (%s)',
                         format('reports_from_%s', block * width), block * width, (block + 1) * width);
          made := made + 1;
        EXCEPTION WHEN check_violation THEN  -- a call of the block came in since the look above
          RAISE NOTICE 'ids % to % are in reports_default: that block keeps no partition of its own',
                       block * width, (block + 1) * width - 1;
        END;
      END IF;
    END IF;
    block := block + 1;
  END LOOP;
  RETURN made;
END $$"""

# What the service's role may call (db grant-app): the blocks from the latest id's to the one
# ids_to_come ids further (at most one block further), and one more, so the next block is made
# before a call reaches it. It runs with its owner's rights and starts from the sequence, never
# from an id the caller names, so the role makes at most three blocks a call, around the latest id.
PARTITIONS = f"""
CREATE FUNCTION report_partitions(ids_to_come bigint) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  width constant bigint := {BLOCK_IDS};
  last_id bigint := (SELECT last_value FROM public.reports_id_seq);
BEGIN
  RETURN public.report_blocks(last_id, last_id + least(greatest(ids_to_come, 0), width) + width);
END $$"""


def upgrade() -> None:
    for child in CHILDREN:
        op.execute(f"ALTER TABLE {child} DROP CONSTRAINT fk_{child}_municipality_id_reports")
    op.execute("""
        CREATE TABLE report_retries (
          api_key_id integer NOT NULL
            CONSTRAINT fk_report_retries_api_key_id_api_keys REFERENCES api_keys (id) ON DELETE CASCADE,
          idempotency_key varchar(200) NOT NULL,
          municipality_id integer NOT NULL,
          report_id bigint NOT NULL,
          CONSTRAINT pk_report_retries PRIMARY KEY (api_key_id, idempotency_key, municipality_id))""")
    op.execute("INSERT INTO report_retries SELECT api_key_id, idempotency_key, municipality_id, id FROM reports "
               "WHERE api_key_id IS NOT NULL AND idempotency_key IS NOT NULL")

    op.execute("ALTER TABLE reports RENAME TO reports_unpartitioned")
    for key in OLD_KEYS:
        op.execute(f"ALTER TABLE reports_unpartitioned DROP CONSTRAINT {key}")
    for index in OLD_INDEXES:
        op.execute(f"DROP INDEX {index}")
    op.execute("ALTER TABLE reports_unpartitioned DROP COLUMN idempotency_key")
    op.execute("CREATE TABLE reports (LIKE reports_unpartitioned INCLUDING DEFAULTS INCLUDING CONSTRAINTS) "
               "PARTITION BY RANGE (id)")
    op.execute("CREATE TABLE reports_default PARTITION OF reports DEFAULT")
    op.execute(BLOCKS)
    op.execute(PARTITIONS)
    for function in ("report_blocks(bigint, bigint)", "report_partitions(bigint)"):
        op.execute(f"REVOKE ALL ON FUNCTION {function} FROM PUBLIC")
    # The blocks of the calls kept, and the one after the latest id.
    op.execute("SELECT report_blocks(coalesce(min(id), 0), max(id)) FROM reports_unpartitioned")
    op.execute("SELECT report_partitions(0)")
    op.execute("INSERT INTO reports SELECT * FROM reports_unpartitioned")  # no trigger yet: numbers kept
    op.execute("ALTER SEQUENCE reports_id_seq OWNED BY NONE")
    op.execute("DROP TABLE reports_unpartitioned")
    op.execute("ALTER SEQUENCE reports_id_seq OWNED BY reports.id")
    op.execute("ALTER TABLE reports ADD CONSTRAINT pk_reports PRIMARY KEY (id, municipality_id)")
    for statement in (*FOREIGN_KEYS, *INDEXES, *TRIGGERS):
        op.execute(statement)
    op.execute("CREATE INDEX ix_reports_token ON reports (token)")
    for child in (*CHILDREN, "report_retries"):
        op.execute(f"ALTER TABLE {child} ADD CONSTRAINT fk_{child}_municipality_id_reports "
                   "FOREIGN KEY (municipality_id, report_id) REFERENCES reports (municipality_id, id) ON DELETE CASCADE")


def downgrade() -> None:
    op.execute("DROP FUNCTION report_partitions(bigint)")
    op.execute("DROP FUNCTION report_blocks(bigint, bigint)")
    for child in CHILDREN:
        op.execute(f"ALTER TABLE {child} DROP CONSTRAINT fk_{child}_municipality_id_reports")
    op.execute("CREATE TABLE reports_whole (LIKE reports INCLUDING DEFAULTS INCLUDING CONSTRAINTS)")
    op.execute("INSERT INTO reports_whole SELECT * FROM reports")
    op.execute("ALTER TABLE reports_whole ADD COLUMN idempotency_key varchar(200)")
    op.execute("UPDATE reports_whole r SET idempotency_key = t.idempotency_key FROM report_retries t "
               "WHERE t.report_id = r.id AND t.municipality_id = r.municipality_id")
    op.execute("DROP TABLE report_retries")
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
    for child in CHILDREN:
        op.execute(f"ALTER TABLE {child} ADD CONSTRAINT fk_{child}_municipality_id_reports "
                   "FOREIGN KEY (municipality_id, report_id) REFERENCES reports (municipality_id, id) ON DELETE CASCADE")
