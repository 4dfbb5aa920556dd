"""Domain errors that carry their HTTP status.

Services raise these and know nothing of Flask; ``register_errorhandlers`` in
the app factory turns them into responses in one place.

An error's text may be written in both languages: a message in Italian marked with ``N_``
(``geo_urp.language``; the English is in the catalog) whose ``%(name)s`` placeholders are
filled from the keyword ``params`` (a ``Word`` among them, a catalog word itself, is
translated with the text). ``in_language`` gives it in the reader's language (the
Open311 answers do, ``showing.open311_language``, and the ``/api/`` answers, ``showing.errors``);
``message`` is its English, the machine language every other reader (the CLI, a log, a client
that asks for no language) has always had. A message not marked stays
as written in every language. Field names, codes and values in a text are never translated.
"""
from __future__ import annotations

from geo_urp.language import gettext_in

# The language of ``GeoUrpError.message``: English, as error texts were before they had two.
MACHINE_LANGUAGE = "en"


class Word(str):
    """A parameter of an error's text that is a catalog word itself (a service's question, say)."""


class GeoUrpError(Exception):
    """Base of every error the service reports to a user."""

    status = 400

    def __init__(self, message: str, *, status: int | None = None, details: list | None = None, **params):
        self.text, self.params = message, params
        self.message = self.in_language(MACHINE_LANGUAGE)
        super().__init__(self.message)
        if status is not None:
            self.status = status
        self.details = details or []

    def in_language(self, language: str) -> str:
        """The error's text in ``language`` (its placeholders filled)."""
        text = gettext_in(language, self.text) if self.text else self.text  # "" would be the catalog's header
        if not self.params:
            return text
        params = {name: gettext_in(language, value) if isinstance(value, Word) and value else value
                  for name, value in self.params.items()}
        return text % params


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
