"""Logins and API keys, each with a role (SPEC §6); secrets are stored hashed."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, String, func
from sqlalchemy.orm import Mapped, mapped_column

from geo_urp.models.base import Base

USER_ROLES = ("operator", "crew", "council", "admin")
# Keys are for software (SPEC §5); administration needs a person logged in.
KEY_ROLES = ("operator", "crew", "council", "public")


class User(Base):
    """A person who logs in; ``municipality_id`` None means every municipality."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    password_hash: Mapped[str]
    role: Mapped[str] = mapped_column(String(16))
    crew_id: Mapped[str | None]
    municipality_id: Mapped[int | None] = mapped_column(
        ForeignKey("municipalities.id", ondelete="CASCADE")
    )
    active: Mapped[bool] = mapped_column(default=True)
    # The language the pages speak to this login (``geo_urp.language.LANGUAGES``).
    language: Mapped[str] = mapped_column(String(8), default="it", server_default="it")
    # Part of every login session's id: raised when the password changes, so every session
    # opened before is refused (``accounts.session_user``).
    session_epoch: Mapped[int] = mapped_column(default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())


class ApiKey(Base):
    """An API key: only its SHA-256 is kept, with a short prefix to recognise it."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(12))
    role: Mapped[str] = mapped_column(String(16))
    crew_id: Mapped[str | None]
    municipality_id: Mapped[int | None] = mapped_column(
        ForeignKey("municipalities.id", ondelete="CASCADE")
    )
    label: Mapped[str | None]
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    revoked_at: Mapped[datetime | None]


class LoginFailure(Base):
    """A login refused for its password (or for a user that does not exist): the name tried, in
    lower case, and the address it came from. The recent ones throttle the login form
    (``accounts.attempt_login``); older ones are deleted as new ones come."""

    __tablename__ = "login_failures"
    __table_args__ = (Index("ix_login_failures_username_at", "username", "at"),
                      Index("ix_login_failures_address_at", "address", "at"))

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    username: Mapped[str] = mapped_column(String(80))
    address: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(server_default=func.now(), index=True)


class RevokedLogin(Base):
    """A login session ended by logging out: a cookie carrying its ``sid`` is refused. Kept as
    long as such a cookie could still be signed fresh enough to be taken (the idle time)."""

    __tablename__ = "revoked_logins"

    sid: Mapped[str] = mapped_column(String(32), primary_key=True)
    revoked_at: Mapped[datetime] = mapped_column(server_default=func.now(), index=True)
