"""The command line: ``layers load`` all or nothing, ``keys add``, ``users add``, ``db init``."""
from __future__ import annotations

import hashlib

from sqlalchemy import func, select, text

from geo_urp.db import session_scope
from geo_urp.models import ApiKey, Lamp, Municipality, User
from tests.conftest import BORGO


def _lamps(url):
    with session_scope(url) as s:
        return s.scalar(select(func.count()).select_from(Lamp))


def test_db_init_is_idempotent(runner):
    for _ in range(2):
        result = runner.invoke(args=["db", "init"])
        assert result.exit_code == 0, result.output
        assert "up to date" in result.output


def test_layers_load_prints_what_it_kept_and_a_failed_load_changes_nothing(runner, app, tmp_path):
    result = runner.invoke(args=["layers", "load", str(BORGO), "--municipality", "borgo"])
    assert result.exit_code == 0, result.output
    assert "lamps                  11     11        0" in result.output
    assert "loaded borgo" in result.output
    assert _lamps(app.config["DATABASE_URL"]) == 11

    broken = tmp_path / "broken"
    broken.mkdir()
    for f in BORGO.iterdir():
        (broken / f.name).write_bytes(f.read_bytes())
    (broken / "water_pipes.geojson").write_text("garbage")
    result = runner.invoke(args=["layers", "load", str(broken), "--municipality", "borgo"])
    assert result.exit_code == 1
    assert "cannot read water_pipes.geojson" in result.output
    assert "nothing changed for borgo" in result.output
    assert _lamps(app.config["DATABASE_URL"]) == 11


def test_layers_load_leaves_the_planner_statistics_of_the_new_layers(runner, app):
    # Without them (autovacuum off, or not yet come by) the first calls plan blind on the new layers.
    result = runner.invoke(args=["layers", "load", str(BORGO), "--municipality", "borgo"])
    assert result.exit_code == 0, result.output
    with session_scope(app.config["DATABASE_URL"]) as s:
        analysed = set(s.scalars(text("SELECT relname FROM pg_stat_user_tables WHERE last_analyze IS NOT NULL")))
    assert {"streets", "addresses", "lamps", "water_pipes", "water_valves", "crew_areas"} <= analysed


def test_layers_load_refuses_a_bad_slug(runner):
    result = runner.invoke(args=["layers", "load", str(BORGO), "--municipality", "Borgo Prova!"])
    assert result.exit_code == 1 and "slug" in result.output


def test_keys_add_prints_the_key_last_and_stores_only_its_hash(runner, app):
    runner.invoke(args=["layers", "load", str(BORGO), "--municipality", "borgo"])
    result = runner.invoke(args=["keys", "add", "--role", "operator", "--municipality", "borgo"])
    assert result.exit_code == 0, result.output
    key = result.output.strip().splitlines()[-1]
    assert len(key) > 30
    with session_scope(app.config["DATABASE_URL"]) as s:
        row = s.scalar(select(ApiKey))
        assert row.key_hash == hashlib.sha256(key.encode()).hexdigest()
        assert row.role == "operator"
        assert row.municipality_id == s.scalar(select(Municipality.id).where(Municipality.slug == "borgo"))
    bad = runner.invoke(args=["keys", "add", "--role", "public", "--municipality", "nowhere"])
    assert bad.exit_code == 1 and "'nowhere' was not found" in bad.output


def test_users_add_hashes_the_password(runner, app):
    result = runner.invoke(args=["users", "add", "anna", "--role", "operator", "--password", "s3greta-lunga"])
    assert result.exit_code == 0, result.output
    from geo_urp.accounts import authenticate

    with session_scope(app.config["DATABASE_URL"]) as s:
        user = s.scalar(select(User).where(User.username == "anna"))
        assert "s3greta-lunga" not in user.password_hash and user.password_hash.startswith("$argon2")
        assert authenticate(s, "anna", "s3greta-lunga").id == user.id
        assert authenticate(s, "anna", "wrong-password") is None
        assert user.language == "it"                      # Italian unless asked
    again = runner.invoke(args=["users", "add", "anna", "--role", "operator", "--password", "another-pass"])
    assert again.exit_code == 1 and "already exists" in again.output
    crew = runner.invoke(args=["users", "add", "bruno", "--role", "crew", "--password", "s3greta-lunga"])
    assert crew.exit_code == 1 and "--crew" in crew.output


def test_users_add_takes_the_logins_language(runner, app):
    result = runner.invoke(args=["users", "add", "john", "--role", "council", "--language", "en",
                                 "--password", "s3greta-lunga"])
    assert result.exit_code == 0 and "(council, en)" in result.output, result.output
    with session_scope(app.config["DATABASE_URL"]) as s:
        assert s.scalar(select(User.language).where(User.username == "john")) == "en"
    bad = runner.invoke(args=["users", "add", "hans", "--role", "council", "--language", "de",
                              "--password", "s3greta-lunga"])
    assert bad.exit_code == 2 and "'de' is not one of 'it', 'en'" in bad.output


def test_healthz(client):
    assert client.get("/healthz").status_code == 200


def test_healthz_when_the_database_is_down():
    from geo_urp import create_app

    app = create_app({"DATABASE_URL": "postgresql+psycopg2://postgres@127.0.0.1:1/nothing", "TESTING": True})
    assert app.test_client().get("/healthz").status_code == 503


def _rules_of(url):
    with session_scope(url) as s:
        return s.scalar(select(Municipality.rules).where(Municipality.slug == "borgo"))


def test_incidents_rules_shows_sets_checks_and_resets_a_towns_overrides(runner, app, tmp_path):
    import json

    runner.invoke(args=["layers", "load", str(BORGO), "--municipality", "borgo"])
    url = app.config["DATABASE_URL"]
    shown = runner.invoke(args=["incidents", "rules", "--municipality", "borgo"])
    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.stdout)["effective"]["lighting"]["circuit_min_lamps"] == 3

    good = tmp_path / "good.json"
    good.write_text(json.dumps({"lighting": {"circuit_min_lamps": 4},
                                "clusters": {"pothole_big": {"distance_m": 20, "window_h": 48}}}))
    result = runner.invoke(args=["incidents", "rules", "--municipality", "borgo", "--set", str(good)])
    assert result.exit_code == 0, result.output
    effective = json.loads(result.stdout)["effective"]
    assert effective["lighting"]["circuit_min_lamps"] == 4 and effective["lighting"]["window_h"] == 12
    assert effective["clusters"]["pothole_big"] == {"distance_m": 20, "window_h": 48}
    assert "incidents recompute" in result.stderr

    for body, words in ((["x"], "rules must be an object"),
                        ({"lighting": {"circuit_min_lamp": 4}}, "lighting.circuit_min_lamp is not a rule"),
                        ({"lighting": {"circuit_min_lamps": 2.5}}, "must be a whole number"),
                        ({"lighting": {"circuit_min_share": 1.5}}, "at most 1"),
                        ({"water": {"window_h": -1}}, "water.window_h must be a positive number"),
                        ({"water": {"window_h": True}}, "must be a positive number"),
                        ({"clusters": {"noise": {"distance_m": "15"}}}, "clusters.noise.distance_m"),
                        ({"clusters": {"new_code": {"distance_m": 15}}}, "clusters.new_code needs window_h"),
                        ({"no_incident": "info_request"}, "no_incident must be a list")):
        bad = tmp_path / "bad.json"
        bad.write_text(json.dumps(body))
        result = runner.invoke(args=["incidents", "rules", "--municipality", "borgo", "--set", str(bad)])
        assert result.exit_code == 1 and words in result.output, (body, result.output)
    (tmp_path / "broken.json").write_text("{lighting")
    result = runner.invoke(args=["incidents", "rules", "--municipality", "borgo", "--set", str(tmp_path / "broken.json")])
    assert result.exit_code == 1 and "broken.json is not valid JSON" in result.output
    assert _rules_of(url)["lighting"] == {"circuit_min_lamps": 4}  # no bad file changed anything

    result = runner.invoke(args=["incidents", "rules", "--municipality", "borgo", "--reset"])
    assert result.exit_code == 0 and _rules_of(url) == {}
    result = runner.invoke(args=["incidents", "rules", "--municipality", "nowhere"])
    assert result.exit_code == 1 and "'nowhere' was not found" in result.output


def _road_calls(url, *points):
    """Road-damage calls straight into the database, each placed in its incident; their incident ids."""
    import uuid
    from datetime import datetime, timezone

    from geoalchemy2.shape import from_shape
    from shapely.geometry import Point

    from geo_urp.models import METRIC_SRID, Report
    from geo_urp.reasoning import on_report_stored

    t = datetime(2026, 11, 27, 22, 0, tzinfo=timezone.utc)
    with session_scope(url) as s:
        mid = s.scalar(select(Municipality.id).where(Municipality.slug == "borgo"))
        out = []
        for x, y in points:
            r = Report(municipality_id=mid, token=uuid.uuid4().hex, service_code="road_damage", requested_datetime=t,
                       updated_datetime=t, attributes={}, geom=from_shape(Point(x, y), srid=METRIC_SRID))
            s.add(r)
            s.flush()
            out.append(on_report_stored(s, r).id)
        return out


def test_recompute_tells_the_operator_changes_it_drops_and_a_reload_places_open_calls_again(runner, app):
    from geo_urp.models import Incident
    from geo_urp.reasoning import corrections

    url = app.config["DATABASE_URL"]
    runner.invoke(args=["layers", "load", str(BORGO), "--municipality", "borgo"])
    a, b = _road_calls(url, (660100, 5118500), (660600, 5118900))
    with session_scope(url) as s:
        corrections.merge(s, [a, b], "user:anna")
    result = runner.invoke(args=["incidents", "recompute", "--municipality", "borgo", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "1 operator merge(s) and move(s) on open incidents would not be replayed" in result.stderr
    assert "nothing changed" in result.stdout
    with session_scope(url) as s:
        assert s.scalar(select(func.count()).select_from(Incident).where(Incident.status == "open")) == 1
    result = runner.invoke(args=["layers", "load", str(BORGO), "--municipality", "borgo"])
    assert result.exit_code == 0, result.output
    assert "open calls: 2 placed again on the new layers" in result.stdout
    assert "2 open incidents" in result.stdout          # the merge was not replayed, as the dry run said
    result = runner.invoke(args=["incidents", "recompute", "--municipality", "borgo", "--dry-run"])
    assert "not replayed" not in result.stderr         # that merge is gone: nothing more to warn about
