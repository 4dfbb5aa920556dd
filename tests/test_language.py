"""The catalogs (``geo_urp/language.py``): every word marked in the code and the templates has its
English, the scripts ask only for words the page gives them, and compiling is done once."""
from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from geo_urp import language
from geo_urp.showing.wording import SCRIPT_WORDS

ROOT = Path(__file__).resolve().parent.parent
# The keywords ``pybabel extract`` is given (geo_urp/language.py): gettext's own, N_ and Np_, lazy_gettext.
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "lazy_gettext": None, "N_": None, "Np_": (1, 2)}


def _marked() -> dict[str, str | None]:
    """Every message marked in the sources: msgid -> its plural (None for a single form)."""
    with open(ROOT / "babel.cfg", encoding="utf-8") as f:
        method_map, options_map = parse_mapping_cfg(f)
    found = {}
    for _file, _line, message, _comments, _context in extract_from_dir(
            str(ROOT), method_map, options_map, keywords=KEYWORDS):
        singular, plural = (message if isinstance(message, tuple) else (message, None))[:2]
        found[singular] = plural
    return found


def _catalog(lang: str):
    with open(language.TRANSLATIONS / lang / "LC_MESSAGES" / f"{language.DOMAIN}.po", "rb") as f:
        return read_po(f, locale=lang)


def test_every_marked_word_has_its_english():
    marked = _marked()
    assert len(marked) > 300            # the pages, the scripts, the explanations
    catalog = _catalog("en")
    missing = []
    for msgid, plural in marked.items():
        entry = catalog.get(msgid)
        if entry is None or entry.fuzzy:
            missing.append(msgid)
        elif plural is not None and not (isinstance(entry.string, tuple) and all(entry.string)):
            missing.append(msgid)
        elif plural is None and not (isinstance(entry.string, str) and entry.string):
            missing.append(msgid)
    assert missing == [], f"untranslated in translations/en (pybabel extract, then translate): {missing}"


def test_the_catalog_holds_no_untranslated_fuzzy_or_unused_entry():
    marked = _marked()
    catalog = _catalog("en")
    entries = [m for m in catalog if m.id]
    assert [m.id for m in entries if m.fuzzy or not all(m.string if isinstance(m.string, tuple) else [m.string])] == []
    unused = [m.id for m in entries if (m.id[0] if isinstance(m.id, tuple) else m.id) not in marked]
    assert unused == []


def test_each_translation_keeps_the_placeholders_of_its_source():
    for entry in (m for m in _catalog("en") if m.id):
        sources = entry.id if isinstance(entry.id, tuple) else (entry.id,)
        texts = entry.string if isinstance(entry.string, tuple) else (entry.string,)
        wanted = set().union(*(re.findall(r"%\((\w+)\)s", s) for s in sources))
        for text in texts:
            assert set(re.findall(r"%\((\w+)\)s", text)) <= wanted, (entry.id, text)


def test_the_scripts_ask_only_for_words_the_page_gives():
    asked, prefixes = set(), set()
    for script in (ROOT / "geo_urp/showing/static").glob("*.js"):
        if script.name == "words.js":      # the dictionary's reader itself
            continue
        source = script.read_text(encoding="utf-8")
        asked |= set(re.findall(r"""\b(?:W|geoUrpWords)\.[tn]\("(\w+)\"""", source))
        prefixes |= set(re.findall(r"""\b(?:W|geoUrpWords)\.[tn]\(`(\w+)_\$\{""", source))
    assert asked and prefixes == {"refused", "near", "match", "field"}
    assert sorted(asked - set(SCRIPT_WORDS)) == []
    assert all(any(key.startswith(p + "_") for key in SCRIPT_WORDS) for p in prefixes)


def test_catalogs_are_compiled_once_and_again_only_when_the_po_changes(tmp_path, monkeypatch):
    copy = tmp_path / "translations"
    shutil.copytree(language.TRANSLATIONS, copy, ignore=shutil.ignore_patterns("*.mo"))
    monkeypatch.setattr(language, "TRANSLATIONS", copy)
    mo = copy / "en" / "LC_MESSAGES" / "messages.mo"
    assert language.compile_catalogs() == [mo] and mo.stat().st_size > 1000
    assert language.compile_catalogs() == []                    # nothing changed: nothing written
    po, later = mo.with_suffix(".po"), mo.stat().st_mtime + 10
    os.utime(po, (later, later))                                # the .po edited after compiling
    assert language.compile_catalogs() == [mo]


@pytest.mark.parametrize("lang, expected", [("it", "27/11/2026 23:05"), ("en", "27/11/2026 23:05")])
def test_a_date_is_shown_on_the_towns_clock(lang, expected, monkeypatch):
    from datetime import datetime, timezone
    at = datetime(2026, 11, 27, 22, 5, tzinfo=timezone.utc)           # 23:05 in Rome (CET)
    assert language.local_datetime(at, lang) == expected
    summer = datetime(2026, 7, 1, 21, 30, tzinfo=timezone.utc)        # 23:30 in Rome (CEST)
    assert language.local_datetime(summer, lang) == "01/07/2026 23:30"
    monkeypatch.setenv("TIME_ZONE", "UTC")
    assert language.local_datetime(at, lang) == "27/11/2026 22:05"
