"""The Flask application factory: settings, extensions, blueprints, error handlers, commands."""
from __future__ import annotations

from datetime import timedelta

from flask import Flask, session
from flask_login import user_logged_in

from geo_urp import settings


def create_app(config: dict | None = None) -> Flask:
    """Build the Flask application; ``config`` overrides settings read from the environment."""
    app = Flask(__name__, template_folder=str(settings.PROJECT_ROOT / "templates"))
    app.config.update(SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax", SESSION_REFRESH_EACH_REQUEST=True)
    app.config.from_mapping(settings.from_env())
    if config:
        app.config.update(config)
    register_logging(app)
    register_sessions(app)
    register_extensions(app)
    register_security(app)
    register_blueprints(app)
    register_errorhandlers(app)
    register_commands(app)
    return app


def register_logging(app: Flask) -> None:
    """Log lines as ``LOG_FORMAT`` says (``geo_urp.logs``), and one line per request, first of all
    hooks so that every answer is logged (``showing.request_log``)."""
    from geo_urp import logs
    from geo_urp.showing import request_log

    logs.setup(app.config["LOG_FORMAT"], app.config["LOG_LEVEL"])
    request_log.register(app)


def _idle_clock_starts(_app: Flask, **_extra) -> None:
    # Flask-Login's user_logged_in signal: from now on the cookie lapses when left unused.
    session.permanent = True


def register_sessions(app: Flask) -> None:
    """A login session lapses after ``SESSION_IDLE_MINUTES`` without a request.

    Flask's own mechanism: a login makes its session permanent, so the cookie (HttpOnly,
    SameSite=Lax) is signed anew on every request (``SESSION_REFRESH_EACH_REQUEST``), and
    Flask refuses a cookie signed longer ago than ``PERMANENT_SESSION_LIFETIME``, the idle
    time, whatever the browser kept. A session without a login is not permanent: a request
    with an API key gets no cookie, the login form's cookie ends with the browser (and is
    refused after the idle time too). Flask-Login's remember-me cookie is not used.
    """
    app.config["PERMANENT_SESSION_LIFETIME"] = timedelta(minutes=float(app.config["SESSION_IDLE_MINUTES"]))
    user_logged_in.connect(_idle_clock_starts, app)


# Answers a browser or client may take compressed (Flask-Compress: zstd, Brotli or gzip, whichever
# the request accepts; none under 500 bytes): pages whose map carries the town's layers, the
# incidents' GeoJSON, Open311 lists, scripts and styles. A quiet poll stays as it is.
COMPRESSED_TYPES = ["text/html", "text/css", "text/javascript", "application/javascript", "application/json",
                    "application/geo+json", "application/xml", "text/xml", "text/csv", "image/svg+xml"]


def register_extensions(app: Flask) -> None:
    """Bind the database, the session cookie, the login/CSRF and compression extensions, the languages."""
    from geo_urp.showing import database
    from geo_urp.showing.extensions import CookieSessions, compress, csrf, login_manager

    app.session_interface = CookieSessions()
    database.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "pages.login"
    csrf.init_app(app)
    app.config.setdefault("COMPRESS_MIMETYPES", COMPRESSED_TYPES)
    compress.init_app(app)
    register_languages(app)


def register_languages(app: Flask) -> None:
    """Flask-Babel over the catalogs of ``geo_urp.language`` (compiled first when they changed): each
    request in its reader's language (``auth.reader_language``), times in the towns' zone."""
    from geo_urp import language
    from geo_urp.showing.auth import reader_language
    from geo_urp.showing.extensions import babel

    language.compile_catalogs()
    app.config.setdefault("BABEL_DEFAULT_LOCALE", language.DEFAULT)
    app.config.setdefault("BABEL_DEFAULT_TIMEZONE", settings.local_zone().key)
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(language.TRANSLATIONS))
    babel.init_app(app, locale_selector=reader_language)


def register_security(app: Flask) -> None:
    """Safety headers and no caching of personal data (``showing.security``)."""
    from geo_urp.showing import security

    security.register(app)


def register_blueprints(app: Flask) -> None:
    """Attach every page and API blueprint."""
    from geo_urp.showing import blueprints

    for bp in blueprints():
        app.register_blueprint(bp)


def register_errorhandlers(app: Flask) -> None:
    """Turn domain errors into responses in one place."""
    from geo_urp.showing.errors import register

    register(app)


def register_commands(app: Flask) -> None:
    """Register the command groups of ``python -m geo_urp``."""
    from geo_urp.cli import register

    register(app)
