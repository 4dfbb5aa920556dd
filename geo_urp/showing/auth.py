"""Who is asking, for every page and ``/api/`` route: a logged-in user or an ``X-API-Key``.

``require(*roles)`` guards a view: 401 without credentials, 403 for a role that
may not (SPEC §6). The principal lands in ``g.principal`` for the view.
"""
from __future__ import annotations

from functools import wraps

from flask import current_app, g, has_request_context, request, session
from flask_login import UserMixin, current_user
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as SQLAlchemyTimeoutError

from geo_urp import language, municipalities
from geo_urp.language import N_
from geo_urp.accounts import Principal, principal_for_key, session_user
from geo_urp.errors import MACHINE_LANGUAGE, Forbidden, GeoUrpError
from geo_urp.models import User
from geo_urp.showing.database import get_session
from geo_urp.showing.extensions import csrf, login_manager


class Unauthorized(GeoUrpError):
    """No credentials, or wrong ones."""

    status = 401


class LoginUser(UserMixin):
    """The Flask-Login face of a ``User`` row in one login session (``sid``).

    Its id, kept in the session cookie, is ``user id:session epoch:sid`` (``accounts``): the
    cookie stands for that one session, which logging out or a new password ends.
    """

    def __init__(self, user: User, sid: str):
        self.id = f"{user.id}:{user.session_epoch}:{sid}"
        self.sid = sid
        self.principal = Principal(user.role, user.municipality_id, user.crew_id, f"user:{user.username}")
        self.language = language.language_of(user.language)


# Flask-Login's keys in the session: dropped from a session that no longer stands.
_LOGIN_KEYS = ("_user_id", "_fresh", "_id")


@login_manager.user_loader
def _load_user(session_id: str) -> LoginUser | None:
    """The login of a session that still stands (``accounts.session_user``), else None.

    A session refused loses its login, so the cookie this request sends back is no longer
    one of it: a copy kept of the old cookie is refused too, and lapses with the idle time.
    """
    parts = session_id.split(":")
    user = None
    if len(parts) == 3 and all(p.isascii() and p.isdigit() for p in parts[:2]) and parts[2]:
        user = session_user(get_session(), int(parts[0]), int(parts[1]), parts[2])
    if user is None:
        for key in _LOGIN_KEYS:
            session.pop(key, None)
        return None
    return LoginUser(user, parts[2])


def current_principal() -> Principal | None:
    """The principal of this request, from its API key or its login session.

    A change asked with the session cookie must carry the page's CSRF token
    (form field or ``X-CSRFToken`` header): a cookie rides along on requests
    other sites make, an API key does not.
    """
    key = request.headers.get("X-API-Key")
    if key:
        return principal_for_key(get_session(), key)
    if current_user.is_authenticated:
        if current_app.config.get("WTF_CSRF_ENABLED", True):
            csrf.protect()
        return current_user.principal
    return None


# The machine interfaces, whose clients say their language in Accept-Language.
MACHINE_PATHS = ("/api/", "/open311/")


def asked_language() -> str | None:
    """The language this request asks for: a login's own; for a machine interface (``/api/``,
    ``/open311/``) asked without a login (an API key, nobody), the best of its
    ``Accept-Language``; else (a page without a login, outside a request, no language the
    service speaks) None."""
    if not has_request_context():
        return None
    if not request.headers.get("X-API-Key") and _logged_in():
        return current_user.language
    if request.path.startswith(MACHINE_PATHS):
        return request.accept_languages.best_match(language.LANGUAGES)
    return None


def _logged_in() -> bool:
    """Whether a login reads this request. Loading it reads the database: when that is what failed
    (the answer to the failure is being written), there is no login to read, and the answer is in
    the default language rather than a second failure."""
    try:
        return bool(current_user.is_authenticated)
    except (DBAPIError, SQLAlchemyTimeoutError):
        return False


def reader_language() -> str:
    """The language this request is answered in: the one it asks for, else Italian."""
    return asked_language() or language.DEFAULT


def error_language() -> str:
    """The language of an error's text for a machine reader (``/api/``, Open311): the one the
    request asks for, else English (``errors.MACHINE_LANGUAGE``), as error texts always were."""
    return asked_language() or MACHINE_LANGUAGE


def require(*roles: str):
    """Let the view run only for a principal with one of ``roles`` (admin always may)."""
    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            principal = current_principal()
            if principal is None:
                raise Unauthorized(N_("accedi o invia un'intestazione X-API-Key valida"))
            if principal.role != "admin" and principal.role not in roles:
                raise Forbidden(N_("il ruolo %(role)s non può farlo"), role=principal.role)
            g.principal = principal
            return view(*args, **kwargs)
        return wrapped
    return decorator


def municipality_ids(principal: Principal, jurisdiction_id: str | None) -> list[int]:
    """The municipalities a request covers: the one named, within what the principal may see."""
    return municipalities.ids_within(get_session(), principal.municipality_id, jurisdiction_id)
