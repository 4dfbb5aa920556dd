"""``db``: hot statements prepared once per connection; pooled connections tried after idling."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest
from geoalchemy2 import Geometry, WKBElement
from geoalchemy2.shape import to_shape
from sqlalchemy import bindparam, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, IntegrityError, MultipleResultsFound, NoResultFound, OperationalError
from sqlalchemy.orm import Session

from geo_urp import db
from geo_urp.db import Prepared, engine_for

_ADD = Prepared("SELECT CAST(:a AS int) + :b::int AS total, :when::timestamptz AS at, :a::int * 2 AS twice")


def _prepared_names(session: Session) -> list[str]:
    return list(session.scalars(text("SELECT name FROM pg_prepared_statements ORDER BY name")))


def test_a_statement_is_prepared_once_per_connection_and_answers_each_run(db_url):
    when = datetime(2026, 11, 29, 12, tzinfo=timezone.utc)
    with engine_for(db_url).connect() as conn:
        session = Session(bind=conn)
        assert _ADD.execute(session, {"a": 2, "b": 3, "when": when}).one() == (5, when, 4)
        session.rollback()  # a prepared statement outlives its transaction
        assert _ADD.execute(session, {"a": 10, "b": -1, "when": when}).one() == (9, when, 20)
        assert _prepared_names(session).count(_ADD.name) == 1
        session.close()


def test_a_new_connection_prepares_it_again(db_url):
    engine = engine_for(db_url)
    with engine.connect() as first, engine.connect() as second:
        for conn, a in ((first, 1), (second, 7)):
            session = Session(bind=conn)
            assert _ADD.execute(session, {"a": a, "b": 1, "when": None}).one().total == a + 1
            assert _ADD.name in _prepared_names(session)
            session.close()


def test_two_texts_get_two_names():
    assert Prepared("SELECT :x::int").name != Prepared("SELECT :x::int + 1").name


@pytest.fixture()
def own_pool(db_url):
    """own_pool(name): an engine with a pool of its own on the test database (another URL, another
    engine); its connections are closed after the test (the database is the template of others)."""
    made = []

    def make(name: str):
        made.append(engine_for(make_url(db_url).update_query_dict({"application_name": name})
                               .render_as_string(False)))
        return made[-1]
    yield make
    for engine in made:
        engine.dispose()


def _terminate(db_url: str, pid: int) -> None:
    with engine_for(db_url).connect() as admin:
        admin.execute(text("SELECT pg_terminate_backend(:p)"), {"p": pid})


def test_a_pooled_connection_left_idle_is_tried_and_replaced_when_the_server_dropped_it(db_url, own_pool,
                                                                                        monkeypatch):
    engine = own_pool("geo_urp_ping_test")
    with engine.connect() as conn:
        first = conn.execute(text("SELECT pg_backend_pid()")).scalar()
    _terminate(db_url, first)
    monkeypatch.setattr(db, "PING_AFTER_IDLE_S", 0.0)  # as if it had waited: it is tried on checkout
    with engine.connect() as conn:
        assert conn.execute(text("SELECT pg_backend_pid()")).scalar() != first


def test_a_connection_in_steady_use_is_not_tried(db_url, own_pool, monkeypatch):
    engine = own_pool("geo_urp_ping_test_2")
    with engine.connect() as conn:
        first = conn.execute(text("SELECT pg_backend_pid()")).scalar()
    _terminate(db_url, first)
    monkeypatch.setattr(db, "PING_AFTER_IDLE_S", 3600.0)
    # Handed back a moment ago: no round trip first, so the dropped link shows on the first statement.
    with pytest.raises(OperationalError), engine.connect() as conn:
        conn.execute(text("SELECT 1"))
    with engine.connect() as conn:  # the pool threw that connection away
        assert conn.execute(text("SELECT pg_backend_pid()")).scalar() != first


def test_a_prepared_statement_gone_from_its_connection_is_prepared_again_on_the_next_call(db_url):
    one = Prepared("SELECT 1 AS one")  # no parameters: EXECUTE without an argument list
    with engine_for(db_url).connect() as conn:
        session = Session(bind=conn)
        assert one.execute(session, {}).scalar() == 1
        session.execute(text("DEALLOCATE ALL"))  # what a pooler's DISCARD ALL would do
        with pytest.raises(DBAPIError, match="does not exist"):
            one.execute(session, {})
        session.rollback()
        assert one.execute(session, {}).scalar() == 1
        session.close()


def test_a_dropped_connection_under_a_prepared_statement_is_thrown_away(db_url, own_pool, monkeypatch):
    engine = own_pool("geo_urp_prepared_drop_test")
    one = Prepared("SELECT 1 AS one")
    monkeypatch.setattr(db, "PING_AFTER_IDLE_S", 3600.0)
    with engine.connect() as conn:
        session = Session(bind=conn)
        first = session.execute(text("SELECT pg_backend_pid()")).scalar()
        session.commit()
        _terminate(db_url, first)
        with pytest.raises(OperationalError) as failed:  # SQLAlchemy's error, as from session.execute
            one.execute(session, {})
        assert failed.value.connection_invalidated
        session.close()
    with engine.connect() as conn:  # the pool made a new connection
        assert conn.execute(text("SELECT pg_backend_pid()")).scalar() != first


_TYPED = Prepared("SELECT CAST(:doc AS jsonb) -> 'n' AS n, ST_SetSRID(ST_MakePoint(:x, 2), 32632) AS g, "
                  "ST_MakePoint(1, 1) AS raw",
                  types={"x": "float8"}, bind_types=(bindparam("doc", type_=JSONB),),
                  result_types={"g": Geometry("POINT", srid=32632)})


def test_prepared_rows_convert_as_sqlalchemy_would_and_read_by_name_position_or_mapping(db_url):
    with engine_for(db_url).connect() as conn:
        session = Session(bind=conn)
        row = _TYPED.execute(session, {"doc": {"n": [1, "two"]}, "x": 5.0}).one()
        assert row.n == [1, "two"] and row[0] == [1, "two"]  # a dict sent as jsonb, read back as JSON
        assert isinstance(row.g, WKBElement) and row.g.srid == 32632  # typed column: an element
        assert to_shape(row.g).x == 5.0
        assert isinstance(row.raw, str)  # an untyped column comes as the driver gives it (hex)
        assert set(row._mapping) == {"n", "g", "raw"}
        session.close()


def test_prepared_results_count_rows_and_tell_none_from_many(db_url):
    rows = Prepared("SELECT g FROM generate_series(1, CAST(:n AS int)) AS g")
    with engine_for(db_url).connect() as conn:
        session = Session(bind=conn)
        assert [r.g for r in rows.execute(session, {"n": 3})] == [1, 2, 3]
        assert rows.execute(session, {"n": 3}).rowcount == 3
        assert rows.execute(session, {"n": 0}).first() is None
        with pytest.raises(NoResultFound):
            rows.execute(session, {"n": 0}).one()
        with pytest.raises(MultipleResultsFound):
            rows.execute(session, {"n": 2}).one()
        session.execute(text("CREATE TEMP TABLE t (v int)"))
        session.execute(text("INSERT INTO t SELECT generate_series(1, 5)"))
        changed = Prepared("UPDATE t SET v = v + 1 WHERE v > CAST(:above AS int)").execute(session, {"above": 2})
        assert changed.rowcount == 3 and changed.first() is None
        session.close()


def test_a_prepared_statement_that_breaks_a_constraint_raises_sqlalchemys_integrity_error(db_url):
    with engine_for(db_url).connect() as conn:
        session = Session(bind=conn)
        session.execute(text("CREATE TEMP TABLE u (v int PRIMARY KEY)"))
        insert = Prepared("INSERT INTO u VALUES (CAST(:v AS int))")
        insert.execute(session, {"v": 1})
        with pytest.raises(IntegrityError, match="duplicate key"):
            insert.execute(session, {"v": 1})
        session.close()


def test_as_loaded_makes_a_clean_persistent_object_that_reads_what_it_was_not_given(db_url):
    from sqlalchemy import inspect

    from geo_urp.db import as_loaded
    from geo_urp.models import Municipality

    with engine_for(db_url).connect() as conn:
        session = Session(bind=conn)
        mid = session.execute(text("INSERT INTO municipalities (slug, name, srid, boundary_approximate, layer_summary, rules) "
                                   "VALUES ('as-loaded', 'Prova', 32632, false, '{}', "
                                   "'{}') RETURNING id")).scalar()
        muni = as_loaded(session, Municipality, {"id": mid, "slug": "as-loaded", "name": "Prova"})
        state = inspect(muni)
        assert state.persistent and not state.modified and not session.dirty
        assert session.get(Municipality, mid) is muni  # in the identity map: no second object
        assert muni.rules == {}  # left out: read on first use
        # Held already: returned as held, as the ORM's loading does, or told the row's new values.
        assert as_loaded(session, Municipality, {"id": mid, "name": "Altro"}) is muni and muni.name == "Prova"
        assert as_loaded(session, Municipality, {"id": mid, "name": "Altro"}, populate_existing=True) is muni
        assert muni.name == "Altro" and not inspect(muni).modified and not session.dirty
        session.rollback()
        session.close()


def test_a_dropped_link_found_by_a_prepared_statement_recycles_the_pools_older_connections(db_url, own_pool,
                                                                                            monkeypatch):
    engine = own_pool("geo_urp_prepared_pool_test")
    one = Prepared("SELECT 1 AS one")
    monkeypatch.setattr(db, "PING_AFTER_IDLE_S", 3600.0)  # no ping: only the failure can tell
    first, second = engine.connect(), engine.connect()
    pids = [c.execute(text("SELECT pg_backend_pid()")).scalar() for c in (first, second)]
    for c in (first, second):
        c.commit()
    second.close()  # back in the pool, its server about to go
    for pid in pids:
        _terminate(db_url, pid)
    session = Session(bind=first)
    with pytest.raises(OperationalError):
        one.execute(session, {})
    session.close()
    first.close()
    with engine.connect() as conn:  # not the other dead link: the pool made a new one
        assert conn.execute(text("SELECT pg_backend_pid()")).scalar() not in pids


def test_prepared_rows_keep_their_columns_own_names_and_send_none_as_sqlalchemy_did(db_url):
    odd = Prepared("SELECT 1 AS d, 2 AS d, 3, CAST(:doc AS jsonb) AS doc",
                   bind_types=(bindparam("doc", type_=JSONB),))
    with engine_for(db_url).connect() as conn:
        session = Session(bind=conn)
        row = odd.execute(session, {"doc": None}).one()
        assert row.d == 1
        assert tuple(row) == (1, 2, 3, None)
        assert set(row._mapping) == {"d", "?column?", "doc"}  # the names PostgreSQL gave
        assert odd.execute(session, {"doc": {"a": 1}}).one().doc == {"a": 1}
        # JSON's None is the JSON null, not SQL NULL: what text() with a JSONB bindparam sent.
        typed = Prepared("SELECT jsonb_typeof(CAST(:doc AS jsonb)) AS t", bind_types=(bindparam("doc", type_=JSONB),))
        assert typed.execute(session, {"doc": None}).scalar() == "null"
        session.close()


def test_a_failing_prepared_statement_keeps_its_parameters_out_of_the_error(db_url):
    with engine_for(db_url).connect() as conn:
        session = Session(bind=conn)
        failing = Prepared("SELECT CAST(:n AS int), CAST(:phone AS text)")
        with pytest.raises(DBAPIError, match="invalid input syntax") as failed:
            failing.execute(session, {"n": "not a number", "phone": "+39 0461 999999"})
        assert "999999" not in str(failed.value)  # SQLAlchemy's "[parameters: ...]" is left out
        session.close()


_WHERE = Prepared("SELECT txid_current() AS tx, pg_backend_pid() AS pid")


def _where(session: Session):
    return tuple(session.execute(text("SELECT txid_current(), pg_backend_pid()")).one())


def test_prepared_statements_run_in_the_sessions_own_transaction_each_time(db_url):
    engine = engine_for(db_url)
    with Session(engine) as session:
        first = _WHERE.execute(session, {}).one()
        assert tuple(first) == _where(session) == tuple(_WHERE.execute(session, {}).one())
        session.commit()
        # Held meanwhile by another session, the first connection is not the one the next transaction gets.
        with Session(engine) as other:
            held = _where(other)
            second = _WHERE.execute(session, {}).one()
            assert tuple(second) == _where(session)
            assert second.tx != first.tx and second.pid != held[1]
            session.rollback()
            third = _WHERE.execute(session, {}).one()
            assert tuple(third) == _where(session) and third.tx != second.tx
            other.rollback()


@pytest.mark.parametrize("in_savepoint", [False, True])
def test_a_prepared_statement_after_a_failed_flush_raises_as_the_session_would(db_url, in_savepoint):
    from sqlalchemy.exc import PendingRollbackError

    from geo_urp.models import Municipality

    with Session(engine_for(db_url)) as session:
        _WHERE.execute(session, {})
        spoiled = session.begin_nested() if in_savepoint else session
        _WHERE.execute(session, {})
        session.add(Municipality(slug=None, name="no slug"))  # NOT NULL: the flush fails
        with pytest.raises(IntegrityError):
            session.flush()
        with pytest.raises(PendingRollbackError):
            _WHERE.execute(session, {})
        spoiled.rollback()
        assert tuple(_WHERE.execute(session, {}).one()) == _where(session)
        session.rollback()
