"""The languages people read: Italian first, English by a login's preference.

Every word shown to an operator, a crew member or the council is written in the code
and the templates in Italian (the source language: without a catalog a page still
reads Italian) and marked for translation; ``translations/en/LC_MESSAGES/messages.po``
holds the English. ``babel.cfg`` at the repository's root tells ``pybabel extract``
where the marked strings are (``N_`` and ``Np_`` mark those used later, such as the
parts of an incident's explanation, ``reasoning.words``); after changing a word::

    pybabel extract -F babel.cfg -k N_ -k Np_:1,2 -k lazy_gettext -o messages.pot .
    pybabel update -i messages.pot -d geo_urp/translations -N

then give every new entry its English (``tests/test_language.py`` fails until each has one;
the template ``messages.pot`` is not kept).

The compiled catalogs (``.mo``) are not kept in git: ``compile_catalogs`` writes each
one beside its ``.po`` when it is missing or older (``scripts/setup`` runs it, and so
does the first use in a process), so a fresh clone and an edited ``.po`` both just work.
Outside a request (the reasoning, the read side, the CLI) ``translations`` gives a
language's catalog; pages use Flask-Babel over the same folder (``showing.app``).
Dates and times are formatted by Babel in the towns' zone (``settings.local_zone``).
"""
from __future__ import annotations

import gettext
import os
import tempfile
from datetime import datetime
from functools import lru_cache
from pathlib import Path

from babel.dates import format_skeleton, format_time
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

from geo_urp.settings import local_zone

LANGUAGES = ("it", "en")
DEFAULT = "it"
NAMES = {"it": "Italiano", "en": "English"}  # each language in its own words
# How each language writes dates and times: English as in Britain (day first, a 24-hour clock),
# which is how an English speaker in an Italian town reads the town's own clock.
FORMATS = {"it": "it_IT", "en": "en_GB"}
TRANSLATIONS = Path(__file__).resolve().parent / "translations"
DOMAIN = "messages"


def N_(message: str) -> str:
    """Mark ``message`` for the catalog without translating it now (it is translated when read)."""
    return message


def Np_(singular: str, plural: str) -> tuple[str, str]:
    """Mark a singular and plural pair for the catalog without translating it now."""
    return singular, plural


def language_of(value: str | None) -> str:
    """``value`` when it is a language the service speaks, else Italian."""
    return value if value in LANGUAGES else DEFAULT


def catalogs() -> list[Path]:
    """Every ``messages.po`` under ``translations/``."""
    return sorted(TRANSLATIONS.glob(f"*/LC_MESSAGES/{DOMAIN}.po"))


def compile_catalogs() -> list[Path]:
    """Write the ``.mo`` of each catalog whose ``.mo`` is missing or older than its ``.po``;
    return the ``.mo`` files written. Each is written to a temporary file and renamed into
    place, so a process reading it never sees half a file."""
    written = []
    for po in catalogs():
        mo = po.with_suffix(".mo")
        if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
            continue
        with po.open("rb") as f:
            catalog = read_po(f, locale=po.parent.parent.name, domain=DOMAIN)
        fd, tmp = tempfile.mkstemp(dir=mo.parent, suffix=".mo.tmp")
        with os.fdopen(fd, "wb") as out:
            write_mo(out, catalog)
        os.replace(tmp, mo)
        written.append(mo)
    return written


@lru_cache(maxsize=None)
def translations(language: str) -> gettext.NullTranslations:
    """The catalog of ``language`` (Italian, the source language, has none: its words are the code's)."""
    lang = language_of(language)
    if lang == DEFAULT:
        return gettext.NullTranslations()
    compile_catalogs()
    return Translations.load(str(TRANSLATIONS), [lang], DOMAIN)


def gettext_in(language: str, message: str) -> str:
    """``message`` in ``language``."""
    return translations(language).gettext(message)


def ngettext_in(language: str, singular: str, plural: str, n: int) -> str:
    """The singular or plural of a message, by ``n``, in ``language``."""
    return translations(language).ngettext(singular, plural, n)


def local_clock(at: datetime, language: str) -> str:
    """The time of day of ``at`` in the towns' zone, as ``language`` writes it (23:05)."""
    return format_time(at, "short", tzinfo=local_zone(), locale=FORMATS[language_of(language)])


def local_datetime(at: datetime | None, language: str) -> str:
    """Date and time of ``at`` in the towns' zone, as ``language`` writes them with the year in full
    (27/11/2026 23:05); "" for None."""
    if at is None:
        return ""
    locale = FORMATS[language_of(language)]
    return (f"{format_skeleton('yMd', at, tzinfo=local_zone(), locale=locale)} "
            f"{format_time(at, 'short', tzinfo=local_zone(), locale=locale)}")
