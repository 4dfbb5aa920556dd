"""Domain errors to HTTP responses, in one place.

An error's ``{"error": …}`` text is in its reader's language as Open311's are (``api_text``: a login's
own, on ``/api/`` and on a page's form alike; for a key or nobody on ``/api/`` the best of
``Accept-Language``; asked for neither, English as always); the JSON's shape, the status and
``details`` (each naming its field) are the same in every language.
"""
from __future__ import annotations

import re

from flask import Flask, jsonify, redirect, request, url_for
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import InternalServerError, MethodNotAllowed, RequestEntityTooLarge
from werkzeug.exceptions import NotFound as HTTPNotFound

from geo_urp.errors import BadInput, GeoUrpError
from geo_urp.language import N_
from geo_urp.showing.auth import error_language, reader_language

# Characters PostgreSQL cannot store in text: NUL, and UTF-16 halves that came alone through JSON.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
_SURROGATE = re.compile("[\ud800-\udfff]")


def _as_named(name: str) -> str:
    """A field's name as an error can carry it: a lone surrogate written as JSON writes it
    (``\\ud800``), since no UTF-8 answer, JSON or XML, can hold the character itself."""
    return _SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", name)


def _unstorable_field(values, name: str = "") -> str | None:
    """The name of the first field (or path) whose text holds an unstorable character, else None."""
    if isinstance(values, str):
        return name or "request" if _UNSTORABLE.search(values) else None
    if isinstance(values, dict):
        for key, value in values.items():
            found = _unstorable_field(str(key), name or str(key)) or _unstorable_field(value, name or str(key))
            if found:
                return found
    if isinstance(values, list):
        for value in values:
            found = _unstorable_field(value, name)
            if found:
                return found
    return None


def _unstorable_pair(pairs) -> str | None:
    """``_unstorable_field`` for the (name, value) text pairs of a query string or form: the name
    of the first field whose name or value holds an unstorable character, else None."""
    for key, value in pairs:
        if _UNSTORABLE.search(key) or _UNSTORABLE.search(value):
            return key or "request"
    return None


MACHINE_PREFIXES = ("/api/", "/open311/")
# How long a client should wait before trying again when the database is unreachable.
RETRY_AFTER_S = 5


# SQLSTATEs of a server that is going away or cannot take a connection: admin, crash or
# cannot-connect-now shutdowns, too many connections. Class 08 is any connection exception.
_GONE_STATES = {"57P01", "57P02", "57P03", "53300"}


def database_unreachable(exc: Exception) -> bool:
    """Whether an error means the database cannot be reached now (down, restarting, the link cut,
    every pooled connection busy), not that a statement was wrong: a deadlock, a timeout or a
    broken constraint is a fault of its own and stays a 500, logged in full."""
    if isinstance(exc, PoolTimeout):
        return True
    if not isinstance(exc, DBAPIError):
        return False
    if exc.connection_invalidated:
        return True
    state = getattr(exc.orig, "pgcode", None)
    if state is None:  # no answer from a server at all: the connection could not be made or was lost
        return type(exc.orig).__name__ in ("OperationalError", "InterfaceError")
    return state.startswith("08") or state in _GONE_STATES


def api_text(exc: GeoUrpError) -> str:
    """``exc``'s text for a JSON error answer: in the language the request asks for, else English
    (also when the database that holds a login's language is what failed: ``auth.asked_language``)."""
    return exc.in_language(error_language())


def register(app: Flask) -> None:
    """Install the handler for ``GeoUrpError`` (JSON ``{"error": …}``; pages send 401s to the login)."""

    @app.errorhandler(GeoUrpError)
    def _domain_error(exc: GeoUrpError):
        if exc.status == 401 and not request.path.startswith(MACHINE_PREFIXES):
            return redirect(url_for("pages.login", next=request.path))
        body = {"error": api_text(exc)}
        if exc.details:
            body["details"] = exc.details
        return jsonify(body), exc.status

    @app.before_request
    def _refuse_too_many_fields():
        # Werkzeug counts the parts of a multipart form only: count an urlencoded form and the query too.
        limit = app.config["MAX_FORM_PARTS"]
        if (sum(1 for _ in request.args.items(multi=True)) > limit
                or sum(1 for _ in request.form.items(multi=True)) > limit):
            raise RequestEntityTooLarge()

    @app.before_request
    def _refuse_unstorable_text():
        # Refused before any handler runs, so nothing is read or written with it.
        try:
            found = (_unstorable_field(request.path, "path")
                     or _unstorable_pair(request.args.items(multi=True))
                     or _unstorable_pair(request.form.items(multi=True))
                     or _unstorable_field(request.get_json(silent=True) if request.is_json else None))
        except RecursionError:
            # JSON nested thousands deep: the parser gives up with RecursionError, not a ValueError.
            raise BadInput(N_("il corpo della richiesta è annidato troppo in profondità per essere letto"),
                           details=[{"field": "request"}]) from None
        if found:
            found = _as_named(found)
            raise BadInput(N_("%(field)s contiene un carattere che non si può conservare (un byte NUL o un "
                              "surrogato UTF-16 isolato)"), field=found, details=[{"field": found}])

    @app.errorhandler(DBAPIError)
    @app.errorhandler(PoolTimeout)
    def _database_unavailable(exc: Exception):
        # The request may not have been carried out; a client that retries (an Open311 POST with
        # its Idempotency-Key) gets the same request, never a second one. Any other database
        # error is a fault: a 500, logged with its traceback.
        if not database_unreachable(exc):
            raise exc
        app.logger.warning("database unreachable: %s", getattr(exc, "orig", exc))
        unreachable = GeoUrpError(N_("il database non è raggiungibile; la richiesta potrebbe non essere stata "
                                     "eseguita: riprova tra poco (un POST Open311 con la stessa Idempotency-Key "
                                     "si può ripetere senza rischi)"), status=503)
        if request.path.startswith("/open311/"):
            from geo_urp.showing.open311_language import error_of

            response = error_of(unreachable, "xml" if request.path.endswith(".xml") else "json")
        elif request.path.startswith("/api/"):
            response = jsonify(error=api_text(unreachable)), 503
        else:
            # a page's reader: in the login's language, Italian when it cannot be read (or no login)
            response = unreachable.in_language(reader_language()), 503, {"Content-Type": "text/plain; charset=utf-8"}
        response = app.make_response(response)
        response.headers["Retry-After"] = str(RETRY_AFTER_S)
        return response

    @app.errorhandler(MethodNotAllowed)
    def _wrong_method(exc: MethodNotAllowed):
        # Raised while routing, before any blueprint is chosen: answer machine paths in their own format.
        if request.path.startswith("/open311/"):
            from geo_urp.showing.open311_language import error_answer

            return error_answer(405, N_("%(method)s non è ammesso qui"), "xml" if request.path.endswith(".xml")
                                else "json", method=request.method)
        if request.path.startswith("/api/"):
            return jsonify(error=api_text(GeoUrpError(N_("%(method)s non è ammesso qui"), method=request.method))), 405
        return exc

    @app.errorhandler(RequestEntityTooLarge)
    def _too_large(exc: RequestEntityTooLarge):
        # Refused before it is read whole: too many bytes (MAX_CONTENT_LENGTH) or form fields (MAX_FORM_PARTS).
        too_large = GeoUrpError(N_("la richiesta è troppo grande: al massimo %(bytes)s byte e %(parts)s campi "
                                   "del modulo"), status=413, bytes=app.config["MAX_CONTENT_LENGTH"],
                                parts=app.config["MAX_FORM_PARTS"])
        if request.path.startswith("/open311/"):
            from geo_urp.showing.open311_language import error_of

            return error_of(too_large, "xml" if request.path.endswith(".xml") else "json")
        if request.path.startswith("/api/"):
            return jsonify(error=api_text(too_large), details=[{"field": "request"}]), 413
        return too_large.in_language(reader_language()), 413, {"Content-Type": "text/plain; charset=utf-8"}

    @app.errorhandler(HTTPNotFound)
    def _no_such_path(exc: HTTPNotFound):
        if request.path.startswith("/api/"):
            return jsonify(error=api_text(GeoUrpError(N_("nessuna route API %(path)s; GET /openapi.json le elenca"),
                                                      path=request.path))), 404
        return exc

    @app.errorhandler(InternalServerError)
    def _server_error(exc: InternalServerError):
        # The cause is in the log (Flask logs it before calling this); the client gets no internals.
        if request.path.startswith("/api/"):
            return jsonify(error=api_text(GeoUrpError(N_("errore interno: la richiesta non è stata eseguita; è "
                                                         "registrato nel log")))), 500
        return exc
