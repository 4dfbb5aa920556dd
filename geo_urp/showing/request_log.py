"""One log line per request: its id, method, path (never the query string), status and duration.

The id is the caller's ``X-Request-ID`` when it is a plain token (a proxy's), else a new one;
the answer carries it back, so a complaint can be matched with its line. Nothing of the body or
the query string is written: they hold API keys and callers' words and contacts.
"""
from __future__ import annotations

import logging
import re
import time
import uuid

from flask import Flask, Response, g, request

log = logging.getLogger("geo_urp.request")
_PLAIN_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")


def _start() -> None:
    given = request.headers.get("X-Request-ID", "")
    g.request_id = given if _PLAIN_ID.fullmatch(given) else uuid.uuid4().hex
    g.request_started = time.perf_counter()


def _finish(response: Response) -> Response:
    started = g.pop("request_started", None)
    if started is None:  # a request that failed before it was stamped
        return response
    duration_ms = round((time.perf_counter() - started) * 1000, 1)
    response.headers["X-Request-ID"] = g.request_id
    log.log(logging.ERROR if response.status_code >= 500 else logging.INFO,
            "%s %s %d %.1f ms", request.method, request.path, response.status_code, duration_ms,
            extra={"request_id": g.request_id, "method": request.method, "path": request.path,
                   "status": response.status_code, "duration_ms": duration_ms})
    return response


def register(app: Flask) -> None:
    """Stamp each request and log it when its answer leaves."""
    app.before_request(_start)
    app.after_request(_finish)
