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


def _revisions() -> list[str]:
    """Every revision from the first to the head, in order, as Alembic's script directory holds them."""
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(alembic_config("postgresql://unused"))
    return [rev.revision for rev in reversed(list(script.walk_revisions("base", "heads")))]


# A few rows of what the service keeps, written at an older revision with the columns it has then.
_ROWS = (
    ("municipalities", {"slug": "borgo", "name": "Borgo", "srid": 32632, "boundary_approximate": False,
                        "layer_summary": "{}", "rules": "{}"}),
    ("streets", {"municipality_id": None, "street_id": "S1", "name": "Via Roma", "props": "{}",
                 "geom": "SRID=32632;MULTILINESTRING((660000 5118000, 660100 5118000))"}),
    ("reports", {"municipality_id": None, "token": "t-1", "service_code": "road_damage", "status": "open",
                 "requested_datetime": "2026-11-01T08:00:00Z", "updated_datetime": "2026-11-01T08:00:00Z",
                 "attributes": "{}", "geom": "SRID=32632;POINT(660050 5118010)", "call_back": False,
                 "description": "buca"}),
    ("incidents", {"municipality_id": None, "kind": "road_damage", "status": "open", "priority": 3,
                   "confidence": 0.5, "explanation": "una buca", "asset_ids": "{}", "valves_to_close": "{}",
                   "affected_segment_nos": "{}", "geom": "SRID=32632;POINT(660050 5118010)"}),
)


def _fill(conn) -> dict[str, int]:
    """Write ``_ROWS`` with the columns each table has at this revision; their ids by table."""
    ids: dict[str, int] = {}
    for table, values in _ROWS:
        columns = set(conn.execute(text("SELECT column_name FROM information_schema.columns "
                                        "WHERE table_schema = 'public' AND table_name = :t"), {"t": table}).scalars())
        row = {k: ids["municipalities"] if k == "municipality_id" else v
               for k, v in values.items() if k in columns}
        ids[table] = conn.execute(text(
            f"INSERT INTO {table} ({', '.join(row)}) VALUES ({', '.join(':' + k for k in row)}) RETURNING id"),
            row).scalar()
    # The link, with the report's town where the revision has it (0015).
    columns = set(conn.execute(text("SELECT column_name FROM information_schema.columns "
                                    "WHERE table_schema = 'public' AND table_name = 'incident_reports'")).scalars())
    town = ", municipality_id" if "municipality_id" in columns else ""
    conn.execute(text(f"INSERT INTO incident_reports (incident_id, report_id{town}) "
                      f"SELECT :i, r.id{town.replace(', ', ', r.')} FROM reports r WHERE r.id = :r"),
                 {"i": ids["incidents"], "r": ids["reports"]})
    return ids


@pytest.mark.parametrize("revision", _revisions()[:-1])
def test_every_earlier_revision_with_rows_upgrades_to_head_and_keeps_them(empty_db_url, revision):
    """From each revision before the head (read from the migrations, so a new one is covered as it
    comes): a town, a street, a call and its incident written there reach the head as they were."""
    command.upgrade(alembic_config(empty_db_url), revision)
    with engine_for(empty_db_url).begin() as conn:
        ids = _fill(conn)
    command.upgrade(alembic_config(empty_db_url), "head")
    with engine_for(empty_db_url).connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == _revisions()[-1]
        assert conn.execute(text("SELECT description, ST_AsEWKT(geom) FROM reports WHERE id = :i"),
                            {"i": ids["reports"]}).one() == ("buca", "SRID=32632;POINT(660050 5118010)")
        assert conn.execute(text("SELECT incident_id FROM incident_reports WHERE report_id = :r"),
                            {"r": ids["reports"]}).scalar() == ids["incidents"]
        street = conn.execute(text("SELECT name FROM streets WHERE id = :i"), {"i": ids["streets"]}).scalar()
    assert street == "Via Roma"


def test_head_downgrades_to_base_and_upgrades_again(empty_db_url):
    """Every migration's downgrade undoes it: head to base leaves no table of the service, and
    the schema comes back whole."""
    cfg = alembic_config(empty_db_url)
    command.upgrade(cfg, "head")
    command.downgrade(cfg, "base")
    tables = ("SELECT table_name FROM information_schema.tables"
              " WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY 1")
    with engine_for(empty_db_url).connect() as conn:
        left = set(conn.execute(text(tables)).scalars()) - {"alembic_version", "spatial_ref_sys"}
    assert left == set()
    command.upgrade(cfg, "head")
    with engine_for(empty_db_url).connect() as conn:
        assert {"reports", "incidents", "outbox"} <= set(conn.execute(text(tables)).scalars())
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == _revisions()[-1]


def test_a_retried_calls_key_kept_in_reports_moves_to_report_retries_and_back(empty_db_url):
    """Migration 0016 takes the Idempotency-Key of each report into ``report_retries`` (a
    partitioned ``reports`` holds no unique key without its id), and its downgrade brings it back."""
    cfg = alembic_config(empty_db_url)
    command.upgrade(cfg, "0015")
    with engine_for(empty_db_url).begin() as conn:
        ids = _fill(conn)
        key = conn.execute(text("INSERT INTO api_keys (key_hash, prefix, role) VALUES ('h', 'p', 'public') "
                                "RETURNING id")).scalar()
        conn.execute(text("UPDATE reports SET api_key_id = :k, idempotency_key = 'call-1' WHERE id = :r"),
                     {"k": key, "r": ids["reports"]})
    command.upgrade(cfg, "0016")
    with engine_for(empty_db_url).connect() as conn:
        assert conn.execute(text("SELECT api_key_id, idempotency_key, municipality_id, report_id FROM report_retries")
                            ).one() == (key, "call-1", ids["municipalities"], ids["reports"])
        assert conn.execute(text("SELECT tableoid::regclass::text FROM reports")).scalar() == "reports_from_0"
    command.downgrade(cfg, "0015")
    with engine_for(empty_db_url).connect() as conn:
        assert conn.execute(text("SELECT api_key_id, idempotency_key FROM reports WHERE id = :r"),
                            {"r": ids["reports"]}).one() == (key, "call-1")
