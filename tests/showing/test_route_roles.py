"""Every route of the app, asked by every kind of caller: the answers come from one table (SPEC §6).

``TABLE`` has a row for each rule of ``app.url_map`` and method (files under ``/static`` and
``/vendor`` aside, ``ASSETS``) and one column per caller in ``CALLERS``: nobody, an API key
of each key role, a login of each role (with its session cookie and the page's CSRF token,
as the pages' scripts send it). Each cell is the status the caller gets, or ``"→/path"``
for a redirect there. A rule without a row (a route added later) fails, and so does a row
whose rule is gone. On the way: pages send nobody to the login, ``/api/`` answers nobody
401, a role that may not gets 403, and no caller ever meets a 500.

The requests change nothing: a change goes to an incident, report or message that does not
exist, or has a body that is refused. The database is a Borgo of the module's own, with a
crew ACQUA login, an admin login, and a few calls (a burst, a noise cluster) so that reads
have something to show.
"""
from __future__ import annotations

import re
import uuid
from urllib.parse import urlparse

import pytest
from werkzeug.exceptions import MethodNotAllowed

from geo_urp.accounts import create_user
from geo_urp.db import engine_for, session_scope
from tests.acting.test_intake import latlong
from tests.conftest import BORGO_LOGINS, _clone, _drop_db, make_app

CALLERS = ("anonymous", "key operator", "key crew", "key council", "key public",
           "login operator", "login crew", "login council", "login admin")
# Files, not views: no role is asked for them.
ASSETS = {"static", "assets.vendor"}
# The logins of the module's database; each one's password is "password-<name>".
LOGINS = {"operator": "anna", "council": "carla", "crew": "gino", "admin": "ada"}
HISTORY_OF = "{incident}"  # replaced by the id of the burst the module's calls make
NONE = 999_999             # no incident, report or message has this id
AT = latlong(350, 453)     # on main P5
L = "→/login"
_ = None                   # no body

# (method, rule): (the request: URL and JSON body), then one answer per CALLERS column.
TABLE = {
    #                                         anonymous  key:operator  crew      council      public
    #                                                    login:operator crew     council      admin
    ("GET", "/"): ("/", _, (L, "→/operator", "→/crew", "→/council", 403,
                            "→/operator", "→/crew", "→/council", "→/admin")),
    ("GET", "/login"): ("/login", _, (200, 200, 200, 200, 200, 200, 200, 200, 200)),
    ("POST", "/login"): ("/login", {}, (400, 400, 400, 400, 400, 400, 400, 400, 400)),
    ("POST", "/logout"): ("/logout", _, (400, 400, 400, 400, 400, L, L, L, L)),
    ("GET", "/logout"): ("/logout", _, (405, 405, 405, 405, 405, 405, 405, 405, 405)),
    ("GET", "/operator"): ("/operator", _, (L, 200, 403, 403, 403, 200, 403, 403, 200)),
    ("GET", "/crew"): ("/crew?crew_id=ACQUA&jurisdiction_id=borgo", _,
                       (L, 403, 200, 403, 403, 403, 200, 403, 200)),
    ("GET", "/crew/jobs"): ("/crew/jobs?crew_id=ACQUA&jurisdiction_id=borgo", _,
                            (L, 403, 200, 403, 403, 403, 200, 403, 200)),
    ("GET", "/crew/print"): ("/crew/print?crew_id=ACQUA&jurisdiction_id=borgo", _,
                             (L, 403, 200, 403, 403, 403, 200, 403, 200)),
    ("GET", "/crew.csv"): ("/crew.csv?crew_id=ACQUA&jurisdiction_id=borgo", _,
                           (L, 403, 200, 403, 403, 403, 200, 403, 200)),
    ("GET", "/council"): ("/council", _, (L, 403, 403, 200, 403, 403, 403, 200, 200)),
    ("GET", "/council/hotspots.csv"): ("/council/hotspots.csv?cell_m=250", _,
                                      (L, 403, 403, 200, 403, 403, 403, 200, 200)),
    ("GET", "/council/trends"): ("/council/trends", _, (L, 403, 403, 200, 403, 403, 403, 200, 200)),
    ("GET", "/council/trends.csv"): ("/council/trends.csv?table=months", _,
                                    (L, 403, 403, 200, 403, 403, 403, 200, 200)),
    ("GET", "/admin"): ("/admin", _, (L, 403, 403, 403, 403, 403, 403, 403, 200)),
    ("POST", "/admin/services"): ("/admin/services", {"service_code": "nope"},
                                  (400, 400, 400, 400, 400, 403, 403, 403, 400)),
    ("GET", "/healthz"): ("/healthz", _, (200, 200, 200, 200, 200, 200, 200, 200, 200)),
    ("GET", "/openapi.json"): ("/openapi.json", _, (200, 200, 200, 200, 200, 200, 200, 200, 200)),
    ("GET", "/api/audit"): ("/api/audit", _, (401, 403, 403, 403, 403, 403, 403, 403, 200)),
    ("GET", "/api/geocode"): ("/api/geocode?q=Via+Roma+1&jurisdiction_id=borgo", _,
                              (401, 200, 200, 200, 200, 200, 200, 200, 200)),
    ("GET", "/api/hotspots"): ("/api/hotspots?jurisdiction_id=borgo&cell_m=250", _,
                               (401, 200, 403, 200, 403, 200, 403, 200, 200)),
    ("GET", "/api/layers/<layer>"): ("/api/layers/addresses?jurisdiction_id=borgo", _,
                                     (401, 200, 200, 200, 403, 200, 200, 200, 200)),
    ("GET", "/api/trends"): ("/api/trends?jurisdiction_id=borgo", _,
                             (401, 200, 403, 200, 403, 200, 403, 200, 200)),
    ("GET", "/api/incidents"): ("/api/incidents?jurisdiction_id=borgo", _,
                                (401, 200, 200, 200, 403, 200, 200, 200, 200)),
    ("GET", "/api/incidents/nearby"): (
        f"/api/incidents/nearby?service_code=water_leak&lat={AT['lat']}&long={AT['long']}&jurisdiction_id=borgo", _,
        (401, 200, 403, 403, 403, 200, 403, 403, 200)),
    ("GET", "/api/incidents/<int:incident_id>/history"): (
        f"/api/incidents/{HISTORY_OF}/history", _, (401, 200, 403, 403, 403, 200, 403, 403, 200)),
    ("POST", "/api/incidents/<int:incident_id>/status"): (
        f"/api/incidents/{NONE}/status", {"status": "in_progress"}, (401, 404, 404, 403, 403, 404, 404, 403, 404)),
    ("POST", "/api/incidents/merge"): ("/api/incidents/merge", {"ids": [NONE, NONE - 1]},
                                       (401, 404, 403, 403, 403, 404, 403, 403, 404)),
    ("POST", "/api/reports/<int:report_id>/move"): (
        f"/api/reports/{NONE}/move", {"incident_id": NONE - 1}, (401, 404, 403, 403, 403, 404, 403, 403, 404)),
    ("GET", "/api/outbox"): ("/api/outbox", _, (401, 200, 403, 403, 403, 200, 403, 403, 200)),
    ("POST", "/api/outbox/<int:outbox_id>/done"): (
        f"/api/outbox/{NONE}/done", {}, (401, 404, 403, 403, 403, 404, 403, 403, 404)),
    ("POST", "/api/outbox/<int:outbox_id>/retry"): (
        f"/api/outbox/{NONE}/retry", {}, (401, 404, 403, 403, 403, 404, 403, 403, 404)),
    ("POST", "/api/incidents"): ("/api/incidents", {}, (405, 405, 405, 405, 405, 405, 405, 405, 405)),
    # Open311 GeoReport v2: anyone reads; a POST needs an operator or public key, or an operator's
    # (or admin's) login, and is refused here for its empty body. Without a key it is 403, as
    # GeoReport v2 says for a missing api_key.
    ("GET", "/open311/v2/discovery.<any(json, xml):fmt>"): (
        "/open311/v2/discovery.json", _, (200, 200, 200, 200, 200, 200, 200, 200, 200)),
    ("GET", "/open311/v2/services.<any(json, xml):fmt>"): (
        "/open311/v2/services.json?jurisdiction_id=borgo", _, (200, 200, 200, 200, 200, 200, 200, 200, 200)),
    ("GET", "/open311/v2/services/<service_code>.<any(json, xml):fmt>"): (
        "/open311/v2/services/water_leak.xml?jurisdiction_id=borgo", _,
        (200, 200, 200, 200, 200, 200, 200, 200, 200)),
    ("GET", "/open311/v2/requests.<any(json, xml):fmt>"): (
        "/open311/v2/requests.json?jurisdiction_id=borgo", _, (200, 200, 200, 200, 200, 200, 200, 200, 200)),
    ("POST", "/open311/v2/requests.<any(json, xml):fmt>"): (
        "/open311/v2/requests.json", {}, (403, 400, 403, 403, 400, 400, 403, 403, 400)),
    ("GET", "/open311/v2/requests/<service_request_id>.<any(json, xml):fmt>"): (
        f"/open311/v2/requests/{NONE}.json?jurisdiction_id=borgo", _,
        (404, 404, 404, 404, 404, 404, 404, 404, 404)),
    ("GET", "/open311/v2/servicerequestupdates.<any(json, xml):fmt>"): (
        "/open311/v2/servicerequestupdates.json?jurisdiction_id=borgo&start_date=2026-01-01T00:00:00%2B01:00"
        "&end_date=2026-01-02T00:00:00%2B01:00", _, (200, 200, 200, 200, 200, 200, 200, 200, 200)),
    ("GET", "/open311/v2/tokens/<token>.<any(json, xml):fmt>"): (
        "/open311/v2/tokens/no-such-token.json?jurisdiction_id=borgo", _,
        (404, 404, 404, 404, 404, 404, 404, 404, 404)),
    ("GET", "/open311/v2/<path:rest>"): ("/open311/v2/no-such-thing.json", _,
                                         (404, 404, 404, 404, 404, 404, 404, 404, 404)),
    ("POST", "/open311/v2/<path:rest>"): ("/open311/v2/no-such-thing.json", {},
                                          (404, 404, 404, 404, 404, 404, 404, 404, 404)),
}


def _routes(app) -> set[tuple[str, str]]:
    return {(method, rule.rule) for rule in app.url_map.iter_rules() if rule.endpoint not in ASSETS
            for method in rule.methods - {"HEAD", "OPTIONS"}}


@pytest.fixture(scope="module")
def town(borgo_template):
    """A Borgo of the module's own (CSRF checked) with the ``LOGINS``, a burst on main P5 and a
    noise cluster; yields the app, the keys, each login's session cookie and CSRF token, and
    the burst's id."""
    name, url = _clone(borgo_template.url, "roles" + uuid.uuid4().hex[:6])
    with session_scope(url) as s:
        create_user(s, LOGINS["crew"], f"password-{LOGINS['crew']}", "crew", crew_id="ACQUA", municipality="borgo")
        create_user(s, LOGINS["admin"], f"password-{LOGINS['admin']}", "admin")
    assert all(BORGO_LOGINS[LOGINS[role]] == role for role in ("operator", "council"))
    app = make_app(url, WTF_CSRF_ENABLED=True)
    client = app.test_client()
    op = {"X-API-Key": borgo_template.keys["operator"]}
    for n in range(3):
        for code, at in (("water_leak", (330 + 40 * n, 453)), ("noise", (700 + 5 * n, 200))):
            assert client.post("/open311/v2/requests.json", headers=op,
                               data={"service_code": code, **latlong(*at)}).status_code == 201
    (burst,) = [f["id"] for f in client.get("/api/incidents", headers=op).json["features"]
                if f["properties"]["kind"] == "water_main_burst"]
    sessions = {role: _log_in(app, user) for role, user in LOGINS.items()}
    yield app, borgo_template.keys, sessions, burst
    engine_for(url).dispose()
    _drop_db(name)


def _log_in(app, user: str) -> tuple[str, str]:
    """Log ``user`` in through the real form; their session cookie and the page's CSRF token."""
    client = app.test_client()
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', client.get("/login").get_data(as_text=True)).group(1)
    resp = client.post("/login", data={"username": user, "password": f"password-{user}", "csrf_token": token})
    assert resp.status_code == 302, resp.get_data(as_text=True)
    return client.get_cookie(app.config["SESSION_COOKIE_NAME"]).value, token


def _client_of(town, caller: str, csrf: bool = True, fresh: bool = False):
    """A fresh client asking as ``caller``, and the headers it sends; ``fresh``: a login of a
    session of its own, not the module's."""
    app, keys, sessions, _burst = town
    client = app.test_client()
    kind, _, role = caller.partition(" ")
    if kind == "key":
        return client, {"X-API-Key": keys[role]}
    if kind == "login":
        cookie, token = _log_in(app, LOGINS[role]) if fresh else sessions[role]
        client.set_cookie(app.config["SESSION_COOKIE_NAME"], cookie)
        return client, {"X-CSRFToken": token} if csrf else {}
    return client, {}


def _ask(town, method: str, rule: str, caller: str, csrf: bool = True):
    url, body, _answers = TABLE[(method, rule)]
    # Logging out ends the session, every copy of its cookie too: it is done in a session of its own.
    client, headers = _client_of(town, caller, csrf, fresh=rule == "/logout")
    url = url.replace(HISTORY_OF, str(town[3]))
    return client.open(url, method=method, headers=headers, json=body)


def test_every_route_has_a_row_and_every_row_a_route(town):
    app = town[0]
    routes = _routes(app)
    rows = {key for key, (_url, _body, answers) in TABLE.items() if set(answers) != {405}}
    assert routes - rows == set(), "routes without a row in TABLE: say who may use them"
    assert rows - routes == set(), "rows of TABLE whose route is gone"


@pytest.mark.parametrize("method, rule", list(TABLE))
def test_each_row_asks_its_own_rule(town, method, rule):
    """The row's URL reaches the row's rule (or, for a 405 row, a rule without that method)."""
    url, _body, answers = TABLE[(method, rule)]
    adapter = town[0].url_map.bind("localhost")
    path, _, query = url.replace(HISTORY_OF, "1").partition("?")
    if set(answers) == {405}:
        with pytest.raises(MethodNotAllowed):
            adapter.match(path, method, query_args=query)
        assert (method, rule) not in _routes(town[0]) and any(r == rule for _m, r in _routes(town[0]))
    else:
        matched, _args = adapter.match(path, method, query_args=query, return_rule=True)
        assert matched.rule == rule


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize("method, rule", list(TABLE))
def test_each_caller_gets_the_answer_of_the_table(town, method, rule, caller):
    expected = TABLE[(method, rule)][2][CALLERS.index(caller)]
    resp = _ask(town, method, rule, caller)
    assert resp.status_code < 500, resp.get_data(as_text=True)
    if isinstance(expected, str):
        assert (resp.status_code, urlparse(resp.headers.get("Location", "")).path) == (302, expected[1:])
    else:
        assert resp.status_code == expected, resp.get_data(as_text=True)[:500]


@pytest.mark.parametrize("caller", [c for c in CALLERS if c.startswith("login ")])
@pytest.mark.parametrize("method, rule", [key for key, (_url, _body, answers) in TABLE.items()
                                          if key[0] == "POST" and not set(answers) <= {404, 405}])
def test_a_change_with_a_login_session_needs_the_page_token(town, method, rule, caller):
    """Without the page's CSRF token, every POST some caller may make is refused as such (400)
    to a session cookie."""
    resp = _ask(town, method, rule, caller, csrf=False)
    assert resp.status_code == 400
    assert re.search("CSRF|Il modulo è scaduto", resp.get_data(as_text=True)), resp.get_data(as_text=True)[:500]
