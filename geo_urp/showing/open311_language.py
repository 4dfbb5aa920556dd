"""The language of an Open311 answer: Italian or English, as its reader asks.

A logged-in session reads in its login's own language (``users.language``), as every page
does; anyone else (an API key, nobody) in the best of the request's ``Accept-Language`` among
the languages the service speaks (``auth.asked_language``, the one rule of the app; the town's
words in ``auth.reader_language``). A request
that asks for neither (no header, or only languages the service does not speak) gets the texts
as they have always been, which the SPEC leaves open and existing clients rely on: the town's
words (service names, descriptions and questions, the staff's notes) in Italian, as SPEC §3
names the services, and the error descriptions in English (``auth.error_language``).

Only the words change: field names, codes, status words and shapes are the same in every
language, and an error's text names its field in each.
"""
from __future__ import annotations

from flask import Response

from geo_urp.errors import GeoUrpError
from geo_urp.showing.auth import error_language
from geo_urp.showing.open311_format import error


def error_answer(status: int, message: str, fmt: str, **params) -> Response:
    """The GeoReport v2 error list for ``message`` (Italian, marked with ``N_``; ``%(name)s``
    filled from ``params``) in the reader's language."""
    return error_of(GeoUrpError(message, status=status, **params), fmt)


def error_of(exc: GeoUrpError, fmt: str) -> Response:
    """The GeoReport v2 error list for a domain error, in the reader's language."""
    return error(exc.status, exc.in_language(error_language()), fmt)
