"""A login session lapses after ``SESSION_IDLE_MINUTES`` without a request (``showing/app.py``).

The clock the session cookie is signed and checked by (itsdangerous') is moved by hand, so
the test waits for nothing: every request re-signs the cookie, and a cookie signed longer
ago than the idle time is refused by the server, whatever the browser kept.
"""
from __future__ import annotations

import time
from types import SimpleNamespace

import itsdangerous.timed
import pytest

from geo_urp import settings
from tests.conftest import make_app

IDLE_MINUTES = 30


@pytest.fixture()
def clock(monkeypatch) -> dict:
    """The signing clock: ``clock["now"]``, in seconds, starts at the real time."""
    clock = {"now": time.time()}
    monkeypatch.setattr(itsdangerous.timed, "time", SimpleNamespace(time=lambda: clock["now"]))
    return clock


@pytest.fixture()
def idle_client(shared_db_url):
    """A client of an app whose sessions lapse after ``IDLE_MINUTES``, on the shared Borgo."""
    return make_app(shared_db_url, SESSION_IDLE_MINUTES=IDLE_MINUTES).test_client()


def _log_in(client):
    resp = client.post("/login", data={"username": "anna", "password": "password-anna"})
    assert resp.status_code == 302 and resp.headers["Location"] == "/operator"
    return resp


def _minutes_later(clock: dict, minutes: float) -> None:
    clock["now"] += minutes * 60


def test_the_session_lasts_while_it_is_used_and_lapses_when_left(idle_client, clock):
    _log_in(idle_client)
    for _ in range(3):                                # 3 × 29 minutes: longer than the idle time, never idle
        _minutes_later(clock, IDLE_MINUTES - 1)
        assert idle_client.get("/operator").status_code == 200
    _minutes_later(clock, IDLE_MINUTES + 1)
    resp = idle_client.get("/operator")
    assert resp.status_code == 302 and resp.headers["Location"].startswith("/login")


def test_a_copied_cookie_is_refused_after_the_idle_time(idle_client, clock):
    _log_in(idle_client)
    name = idle_client.application.config["SESSION_COOKIE_NAME"]
    copied = idle_client.get_cookie(name).value
    _minutes_later(clock, IDLE_MINUTES + 1)
    thief = idle_client.application.test_client()
    thief.set_cookie(name, copied)
    assert thief.get("/operator").status_code == 302


def test_the_login_cookie_is_httponly_samesite_lax_and_ends_with_the_idle_time(idle_client):
    cookie = _log_in(idle_client).headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Expires=" in cookie                      # a permanent session, not one of the browser's lifetime
    assert idle_client.application.permanent_session_lifetime.total_seconds() == IDLE_MINUTES * 60


def test_a_request_with_an_api_key_gets_no_cookie(idle_client, borgo_keys):
    resp = idle_client.get("/api/incidents", headers={"X-API-Key": borgo_keys["operator"]})
    assert resp.status_code == 200 and "Set-Cookie" not in resp.headers


@pytest.mark.parametrize("raw, minutes", [(None, 480.0), ("45", 45.0)])
def test_the_idle_time_is_a_setting(monkeypatch, raw, minutes):
    if raw is None:
        monkeypatch.delenv("SESSION_IDLE_MINUTES", raising=False)
    else:
        monkeypatch.setenv("SESSION_IDLE_MINUTES", raw)
    assert settings.from_env()["SESSION_IDLE_MINUTES"] == minutes
