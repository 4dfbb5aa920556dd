"""The login form says what is missing; a logged-in browser's changes need the page's CSRF token."""
from __future__ import annotations

import re

import pytest

from tests.conftest import make_app


def _token(html: str) -> str:
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)


@pytest.fixture()
def csrf_client(shared_db_url):
    """A client of an app of its own that checks CSRF tokens, on the shared Borgo database."""
    return make_app(shared_db_url, WTF_CSRF_ENABLED=True).test_client()


def _logged_in(client) -> str:
    """Log anna in through the real form and return the page's token."""
    token = _token(client.get("/login").get_data(as_text=True))
    resp = client.post("/login", data={"username": "anna", "password": "password-anna", "csrf_token": token})
    assert resp.status_code == 302, resp.data
    return token


def test_an_empty_login_form_names_what_is_missing(shared_client):
    resp = shared_client.post("/login", data={"username": "", "password": ""})
    page = resp.get_data(as_text=True)
    assert resp.status_code == 400
    assert "Scrivi il nome utente." in page and "Scrivi la password." in page


def test_a_login_without_the_form_token_is_refused_in_italian(csrf_client):
    resp = csrf_client.post("/login", data={"username": "anna", "password": "password-anna"})
    assert resp.status_code == 400 and "ricarica la pagina" in resp.get_data(as_text=True)
    assert csrf_client.get("/operator").status_code == 302          # not logged in


def test_a_session_change_without_the_token_is_refused(csrf_client):
    _logged_in(csrf_client)
    resp = csrf_client.post("/api/incidents/merge", json={"ids": [1, 2]})
    assert resp.status_code == 400 and "CSRF" in resp.json["error"]


def test_a_session_change_with_the_token_passes_the_csrf_check(csrf_client):
    token = _logged_in(csrf_client)
    resp = csrf_client.post("/api/incidents/merge", json={"ids": [1]}, headers={"X-CSRFToken": token})
    # Past the CSRF check, the merge itself answers: one id is not a merge.
    assert resp.status_code == 400 and "CSRF" not in resp.json["error"]


def test_reading_with_the_session_needs_no_token(csrf_client):
    _logged_in(csrf_client)
    assert csrf_client.get("/api/incidents").status_code == 200
