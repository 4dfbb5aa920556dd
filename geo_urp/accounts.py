"""Logins and API keys: creation and verification, secrets hashed at rest.

Passwords use Argon2 (slow on purpose); API keys are 256-bit random tokens, so a
SHA-256 of them is enough and lets a request find its key in one indexed lookup.
"""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from geo_urp import language as languages
from geo_urp import municipalities
from geo_urp.errors import BadInput
from geo_urp.models import ApiKey, Crew, Municipality, User
from geo_urp.models.auth import KEY_ROLES, USER_ROLES

_hasher = PasswordHasher()


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


def create_user(session: Session, username: str, password: str, role: str,
                crew_id: str | None = None, municipality: str | None = None, language: str = "it") -> User:
    """Create a login whose pages speak ``language``; the password is stored as an Argon2 hash."""
    if role not in USER_ROLES:
        raise BadInput(f"role must be one of {', '.join(USER_ROLES)}, not {role!r}")
    if language not in languages.LANGUAGES:
        raise BadInput(f"language must be one of {', '.join(languages.LANGUAGES)}, not {language!r}")
    mid = _check_crew(session, role, crew_id, municipalities.id_of(session, municipality))
    if len(password) < 8:
        raise BadInput("password must have at least 8 characters")
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise BadInput(f"user {username!r} already exists")
    user = User(username=username, password_hash=_hasher.hash(password), role=role,
                crew_id=crew_id, municipality_id=mid, language=language)
    session.add(user)
    session.flush()
    return user


def authenticate(session: Session, username: str, password: str) -> User | None:
    """The active user with these credentials, else None."""
    user = session.scalar(select(User).where(User.username == username, User.active.is_(True)))
    if user is None:
        return None
    try:
        _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return None
    return user
