"""Domain errors that carry their HTTP status.

Services raise these and know nothing of Flask; ``register_errorhandlers`` in
the app factory turns them into responses in one place.
"""
from __future__ import annotations


class GeoUrpError(Exception):
    """Base of every error the service reports to a user."""

    status = 400

    def __init__(self, message: str, *, status: int | None = None, details: list | None = None):
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status
        self.details = details or []


class BadInput(GeoUrpError):
    """The input was malformed or refers to something invalid."""

    status = 400


class NotFound(GeoUrpError):
    """The thing asked for does not exist (in this municipality)."""

    status = 404


class Forbidden(GeoUrpError):
    """The caller's role may not do this."""

    status = 403


class LayerLoadError(GeoUrpError):
    """A layer folder could not be loaded; nothing was changed."""

    status = 400


class Unprocessable(GeoUrpError):
    """Well formed, but contradicting what was stored before (a retry key reused for another call)."""

    status = 422


class Conflict(GeoUrpError):
    """The thing is not in a state that allows this (an illegal status step, say)."""

    status = 409
