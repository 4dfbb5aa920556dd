"""Logins and API keys, each with a role (SPEC §6); secrets are stored hashed."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, func
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
