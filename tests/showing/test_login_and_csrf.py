"""The login form says what is missing; a logged-in browser's changes need the page's CSRF token."""
from __future__ import annotations

import re

from tests.showing.test_pages import _seed


def _token(html: str) -> str:
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)


def _logged_in(app, client) -> str:
    """Log anna in through the real form (CSRF on) and return the page's token."""
    app.config["WTF_CSRF_ENABLED"] = True
    _seed(app.config["DATABASE_URL"])
    token = _token(client.get("/login").get_data(as_text=True))
    resp = client.post("/login", data={"username": "anna", "password": "password-anna", "csrf_token": token})
    assert resp.status_code == 302, resp.data
    return token


def test_an_empty_login_form_names_what_is_missing(app, client):
    _seed(app.config["DATABASE_URL"])
    resp = client.post("/login", data={"username": "", "password": ""})
    page = resp.get_data(as_text=True)
    assert resp.status_code == 400
    assert "Scrivi il nome utente." in page and "Scrivi la password." in page


def test_a_login_without_the_form_token_is_refused_in_italian(app, client):
    app.config["WTF_CSRF_ENABLED"] = True
    _seed(app.config["DATABASE_URL"])
    resp = client.post("/login", data={"username": "anna", "password": "password-anna"})
    assert resp.status_code == 400 and "ricarica la pagina" in resp.get_data(as_text=True)
    assert client.get("/operator").status_code == 302          # not logged in


def test_a_session_change_without_the_token_is_refused(app, client):
    _logged_in(app, client)
    resp = client.post("/api/incidents/merge", json={"ids": [1, 2]})
    assert resp.status_code == 400 and "CSRF" in resp.json["error"]


def test_a_session_change_with_the_token_goes_through_the_check(app, client):
    token = _logged_in(app, client)
    resp = client.post("/api/incidents/merge", json={"ids": [1]}, headers={"X-CSRFToken": token})
    # Past the CSRF check, the merge itself answers: one id is not a merge.
    assert resp.status_code == 400 and "CSRF" not in resp.json["error"]


def test_reading_with_the_session_needs_no_token(app, client):
    _logged_in(app, client)
    assert client.get("/api/incidents").status_code == 200
