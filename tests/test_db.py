"""``db.Prepared``: a hot statement prepared once per connection and run with EXECUTE."""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import text
from sqlalchemy.orm import Session

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
