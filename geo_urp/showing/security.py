"""The headers every answer carries for its browser's safety (Flask-Talisman), and no caching of
anything but the vendored and static files.

- **Content-Security-Policy**: everything from the service itself; scripts and styles may be
  inline (Folium writes a map as inline scripts) but never from elsewhere; images also as
  ``data:`` URIs (Leaflet's) and from the tile server when ``MAP_TILES_URL`` names one;
  ``frame-ancestors 'none'`` (no page in another site's frame), forms post only here.
- ``X-Frame-Options: DENY``, ``X-Content-Type-Options: nosniff``,
  ``Referrer-Policy: same-origin``.
- ``Cache-Control: no-store`` on pages and APIs: they may carry callers' personal data.
- ``HTTPS`` set (the service behind TLS): the session cookie is ``Secure`` and answers carry
  ``Strict-Transport-Security``; plain-HTTP requests are not redirected here (the proxy does).
"""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, request
from flask_talisman import Talisman

CACHEABLE_ENDPOINTS = ("assets.vendor", "static")


def policy(tiles_url: str) -> dict:
    """The Content-Security-Policy for a service whose tiles (if any) come from ``tiles_url``."""
    images = ["'self'", "data:"]
    if tiles_url:
        parts = urlsplit(tiles_url)
        # Leaflet's "{s}." is one of the server's subdomains: any of them.
        host = "*." + parts.netloc[4:] if parts.netloc.startswith("{s}.") else parts.netloc
        images.append(f"{parts.scheme}://{host}")
    return {"default-src": "'self'", "script-src": ["'self'", "'unsafe-inline'"],
            "style-src": ["'self'", "'unsafe-inline'"], "img-src": images, "connect-src": "'self'",
            "font-src": "'self'", "object-src": "'none'", "base-uri": "'self'", "form-action": "'self'",
            "frame-ancestors": "'none'"}


def _no_store(response):
    if request.endpoint not in CACHEABLE_ENDPOINTS:
        response.headers.setdefault("Cache-Control", "no-store")
    return response


def register(app: Flask) -> None:
    """Put the headers on every answer of ``app``."""
    https = bool(app.config.get("HTTPS"))
    Talisman(app, force_https=False, strict_transport_security=https, session_cookie_secure=https,
             frame_options="DENY", referrer_policy="same-origin",
             content_security_policy=policy(app.config.get("MAP_TILES_URL", "")),
             permissions_policy={"geolocation": "()", "camera": "()", "microphone": "()"})
    app.after_request(_no_store)
