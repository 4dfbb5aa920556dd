"""``db``: hot statements prepared once per connection; pooled connections tried after idling."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, OperationalError
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
