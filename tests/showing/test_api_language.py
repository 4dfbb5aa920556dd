"""``/api/`` errors in Italian and English (``showing.errors.api_text``): the same refusals asked by an
operator's or a crew's login whose language is Italian or English (whatever ``Accept-Language`` says),
and by an API key with ``Accept-Language`` it, en or none, come in that language, naming their
field, with the same status, JSON shape and ``details`` in each. Asked for neither language, the
text is English, as it has always been. A page's form refused answers in its login's language too.
And in Chromium: the console shows a refused merge in its operator's language."""
from __future__ import annotations

import uuid

import pytest
from playwright.sync_api import expect

from geo_urp.accounts import create_user
from geo_urp.db import engine_for, session_scope
from tests.conftest import _clone, _drop_db, make_app
from tests.showing.browser import browser_page, log_in
from tests.showing.intake_support import LEAKS, call, incident_of
from tests.showing.live_server import live_server

ITALIAN = {"Accept-Language": "it-IT,it;q=0.9,en;q=0.5"}
ENGLISH = {"Accept-Language": "en-GB,en;q=0.8"}
NONE = 999_999  # no incident, report or outbox message has this id
# The logins of the module's town (password "password-<name>"): role and language.
LOGINS = {"anna": ("operator", "it"), "emma": ("operator", "en"), "gino": ("crew", "it"), "gwen": ("crew", "en")}
# Who asks, and the language each is answered in: a login in its own (the header says the other),
# a key by its Accept-Language, else English.
CALLERS = {
    "login anna": ("operator", "it"), "login emma": ("operator", "en"),
    "login gino": ("crew", "it"), "login gwen": ("crew", "en"),
    "key operator it": ("operator", "it"), "key operator en": ("operator", "en"), "key operator": ("operator", "en"),
    "key crew it": ("crew", "it"), "key crew en": ("crew", "en"), "key crew": ("crew", "en"),
}

# name: (method, URL, JSON body, roles that may ask, status, field named, {language: the text's start}).
# "{burst}" and "{report}" are the module's burst and one of its calls.
CASES = {
    "unknown status": ("POST", "/api/incidents/{burst}/status", {"status": "bogus"}, ("operator", "crew"), 409,
                       "status", {"it": "status: l'incidente {burst} è open: può passare a ",
                                  "en": "status: incident {burst} is open: it may go to "}),
    "step not allowed": ("POST", "/api/incidents/{burst}/status", {"status": "closed"}, ("operator",), 409,
                         "status", {"it": "status: l'incidente {burst} è open: può passare a assigned, resolved, non a closed",
                                    "en": "status: incident {burst} is open: it may go to assigned, resolved, not to "
                                          "closed"}),
    "no status": ("POST", "/api/incidents/{burst}/status", {"note": "x"}, ("operator", "crew"), 400, "status",
                  {"it": '"status" è obbligatorio', "en": '"status" is required'}),
    "merge unknown ids": ("POST", "/api/incidents/merge", {"ids": ["{burst}", NONE]}, ("operator",), 404, "ids",
                          {"it": f"ids: nessun incidente {NONE}", "en": f"ids: no incident {NONE}"}),
    "merge one id": ("POST", "/api/incidents/merge", {"ids": ["{burst}"]}, ("operator",), 400, "ids",
                     {"it": '"ids" deve essere una lista di almeno due id', "en": '"ids" must be a list of at least two'}),
    "move to a missing incident": ("POST", "/api/reports/{report}/move", {"incident_id": NONE}, ("operator",), 404,
                                   "incident_id", {"it": f"incident_id: nessun incidente {NONE}",
                                                   "en": f"incident_id: no incident {NONE}"}),
    "move to no integer": ("POST", "/api/reports/{report}/move", {"incident_id": "x"}, ("operator",), 400,
                           "incident_id", {"it": '"incident_id" deve essere un numero intero',
                                           "en": '"incident_id" must be an integer'}),
    "incidents status": ("GET", "/api/incidents?status=done", None, ("operator", "crew"), 400, "status",
                         {"it": "status deve essere 'open' o 'all', non 'done'",
                          "en": "status must be 'open' or 'all', not 'done'"}),
    "incidents kind": ("GET", "/api/incidents?kind=meteor", None, ("operator", "crew"), 400, "kind",
                       {"it": "kind deve essere uno tra lamp, ", "en": "kind must be one of lamp, "}),
    "incidents since": ("GET", "/api/incidents?since=ieri", None, ("operator", "crew"), 400, "since",
                        {"it": "since deve essere il next_since di una risposta precedente",
                         "en": "since must be the next_since of an earlier answer"}),
    "hotspots cell": ("GET", "/api/hotspots?cell_m=3", None, ("operator",), 400, "cell_m",
                      {"it": "cell_m deve essere un numero intero da ", "en": "cell_m must be a whole number from "}),
    "hotspots trend": ("GET", "/api/hotspots?trend=2", None, ("operator",), 400, "trend",
                       {"it": "trend deve essere 0 o 1, non '2'", "en": "trend must be 0 or 1, not '2'"}),
    "trends from": ("GET", "/api/trends?from=2026-13", None, ("operator",), 400, "from",
                    {"it": "from deve essere un giorno (YYYY-MM-DD), un mese (YYYY-MM)",
                     "en": "from must be a day (YYYY-MM-DD), a month (YYYY-MM)"}),
    "trends order": ("GET", "/api/trends?from=2026-06&to=2026-01", None, ("operator",), 400, "from",
                     {"it": "from non deve essere dopo to", "en": "from must not be after to"}),
    "outbox not found": ("POST", f"/api/outbox/{NONE}/done", {}, ("operator",), 404, None,
                         {"it": f"nessun messaggio {NONE} in uscita", "en": f"no outbox message {NONE}"}),
    "outbox channel": ("GET", "/api/outbox?channel=fax", None, ("operator",), 400, "channel",
                       {"it": "channel deve essere uno tra email, sms, phone, non 'fax'",
                        "en": "channel must be one of email, sms, phone, not 'fax'"}),
    "geocode no query": ("GET", "/api/geocode?q=", None, ("operator", "crew"), 400, "q",
                         {"it": "q è vuoto: scrivi una via", "en": "q is empty: type a street"}),
    "role may not": ("GET", "/api/outbox", None, ("crew",), 403, None,
                     {"it": "il ruolo crew non può farlo", "en": "the crew role may not do this"}),
}


@pytest.fixture(scope="module")
def town(borgo_template):
    """A Borgo of the module's own with the ``LOGINS`` and a burst (its calls on main P5); yields a
    client per caller of ``CALLERS`` and the ids the cases name. No case changes anything."""
    name, url = _clone(borgo_template.url, "apilang" + uuid.uuid4().hex[:6])
    with session_scope(url) as s:
        for user, (role, lang) in LOGINS.items():
            if user != "anna":  # the template's Italian operator
                create_user(s, user, f"password-{user}", role, language=lang,
                            **({"crew_id": "ACQUA", "municipality": "borgo"} if role == "crew" else {}))
    app = make_app(url)
    keys = borgo_template.keys
    reports = [call(app.test_client(), keys["operator"], "water_leak", at) for at in LEAKS]
    burst = incident_of(app.test_client(), keys["operator"], reports[0])
    assert burst["kind"] == "water_main_burst" and burst["status"] == "open" and burst["crew_id"] == "ACQUA"
    clients = {}
    for caller in CALLERS:
        client = clients[caller] = app.test_client()
        kind, who, *lang = caller.split()
        if kind == "login":
            assert client.post("/login", data={"username": who, "password": f"password-{who}"}).status_code == 302
            # the header asks for the other language: the login's own wins
            client.environ_base["HTTP_ACCEPT_LANGUAGE"] = (ENGLISH if LOGINS[who][1] == "it" else ITALIAN)[
                "Accept-Language"]
        else:
            client.environ_base["HTTP_X_API_KEY"] = keys[who]
            if lang:
                client.environ_base["HTTP_ACCEPT_LANGUAGE"] = {"it": ITALIAN, "en": ENGLISH}[lang[0]]["Accept-Language"]
    yield clients, {"burst": burst["id"], "report": reports[0]}
    engine_for(url).dispose()
    _drop_db(name)


def _filled(value, ids: dict):
    """``value`` with the module's ids put in (a string "{burst}" alone becomes the integer)."""
    if isinstance(value, str):
        return int(value.format(**ids)) if value in ("{burst}", "{report}") else value.format(**ids)
    if isinstance(value, list):
        return [_filled(v, ids) for v in value]
    if isinstance(value, dict):
        return {k: _filled(v, ids) for k, v in value.items()}
    return value


@pytest.mark.parametrize("case, caller", [(case, caller) for case in CASES for caller in CALLERS
                                          if CALLERS[caller][0] in CASES[case][3]])
def test_an_api_error_is_in_the_callers_language_naming_its_field(town, case, caller):
    clients, ids = town
    method, url, body, _roles, status, field, words = CASES[case]
    lang = CALLERS[caller][1]
    client = clients[caller]
    url = url.format(**ids)
    resp = client.get(url) if method == "GET" else client.post(url, json=_filled(body, ids))
    assert resp.status_code == status, resp.get_data(as_text=True)
    assert set(resp.json) <= {"error", "details"}
    text = resp.json["error"]
    assert text.startswith(words[lang].format(**ids)), text
    other = "en" if lang == "it" else "it"
    assert not text.startswith(words[other].format(**ids))
    if field is not None:
        assert field in text
        assert field in [d.get("field") for d in resp.json["details"]]


# A page's refusals: (method, URL, form), status, field, {language: the text's start}.
PAGE_CASES = {
    "unknown town": (("POST", "/admin/services", {"jurisdiction_id": "nope", "service_code": "noise"}), 404,
                     "jurisdiction_id", {"it": "jurisdiction_id 'nope' non è stato trovato",
                                         "en": "jurisdiction_id 'nope' was not found"}),
    "bad hours": (("POST", "/admin/services", {"jurisdiction_id": "borgo", "service_code": "noise",
                                               "sla_hours": "tante"}), 400, "sla_hours",
                  {"it": "sla_hours deve essere un numero di ore, non 'tante'",
                   "en": "sla_hours must be a number of hours, not 'tante'"}),
    "unknown crew": (("GET", "/crew/jobs?crew_id=NOPE&jurisdiction_id=borgo", None), 404, "crew_id",
                     {"it": "crew_id: nessuna squadra 'NOPE' qui", "en": "crew_id: no crew 'NOPE' here"}),
}


@pytest.mark.parametrize("lang", ("it", "en"))
def test_a_pages_refusal_is_in_the_logins_language(borgo_db_url, lang):
    """The admin's service form and the crew page, refused: the same JSON, in the admin's language
    (the header asks for the other one)."""
    with session_scope(borgo_db_url) as s:
        create_user(s, "ada", "password-ada", "admin", language=lang)
    client = make_app(borgo_db_url).test_client()
    assert client.post("/login", data={"username": "ada", "password": "password-ada"}).status_code == 302
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = (ENGLISH if lang == "it" else ITALIAN)["Accept-Language"]
    for (method, url, form), status, field, words in PAGE_CASES.values():
        resp = client.get(url) if method == "GET" else client.post(url, data=form)
        assert resp.status_code == status and set(resp.json) == {"error", "details"}, resp.data
        assert resp.json["error"].startswith(words[lang]), resp.json
        assert resp.json["details"][0]["field"] == field


@pytest.mark.parametrize("user, words", [("anna", "Incidenti non uniti: ids: non si possono unire incidenti su cose "
                                                   "diverse: "),
                                         ("emma", "Incidents not merged: ids: incidents about different things "
                                                  "cannot be merged: ")])
def test_the_console_says_a_refused_merge_in_its_operators_language(borgo_db_url, borgo_keys, user, words):
    """A noise and a pothole cannot be merged: the console says why in the page's language, the
    service's own words included."""
    with session_scope(borgo_db_url) as s:
        create_user(s, "emma", "password-emma", "operator", language="en")
    app = make_app(borgo_db_url, WTF_CSRF_ENABLED=True)
    client = app.test_client()
    noise, pothole = (incident_of(client, borgo_keys["operator"], call(client, borgo_keys["operator"], code, at))
                      for code, at in (("noise", (100, 200)), ("road_damage", (200, 700))))
    with live_server(app) as base, browser_page() as page:
        page.set_default_timeout(10_000)
        log_in(page, base, user, "/operator")
        page.goto(f"{base}/operator?poll_ms=250")
        for inc in (noise, pothole):
            page.locator(f'#incident-list [data-id="{inc["id"]}"] input[name=merge]').check()
        page.locator("#merge-selected").click()
        expect(page.locator("#panel-status")).to_contain_text(words)
        assert page.outside == []
