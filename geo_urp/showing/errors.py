"""Domain errors to HTTP responses, in one place."""
from __future__ import annotations

from flask import Flask, jsonify, redirect, request, url_for
from werkzeug.exceptions import MethodNotAllowed

from geo_urp.errors import GeoUrpError

MACHINE_PREFIXES = ("/api/", "/open311/")


def register(app: Flask) -> None:
    """Install the handler for ``GeoUrpError`` (JSON ``{"error": …}``; pages send 401s to the login)."""

    @app.errorhandler(GeoUrpError)
    def _domain_error(exc: GeoUrpError):
        if exc.status == 401 and not request.path.startswith(MACHINE_PREFIXES):
            return redirect(url_for("pages.login", next=request.path))
        body = {"error": exc.message}
        if exc.details:
            body["details"] = exc.details
        return jsonify(body), exc.status

    @app.errorhandler(MethodNotAllowed)
    def _wrong_method(exc: MethodNotAllowed):
        # Raised while routing, before any blueprint is chosen: answer machine paths in their own format.
        if request.path.startswith("/open311/"):
            from geo_urp.showing.open311_format import error

            return error(405, f"{request.method} is not allowed here", "xml" if request.path.endswith(".xml") else "json")
        if request.path.startswith("/api/"):
            return jsonify(error=f"{request.method} is not allowed here"), 405
        return exc
