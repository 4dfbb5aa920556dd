"""The Flask application factory: settings, extensions, blueprints, error handlers, commands."""
from __future__ import annotations

from flask import Flask

from geo_urp import settings


def create_app(config: dict | None = None) -> Flask:
    """Build the Flask application; ``config`` overrides settings read from the environment."""
    app = Flask(__name__, template_folder=str(settings.PROJECT_ROOT / "templates"))
    app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    app.config.from_mapping(settings.from_env())
    if config:
        app.config.update(config)
    register_extensions(app)
    register_blueprints(app)
    register_errorhandlers(app)
    register_commands(app)
    return app


def register_extensions(app: Flask) -> None:
    """Bind the database, the session cookie and the login/CSRF extensions."""
    from geo_urp.showing import database
    from geo_urp.showing.extensions import CookieSessions, csrf, login_manager

    app.session_interface = CookieSessions()
    database.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "pages.login"
    csrf.init_app(app)


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
