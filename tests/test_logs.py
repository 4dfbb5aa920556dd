"""Structured logs: one JSON line per request with what operations need, and nothing of the caller."""
from __future__ import annotations

import json
import logging

import pytest

from geo_urp import logs
from geo_urp.acting import worker
from tests.conftest import make_app
from tests.showing.open311_support import latlong

PHONE, EMAIL, WORDS = "+39 333 7654321", "maria.rossi@example.org", "anziana sola al secondo piano"
LINE_KEYS = {"time", "level", "logger", "message", "request_id", "method", "path", "status", "duration_ms"}


def _json_lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def test_a_request_logs_one_json_line_with_its_fields_and_nothing_of_the_caller(borgo_db_url, borgo_keys, capsys):
    app = make_app(borgo_db_url, LOG_FORMAT="json")
    capsys.readouterr()
    key = borgo_keys["operator"]
    resp = app.test_client().post(f"/open311/v2/requests.json?email={EMAIL}",
                                  headers={"X-Request-ID": "proxy-42"},
                                  data={"api_key": key, "service_code": "noise", "phone": PHONE, "email": EMAIL,
                                        "first_name": "Maria", "description": WORDS, **latlong(300, 300)})
    assert resp.status_code == 201, resp.get_data(as_text=True)
    assert resp.headers["X-Request-ID"] == "proxy-42"
    err = capsys.readouterr().err
    (line,) = [entry for entry in _json_lines(err) if entry["logger"] == "geo_urp.request"]
    assert LINE_KEYS <= set(line)
    assert (line["request_id"], line["method"], line["path"], line["status"], line["level"]) == (
        "proxy-42", "POST", "/open311/v2/requests.json", 201, "INFO")
    assert isinstance(line["duration_ms"], float) and line["duration_ms"] >= 0
    for secret in (PHONE, "7654321", EMAIL, "Maria", WORDS, key):
        assert secret not in err


def test_a_request_without_a_plain_id_gets_one_of_its_own(shared_db_url, capsys):
    app = make_app(shared_db_url, LOG_FORMAT="json")
    resp = app.test_client().get("/healthz", headers={"X-Request-ID": "not plain\u00e8" * 3})
    (line,) = [e for e in _json_lines(capsys.readouterr().err) if e["logger"] == "geo_urp.request"]
    assert line["request_id"] == resp.headers["X-Request-ID"] and len(line["request_id"]) == 32


def test_text_logs_are_lines_a_person_reads(shared_db_url, capsys):
    app = make_app(shared_db_url, LOG_FORMAT="text")
    app.test_client().get("/healthz")
    err = capsys.readouterr().err
    assert "INFO geo_urp.request: GET /healthz 200" in err and not _json_lines(err)


def test_a_failing_worker_job_is_one_json_line_with_its_exception(monkeypatch, capsys):
    def broken(_config):
        raise RuntimeError("no database")

    monkeypatch.setattr(worker, "JOBS", [broken])
    logs.setup("json")
    worker.run_once({})
    (line,) = [e for e in _json_lines(capsys.readouterr().err) if e["logger"] == "geo_urp.acting.worker"]
    assert (line["level"], line["message"]) == ("ERROR", "job broken failed")
    assert "RuntimeError: no database" in line["exception"]


def test_an_unknown_log_format_is_refused():
    with pytest.raises(ValueError, match="LOG_FORMAT 'xml'"):
        logs.setup("xml")


@pytest.fixture(autouse=True)
def _quiet_again():
    yield
    logs.setup("text", "WARNING")
    logging.getLogger().setLevel(logging.WARNING)
