"""Settings read from the environment, and nothing else.

Every value has a safe default for the embedded mode: a local PostgreSQL with
PostGIS on 127.0.0.1:5432 and a database named ``geo_urp`` that
``scripts/setup`` creates when ``DATABASE_URL`` is unset.
"""
from __future__ import annotations

import os
import secrets
import sys
from pathlib import Path
from zoneinfo import ZoneInfo

# The embedded mode: the service reaches its database as the login role ``geo_urp_app``, which may
# read and write rows and nothing else; migrations and grants run as the owner, ``postgres``
# (``scripts/setup`` makes both: ``db init``, then ``db grant-app``).
EMBEDDED_APP_ROLE = "geo_urp_app"
EMBEDDED_DATABASE_URL = f"postgresql+psycopg2://{EMBEDDED_APP_ROLE}@127.0.0.1:5432/geo_urp"
EMBEDDED_ADMIN_URL = "postgresql+psycopg2://postgres@127.0.0.1:5432/geo_urp"
PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _bool(value: str | None, default: bool = False) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    return float(raw) if raw not in (None, "") else default


def _sqlalchemy_url(url: str) -> str:
    # Heroku-style and plain libpq URLs name the driver implicitly.
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://"):]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg2://" + url[len("postgresql://"):]
    return url


def database_url() -> str:
    """The SQLAlchemy URL the service works on: ``DATABASE_URL`` or the embedded default (as ``geo_urp_app``)."""
    return _sqlalchemy_url(os.environ.get("DATABASE_URL") or EMBEDDED_DATABASE_URL)


def admin_url(app_url: str, admin_setting: str = "") -> str:
    """The URL migrations and grants run on, as the schema's owner: ``DATABASE_ADMIN_URL`` when set;
    else ``postgres`` on ``geo_urp`` in the embedded mode, or the app's own URL (one role does both)."""
    if admin_setting:
        return admin_setting
    return EMBEDDED_ADMIN_URL if app_url == EMBEDDED_DATABASE_URL else app_url


def admin_database_url() -> str:
    """``admin_url`` of the environment's settings."""
    return admin_url(database_url(), _sqlalchemy_url(os.environ.get("DATABASE_ADMIN_URL", "")))


def log_format() -> str:
    """``LOG_FORMAT`` (``json`` or ``text``); unset, text on a terminal and JSON lines anywhere else
    (a service manager, a container: production)."""
    chosen = (os.environ.get("LOG_FORMAT") or "").strip().lower()
    if chosen:
        return chosen
    return "text" if sys.stderr.isatty() else "json"


def local_zone() -> ZoneInfo:
    """The towns' local time (``TIME_ZONE``, default Europe/Rome): the clock operators and callers read."""
    return ZoneInfo(os.environ.get("TIME_ZONE") or "Europe/Rome")


def from_env() -> dict:
    """All settings as a Flask config mapping."""
    return {
        "DATABASE_URL": database_url(),
        # Empty: the owner's URL follows DATABASE_URL (``admin_url``), also when a caller overrides it.
        "DATABASE_ADMIN_URL": _sqlalchemy_url(os.environ.get("DATABASE_ADMIN_URL", "")),
        # Log lines as JSON objects (production) or as text (a terminal): geo_urp/logs.py.
        "LOG_FORMAT": log_format(),
        "LOG_LEVEL": (os.environ.get("LOG_LEVEL") or "INFO").upper(),
        "SECRET_KEY": os.environ.get("SECRET_KEY") or secrets.token_hex(32),
        # A login session ends after this long without a request (a night shift by default).
        "SESSION_IDLE_MINUTES": _float("SESSION_IDLE_MINUTES", 480.0),
        # No request is read past this many bytes, nor a form of more fields (an Open311 POST is
        # a few kB and a few dozen fields; media are links, not uploads): a 413 instead.
        "MAX_CONTENT_LENGTH": int(os.environ.get("MAX_REQUEST_BYTES") or 1_000_000),
        "MAX_FORM_PARTS": int(os.environ.get("MAX_FORM_FIELDS") or 200),
        # A caller's contact is erased this many days after the report closed (acting/erasure.py).
        "CONTACT_RETENTION_DAYS": _float("CONTACT_RETENTION_DAYS", 30.0),
        # Where callers reach the service (its discovery document names it): a setting, never the
        # request's Host header, which any client may write.
        "BASE_URL": (os.environ.get("BASE_URL") or "http://127.0.0.1:8000").rstrip("/"),
        # The service is reached over HTTPS (behind a TLS proxy): Secure cookies and HSTS.
        "HTTPS": _bool(os.environ.get("HTTPS")),
        # Features farther than this from the boundary are rejected at load.
        "LOAD_BOUNDARY_MARGIN_M": _float("LOAD_BOUNDARY_MARGIN_M", 1000.0),
        # Water topology tolerances (SPEC §2).
        "WATER_NODE_TOLERANCE_M": _float("WATER_NODE_TOLERANCE_M", 0.5),
        "WATER_VALVE_TOLERANCE_M": _float("WATER_VALVE_TOLERANCE_M", 1.0),
        "WATER_SOURCE_TOLERANCE_M": _float("WATER_SOURCE_TOLERANCE_M", 25.0),
        # Snapping a report to the assets it concerns (locating/snapping.py).
        "SNAP_LAMP_MAX_M": _float("SNAP_LAMP_MAX_M", 60.0),
        "SNAP_PIPE_MAX_M": _float("SNAP_PIPE_MAX_M", 80.0),
        "SNAP_STREET_MAX_M": _float("SNAP_STREET_MAX_M", 150.0),
        # A report's point may lie this far outside the municipality's boundary.
        "INTAKE_BOUNDARY_MARGIN_M": _float("INTAKE_BOUNDARY_MARGIN_M", 200.0),
        "SMTP_HOST": os.environ.get("SMTP_HOST", ""),
        "SMTP_PORT": int(os.environ.get("SMTP_PORT", "25")),
        "SMTP_USER": os.environ.get("SMTP_USER", ""),
        "SMTP_PASSWORD": os.environ.get("SMTP_PASSWORD", ""),
        "SMTP_FROM": os.environ.get("SMTP_FROM", "geo_urp@localhost"),
        "SMTP_STARTTLS": _bool(os.environ.get("SMTP_STARTTLS")),
        "SMS_GATEWAY_URL": os.environ.get("SMS_GATEWAY_URL", ""),
        "SMS_GATEWAY_TOKEN": os.environ.get("SMS_GATEWAY_TOKEN", ""),
        # The outbox of closing messages (acting/outbox.py). A claim outlives the longest send
        # (OUTBOX_SEND_TIMEOUT_S, the SMTP and gateway timeouts), so no live send is taken over.
        "OUTBOX_SEND_TIMEOUT_S": _float("OUTBOX_SEND_TIMEOUT_S", 30.0),
        "OUTBOX_CLAIM_S": _float("OUTBOX_CLAIM_S", 120.0),
        "OUTBOX_RETRY_BASE_S": _float("OUTBOX_RETRY_BASE_S", 30.0),
        "OUTBOX_RETRY_MAX_S": _float("OUTBOX_RETRY_MAX_S", 3600.0),
        "OUTBOX_MAX_ATTEMPTS": int(os.environ.get("OUTBOX_MAX_ATTEMPTS") or 10),
        "OUTBOX_BATCH": int(os.environ.get("OUTBOX_BATCH") or 50),
        "MAP_TILES_URL": os.environ.get("MAP_TILES_URL", ""),
        "MAP_TILES_ATTRIBUTION": os.environ.get("MAP_TILES_ATTRIBUTION", ""),
    }
