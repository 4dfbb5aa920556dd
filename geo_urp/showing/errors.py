"""Domain errors to HTTP responses, in one place."""
from __future__ import annotations

from flask import Flask, jsonify

from geo_urp.errors import GeoUrpError


def register(app: Flask) -> None:
    """Install the handler for ``GeoUrpError`` (JSON ``{"error": …}``)."""

    @app.errorhandler(GeoUrpError)
    def _domain_error(exc: GeoUrpError):
        body = {"error": exc.message}
        if exc.details:
            body["details"] = exc.details
        return jsonify(body), exc.status
