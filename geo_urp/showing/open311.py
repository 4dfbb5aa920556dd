"""Open311 GeoReport v2 under ``/open311/v2/`` (SPEC §4), every endpoint in ``.json`` and ``.xml``,
with FixMyStreet's ``servicerequestupdates`` beside it.

Views parse the request, call one service (``reading.open311`` and
``reading.open311_updates`` to read, ``acting.calls`` to submit) and render
with ``open311_format``. Errors raised here answer in the GeoReport v2 error
list, in the format the URL asked for. Words and error texts are in the reader's language
(``open311_language``: a login's own, else ``Accept-Language``; without either, the town's
words in Italian and the errors in English, as they have always been).
No GET answer carries caller contact data: the read side never touches it.

Anyone may read. The reports and their updates are shown as their reader may see them
(``reading.privacy``): the key in the ``X-API-Key`` header or the ``api_key`` field of the body
(form or JSON), or else the login session names the reader; an operator or admin of the town gets every field, any
other reader, and anyone without a key, the public view. An ``api_key`` that is not a valid
key is a 401, rather than a public view its sender would take for the full one. An ``api_key``
in the query string is a 400 on every endpoint, before anything is read: URLs are kept in access
logs, proxies and browser histories, and a key there would be kept with them.

A POST authenticates with its ``api_key`` (field or ``X-API-Key`` header); without one, a
logged-in operator or admin may post from the console with the login session, and then the
page's CSRF token (``X-CSRFToken`` header or ``csrf_token`` field) is required, as for every
change a cookie makes (``auth.current_principal``). A session POST has no ``Idempotency-Key``
retry: those belong to an api_key.
"""
from __future__ import annotations

import re

from flask import Blueprint, current_app, request
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import BadRequest, HTTPException

from geo_urp.acting import calls, intake
from geo_urp.accounts import Principal, principal_for_key
from geo_urp.errors import BadInput, Forbidden, GeoUrpError, NotFound, Word
from geo_urp.language import N_
from geo_urp.reading import open311 as reads
from geo_urp.reading import open311_updates
from geo_urp.showing.auth import Unauthorized, current_principal, reader_language
from geo_urp.showing.database import get_session
from geo_urp.showing.extensions import csrf
from geo_urp.showing.open311_format import discovery as discovery_document
from geo_urp.showing.open311_format import error, render
from geo_urp.showing.open311_language import error_answer, error_of

bp = Blueprint("open311", __name__, url_prefix="/open311/v2")
csrf.exempt(bp)

FMT = "<any(json, xml):fmt>"
_ATTRIBUTE = re.compile(r"^attribute\[([^\]]+)\](\[\])?$")


def _fmt() -> str:
    fmt = (request.view_args or {}).get("fmt")
    return fmt or ("xml" if request.path.endswith(".xml") else "json")


@bp.errorhandler(GeoUrpError)
def _domain_error(exc: GeoUrpError):
    return error_of(exc, _fmt())


@bp.errorhandler(HTTPException)
def _http_error(exc: HTTPException):
    return error(exc.code or 500, exc.description or exc.name, _fmt())


@bp.errorhandler(CSRFError)
def _csrf_error(exc: CSRFError):
    """A session POST without the page's token: in the GeoReport v2 error list, as every error here
    (the app's own CSRF handler, found first for its status, answers in another shape)."""
    return error_answer(400, N_("controllo CSRF non riuscito: %(why)s Invia l'intestazione X-CSRFToken della "
                                "pagina, o autenticati con api_key"), _fmt(), why=exc.description)


def _jurisdiction() -> str | None:
    return request.values.get("jurisdiction_id") or None


@bp.before_request
def _refuse_key_in_query():
    """No endpoint takes an ``api_key`` from the query string: a 400 naming it."""
    if "api_key" in request.args:
        raise BadInput(N_("api_key non va inviato nella query string, che i log conservano con l'URL: invialo "
                          "nell'intestazione X-API-Key o nel corpo"), details=[{"field": "api_key"}])


def _body_key() -> str | None:
    """The ``api_key`` field of the body: a form's, or a JSON object's when it is text."""
    if request.is_json:
        body = request.get_json(silent=True)
        key = body.get("api_key") if isinstance(body, dict) else None
        return key if isinstance(key, str) else None
    return request.form.get("api_key")


def _reader() -> Principal | None:
    """Who reads: the principal of the key in ``X-API-Key`` or the body's ``api_key``, else of
    the login session, else None (anyone); a 401 for a key that is not valid. A read changes
    nothing, so the session needs no CSRF token here."""
    key = request.headers.get("X-API-Key") or _body_key()
    if key:
        principal = principal_for_key(get_session(), key)
        if principal is None:
            raise Unauthorized(N_("api_key non è una chiave valida: toglilo per leggere la vista pubblica"),
                               details=[{"field": "api_key"}])
        return principal
    return current_user.principal if current_user.is_authenticated else None


def _scalar(value, name: str) -> str | None:
    """A JSON value as the text a form would have carried; other types are refused naming the field."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return repr(value)
    kind = {bool: "true/false", list: N_("una lista"), dict: N_("un oggetto")}.get(type(value), type(value).__name__)
    raise BadInput(N_("%(field)s deve essere un testo o un numero, non %(kind)s"), field=name, kind=Word(kind),
                   details=[{"field": name}])


def _json_body() -> dict | None:
    """The POST's JSON object, None for a form post; a 400 for a body that is not a JSON object."""
    if not request.is_json:
        return None
    try:
        body = request.get_json(force=True)
    except BadRequest:
        raise BadInput(N_("il corpo della richiesta (body) non è JSON valido"), details=[{"field": "body"}]) from None
    if not isinstance(body, dict):
        raise BadInput(N_("il corpo della richiesta (body) deve essere un oggetto JSON di campi"),
                       details=[{"field": "body"}])
    return body


def _submission() -> tuple[dict, dict]:
    """The POST's plain fields and its ``attribute[code]`` answers (lists for ``attribute[code][]``)."""
    body = _json_body()
    if body is None:
        pairs = [(key, request.values.getlist(key)) for key in request.values.keys()]
    else:
        pairs = [(key, value if isinstance(value, list) and _ATTRIBUTE.match(key) else [value])
                 for key, value in body.items()]
    fields, attributes = {}, {}
    for key, items in pairs:
        match = _ATTRIBUTE.match(key)
        if match:
            items = [_scalar(v, key) for v in items]
            attributes[match.group(1)] = items if match.group(2) or len(items) > 1 else items[0]
        elif key != "attributes":
            items = [_scalar(v, key) for v in items]
            if len(set(items)) != 1:
                raise BadInput(N_("%(field)s va dato una volta sola, come testo o numero"), field=key,
                               details=[{"field": key}])
            fields[key] = items[0]
    if body is not None and "attributes" in body:
        given = body["attributes"]
        if not isinstance(given, dict):
            raise BadInput(N_("attributes deve essere un oggetto codice: risposta"), details=[{"field": "attributes"}])
        for code, answer in given.items():
            name = f"attributes.{code}"
            attributes[code] = [_scalar(v, name) for v in answer] if isinstance(answer, list) else _scalar(answer, name)
    return fields, attributes


@bp.get(f"/discovery.{FMT}")
def discovery(fmt: str):
    """Where the API is (under the ``BASE_URL`` setting, whatever Host the request names), which
    specification and formats it speaks."""
    return render(discovery_document(current_app.config["BASE_URL"] + "/open311/v2"), fmt, "discovery")


@bp.get(f"/services.{FMT}")
def services(fmt: str):
    """The municipality's service list."""
    return render(reads.services(get_session(), _jurisdiction(), reader_language()), fmt, "services")


@bp.get(f"/services/<service_code>.{FMT}")
def service_definition(service_code: str, fmt: str):
    """A service's extra questions (attributes)."""
    definition = reads.service_definition(get_session(), _jurisdiction(), service_code, reader_language())
    return render(definition, fmt, "service_definition")


@bp.get(f"/requests.{FMT}")
def list_requests(fmt: str):
    """Service requests by id list, service_code, status and date window (last 90 days by default)."""
    found = reads.search_requests(get_session(), _jurisdiction(), request.args, reader=_reader(),
                                  language=reader_language())
    return render(found, fmt, "service_requests")


SESSION_POST_ROLES = ("operator", "admin")  # the logins that take calls on the console


def _session_poster() -> Principal | None:
    """The logged-in operator or admin posting without an api_key (CSRF token checked), else None."""
    if not current_user.is_authenticated:
        return None
    principal = current_principal()  # no X-API-Key here: the session's, after the CSRF check
    if principal.role not in SESSION_POST_ROLES:
        raise Forbidden(N_("un accesso %(role)s non può inviare segnalazioni"), role=principal.role,
                        details=[{"field": "api_key"}])
    return principal


@bp.post(f"/requests.{FMT}")
def create_request(fmt: str):
    """Submit a service request: api_key (or an operator's login session), service_code, a location,
    optional attributes and contact."""
    fields, attributes = _submission()
    session = get_session()
    key = fields.get("api_key") or request.headers.get("X-API-Key")
    limits = intake.IntakeLimits.from_config(current_app.config)
    poster = None if key else _session_poster()
    if poster is None:
        receipt = calls.take_call(session, key, fields, attributes, request.headers.get("Idempotency-Key"), limits)
    else:
        receipt = calls.take_call_as(session, poster, fields, attributes, limits)
    session.commit()
    answer = receipt.as_open311()
    answer["service_notice"] = reads.worded(answer["service_notice"], reader_language())  # as a read gives it
    return render([answer], fmt, "service_requests", 201 if receipt.created else 200)


@bp.get(f"/requests/<service_request_id>.{FMT}")
def get_request(service_request_id: str, fmt: str):
    """One service request."""
    found = reads.get_request(get_session(), _jurisdiction(), service_request_id, reader=_reader(),
                              language=reader_language())
    return render([found], fmt, "service_requests")


@bp.get(f"/tokens/<token>.{FMT}")
def token(token: str, fmt: str):
    """The service_request_id behind a submission token."""
    return render([reads.request_for_token(get_session(), _jurisdiction(), token)], fmt,
                  "service_requests")


@bp.get(f"/servicerequestupdates.{FMT}")
def service_request_updates(fmt: str):
    """Every status change of the municipality's reports between start_date and end_date (FixMyStreet)."""
    found = open311_updates.search_updates(get_session(), _jurisdiction(), request.args, reader=_reader(),
                                           language=reader_language())
    return render(found, fmt, "service_request_updates")


@bp.route("/<path:rest>", methods=["GET", "POST"])
def unknown(rest: str):
    """Anything else under /open311/v2/: a 404 in the Open311 error format."""
    raise NotFound(N_("nessun endpoint Open311 %(path)s: usa discovery, services, services/{code}, requests, "
                      "requests/{id}, tokens/{token} o servicerequestupdates, ciascuno terminante in .json o .xml"),
                   path=repr(rest))
