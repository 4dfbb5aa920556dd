"""Every answer carries the browser-safety headers (``showing/security.py``) and pages and APIs are
never cached; the vendored files are."""
from __future__ import annotations

import pytest

from geo_urp.showing.security import policy
from tests.conftest import make_app


@pytest.mark.parametrize("path", ["/login", "/openapi.json", "/open311/v2/services.json", "/healthz", "/api/incidents"])
def test_pages_and_apis_carry_the_safety_headers_and_are_not_cached(shared_client, path):
    resp = shared_client.get(path)
    csp = resp.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp and "object-src 'none'" in csp
    assert "form-action 'self'" in csp
    assert resp.headers["X-Frame-Options"] == "DENY"
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["Referrer-Policy"] == "same-origin"
    assert resp.headers["Cache-Control"] == "no-store"
    assert "Strict-Transport-Security" not in resp.headers      # plain HTTP here


def test_vendored_files_may_be_cached(shared_client):
    resp = shared_client.get("/vendor/leaflet/leaflet.js")
    assert resp.status_code == 200 and "no-store" not in resp.headers.get("Cache-Control", "")


def test_behind_https_the_session_cookie_is_secure_and_hsts_is_sent(shared_db_url):
    client = make_app(shared_db_url, HTTPS=True, WTF_CSRF_ENABLED=True).test_client()  # the form puts a token in the session
    resp = client.get("/login", base_url="https://localhost")
    assert "Strict-Transport-Security" in resp.headers
    assert "Secure" in resp.headers["Set-Cookie"]


def test_a_tile_server_is_allowed_for_images_only():
    got = policy("https://{s}.tiles.example.org/{z}/{x}/{y}.png")
    assert got["img-src"] == ["'self'", "data:", "https://*.tiles.example.org"]
    assert got["connect-src"] == "'self'" and "tiles.example.org" not in str(got["script-src"])
