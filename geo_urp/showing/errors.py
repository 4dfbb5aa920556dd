"""Domain errors to HTTP responses, in one place."""
from __future__ import annotations

from flask import Flask, jsonify, redirect, request, url_for

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
