"""``/openapi.json`` describes every /api/ route the app has, with its methods."""
from __future__ import annotations

import re


def test_every_api_route_is_described(shared_app, shared_client):
    doc = shared_client.get("/openapi.json").get_json()
    assert doc["openapi"].startswith("3.")
    described = {(path, method) for path, ops in doc["paths"].items() for method in ops}
    routed = set()
    for rule in shared_app.url_map.iter_rules():
        if rule.rule.startswith("/api/"):
            path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)
            routed |= {(path, m.lower()) for m in rule.methods - {"HEAD", "OPTIONS"}}
    assert routed and routed == described
