"""Reports in a partition per block of four million ids (migration 0016), and the blocks made ahead."""
from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from geo_urp.acting import partitions
from geo_urp.db import engine_for, session_scope
from geo_urp.errors import GeoUrpError
from geo_urp.models import CallerContact, Municipality, Report
from tests.conftest import report_row

BLOCK = 4_000_000  # ids a partition holds (migration 0016)


@pytest.fixture()
def town(fresh_db_url) -> int:
    with session_scope(fresh_db_url) as session:
        muni = Municipality(slug="alta", name="Alta")
        session.add(muni)
        session.flush()
        return muni.id


def _call(url: str, town: int, next_id: int | None = None, **fields) -> int:
    """Store one call (its id ``next_id`` when given, as if that many had come before); its id."""
    with session_scope(url) as session:
        if next_id is not None:
            session.execute(text("SELECT setval('reports_id_seq', :n, false)"), {"n": next_id})
        call = report_row(town, **fields)
        session.add(call)
        session.flush()
        return call.id


def _where(url: str, report_id: int) -> str:
    with engine_for(url).connect() as conn:
        return conn.execute(text("SELECT tableoid::regclass::text FROM reports WHERE id = :r"), {"r": report_id}).scalar()


def _blocks(url: str) -> list[str]:
    with engine_for(url).connect() as conn:
        return list(conn.execute(text(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = 'reports'::regclass ORDER BY c.relname")).scalars())


def test_a_call_lands_in_the_partition_of_its_ids_block(fresh_db_url, town):
    assert _where(fresh_db_url, _call(fresh_db_url, town)) == "reports_from_0"
    assert _where(fresh_db_url, _call(fresh_db_url, town, next_id=BLOCK + BLOCK // 2)) == f"reports_from_{BLOCK}"


def test_a_lookup_by_id_reads_one_partition(fresh_db_url, town):
    rid = _call(fresh_db_url, town)
    with engine_for(fresh_db_url).connect() as conn:
        plan = conn.execute(text("EXPLAIN (FORMAT JSON) SELECT * FROM reports WHERE id = :r"), {"r": rid}).scalar()

    def relations(node: dict) -> list[str]:
        return [node.get("Relation Name")] * ("Relation Name" in node) + [
            name for child in node.get("Plans", []) for name in relations(child)]

    assert relations(plan[0]["Plan"]) == ["reports_from_0"]


def test_the_worker_makes_the_next_block_once(fresh_db_url, town):
    _call(fresh_db_url, town, next_id=BLOCK + BLOCK // 2)
    config = {"DATABASE_URL": fresh_db_url}
    assert f"reports_from_{2 * BLOCK}" not in _blocks(fresh_db_url)
    assert partitions.make_ahead(config) == 1
    assert partitions.make_ahead(config) == 0  # nothing left to make
    assert _where(fresh_db_url, _call(fresh_db_url, town, next_id=2 * BLOCK)) == f"reports_from_{2 * BLOCK}"


def test_an_id_no_block_holds_is_kept_in_the_default_partition_and_its_block_left_as_it_is(fresh_db_url, town):
    rid = _call(fresh_db_url, town, next_id=5 * BLOCK + BLOCK // 2, contact=CallerContact(email="a@example.org"))
    assert _where(fresh_db_url, rid) == "reports_default"  # kept, never refused
    assert partitions.make_ahead({"DATABASE_URL": fresh_db_url}) == 1  # the block after it; not its own
    assert f"reports_from_{5 * BLOCK}" not in _blocks(fresh_db_url) and f"reports_from_{6 * BLOCK}" in _blocks(fresh_db_url)
    with session_scope(fresh_db_url) as session:
        assert session.get(Report, rid).contact.email == "a@example.org"


def test_an_import_makes_the_blocks_its_ids_will_take_first_a_block_further_at_most(fresh_db_url, town):
    with session_scope(fresh_db_url) as session:
        # blocks 0 and 1 were there; the service's function goes one block past the latest id's next
        assert partitions.make_apart(session, 2 * BLOCK + BLOCK // 2) == 1
        # made and committed beside the import's own transaction, which holds no lock on reports
        assert session.scalar(text("SELECT count(*) FROM pg_locks WHERE pid = pg_backend_pid() "
                                   "AND relation = 'reports'::regclass")) == 0
    assert set(_blocks(fresh_db_url)) == {"reports_default", *(f"reports_from_{k * BLOCK}" for k in range(3))}


def test_more_than_a_hundred_blocks_at_once_are_refused_and_none_made(fresh_db_url, town):
    before = _blocks(fresh_db_url)
    with pytest.raises(DBAPIError, match="at most 100 blocks"):
        with engine_for(fresh_db_url).begin() as conn:  # the owner, naming the ids
            conn.execute(text("SELECT report_blocks(0, :last)"), {"last": 100 * BLOCK})
    assert _blocks(fresh_db_url) == before


def test_one_maker_at_a_time_the_other_makes_none_and_does_not_wait(fresh_db_url, town):
    _call(fresh_db_url, town, next_id=BLOCK + BLOCK // 2)
    config = {"DATABASE_URL": fresh_db_url}
    with engine_for(fresh_db_url).connect() as first:
        assert first.execute(text("SELECT report_partitions(0)")).scalar() == 1  # not yet committed
        assert partitions.make_ahead(config) == 0  # another worker's pass: no error, no wait
        first.commit()
    assert partitions.make_ahead(config) == 0 and f"reports_from_{2 * BLOCK}" in _blocks(fresh_db_url)


def test_an_import_waits_for_another_maker_then_refuses_rather_than_fill_the_default(fresh_db_url, town):
    with engine_for(fresh_db_url).connect() as other:  # another maker, busy for longer than an import waits
        other.execute(text("SELECT pg_advisory_xact_lock(hashtext('geo_urp.report_blocks'))"))
        with pytest.raises(GeoUrpError, match="being made by another process"):
            with session_scope(fresh_db_url) as session:
                partitions.make_apart(session, 2 * BLOCK)
        other.rollback()
    with session_scope(fresh_db_url) as session:
        assert partitions.make_apart(session, 2 * BLOCK) == 1


def test_a_block_that_cannot_have_its_lock_soon_is_left_for_the_next_pass(fresh_db_url, town):
    _call(fresh_db_url, town, next_id=BLOCK + BLOCK // 2)  # the next block is to be made
    config = {"DATABASE_URL": fresh_db_url}
    with engine_for(fresh_db_url).connect() as reader:  # a long read (a backup, say) holds reports
        reader.execute(text("BEGIN; SELECT count(*) FROM reports"))
        with pytest.raises(DBAPIError, match="lock timeout"):  # gives up instead of holding calls behind it
            partitions.make_ahead(config)
        reader.rollback()
    assert f"reports_from_{2 * BLOCK}" not in _blocks(fresh_db_url)
    assert partitions.make_ahead(config) == 1
