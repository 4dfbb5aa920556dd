"""The admin's page (``showing/pages_admin.py``, ``reading/admin.py``) through the test client, on Borgo.

``ada`` is an admin of every town, ``bruno`` an admin bound to Borgo; a second town, Altrove
(no layers loaded), has an operator login ``olga`` and a key of its own.
"""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from geo_urp.accounts import create_api_key, create_user, hash_key
from geo_urp.db import session_scope
from geo_urp.models import ApiKey, Municipality, User
from tests.acting.test_intake import latlong


@pytest.fixture()
def admin_client(borgo_db_url, borgo_client, borgo_keys):
    """The client with two leak calls stored, the second town and the logins; returns the
    client and the secrets the page must never show."""
    for n in range(2):
        resp = borgo_client.post("/open311/v2/requests.json", data={
            "api_key": borgo_keys["operator"], "service_code": "water_leak", **latlong(330 + 40 * n, 453)})
        assert resp.status_code == 201
    with session_scope(borgo_db_url) as s:
        s.add(Municipality(slug="altrove", name="Altrove"))
        s.flush()
        create_user(s, "ada", "password-ada", "admin")
        create_user(s, "bruno", "password-bruno", "admin", municipality="borgo")
        create_user(s, "olga", "password-olga", "operator", municipality="altrove")
        other_key = create_api_key(s, "operator", "altrove", label="centralino Altrove")
        hashes = list(s.scalars(select(User.password_hash)))
        prefixes = list(s.scalars(select(ApiKey.prefix)))
    keys = [*borgo_keys.values(), other_key]
    return borgo_client, [*hashes, *prefixes, *keys, *(hash_key(k) for k in keys)]


def _page_of(client, user: str) -> str:
    resp = client.post("/login", data={"username": user, "password": f"password-{user}"})
    assert resp.status_code == 302 and resp.headers["Location"] == "/admin"
    resp = client.get("/admin")
    assert resp.status_code == 200
    return resp.get_data(as_text=True)


def _rows(page: str, section: str) -> list[list[str]]:
    """The cells' texts of each body row of the page's table in ``section``."""
    body = re.search(rf'<section id="{section}">.*?<tbody>(.*?)</tbody>', page, re.S).group(1)
    return [[re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
            for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S)]


def test_an_admin_sees_every_town_login_and_key_and_no_secret(admin_client):
    client, secrets = admin_client
    page = _page_of(client, "ada")
    towns = _rows(page, "towns")
    assert [(t[0], t[1], t[3], t[4]) for t in towns] == [("altrove", "Altrove", "0", "0"), ("borgo", "Borgo Prova", "2", "1")]
    assert towns[0][2] == "mai" and re.fullmatch(r"\d\d/\d\d/\d{4} \d\d:\d\d", towns[1][2])
    assert [r[:6] for r in _rows(page, "logins")] == [
        ["ada", "amministratore", "—", "tutti", "Italiano", "sì"], ["anna", "operatore", "—", "tutti", "Italiano", "sì"],
        ["bruno", "amministratore", "—", "borgo", "Italiano", "sì"],
        ["carla", "consiglio comunale", "—", "tutti", "Italiano", "sì"],
        ["olga", "operatore", "—", "altrove", "Italiano", "sì"]]
    assert sorted(tuple(r[:4]) for r in _rows(page, "keys")) == [
        ("centralino Altrove", "operatore", "—", "altrove"), ("—", "consiglio comunale", "—", "borgo"),
        ("—", "operatore", "—", "borgo"), ("—", "pubblico", "—", "borgo"), ("—", "squadra", "ACQUA", "borgo")]
    assert [s for s in secrets if s in page] == []
    links = re.search(r'<nav id="admin-links".*?</nav>', page, re.S).group(0)
    assert re.findall(r'href="([^"]+)"', links) == ["/operator", "/crew", "/council", "/api/audit", "/api/outbox"]


def test_an_admin_of_one_town_sees_that_town_alone(admin_client):
    client, secrets = admin_client
    page = _page_of(client, "bruno")
    assert [t[0] for t in _rows(page, "towns")] == ["borgo"]
    assert [r[0] for r in _rows(page, "logins")] == ["bruno"]
    assert len(_rows(page, "keys")) == 4 and "Altrove" not in page
    assert [s for s in secrets if s in page] == []
