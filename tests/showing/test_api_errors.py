"""Every /api/ answer is JSON, errors included: an unknown route, a wrong method, a crash."""
from __future__ import annotations


def test_an_unknown_api_route_is_a_json_404(client):
    resp = client.get("/api/incidentz")
    assert resp.status_code == 404 and resp.is_json
    assert "/api/incidentz" in resp.json["error"]


def test_an_unknown_page_stays_html(client):
    resp = client.get("/nowhere")
    assert resp.status_code == 404 and not resp.is_json


def test_a_crash_is_a_json_500_without_internals(app):
    def boom():
        raise RuntimeError("secret detail from deep inside")

    app.add_url_rule("/api/_boom", "boom", boom)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    resp = app.test_client().get("/api/_boom")
    assert resp.status_code == 500 and resp.is_json
    assert "secret detail" not in resp.get_data(as_text=True)
