"""The login form is throttled per name and per address in PostgreSQL, every answer costs one
Argon2 check, and a session ends with logging out or a new password (``accounts``, ``pages``).

Each test has a Borgo database of its own (failures are written); the window passes by moving
the recorded failures back in time, never by waiting.
"""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select, text, update

from geo_urp.accounts import ACCOUNT_LIMIT, ADDRESS_LIMIT, FAILURE_WINDOW, create_user
from geo_urp.db import session_scope
from geo_urp.models import User
from tests.conftest import make_app

HOME, ELSEWHERE = "192.0.2.10", "198.51.100.7"


def _log_in(client, user: str, password: str | None = None, address: str = HOME):
    return client.post("/login", data={"username": user, "password": password or f"password-{user}"},
                       environ_base={"REMOTE_ADDR": address})


def _fail(client, user: str, times: int, address: str = HOME) -> None:
    for _ in range(times):
        assert _log_in(client, user, "not-the-password", address).status_code == 401


def _back_in_time(url: str, by: timedelta) -> None:
    with session_scope(url) as s:
        s.execute(text("UPDATE login_failures SET at = at - :by"), {"by": by})


def _refused(resp) -> int:
    """The seconds a 429 asks to wait, after checking it says so in Italian."""
    assert resp.status_code == 429, resp.get_data(as_text=True)[:300]
    assert "Troppi accessi non riusciti" in resp.get_data(as_text=True)
    return int(resp.headers["Retry-After"])


@pytest.mark.parametrize("tried_as", ["anna", "Anna", "ANNA"])
def test_the_right_password_after_the_account_limit_is_refused(borgo_client, tried_as):
    _fail(borgo_client, tried_as, ACCOUNT_LIMIT)
    wait = _refused(_log_in(borgo_client, "anna"))
    assert 0 < wait <= FAILURE_WINDOW.total_seconds()
    assert borgo_client.get("/operator").status_code == 302                   # not logged in
    # The name is throttled from anywhere, not only from where the failures came.
    _refused(_log_in(borgo_client, "anna", address=ELSEWHERE))


def test_a_name_that_does_not_exist_is_throttled_as_one_that_does(borgo_client):
    _fail(borgo_client, "nobody", ACCOUNT_LIMIT)
    _refused(_log_in(borgo_client, "nobody", "not-the-password"))


def test_other_names_from_the_address_log_in_until_the_address_limit(borgo_client):
    _fail(borgo_client, "anna", ACCOUNT_LIMIT)
    assert _log_in(borgo_client, "carla").status_code == 302
    for n in range(ADDRESS_LIMIT - ACCOUNT_LIMIT):                            # one failure each
        _fail(borgo_client, f"guess-{n}", 1)
    _refused(_log_in(borgo_client.application.test_client(), "carla"))
    # Another address is not this one's neighbour.
    assert _log_in(borgo_client.application.test_client(), "carla", address=ELSEWHERE).status_code == 302


def test_the_window_passing_lets_the_login_in(borgo_client, borgo_db_url):
    _fail(borgo_client, "anna", ACCOUNT_LIMIT)
    _back_in_time(borgo_db_url, FAILURE_WINDOW - timedelta(minutes=1))
    assert 0 < _refused(_log_in(borgo_client, "anna")) <= 60                  # about a minute to go
    _back_in_time(borgo_db_url, timedelta(minutes=1, seconds=1))
    resp = _log_in(borgo_client, "anna")
    assert resp.status_code == 302 and borgo_client.get("/operator").status_code == 200
    with session_scope(borgo_db_url) as s:                                    # a success forgets the name's failures
        assert s.scalar(text("SELECT count(*) FROM login_failures")) == 0


def test_a_new_failure_deletes_those_past_the_window(borgo_client, borgo_db_url):
    _fail(borgo_client, "anna", 2)
    _back_in_time(borgo_db_url, FAILURE_WINDOW + timedelta(seconds=1))
    _fail(borgo_client, "carla", 1)
    with session_scope(borgo_db_url) as s:
        assert s.execute(text("SELECT username, address FROM login_failures")).all() == [("carla", HOME)]


def test_throttling_is_shared_by_workers_on_one_database(borgo_db_url):
    first, second = make_app(borgo_db_url).test_client(), make_app(borgo_db_url).test_client()
    _fail(first, "anna", ACCOUNT_LIMIT - 2)
    _fail(second, "anna", 2)
    for worker in (first, second):
        _refused(_log_in(worker, "anna"))


def test_workers_guessing_at_once_check_no_more_than_the_limit(borgo_db_url):
    workers = [make_app(borgo_db_url), make_app(borgo_db_url)]
    guesses = 2 * ACCOUNT_LIMIT

    def guess(n: int) -> int:
        return _log_in(workers[n % 2].test_client(), "anna", f"guess-{n}").status_code

    with ThreadPoolExecutor(guesses) as pool:
        answers = sorted(pool.map(guess, range(guesses)))
    assert answers == [401] * ACCOUNT_LIMIT + [429] * ACCOUNT_LIMIT


def test_every_answer_costs_one_argon2_verification(borgo_client, borgo_db_url, monkeypatch):
    with session_scope(borgo_db_url) as s:
        create_user(s, "gone", "password-gone", "operator")
        s.execute(update(User).where(User.username == "gone").values(active=False))
    calls = []
    verify = PasswordHasher.verify

    def counted(self, hash_, password):
        calls.append(password)
        return verify(self, hash_, password)

    monkeypatch.setattr(PasswordHasher, "verify", counted)
    asked = {"known, wrong password": ("anna", "not-the-password"), "unknown": ("nobody", "password-nobody"),
             "inactive, right password": ("gone", "password-gone"), "known, right password": ("anna", None)}
    verifications, answers = {}, {}
    for case, (user, password) in asked.items():
        before = len(calls)
        answers[case] = _log_in(borgo_client.application.test_client(), user, password).status_code
        verifications[case] = len(calls) - before
    assert answers == {"known, wrong password": 401, "unknown": 401, "inactive, right password": 401,
                       "known, right password": 302}
    assert verifications == dict.fromkeys(asked, 1)


def _copied_session(app) -> tuple:
    """Log anna in; her client and a thief's client holding a copy of her session cookie."""
    client = app.test_client()
    assert _log_in(client, "anna").status_code == 302
    name = app.config["SESSION_COOKIE_NAME"]
    thief = app.test_client()
    thief.set_cookie(name, client.get_cookie(name).value)
    assert thief.get("/operator").status_code == 200
    return client, thief


def test_a_cookie_copied_before_logout_is_refused_after_it(borgo_app):
    client, thief = _copied_session(borgo_app)
    other = borgo_app.test_client()                                           # anna on another computer
    assert _log_in(other, "anna").status_code == 302
    assert client.post("/logout").status_code == 302
    for gone in (client, thief):
        resp = gone.get("/operator")
        assert resp.status_code == 302 and resp.headers["Location"].startswith("/login")
        assert gone.get("/api/incidents").status_code == 401
    assert thief.get("/operator").status_code == 302                          # and stays refused
    assert other.get("/operator").status_code == 200                          # only that session ended
    assert _log_in(client, "anna").status_code == 302 and client.get("/operator").status_code == 200


def test_a_new_password_ends_every_session(borgo_app, borgo_db_url):
    client, thief = _copied_session(borgo_app)
    result = borgo_app.test_cli_runner().invoke(args=["users", "passwd", "anna", "--password", "nuova-password"])
    assert result.exit_code == 0, result.output
    for gone in (client, thief):
        assert gone.get("/operator").status_code == 302
    assert _log_in(borgo_app.test_client(), "anna").status_code == 401        # the old password
    assert _log_in(client, "anna", "nuova-password").status_code == 302
    with session_scope(borgo_db_url) as s:
        assert s.scalar(select(User.session_epoch).where(User.username == "anna")) == 1


def test_passwd_refuses_a_short_password_or_an_unknown_name(borgo_app):
    runner = borgo_app.test_cli_runner()
    short = runner.invoke(args=["users", "passwd", "anna", "--password", "corta"])
    assert short.exit_code == 1 and "at least 8 characters" in short.output
    nobody = runner.invoke(args=["users", "passwd", "nobody", "--password", "lunga-abbastanza"])
    assert nobody.exit_code == 1 and "no user 'nobody'" in nobody.output
