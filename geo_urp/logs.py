"""Log lines of the service and the worker: JSON objects, one a line, or text for a terminal.

``setup`` sends every logger's records to standard error in the format ``LOG_FORMAT`` names
(``settings.log_format``: ``json`` by default off a terminal, ``text`` on one). A JSON line holds
``time`` (UTC, ISO 8601), ``level``, ``logger`` and ``message``, the fields in ``FIELDS`` a
record carries (the request log's: ``showing.request_log``), and ``exception`` when there is
one. What goes in is chosen where a line is written: paths without their query strings, never a
caller's words or contact.
"""
from __future__ import annotations

import json
import logging
import sys
from datetime import datetime, timezone

FORMATS = ("json", "text")
# Fields a record may carry (``extra=``) that a JSON line keeps, in this order.
FIELDS = ("request_id", "method", "path", "status", "duration_ms", "job", "count")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# Libraries' loggers whose INFO lines tell an operator nothing (Alembic lists its plugins on every run).
QUIET = {"alembic.runtime.plugins": logging.WARNING}


class JsonLines(logging.Formatter):
    """One JSON object a record, on one line."""

    def format(self, record: logging.LogRecord) -> str:
        line = {"time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
                "level": record.levelname, "logger": record.name, "message": record.getMessage()}
        line.update({k: getattr(record, k) for k in FIELDS if hasattr(record, k)})
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


class _Stderr(logging.StreamHandler):
    """Standard error as it is when a record is written (a test's capture, a redirected stream)."""

    def __init__(self) -> None:
        super().__init__()

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, _value) -> None:
        pass


def setup(fmt: str = "text", level: str = "INFO") -> None:
    """Send the records of every logger at ``level`` or above to standard error as ``fmt``
    (``json`` or ``text``); called again, it replaces its own handler, not others'."""
    if fmt not in FORMATS:
        raise ValueError(f"LOG_FORMAT {fmt!r}: expected one of {', '.join(FORMATS)}")
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _Stderr)]:
        root.removeHandler(old)
    handler = _Stderr()
    handler.setFormatter(JsonLines() if fmt == "json" else logging.Formatter(TEXT_FORMAT))
    root.addHandler(handler)
    root.setLevel(level)
    for name, least in QUIET.items():
        logging.getLogger(name).setLevel(least)
