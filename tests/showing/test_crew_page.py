"""The crews' pages (``showing/pages_crew.py``, ``reading/work_list.py``) through the test client, on Borgo.

Four leak calls along main P5 (y=453) make a burst for crew ACQUA; a no-water call at each of two
far corners makes an outage each, also ACQUA's; a pothole is crew STRADE's. ``gino`` is a crew
ACQUA login, ``ada`` an admin.
"""
from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta, timezone
from html.parser import HTMLParser
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select, text

from geo_urp.accounts import create_user
from geo_urp.db import engine_for, session_scope
from geo_urp.models import AuditEntry
from tests.acting.test_intake import latlong

HOSTILE = "<img src=x onerror=alert(1)>"
CALLERS = [
    {"first_name": "Maria", "last_name": "Rossi", "email": "maria@example.it", "description": HOSTILE},
    {"first_name": "Luca", "last_name": "Bianchi", "phone": "+39 347 123 4567"},
    {"first_name": "Anna", "last_name": "Verdi", "phone": "0461 123456"},
    {},
]
CONTACT_TEXTS = ("Maria", "Rossi", "maria@example.it", "Luca", "Bianchi", "347 123 4567", "Verdi", "0461 123456")
CSV_COLUMNS = ["incidente", "priorita", "motivi_priorita", "stato", "tipo", "indirizzo", "via", "da_riparare",
               "valvole_da_chiudere", "vie_interessate", "civici_interessati", "chiamate", "lat", "lon", "aperto_il"]


class _Jobs(HTMLParser):
    """The jobs of a page: for each element with ``data-incident-id``, in page order, the names of
    its textareas, its ``(name, value, label)`` buttons and its text."""

    def __init__(self, page: str):
        super().__init__()
        self.order: list[int] = []
        self.jobs: dict[int, dict] = {}
        self._job = self._tag = self._button = None
        self._depth = 0
        self.feed(page)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if self._job is None and "data-incident-id" in attrs:
            self._job, self._tag, self._depth = int(attrs["data-incident-id"]), tag, 0
            self.order.append(self._job)
            self.jobs[self._job] = {"textareas": [], "buttons": [], "text": ""}
        if self._job is None:
            return
        if tag == self._tag:
            self._depth += 1
        if tag == "textarea":
            self.jobs[self._job]["textareas"].append(attrs.get("name"))
        if tag == "button":
            self._button = [attrs.get("name"), attrs.get("value"), ""]

    def handle_endtag(self, tag):
        if self._job is None:
            return
        if tag == "button" and self._button:
            self.jobs[self._job]["buttons"].append(tuple(self._button))
            self._button = None
        if tag == self._tag:
            self._depth -= 1
            if self._depth == 0:
                self._job = None

    def handle_data(self, data):
        if self._job is not None:
            self.jobs[self._job]["text"] += data
            if self._button:
                self._button[2] += data.strip()


def _post(client, key: str, code: str, at: tuple[int, int], **fields) -> int:
    resp = client.post("/open311/v2/requests.json", data={"api_key": key, "service_code": code, **latlong(*at),
                                                          **fields})
    assert resp.status_code == 201, resp.get_data(as_text=True)
    return int(resp.json[0]["service_request_id"])


def _incident_of(client, key: str, report_id: int) -> dict:
    features = client.get("/api/incidents", headers={"X-API-Key": key}).json["features"]
    (inc,) = [f["properties"] for f in features if str(report_id) in f["properties"]["report_ids"]]
    return inc


@pytest.fixture()
def town(borgo_client, borgo_keys, borgo_db_url):
    """The burst, two outages and a pothole (see the module's docstring), and the logins."""
    op = borgo_keys["operator"]
    reports = [_post(borgo_client, op, "water_leak", (330 + 40 * n, 453), **{
        "description": "acqua che esce dall'asfalto", **who}) for n, who in enumerate(CALLERS)]
    burst = _incident_of(borgo_client, op, reports[0])
    east, west = (_incident_of(borgo_client, op, _post(borgo_client, op, "no_water", at))
                  for at in ((800, 800), (150, 150)))
    road = _incident_of(borgo_client, op, _post(borgo_client, op, "road_damage", (100, 500)))
    assert [i["kind"] for i in (burst, east, west, road)] == ["water_main_burst", "water_outage", "water_outage",
                                                              "road_damage"]
    assert [i["crew_id"] for i in (burst, east, west, road)] == ["ACQUA", "ACQUA", "ACQUA", "STRADE"]
    with session_scope(borgo_db_url) as s:
        create_user(s, "gino", "password-gino", "crew", crew_id="ACQUA", municipality="borgo")
        create_user(s, "ada", "password-ada", "admin")
    return SimpleNamespace(burst=burst["id"], east=east["id"], west=west["id"], road=road["id"], reports=reports,
                           op=op)


def _login(app, user: str):
    client = app.test_client()
    resp = client.post("/login", data={"username": user, "password": f"password-{user}"})
    assert resp.status_code == 302, resp.get_data(as_text=True)
    return client


@pytest.fixture()
def gino(borgo_app, town):
    """A client logged in as crew ACQUA's gino."""
    return _login(borgo_app, "gino")


def _page(client, path: str = "/crew", **args) -> str:
    resp = client.get(path, query_string=args)
    assert resp.status_code == 200, resp.get_data(as_text=True)
    return resp.get_data(as_text=True)


def _sql(url: str, sql: str, **params) -> None:
    with engine_for(url).begin() as conn:
        conn.execute(text(sql), params)


def test_a_crew_login_lands_on_its_work_list(borgo_app, town):
    client = borgo_app.test_client()
    resp = client.post("/login", data={"username": "gino", "password": "password-gino"})
    assert resp.status_code == 302 and resp.headers["Location"] == "/crew"
    assert client.get("/").headers["Location"] == "/crew"
    assert "Squadra acquedotto" in _page(client)


def test_the_list_is_the_crews_open_work_by_priority_then_age(gino, town, borgo_db_url):
    now = datetime.now(timezone.utc)
    _sql(borgo_db_url, "UPDATE incidents SET priority = 2, opened_at = :at WHERE id = :i", i=town.burst,
         at=now - timedelta(hours=3))
    _sql(borgo_db_url, "UPDATE incidents SET priority = 2, opened_at = :at WHERE id = :i", i=town.east,
         at=now - timedelta(hours=1))
    _sql(borgo_db_url, "UPDATE incidents SET status = 'resolved' WHERE id = :i", i=town.west)
    assert _Jobs(_page(gino)).order == [town.burst, town.east]          # same priority: the older first
    _sql(borgo_db_url, "UPDATE incidents SET priority = 1 WHERE id = :i", i=town.east)
    assert _Jobs(_page(gino)).order == [town.east, town.burst]          # the more urgent first
    # another crew's work is never shown, whatever a crew login asks for
    assert _Jobs(_page(gino, crew_id="STRADE", jurisdiction_id="borgo")).order == [town.east, town.burst]


def test_a_job_tells_where_what_and_which_valves_in_order(gino, town):
    job = _Jobs(_page(gino)).jobs[town.burst]["text"]
    for says in ("Rottura di una condotta", "Priorità 1", "Via Roma", "Da riparare", "P5",
                 "Vie senz'acqua", "Segnalazioni (4)", "In attesa di invio dalla centrale"):
        assert says in job
    page = _page(gino)
    assert '<ol class="valves"><li>V2</li><li>V3</li><li>V5</li></ol>' in page
    assert 'href="geo:46.' in page


@pytest.mark.parametrize("steps, buttons", [
    ([], []),                                                   # open: the operator sends the crew first
    (["assigned"], [("status", "in_progress", "Inizia il lavoro")]),
    (["assigned", "in_progress"], [("status", "resolved", "Risolto")]),
])
def test_each_job_holds_a_note_and_one_button_per_step_allowed_now(borgo_client, gino, town, steps, buttons):
    for step in steps:
        key = town.op if step == "assigned" else None
        resp = (borgo_client.post(f"/api/incidents/{town.burst}/status", json={"status": step},
                                  headers={"X-API-Key": key}) if key
                else gino.post(f"/api/incidents/{town.burst}/status", json={"status": step, "note": "sul posto"}))
        assert resp.status_code == 200, resp.json
    jobs = _Jobs(_page(gino)).jobs
    assert jobs[town.burst]["textareas"] == ["note"] and jobs[town.burst]["buttons"] == buttons
    assert (jobs[town.east]["textareas"], jobs[town.east]["buttons"]) == (["note"], [])   # still open


def test_no_caller_contact_is_shown_unless_the_report_is_marked_call_back(gino, town, borgo_db_url):
    pages = {path: _page(gino, path) for path in ("/crew", "/crew/print", "/crew.csv")}
    for path, page in pages.items():
        assert [t for t in CONTACT_TEXTS if t in page] == [], path
    maria, luca = town.reports[:2]       # Maria left only an e-mail: nothing to call back on
    _sql(borgo_db_url, "UPDATE reports SET call_back = TRUE WHERE id = ANY(:ids)", ids=[maria, luca])
    for path in ("/crew", "/crew/print"):
        page = _page(gino, path)
        assert "Luca Bianchi" in page and "+39 347 123 4567" in page, path
        assert [t for t in CONTACT_TEXTS if t in page] == ["Luca", "Bianchi", "347 123 4567"], path
    assert [t for t in CONTACT_TEXTS if t in _page(gino, "/crew.csv")] == []
    with session_scope(borgo_db_url) as s:
        viewed = s.execute(select(AuditEntry.actor, AuditEntry.object_type, AuditEntry.object_id)
                           .where(AuditEntry.action == "contact viewed")).all()
    assert sorted(viewed) == [("user:gino", "report", luca)] * 2     # once per page shown


def test_the_csv_has_one_row_per_job_with_its_columns(gino, town):
    resp = gino.get("/crew.csv")
    assert resp.status_code == 200 and resp.mimetype == "text/csv"
    assert "attachment" in resp.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(resp.get_data(as_text=True))))
    assert rows[0] == CSV_COLUMNS
    jobs = [dict(zip(rows[0], row)) for row in rows[1:]]
    assert [int(j["incidente"]) for j in jobs] == _Jobs(_page(gino)).order
    burst = jobs[0]
    assert (burst["tipo"], burst["da_riparare"], burst["valvole_da_chiudere"], burst["chiamate"]) == (
        "Rottura di una condotta", "P5", "V2 V3 V5", "4")
    assert "Via Roma" in burst["vie_interessate"].split("; ")
    assert burst["stato"] == "In attesa di invio dalla centrale"
    assert 46 < float(burst["lat"]) < 47 and 11 < float(burst["lon"]) < 12


@pytest.mark.parametrize("path", ["/crew", "/crew/print"])
def test_a_hostile_description_is_shown_as_text(gino, town, path):
    page = _page(gino, path)
    assert HOSTILE not in page and "onerror=alert(1)&gt;" in page


def test_an_admin_picks_a_crew_and_other_roles_may_not_look(borgo_app, town):
    ada = _login(borgo_app, "ada")
    chooser = _page(ada)
    assert "/crew?crew_id=ACQUA&amp;jurisdiction_id=borgo" in chooser and _Jobs(chooser).order == []
    jobs = _Jobs(_page(ada, crew_id="ACQUA", jurisdiction_id="borgo")).jobs
    assert set(jobs) == {town.burst, town.east, town.west}
    assert [b[1] for b in jobs[town.burst]["buttons"]] == ["assigned", "resolved"]   # an operator's steps
    assert ada.get("/crew", query_string={"crew_id": "NESSUNA"}).status_code == 404
    for user in ("anna", "carla"):
        assert _login(borgo_app, user).get("/crew").status_code == 403
    anonymous = borgo_app.test_client().get("/crew")
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]


def test_the_jobs_fragment_is_the_pages_list_and_unchanged_answers_304_unaudited(gino, town, borgo_db_url):
    page, fragment = _page(gino), gino.get("/crew/jobs")
    assert fragment.status_code == 200 and fragment.mimetype == "text/html" and fragment.headers["ETag"]
    body = fragment.get_data(as_text=True)
    assert "<html" not in body and body.strip().startswith('<div id="jobs"')
    assert _Jobs(body).jobs == _Jobs(page).jobs                         # the same jobs, read the same way
    again = gino.get("/crew/jobs", headers={"If-None-Match": fragment.headers["ETag"]})
    assert again.status_code == 304 and again.get_data() == b""
    _sql(borgo_db_url, "UPDATE incidents SET priority = 4 WHERE id = :i", i=town.burst)
    changed = gino.get("/crew/jobs", headers={"If-None-Match": fragment.headers["ETag"]})
    assert changed.status_code == 200 and changed.headers["ETag"] != fragment.headers["ETag"]
    assert _Jobs(changed.get_data(as_text=True)).order[-1] == town.burst
    # a call-back contact is audited when a fragment shows it, not when a 304 says nothing changed
    _sql(borgo_db_url, "UPDATE reports SET call_back = TRUE WHERE id = :i", i=town.reports[1])
    shown = gino.get("/crew/jobs")
    assert "+39 347 123 4567" in shown.get_data(as_text=True)
    assert gino.get("/crew/jobs", headers={"If-None-Match": shown.headers["ETag"]}).status_code == 304
    with session_scope(borgo_db_url) as s:
        assert s.scalar(select(func.count()).select_from(AuditEntry)
                        .where(AuditEntry.action == "contact viewed")) == 1
    assert gino.get("/crew/jobs", query_string={"crew_id": "STRADE"}).get_data(as_text=True) == (
        shown.get_data(as_text=True))                                    # a crew reads its own list only
