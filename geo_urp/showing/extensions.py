"""Unbound Flask extension singletons, bound in ``create_app``, and the session cookie's handling."""
from flask import Flask, Request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from flask_babel import Babel
from flask_compress import Compress
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect

login_manager = LoginManager()
csrf = CSRFProtect()
compress = Compress()
babel = Babel()


class CookieSessions(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, except that a request carrying no session cookie (every
    machine client: Open311, API keys) gets its empty session at once, without a signing
    serializer made for it first (a measurable share of an Open311 POST's time)."""

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if app.secret_key and not request.cookies.get(self.get_cookie_name(app)):
            return self.session_class()
        return super().open_session(app, request)
