"""``POST /admin/services`` from the admin page's form: a service made private leaves the anonymous
Open311 view; a bad value is a 400 naming it; CSRF is checked."""
from __future__ import annotations

import re

from geo_urp.accounts import create_user
from geo_urp.db import session_scope
from tests.acting.test_intake import latlong
from tests.conftest import make_app


def _logged_in(url: str, user: str, role: str):
    with session_scope(url) as s:
        create_user(s, user, f"password-{user}", role)
    client = make_app(url, WTF_CSRF_ENABLED=True).test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    resp = client.post("/login", data={"username": user, "password": f"password-{user}", "csrf_token": token})
    assert resp.status_code == 302
    return client


def _token(page: str) -> str:
    return re.search(r'<section id="services">.*?name="csrf_token" value="([^"]+)"', page, re.S).group(1)


def test_an_admin_makes_noise_private_and_anonymous_readers_no_longer_see_it(borgo_db_url, borgo_keys):
    client = _logged_in(borgo_db_url, "ada", "admin")
    resp = client.post("/open311/v2/requests.json", data={
        "api_key": borgo_keys["operator"], "service_code": "noise", **latlong(700, 200)})
    assert resp.status_code == 201
    anonymous = make_app(borgo_db_url).test_client()
    assert [r["service_code"] for r in anonymous.get("/open311/v2/requests.json").json] == ["noise"]
    page = client.get("/admin").get_data(as_text=True)
    assert 'data-service="noise"' in page
    resp = client.post("/admin/services", data={"csrf_token": _token(page), "jurisdiction_id": "borgo",
                                                "service_code": "noise", "sla_hours": "2,5"})
    assert resp.status_code == 303 and resp.headers["Location"].endswith("/admin#services")
    assert anonymous.get("/open311/v2/requests.json").json == []
    page = client.get("/admin").get_data(as_text=True)
    row = re.search(r'<tr data-town="borgo" data-service="noise">(.*?)</tr>', page, re.S).group(1)
    assert 'name="public" value="1">' in row and 'value="2.5"' in row  # unchecked, own hours shown


def test_a_bad_value_is_a_400_naming_it_and_a_missing_token_is_refused(borgo_db_url):
    client = _logged_in(borgo_db_url, "ada", "admin")
    token = _token(client.get("/admin").get_data(as_text=True))
    bad = client.post("/admin/services", data={"csrf_token": token, "jurisdiction_id": "borgo",
                                               "service_code": "noise", "public": "1", "sla_hours": "presto"})
    assert bad.status_code == 400 and "sla_hours" in bad.get_data(as_text=True)
    forged = client.post("/admin/services", data={"jurisdiction_id": "borgo", "service_code": "noise"})
    assert forged.status_code == 400
