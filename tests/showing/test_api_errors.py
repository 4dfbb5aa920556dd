"""Every /api/ answer is JSON, errors included: an unknown route, a wrong method, a crash."""
from __future__ import annotations

from tests.conftest import make_app


def test_an_unknown_api_route_is_a_json_404(shared_client):
    resp = shared_client.get("/api/incidentz")
    assert resp.status_code == 404 and resp.is_json
    assert "/api/incidentz" in resp.json["error"]


def test_an_unknown_page_stays_html(shared_client):
    resp = shared_client.get("/nowhere")
    assert resp.status_code == 404 and not resp.is_json


def test_a_crash_is_a_json_500_without_internals(shared_db_url):
    def boom():
        raise RuntimeError("secret detail from deep inside")

    app = make_app(shared_db_url, PROPAGATE_EXCEPTIONS=False)  # its own app: it gets a route of its own
    app.add_url_rule("/api/_boom", "boom", boom)
    resp = app.test_client().get("/api/_boom")
    assert resp.status_code == 500 and resp.is_json
    assert "secret detail" not in resp.get_data(as_text=True)
