"""Logins and API keys: creation and verification, secrets hashed at rest.

Passwords use Argon2 (slow on purpose); API keys are 256-bit random tokens, so a
SHA-256 of them is enough and lets a request find its key in one indexed lookup.

The login form is throttled in PostgreSQL, the store every worker shares: each refused
password is a ``LoginFailure`` row, and a name with ``ACCOUNT_LIMIT`` failures, or an address
with ``ADDRESS_LIMIT``, within ``FAILURE_WINDOW`` is refused (``TooManyAttempts``, the right
password too) until enough of them are older than the window. A login session is
``user id:session epoch:session id``: logging out revokes its session id
(``RevokedLogin``), a new password raises the epoch and so ends every session of the login.
"""
from __future__ import annotations

import hashlib
import math
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, exists, func, select
from sqlalchemy.orm import Session

from geo_urp import language as languages
from geo_urp import municipalities
from geo_urp.errors import BadInput, GeoUrpError
from geo_urp.models import ApiKey, Crew, Municipality, User
from geo_urp.models.auth import KEY_ROLES, USER_ROLES, LoginFailure, RevokedLogin

_hasher = PasswordHasher()
# A name refused this many times within the window is refused whoever asks; an address this many
# times (over any names) is refused whatever it asks for.
ACCOUNT_LIMIT = 5
ADDRESS_LIMIT = 20
FAILURE_WINDOW = timedelta(minutes=15)
# Advisory lock class of one login name (the classes of locks.py are 7311 and 7312).
_LOGIN_LOCK = 7313


class TooManyAttempts(GeoUrpError):
    """Too many failed logins for this name or from this address: try again in ``retry_after`` s."""

    status = 429

    def __init__(self, retry_after: int):
        super().__init__(f"too many failed logins: try again in {retry_after} s")
        self.retry_after = retry_after


@dataclass(frozen=True)
class Principal:
    """Who is asking: a role, and the municipality and crew it is bound to (None: all)."""

    role: str
    municipality_id: int | None = None
    crew_id: str | None = None
    name: str = ""


def hash_key(key: str) -> str:
    """The stored form of an API key."""
    return hashlib.sha256(key.encode()).hexdigest()


def _check_crew(session: Session, role: str, crew_id: str | None, municipality_id: int | None) -> int | None:
    """A crew principal needs a crew that exists; other roles take none. Returns the municipality
    the principal is bound to: a crew is always bound to its own (crew ids are a town's own
    names, and two towns may both have a crew ``ACQUA``), found when not given and unambiguous."""
    if role != "crew":
        if crew_id:
            raise BadInput(f"--crew is only for the crew role, not for {role}")
        return municipality_id
    if not crew_id:
        raise BadInput("a crew key or login needs --crew CREW_ID: it sees only that crew's work")
    query = select(Municipality.id, Municipality.slug).join(Crew, Crew.municipality_id == Municipality.id).where(
        Crew.crew_id == crew_id)
    if municipality_id is not None:
        query = query.where(Crew.municipality_id == municipality_id)
    towns = session.execute(query.order_by(Municipality.slug)).all()
    if not towns:
        where = "" if municipality_id is None else " in that municipality"
        raise BadInput(f"no crew {crew_id!r}{where}: load it with the layers (crews.csv) first")
    if len(towns) > 1:
        raise BadInput(f"crew {crew_id!r} exists in {', '.join(t.slug for t in towns)}: "
                       "say which with --municipality SLUG")
    return towns[0].id


def create_api_key(session: Session, role: str, municipality: str | None = None,
                   crew_id: str | None = None, label: str | None = None) -> str:
    """Create an API key with ``role`` and return it; only its hash is stored."""
    if role not in KEY_ROLES:
        raise BadInput(f"role must be one of {', '.join(KEY_ROLES)}, not {role!r}")
    mid = _check_crew(session, role, crew_id, municipalities.id_of(session, municipality))
    key = "gu_" + secrets.token_urlsafe(32)
    session.add(ApiKey(key_hash=hash_key(key), prefix=key[:10], role=role, crew_id=crew_id,
                       municipality_id=mid, label=label))
    session.flush()
    return key


def key_for(session: Session, key: str) -> ApiKey | None:
    """The stored API key ``key`` stands for, when it is valid and not revoked, else None."""
    return session.scalar(select(ApiKey).where(ApiKey.key_hash == hash_key(key), ApiKey.revoked_at.is_(None)))


def principal_for_key(session: Session, key: str) -> Principal | None:
    """The principal of a valid, unrevoked API key, else None."""
    row = key_for(session, key)
    if row is None:
        return None
    return Principal(row.role, row.municipality_id, row.crew_id, f"key:{row.prefix}")


def _check_password(password: str) -> None:
    if len(password) < 8:
        raise BadInput("password must have at least 8 characters")


def create_user(session: Session, username: str, password: str, role: str,
                crew_id: str | None = None, municipality: str | None = None, language: str = "it") -> User:
    """Create a login whose pages speak ``language``; the password is stored as an Argon2 hash."""
    if role not in USER_ROLES:
        raise BadInput(f"role must be one of {', '.join(USER_ROLES)}, not {role!r}")
    if language not in languages.LANGUAGES:
        raise BadInput(f"language must be one of {', '.join(languages.LANGUAGES)}, not {language!r}")
    mid = _check_crew(session, role, crew_id, municipalities.id_of(session, municipality))
    _check_password(password)
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise BadInput(f"user {username!r} already exists")
    user = User(username=username, password_hash=_hasher.hash(password), role=role,
                crew_id=crew_id, municipality_id=mid, language=language)
    session.add(user)
    session.flush()
    return user


def set_password(session: Session, username: str, password: str) -> User:
    """Give a login a new password; every session it has open is ended (its epoch is raised)."""
    _check_password(password)
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise BadInput(f"no user {username!r}")
    user.password_hash = _hasher.hash(password)
    user.session_epoch += 1
    session.flush()
    return user


@cache
def _unknown_user_hash() -> str:
    # A hash of a secret no one knows, made as a real one is: checking a password against it costs
    # what checking a real one does, and always fails.
    return _hasher.hash(secrets.token_urlsafe(32))


def authenticate(session: Session, username: str, password: str) -> User | None:
    """The active user with these credentials, else None.

    Always one Argon2 verification: a name that is unknown or inactive is checked against a
    hash of a random secret, so the time of the answer does not tell which names exist (the
    first such check in a process also makes that hash).
    """
    user = session.scalar(select(User).where(User.username == username))
    known = user is not None and user.active
    try:
        _hasher.verify(user.password_hash if known else _unknown_user_hash(), password)
    except (VerificationError, InvalidHashError):
        return None
    return user if known else None


def _wait(session: Session, name: str, address: str, now: datetime) -> int:
    """Seconds until neither ``name`` nor ``address`` has its limit of failures within the window."""
    waits = [0.0]
    for column, value, limit in ((LoginFailure.username, name, ACCOUNT_LIMIT),
                                 (LoginFailure.address, address, ADDRESS_LIMIT)):
        # The limit-th most recent failure: once it is out of the window, fewer than the limit are in.
        oldest_counted = session.scalar(
            select(LoginFailure.at).where(column == value, LoginFailure.at > now - FAILURE_WINDOW)
            .order_by(LoginFailure.at.desc()).offset(limit - 1).limit(1))
        if oldest_counted is not None:
            waits.append((oldest_counted + FAILURE_WINDOW - now).total_seconds())
    return math.ceil(max(waits))


def attempt_login(session: Session, username: str, password: str, address: str,
                  now: datetime | None = None) -> User | None:
    """The login form's check: the active user with these credentials, else None.

    Raises ``TooManyAttempts`` (before any password is checked) while ``username`` (in any
    case) or ``address`` is throttled. A refused password is recorded as a failure and failures
    older than the window are deleted; a login that succeeds deletes its name's failures. The
    caller commits. Attempts at one name wait for each other (an advisory lock until commit),
    so workers at once cannot check more than the limit of passwords for it; ``now`` is the
    database's clock unless given.
    """
    name = username.casefold()
    session.execute(select(func.pg_advisory_xact_lock(_LOGIN_LOCK, func.hashtext(name))))
    now = now or session.scalar(select(func.now()))
    wait = _wait(session, name, address, now)
    if wait > 0:
        raise TooManyAttempts(wait)
    user = authenticate(session, username, password)
    if user is None:
        session.execute(delete(LoginFailure).where(LoginFailure.at <= now - FAILURE_WINDOW))
        session.add(LoginFailure(username=name, address=address, at=now))
        session.flush()
    elif session.scalar(select(exists().where(LoginFailure.username == name))):
        # Only then: a login without failures writes nothing.
        session.execute(delete(LoginFailure).where(LoginFailure.username == name))
    return user


def new_session_id() -> str:
    """A random id for a new login session."""
    return secrets.token_urlsafe(16)


def session_user(session: Session, user_id: int, epoch: int, sid: str) -> User | None:
    """The user of a login session, if the session still stands: the user active, its password
    not changed since (``epoch``), the session not logged out of."""
    return session.scalar(select(User).where(
        User.id == user_id, User.active.is_(True), User.session_epoch == epoch,
        ~exists().where(RevokedLogin.sid == sid)))


def revoke_session(session: Session, sid: str, keep: timedelta) -> None:
    """End a login session: a cookie with its id is refused from now on. Revocations older than
    ``keep`` (the idle time after which the cookie lapses anyway) are deleted."""
    session.execute(delete(RevokedLogin).where(RevokedLogin.revoked_at < func.now() - keep))
    session.merge(RevokedLogin(sid=sid))
    session.flush()
