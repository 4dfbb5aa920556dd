"""Open311 in Italian and English (``showing.open311_language``): the error list's descriptions, the
service list and definitions, and the notes the service itself wrote on a request, in the language
the request asks for (``Accept-Language``, or a login's own), in JSON and XML, with the same field
names, codes and shapes in both. Asked for neither language, the answers are as they have always
been: the town's words in Italian, the error descriptions in English."""
from __future__ import annotations

import pytest

from geo_urp.accounts import create_user
from geo_urp.db import session_scope
from geo_urp.models import Report, ReportUpdate
from tests.showing.open311_support import API, latlong, post, validate, xml_of

FORMATS = ("json", "xml")
ITALIAN = {"Accept-Language": "it-IT,it;q=0.9,en;q=0.5"}
ENGLISH = {"Accept-Language": "en-GB,en;q=0.8"}
# What a request asking for no language the service speaks, or for none, reads: errors in English.
ERRORS_BY_HEADER = [(ITALIAN, "it"), (ENGLISH, "en"), ({}, "en"), ({"Accept-Language": "de-DE,de"}, "en")]

# Bad POSTs: the fields sent, the field named, and the words of the description in each language.
BAD_POSTS = {
    "unknown service": ({"service_code": "nope", **latlong(300, 500)}, "service_code",
                        {"it": "service_code 'nope' non è offerto qui: uno tra streetlight_out",
                         "en": "service_code 'nope' is not offered here: one of streetlight_out"}),
    "no place": ({"service_code": "road_damage"}, "address_string",
                 {"it": "serve un luogo: lat e long, address_string o address_id",
                  "en": "a location is required: lat and long, address_string or address_id"}),
    "lat alone": ({"service_code": "road_damage", "lat": latlong(300, 500)["lat"]}, "long",
                  {"it": "long manca: lat e long vanno insieme", "en": "long is missing: lat and long go together"}),
    "bad e-mail": ({"service_code": "road_damage", "email": "not-an-address", **latlong(300, 500)}, "email",
                   {"it": "email 'not-an-address' non è un indirizzo e-mail",
                    "en": "email 'not-an-address' is not an e-mail address"}),
    "bad choice": ({"service_code": "no_water", "attribute[extent]": "tutto", **latlong(300, 500)},
                   "attribute[extent]",
                   {"it": "attribute[extent]: 'tutto' non è uno tra casa, palazzo, via, non_so",
                    "en": "attribute[extent]: 'tutto' is not one of casa, palazzo, via, non_so"}),
}


def _description(resp, fmt: str, status: int) -> str:
    """The one description of a GeoReport v2 error list with ``status``, checked for its shape."""
    assert resp.status_code == status, resp.data
    if fmt == "json":
        validate(resp.json, "errors.json")
        assert resp.json[0]["code"] == status
        return resp.json[0]["description"]
    root = xml_of(resp)
    assert root.tag == "errors" and [c.tag for c in root] == ["error"]
    assert [c.tag for c in root[0]] == ["code", "description"] and root.findtext("error/code") == str(status)
    return root.findtext("error/description")


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("headers, lang", ERRORS_BY_HEADER)
@pytest.mark.parametrize("case", BAD_POSTS)
def test_a_bad_post_is_refused_in_the_language_asked_naming_the_field(
        borgo_client, borgo_keys, borgo_db_url, case, headers, lang, fmt):
    fields, field, words = BAD_POSTS[case]
    text = _description(post(borgo_client, borgo_keys["public"], fmt, headers=headers, **fields), fmt, 400)
    assert text.startswith(words[lang]) and field in text, text
    other = "en" if lang == "it" else "it"
    assert words[other] not in text
    with session_scope(borgo_db_url) as s:
        assert s.query(Report).count() == 0


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("headers, lang", ERRORS_BY_HEADER)
def test_read_errors_and_unknown_endpoints_answer_in_the_language_asked(shared_client, headers, lang, fmt):
    words = {"it": ("status deve essere open o closed", "nessun endpoint Open311 'nowhere.json'",
                    "service_code 'nope' non è stato trovato"),
             "en": ("status must be open or closed", "no Open311 endpoint 'nowhere.json'",
                    "service_code 'nope' was not found")}[lang]
    bad_status = _description(shared_client.get(f"{API}/requests.{fmt}?status=done", headers=headers), fmt, 400)
    assert bad_status.startswith(words[0]) and "done" in bad_status
    unknown = _description(shared_client.get(f"{API}/nowhere.json", headers=headers), "json", 404)
    assert unknown.startswith(words[1])
    definition = _description(shared_client.get(f"{API}/services/nope.{fmt}", headers=headers), fmt, 404)
    assert definition.startswith(words[2])
    dated = _description(shared_client.get(f"{API}/servicerequestupdates.{fmt}?start_date=yesterday",
                                           headers=headers), fmt, 400)
    assert dated.startswith("start_date") and "'yesterday'" in dated
    assert ("deve essere" in dated) == (lang == "it")


def _services(client, fmt: str, headers: dict) -> list[dict]:
    resp = client.get(f"{API}/services.{fmt}", headers=headers)
    assert resp.status_code == 200, resp.data
    if fmt == "json":
        validate(resp.json, "services.json")
        return resp.json
    root = xml_of(resp)
    assert root.tag == "services" and {c.tag for c in root} == {"service"}
    return [{c.tag: c.text for c in service} for service in root]


@pytest.mark.parametrize("fmt", FORMATS)
def test_the_service_list_names_and_describes_each_service_in_the_language_asked(shared_client, fmt):
    italian, english, unasked = (_services(shared_client, fmt, h) for h in (ITALIAN, ENGLISH, {}))
    assert unasked == italian                       # SPEC §3 names the services in Italian
    it, en = ({s["service_code"]: s for s in listed} for listed in (italian, english))
    assert (it["no_water"]["service_name"], it["no_water"]["description"], it["no_water"]["group"]) == (
        "Mancanza d'acqua", "Dal rubinetto non esce acqua.", "Acquedotto")
    assert (en["no_water"]["service_name"], en["no_water"]["description"], en["no_water"]["group"]) == (
        "No water", "No water comes out of the tap.", "Water supply")
    assert en["streetlight_out"]["service_name"] == "Street light out / dark street"
    # The same list, fields and codes; every name and description in its own language.
    assert [list(s) for s in english] == [list(s) for s in italian]
    assert list(en) == list(it)
    for code in it:
        assert {k: v for k, v in en[code].items() if k not in ("service_name", "description", "group")} == \
            {k: v for k, v in it[code].items() if k not in ("service_name", "description", "group")}
        assert en[code]["service_name"] != it[code]["service_name"], code
        assert en[code]["description"] != it[code]["description"], code


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_service_definition_asks_its_questions_in_the_language_asked(shared_client, fmt):
    def extent(headers):
        resp = shared_client.get(f"{API}/services/no_water.{fmt}", headers=headers)
        assert resp.status_code == 200, resp.data
        if fmt == "json":
            validate(resp.json, "service-definition.json")
            found = next(a for a in resp.json["attributes"] if a["code"] == "extent")
            return found["description"], [(v["key"], v["name"]) for v in found["values"]]
        found = next(a for a in xml_of(resp).findall("attributes/attribute") if a.findtext("code") == "extent")
        return found.findtext("description"), [(v.findtext("key"), v.findtext("name"))
                                               for v in found.findall("values/value")]

    assert extent(ITALIAN) == extent({}) == ("Riguarda tutta la via o solo questa casa?", [
        ("casa", "Solo questa casa o appartamento"), ("palazzo", "Tutto il palazzo"),
        ("via", "Tutta la via o il vicinato"), ("non_so", "Non so")])
    assert extent(ENGLISH) == ("Is it the whole street or only this house?", [
        ("casa", "Only this house or flat"), ("palazzo", "The whole building"),
        ("via", "The whole street or the neighbourhood"), ("non_so", "Don't know")])


NOTE = "Sostituito il fusibile del quadro"  # a person's words: shown as written in every language


@pytest.fixture()
def answered(borgo_client, borgo_keys, borgo_db_url) -> str:
    """An information request an operator logged without writing the answer (the service notes it
    was answered on the phone), with an update carrying a crew's note; its service_request_id."""
    resp = post(borgo_client, borgo_keys["operator"], service_code="info_request", **latlong(300, 500),
                **{"attribute[topic]": "anagrafe"})
    assert resp.status_code == 201, resp.data
    rid = resp.json[0]["service_request_id"]
    with session_scope(borgo_db_url) as s:
        report = s.get(Report, int(rid))
        s.add(ReportUpdate(municipality_id=report.municipality_id, report_id=report.id, status="closed",
                           stage="closed", description=NOTE, updated_datetime=report.updated_datetime,
                           actor="key:operator"))
    return rid


def _request(client, rid: str, fmt: str, headers: dict) -> dict:
    resp = client.get(f"{API}/requests/{rid}.{fmt}", headers=headers)
    assert resp.status_code == 200, resp.data
    if fmt == "json":
        validate(resp.json, "requests.json")
        return resp.json[0]
    return {c.tag: c.text for c in xml_of(resp).find("request")}


def _updates(client, fmt: str, headers: dict) -> list[dict]:
    resp = client.get(f"{API}/servicerequestupdates.{fmt}", headers=headers)
    assert resp.status_code == 200, resp.data
    if fmt == "json":
        return resp.json
    return [{c.tag: c.text or "" for c in item} for item in xml_of(resp)]


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_requests_notes_come_in_the_language_asked_and_a_persons_as_written(borgo_client, borgo_keys,
                                                                               answered, fmt):
    key = {"X-API-Key": borgo_keys["operator"]}
    it, en, unasked = (_request(borgo_client, answered, fmt, {**key, **h}) for h in (ITALIAN, ENGLISH, {}))
    assert unasked == it
    assert (it["status"], it["status_notes"], it["service_name"], it["service_notice"]) == (
        "closed", "Risposta data dall'operatore durante la telefonata.", "Richiesta di informazioni",
        "Risponde l'operatore del centralino.")
    assert (en["status"], en["status_notes"], en["service_name"], en["service_notice"]) == (
        "closed", "Answered by the operator during the call.", "Request for information",
        "The call centre operator answers.")
    assert list(en) == list(it)
    assert {k: v for k, v in en.items() if k not in ("status_notes", "service_name", "service_notice")} == \
        {k: v for k, v in it.items() if k not in ("status_notes", "service_name", "service_notice")}
    # The history: the crew's words as written, the FixMyStreet fields the same in both languages.
    it_updates, en_updates = (_updates(borgo_client, fmt, {**key, **h}) for h in (ITALIAN, ENGLISH))
    assert [(u["service_request_id"], u["status"], u["description"]) for u in it_updates] == [
        (answered, "closed", NOTE)]
    assert en_updates == it_updates


def test_a_login_reads_and_is_refused_in_its_own_language_whatever_the_header(borgo_app, borgo_db_url):
    with session_scope(borgo_db_url) as s:
        create_user(s, "emma", "password-emma", "operator", language="en")
    clients = {}
    for user in ("anna", "emma"):                    # anna: the fixture town's Italian operator
        clients[user] = borgo_app.test_client()
        resp = clients[user].post("/login", data={"username": user, "password": f"password-{user}"})
        assert resp.status_code == 302, resp.data
    italian_header_for_emma = clients["emma"].get(f"{API}/services.json", headers=ITALIAN).json
    assert {s["service_code"]: s["service_name"] for s in italian_header_for_emma}["no_water"] == "No water"
    english_header_for_anna = clients["anna"].get(f"{API}/services.json", headers=ENGLISH).json
    assert {s["service_code"]: s["service_name"] for s in english_header_for_anna}["no_water"] == "Mancanza d'acqua"
    # The console's POST (session, no api_key): refused in the login's language, naming the field.
    call = {"service_code": "nope", **latlong(300, 500)}
    assert _description(clients["anna"].post(f"{API}/requests.json", json=call, headers=ENGLISH), "json", 400) \
        .startswith("service_code 'nope' non è offerto qui")
    assert _description(clients["emma"].post(f"{API}/requests.json", json=call), "json", 400) \
        .startswith("service_code 'nope' is not offered here")


@pytest.mark.parametrize("headers, notice", [
    (ITALIAN, "La segnalazione è inoltrata alla Polizia locale."),
    ({}, "La segnalazione è inoltrata alla Polizia locale."),
    (ENGLISH, None),
])
def test_the_answer_to_a_post_gives_its_notice_in_the_language_asked(borgo_client, borgo_keys, headers, notice):
    resp = post(borgo_client, borgo_keys["operator"], headers=headers, service_code="noise", **latlong(340, 510))
    assert resp.status_code == 201, resp.data
    (answer,) = resp.json
    read = borgo_client.get(f"{API}/requests/{answer['service_request_id']}.json",
                            headers={"X-API-Key": borgo_keys["operator"], **headers}).json[0]
    assert answer["service_notice"] == read["service_notice"]            # as a read of it says it
    if notice:
        assert answer["service_notice"] == notice
    else:
        assert answer["service_notice"] != "La segnalazione è inoltrata alla Polizia locale."
