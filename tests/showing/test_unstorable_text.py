"""Text PostgreSQL cannot store (NUL, a lone surrogate) is refused with a 400 naming the field."""
from __future__ import annotations

import pytest


@pytest.mark.parametrize("path", ["/open311/v2/services.json?jurisdiction_id=a%00",
                                  "/open311/v2/tokens/a%00b.json",
                                  "/open311/v2/requests.json?service_code=no%00ise"])
def test_nul_in_a_get_is_a_400(shared_client, path):
    resp = shared_client.get(path)
    assert resp.status_code == 400
    assert "cannot be stored" in resp.get_json()[0]["description"]


def test_nul_or_surrogate_in_a_json_post_is_a_400_naming_the_field(shared_client):
    for body in ({"description": "a\x00b"}, {"description": "a\ud800b"}):
        resp = shared_client.post("/open311/v2/requests.json", json={"service_code": "noise", **body})
        assert resp.status_code == 400
        assert "description" in resp.get_json()[0]["description"]


@pytest.mark.parametrize("body, field", [("service_code=noise&description=a%00b", "description"),
                                         ("service_code=noise&descr%00iption=ab", "descr\x00iption"),
                                         ("service_code=noise&description=ok&description=a%00", "description"),
                                         ("service_code=noise&=a%00b", "request")])
def test_nul_in_a_form_post_is_a_400_naming_the_field(shared_client, body, field):
    resp = shared_client.post("/open311/v2/requests.json", data=body,
                       headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert resp.status_code == 400
    assert resp.get_json()[0]["description"].startswith(f"{field} holds a character")


def test_nul_in_a_query_string_names_the_field(shared_client):
    resp = shared_client.get("/open311/v2/requests.json?status=open&service_code=no%00ise")
    assert resp.status_code == 400
    assert resp.get_json()[0]["description"].startswith("service_code holds a character")
