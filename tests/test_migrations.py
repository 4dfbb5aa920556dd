"""Schema migrations run on a database that already holds rows, as an upgrade in the field would."""
from __future__ import annotations

import uuid

import pytest
from alembic import command
from sqlalchemy import text

from geo_urp.db import EXTENSIONS, alembic_config, engine_for
from tests.conftest import _create_db, _drop_db


@pytest.fixture()
def empty_db_url():
    name = f"geo_urp_mig_{uuid.uuid4().hex[:8]}"
    url = _create_db(name)
    with engine_for(url).begin() as conn:
        for ext in EXTENSIONS:
            conn.execute(text(f"CREATE EXTENSION IF NOT EXISTS {ext}"))
    yield url
    engine_for(url).dispose()
    _drop_db(name)


def _town(conn, slug: str) -> int:
    return conn.execute(text(
        "INSERT INTO municipalities (slug, name, srid, boundary_approximate, layer_summary, rules) "
        "VALUES (:s, :s, 32632, false, '{}', '{}') RETURNING id"), {"s": slug}).scalar()


def _crew(conn, town: int, crew_id: str) -> None:
    conn.execute(text("INSERT INTO crews (municipality_id, crew_id, name, area_ids, skills, props) "
                      "VALUES (:m, :c, :c, '{}', '{lighting}', '{}')"), {"m": town, "c": crew_id})


def _key(conn, crew_id: str | None, role: str = "crew", town: int | None = None) -> int:
    return conn.execute(text(
        "INSERT INTO api_keys (key_hash, prefix, role, crew_id, municipality_id) "
        "VALUES (md5(random()::text) || md5(random()::text), 'k', :r, :c, :m) RETURNING id"),
        {"r": role, "c": crew_id, "m": town}).scalar()


def _user(conn, crew_id: str) -> int:
    return conn.execute(text(
        "INSERT INTO users (username, password_hash, role, crew_id, active) "
        "VALUES (:u, 'x', 'crew', :c, true) RETURNING id"), {"u": f"user-{crew_id}", "c": crew_id}).scalar()


def test_crew_keys_and_logins_of_before_are_bound_to_their_crews_town(empty_db_url):
    """0007: a crew key or login without a town is bound to the one town with that crew; a crew id
    that two towns share leaves it unbound (it must be issued again naming the town)."""
    command.upgrade(alembic_config(empty_db_url), "0006")
    with engine_for(empty_db_url).begin() as conn:
        trento, borgo = _town(conn, "trento"), _town(conn, "borgo")
        _crew(conn, trento, "LUCE-T")
        _crew(conn, trento, "ACQUA")
        _crew(conn, borgo, "ACQUA")
        only_here, shared = _key(conn, "LUCE-T"), _key(conn, "ACQUA")
        no_crew, operator = _key(conn, "NESSUNA"), _key(conn, None, role="operator")
        already = _key(conn, "ACQUA", town=borgo)
        login, shared_login = _user(conn, "LUCE-T"), _user(conn, "ACQUA")
    command.upgrade(alembic_config(empty_db_url), "head")
    with engine_for(empty_db_url).connect() as conn:
        keys = dict(conn.execute(text("SELECT id, municipality_id FROM api_keys")).all())
        users = dict(conn.execute(text("SELECT id, municipality_id FROM users")).all())
    assert keys[only_here] == trento
    assert keys[shared] is None and keys[no_crew] is None and keys[operator] is None
    assert keys[already] == borgo
    assert users[login] == trento and users[shared_login] is None


def test_logins_of_before_read_italian_and_incidents_of_before_keep_their_texts(empty_db_url):
    """0009: every login made before speaks Italian; an incident described before keeps its texts,
    with no message parts (``reading.incidents.in_language`` then leaves its texts as they are)."""
    command.upgrade(alembic_config(empty_db_url), "0008")
    with engine_for(empty_db_url).begin() as conn:
        town = _town(conn, "borgo")
        login = _user(conn, "X")
        incident = conn.execute(text(
            "INSERT INTO incidents (municipality_id, kind, status, priority, confidence, explanation, asset_ids,"
            " valves_to_close, affected_segment_nos, geom) VALUES (:m, 'flooding', 'open', 1, 0.5, 'old words',"
            " '{}', '{}', '{}', ST_SetSRID(ST_MakePoint(0, 0), 32632)) RETURNING id"), {"m": town}).scalar()
    command.upgrade(alembic_config(empty_db_url), "head")
    with engine_for(empty_db_url).connect() as conn:
        assert conn.execute(text("SELECT language FROM users WHERE id = :i"), {"i": login}).scalar() == "it"
        assert conn.execute(text("SELECT explanation, explanation_parts FROM incidents WHERE id = :i"),
                            {"i": incident}).one() == ("old words", {})
    command.downgrade(alembic_config(empty_db_url), "0008")
    with engine_for(empty_db_url).connect() as conn:
        columns = {r.column_name for r in conn.execute(text(
            "SELECT column_name FROM information_schema.columns WHERE table_name IN ('users', 'incidents')"))}
    assert not {"language", "explanation_parts"} & columns
