"""The request's database session: opened on first use, closed when the request ends."""
from __future__ import annotations

from flask import Flask, current_app, g
from sqlalchemy.orm import Session

from geo_urp.db import session_factory


def get_session() -> Session:
    """The current request's session."""
    if "db_session" not in g:
        g.db_session = session_factory(current_app.config["DATABASE_URL"])()
    return g.db_session


def close_session(_exc: BaseException | None = None) -> None:
    """Close the request's session, discarding anything uncommitted."""
    session = g.pop("db_session", None)
    if session is not None:
        session.close()


def init_app(app: Flask) -> None:
    """Close each request's session when the request ends."""
    app.teardown_appcontext(close_session)
