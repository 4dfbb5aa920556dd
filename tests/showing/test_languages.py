"""Italian first, English by a login's preference (``showing.wording``, ``geo_urp.language``): each
page through the test client for an Italian and an English login of its role, an incident's
explanation in both languages through the API, and the dates on the towns' clock."""
from __future__ import annotations

import json
import re

import pytest

from geo_urp.accounts import create_user
from geo_urp.db import session_scope
from tests.acting.test_intake import latlong

# A leak call on main P5 logged with its true time: 1 July 2026, 21:30 UTC, 23:30 in Rome (summer time).
CALLED_AT = "2026-07-01T21:30:00+00:00"
ROME = "01/07/2026 23:30"
LOGINS = {"operator": {}, "crew": {"crew_id": "ACQUA", "municipality": "borgo"}, "council": {}, "admin": {}}


@pytest.fixture()
def town(borgo_app, borgo_client, borgo_keys, borgo_db_url):
    """A burst of main P5 called in at ``CALLED_AT``, and a login per role in each language
    (``it-operator``, ``en-operator``, ...)."""
    resp = borgo_client.post("/open311/v2/requests.json", data={
        "api_key": borgo_keys["operator"], "service_code": "water_leak", "requested_datetime": CALLED_AT,
        **latlong(330, 453)})
    assert resp.status_code == 201, resp.get_data(as_text=True)
    with session_scope(borgo_db_url) as s:
        for role, bound in LOGINS.items():
            for lang in ("it", "en"):
                create_user(s, f"{lang}-{role}", f"password-{lang}-{role}", role, language=lang, **bound)
    return borgo_app


def _client(app, role: str, lang: str):
    client = app.test_client()
    user = f"{lang}-{role}"
    resp = client.post("/login", data={"username": user, "password": f"password-{user}"})
    assert resp.status_code == 302, resp.get_data(as_text=True)
    return client


def _page(client, path: str) -> str:
    resp = client.get(path)
    assert resp.status_code == 200, resp.get_data(as_text=True)[:500]
    return resp.get_data(as_text=True)


# Per page: its role, and words that only the Italian page and only the English page hold.
PAGES = {
    "/operator": ("operator", ["Nuova chiamata", "Registra la chiamata", "Riscontri da fare al telefono",
                               '"strade"', '"Incidenti: acqua (condotte, valvole da chiudere)"', "Acquedotto"],
                  ["New call", "Save the call", "Closing messages to give by phone", '"streets"',
                   '"Incidents: water (mains, valves to close)"', "Water supply"]),
    "/crew": ("crew", ["Valvole da chiudere", "In attesa di invio dalla centrale", "Naviga fin qui",
                       "Rottura di una condotta", "1 lavoro da fare", '"Invio in corso'],
              ["Valves to close", "Waiting to be sent by the control room", "Navigate here", "Burst main",
               "1 job to do", '"Sending']),
    "/crew/print": ("crew", ["Lavori al", "Valvole da chiudere", "priorità 1", "Nota per i cittadini"],
                    ["Jobs as of", "Valves to close", "priority 1", "Note for the callers"]),
    "/council": ("council", ["Incidenti per tipo e stato", "Rottura di una condotta", "Da assegnare", '"strade"'],
                 ["Incidents by kind and status", "Burst main", "To assign", '"streets"']),
    "/admin": ("admin", ["Comuni serviti", "Chiavi API", "amministratore", "English", "Italiano"],
               ["Towns served", "API keys", "administrator", "English", "Italiano"]),
}


@pytest.mark.parametrize("path", PAGES)
def test_each_page_speaks_its_logins_language(town, path):
    role, italian, english = PAGES[path]
    it_page, en_page = (_page(_client(town, role, lang), path) for lang in ("it", "en"))
    assert '<html lang="it">' in it_page and '<html lang="en">' in en_page
    assert [w for w in italian if w not in it_page] == []
    assert [w for w in english if w not in en_page] == []
    # The words of one language never on the other's page (a language's own name aside: the admin
    # page names each login's language in that language).
    assert [w for w in english if w in it_page and w not in italian] == []
    assert [w for w in italian if w in en_page and w not in english] == []


def test_someone_not_logged_in_reads_italian(town):
    page = _page(town.test_client(), "/login")
    assert '<html lang="it">' in page and "Accesso" in page and "Entra" in page and "Log in" not in page


def test_a_bad_login_is_told_in_italian(town):
    resp = town.test_client().post("/login", data={"username": "en-operator", "password": "wrong-password"})
    assert resp.status_code == 401 and "Utente o password errati." in resp.get_data(as_text=True)


def test_the_scripts_get_their_words_in_the_logins_language(town):
    for lang, expected in (("it", "Incidenti: illuminazione (lampioni spenti, quadri)"),
                           ("en", "Incidents: lighting (lamps out, cabinets)")):
        page = _page(_client(town, "operator", lang), "/operator")
        words = json.loads(re.search(r'<script type="application/json" id="page-words">(.*?)</script>',
                                     page, re.S).group(1))
        assert words["overlay_lighting"] == expected
        assert words["_zone"] == "Europe/Rome" and words["_locale"] == {"it": "it-IT", "en": "en-GB"}[lang]
        assert words["calls"]["one"] == {"it": "%(n)s chiamata", "en": "%(n)s call"}[lang]


def test_an_explanation_reads_in_the_readers_language(town, borgo_keys):
    def burst(client, **headers) -> dict:
        features = client.get("/api/incidents", headers=headers).json["features"]
        return next(f["properties"] for f in features if f["properties"]["kind"] == "water_main_burst")

    italian = burst(_client(town, "operator", "it"))
    english = burst(_client(town, "operator", "en"))
    assert italian["id"] == english["id"]
    assert italian["explanation"] == (
        "1 chiamata alle 23:30 da Via Roma: 1 per acqua in strada; le chiamate per la perdita sono sulla condotta "
        "P5, probabile rottura. Per isolarla chiudere le valvole V2, V3, V5; circa 2 civici resteranno senz'acqua.")
    assert english["explanation"] == (
        "1 call at 23:30 from Via Roma: 1 about water in the street; the leak calls are on main P5, probable burst. "
        "To isolate it close valves V2, V3, V5; about 2 addresses will be without water.")
    assert "explanation_parts" not in italian and "explanation_parts" not in english
    # An API key reads Italian, or the language its Accept-Language asks for.
    key = {"X-API-Key": borgo_keys["operator"]}
    assert burst(town.test_client(), **key)["explanation"] == italian["explanation"]
    assert burst(town.test_client(), **key, **{"Accept-Language": "en-GB,en;q=0.8"})["explanation"] == \
        english["explanation"]
    assert burst(town.test_client(), **key, **{"Accept-Language": "de"})["explanation"] == italian["explanation"]


def test_dates_are_shown_on_the_towns_clock(town):
    for lang in ("it", "en"):
        page = _page(_client(town, "crew", lang), "/crew")
        assert ROME in page                                            # opened, and the call's time
        assert "01/07/2026 21:30" not in page                         # never UTC
