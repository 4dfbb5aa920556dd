"""Where the service says it is and where keys may travel: discovery names the ``BASE_URL``
setting whatever Host a request carries; an ``api_key`` in a query string is a 400 naming it on
every Open311 endpoint (read or POST), a key in ``X-API-Key`` or the body is read; keys are
stored as their SHA-256 only; and the access log of ``python -m geo_urp serve`` prints no
query string and no Referer, so no key a client put in a URL is kept."""
from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import time

import pytest
import requests
from sqlalchemy import text

from geo_urp.accounts import create_api_key
from geo_urp.db import session_scope
from tests.conftest import make_app
from tests.showing.open311_support import API, latlong, post, validate, xml_of
from tests.sinks import free_port


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_discovery_names_the_base_url_setting_not_the_host_header(shared_db_url, fmt):
    client = make_app(shared_db_url, BASE_URL="https://segnalazioni.comune.example").test_client()
    resp = client.get(f"{API}/discovery.{fmt}", headers={"Host": "attacker.example"})
    url = resp.json["endpoints"][0]["url"] if fmt == "json" else xml_of(resp).findtext("endpoints/endpoint/url")
    assert url == "https://segnalazioni.comune.example/open311/v2"
    assert "attacker" not in resp.get_data(as_text=True)


def test_the_default_base_url_is_the_local_server_whatever_the_host(shared_client):
    resp = shared_client.get(f"{API}/discovery.json", headers={"Host": "attacker.example"})
    validate(resp.json, "discovery.json")
    assert resp.json["endpoints"][0]["url"] == "http://127.0.0.1:8000/open311/v2"


def _description(resp, fmt: str) -> str:
    return resp.json[0]["description"] if fmt == "json" else xml_of(resp).findtext("error/description")


@pytest.mark.parametrize("fmt", ["json", "xml"])
@pytest.mark.parametrize("path", ["requests", "requests/1", "servicerequestupdates", "services", "discovery"])
def test_an_api_key_in_the_query_string_of_a_read_is_a_400_naming_it(shared_client, borgo_keys, path, fmt):
    resp = shared_client.get(f"{API}/{path}.{fmt}?api_key={borgo_keys['operator']}")
    assert resp.status_code == 400
    described = _description(resp, fmt)
    assert described.startswith("api_key must not be sent in the query string")
    assert "X-API-Key header or the body" in described and borgo_keys["operator"] not in described


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_an_api_key_in_the_query_string_of_a_post_is_a_400_and_stores_nothing(borgo_client, borgo_keys,
                                                                             borgo_db_url, fmt):
    resp = borgo_client.post(f"{API}/requests.{fmt}?api_key={borgo_keys['public']}",
                             data={"service_code": "noise", "description": "musica", **latlong(700, 207)})
    assert resp.status_code == 400 and "api_key" in _description(resp, fmt)
    with session_scope(borgo_db_url) as s:
        assert s.execute(text("SELECT count(*) FROM reports")).scalar() == 0


@pytest.mark.parametrize("how", ["header", "form", "json"])
def test_a_key_in_the_header_or_the_body_reads_the_full_view(borgo_client, borgo_keys, how):
    made = post(borgo_client, borgo_keys["operator"], service_code="road_damage", description="buca profonda",
                **latlong(700, 207))
    rid = made.json[0]["service_request_id"]
    key = borgo_keys["operator"]
    given = {"header": {"headers": {"X-API-Key": key}}, "form": {"data": {"api_key": key}},
             "json": {"json": {"api_key": key}}}[how]
    resp = borgo_client.get(f"{API}/requests/{rid}.json", **given)
    assert resp.status_code == 200 and resp.json[0]["description"] == "buca profonda"
    assert borgo_client.get(f"{API}/requests/{rid}.json").json[0]["description"] is None


def test_a_key_is_kept_as_its_sha256_only(borgo_db_url):
    with session_scope(borgo_db_url) as s:
        key = create_api_key(s, "public", label="ufficio stampa")
    with session_scope(borgo_db_url) as s:
        rows = s.execute(text("SELECT key_hash, row_to_json(k)::text AS whole FROM api_keys k "
                              "WHERE label = 'ufficio stampa'")).all()
    assert len(rows) == 1 and rows[0].key_hash == hashlib.sha256(key.encode()).hexdigest()
    assert key not in rows[0].whole and key[10:] not in rows[0].whole


def test_the_servers_logs_keep_no_key_sent_in_a_url(borgo_db_url, borgo_keys, tmp_path):
    port, key = free_port(), borgo_keys["operator"]
    out, err = tmp_path / "stdout", tmp_path / "stderr"
    env = {**os.environ, "DATABASE_URL": borgo_db_url, "SECRET_KEY": "test"}
    with out.open("w") as stdout, err.open("w") as stderr:
        proc = subprocess.Popen([sys.executable, "-m", "geo_urp", "serve", "--host", "127.0.0.1", "--port",
                                 str(port), "--workers", "1", "--no-worker"], env=env, stdout=stdout, stderr=stderr)
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(600):  # until it listens (or has died: then the test fails below)
            try:
                requests.get(f"{base}/healthz", timeout=5)
                break
            except requests.ConnectionError:
                assert proc.poll() is None, err.read_text()
                time.sleep(0.1)
        refused = requests.get(f"{base}{API}/requests.json?status=open&api_key={key}",
                               headers={"Referer": f"{base}/?api_key={key}"}, timeout=30)
        assert refused.status_code == 400
        requests.get(f"{base}/api/incidents?api_key={key}", timeout=30)
        requests.get(f"{base}{API}/requests.json", headers={"X-API-Key": key}, timeout=30)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    logs = out.read_text() + err.read_text()
    assert f'"GET {API}/requests.json HTTP/1.1" 400' in logs and '"GET /api/incidents HTTP/1.1" 401' in logs
    assert key not in logs and key[3:13] not in logs
