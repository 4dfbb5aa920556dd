"""Reading what a contact-centre operator types: pure text work, no database.

An operator types "v.le IV novembre 12/a mezzolombardo", "incrocio via roma e
via garibaldi" or "davanti al municipio". This module turns such text into a
``ParsedQuery``: the street part(s) with their type ("via", "piazza"...), the
name words folded to a comparable form (lower case, no accents, apostrophes as
spaces, numbers as digits), the house number with its exponent, and the words
that name a landmark. Official street and landmark names go through the same
folding (``name_key``), so matching compares like with like, with one
difference: "S." in an official name is a saint ("san"), typed it stays the
initial "s" (San, Santa or Silvio: ``geocoder_names`` tries them all). A
trailing pope's or king's numeral, Roman or ordinal ("Giovanni XXIII", "Umberto
I", "Giovanni Paolo Secondo"), becomes digits and is marked ``regnal`` so that
it may be left out.

Everything here is plain Python on strings: there is nothing spatial to do, and
keeping it free of the database makes it fast and unit-testable.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

# Canonical street types; the keys are what callers and operators type.
STREET_TYPES = {
    "via": "via", "viale": "viale", "piazza": "piazza", "piazzale": "piazzale",
    "piazzetta": "piazzetta", "corso": "corso", "largo": "largo", "vicolo": "vicolo",
    "strada": "strada", "localita": "localita", "frazione": "frazione", "salita": "salita",
    "lungadige": "lungadige", "galleria": "galleria", "ponte": "ponte", "contrada": "contrada",
    "vicoletto": "vicolo", "pzza": "piazza", "pza": "piazza", "cso": "corso", "lgo": "largo",
    "vle": "viale", "vic": "vicolo", "loc": "localita", "fraz": "frazione", "str": "strada",
    "p.zza": "piazza", "p.za": "piazza", "p.le": "piazzale", "c.so": "corso", "l.go": "largo",
    "v.le": "viale", "v.lo": "vicolo", "vic.": "vicolo", "loc.": "localita", "fraz.": "frazione",
    "str.": "strada", "v.": "via", "p.": "piazza", "fr.": "frazione", "p.zzetta": "piazzetta",
}

# Types that start a street name when they follow other words ("ponte", "galleria" may be inside one).
LEADING_TYPES = frozenset({"via", "viale", "piazza", "piazzale", "corso", "largo", "vicolo", "localita",
                           "frazione"})

# Words that carry no meaning for matching a name: callers drop or change them
# ("piazza liberta" for "Piazza della Libertà", "d assisi" for "d'Assisi").
PARTICLES = frozenset("""di d del dell della dello dei degli delle da dal dall dalla dai
    la le lo il i gli l e ed al all alla allo ai agli alle a in""".split())

# Operator filler around the house number.
NUMBER_WORDS = frozenset("n no nr num numero civico civ n°".split())

# "San", "Sant'", "Santa", "Santo" are the same word to a caller.
SAINTS = {"sant": "san", "santa": "san", "santo": "san", "ss": "san"}
# In an official name "S." is a saint; typed, it is an initial that may be San or Silvio.
SAINT_INITIALS = frozenset({"s", "s."})

ITALIAN_NUMBERS = {
    w: i for i, w in enumerate("""zero uno due tre quattro cinque sei sette otto nove dieci
        undici dodici tredici quattordici quindici sedici diciassette diciotto diciannove venti
        ventuno ventidue ventitre ventiquattro venticinque ventisei ventisette ventotto
        ventinove trenta trentuno""".split())
}
ITALIAN_NUMBERS.update({"primo": 1, "prima": 1, "un": 1, "una": 1})

# Ordinals as a pope's or king's numeral ("Giovanni Paolo Secondo"), masculine and feminine.
ORDINALS = {
    w[:-1] + end: i for i, w in enumerate("""primo secondo terzo quarto quinto sesto settimo
        ottavo nono decimo undicesimo dodicesimo tredicesimo quattordicesimo quindicesimo
        sedicesimo diciassettesimo diciottesimo diciannovesimo ventesimo ventunesimo
        ventiduesimo ventitreesimo""".split(), start=1) for end in "oa"
}
# A regnal or papal numeral is at most this (Giovanni XXIII); a bigger trailing number is a road's.
MAX_REGNAL = 23
# One-letter Roman numerals read as such only at the end of a name ("Umberto I", "Pio X").
ROMAN_LETTERS = {"i": 1, "v": 5, "x": 10}

ROMAN = re.compile(r"^(?=[mdclxvi]{2,}$)m{0,3}(cm|cd|d?c{0,3})(xc|xl|l?x{0,3})(ix|iv|v?i{0,3})$")
# Two-letter Roman-looking words that are far likelier Italian words.
NOT_ROMAN = frozenset({"di", "mi", "vi", "li", "ci", "dc", "cd", "mc", "civ", "mix", "dim"})
ROMAN_VALUES = {"i": 1, "v": 5, "x": 10, "l": 50, "c": 100, "d": 500, "m": 1000}

SUFFIX_WORDS = ("bis", "ter", "quater")
HOUSE_NUMBER = re.compile(r"^(\d{1,4})(?:[/\-]?([a-z]|bis|ter|quater|\d{1,2}))?$")

LANDMARK_CUE = re.compile(
    r"\b(?:davanti|di ?fronte|vicino|accanto|dietro|presso|nei pressi|nelle vicinanze|"
    r"all ?altezza)\b(?:\s+(?:a|al|alla|allo|ai|agli|alle|all|il|la|lo|"
    r"del|della|dello|dei|degli|delle|dell|l|di))*\s+")

TYPE_WORDS = ("via|viale|vle|v\\.le|piazza|p\\.zza|p\\.za|pzza|piazzale|p\\.le|corso|c\\.so|"
              "largo|l\\.go|vicolo|vic\\.?|v\\.lo|strada|str\\.|localita|loc\\.?|frazione|fraz\\.?|v\\.")
INTERSECTION_PATTERNS = (
    re.compile(r"^(?:all ?)?(?:incrocio|incr\.?|angolo|ang\.?)\s+(?:tra|fra|di|con|fra la|tra la)?\s*"
               r"(?P<a>.+?)\s+(?:e|con|/)\s+(?P<b>.+)$"),
    re.compile(r"^(?:tra|fra)\s+(?P<a>.+?)\s+e\s+(?P<b>.+)$"),
    re.compile(r"^(?P<a>.+?)\s+(?:all ?)?(?:angolo(?: con)?|ang\.|incrocio(?: con)?|"
               r"incr\.|intersezione(?: con)?)\s+(?P<b>.+)$"),
    re.compile(r"^(?P<a>.*?\D)\s*/\s*(?P<b>\D.*)$"),
    re.compile(rf"^(?P<a>(?:{TYPE_WORDS})\s+.+?)\s+(?:e|con|x)\s+(?P<b>(?:{TYPE_WORDS})\s+.+)$"),
)

MAX_QUERY_LENGTH = 200


@dataclass(frozen=True)
class HouseNumber:
    """A civic number: its numeric base and exponent ("12/A" is base 12, suffix "a")."""

    base: int
    suffix: str = ""

    def label(self) -> str:
        """The number as an Italian address writes it: "12", "12/A", "12 bis"."""
        if not self.suffix:
            return str(self.base)
        if self.suffix in SUFFIX_WORDS:
            return f"{self.base} {self.suffix}"
        return f"{self.base}/{self.suffix.upper()}"


@dataclass(frozen=True)
class StreetPart:
    """One street as typed: canonical type (or None), folded name words, optional number.

    ``regnal``: the last word is a pope's or king's numeral ("Giovanni XXIII", "Umberto I"),
    which callers often leave out.
    """

    street_type: str | None
    words: tuple[str, ...]
    number: HouseNumber | None = None
    regnal: bool = False


@dataclass(frozen=True)
class ParsedQuery:
    """What the text says: one street (two for an intersection) and/or landmark words."""

    text: str
    streets: tuple[StreetPart, ...]
    intersection: bool = False
    landmark_words: tuple[str, ...] = ()
    landmark_cue: bool = False
    context_street: bool = False   # the street part only locates the landmark named after the cue


def fold(text: str) -> str:
    """Lower case, accents removed, apostrophes and quotes as spaces, spaces collapsed."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c)).lower()
    text = re.sub(r"[\u2019\u2018`'\"\u00b4\u201c\u201d\u00ab\u00bb]", " ", text)
    text = text.replace("\u00b0", " ").replace("\u00ba", " ")
    return re.sub(r"\s+", " ", text).strip()


def _roman(word: str) -> int | None:
    if word in NOT_ROMAN or not ROMAN.match(word):
        return None
    total, prev = 0, 0
    for ch in reversed(word):
        val = ROMAN_VALUES[ch]
        total = total - val if val < prev else total + val
        prev = max(prev, val)
    return total


def _name_word(word: str, official: bool = False) -> str:
    """One name word in comparable form: numbers as digits, saints as "san".

    A typed "s." stays an initial; in an ``official`` name it is "san".
    """
    if word in SAINTS:
        return SAINTS[word]
    if official and word in SAINT_INITIALS:
        return "san"
    if word in ITALIAN_NUMBERS:
        return str(ITALIAN_NUMBERS[word])
    value = _roman(word)
    return str(value) if value is not None else word


def _tokens(text: str) -> list[str]:
    """Split folded text into words, keeping "12/a" and abbreviations like "p.zza" whole."""
    text = re.sub(r"(\d)\s*/\s*([a-z0-9])\b", r"\1/\2", text)
    text = re.sub(r"(\d)\s*-\s*([a-z])\b", r"\1/\2", text)
    raw = re.split(r"[\s,;:()\[\]!?]+", text)
    out = []
    for tok in raw:
        if not tok:
            continue
        if tok in STREET_TYPES or HOUSE_NUMBER.match(tok):
            out.append(tok)
            continue
        # "v.roma", "n.12", "g.garibaldi": a dotted abbreviation glued to the next word.
        m = re.match(r"^([a-z]{1,5}\.)([a-z0-9].*)$", tok)
        if m and (m.group(1) in STREET_TYPES or m.group(1)[:-1] in NUMBER_WORDS or len(m.group(1)) == 2):
            out += [m.group(1), m.group(2)]
            continue
        if re.fullmatch(r"(?:[a-z]\.)+", tok):
            # "e.", "g.b.": initials keep their dot, so "a." and "e." are not taken for particles.
            out += re.findall(r"[a-z]\.", tok)
            continue
        out += [t for t in re.split(r"[.\-]+", tok) if t] if tok not in STREET_TYPES else [tok]
    return out


def _strip_number_words(tokens: list[str]) -> list[str]:
    return [t for t in tokens if t.rstrip(".") not in NUMBER_WORDS]


def _house_number(tokens: list[str]) -> tuple[list[str], HouseNumber | None]:
    """Take the house number (with exponent) from the end, or from the start before a type."""
    toks = list(tokens)
    # A trailing word number ("via roma dodici") reads as the civic; an ordinal is a numeral of the name.
    if toks and toks[-1] in ITALIAN_NUMBERS and toks[-1] not in ORDINALS and len(toks) > 1:
        toks[-1] = str(ITALIAN_NUMBERS[toks[-1]])
    suffix = ""
    if len(toks) >= 3 and (toks[-1] in SUFFIX_WORDS or re.fullmatch(r"[a-z]", toks[-1])) \
            and toks[-2].isdigit():
        suffix = toks.pop()
    if len(toks) >= 2:
        m = HOUSE_NUMBER.match(toks[-1])
        if m and not (len(toks) == 2 and toks[0] in STREET_TYPES and not m.group(2)):
            toks.pop()
            return toks, HouseNumber(int(m.group(1)), (m.group(2) or suffix))
    elif suffix:
        toks.append(suffix)
    if len(toks) >= 3 and toks[1] in STREET_TYPES:
        m = HOUSE_NUMBER.match(toks[0])
        if m:
            return toks[1:], HouseNumber(int(m.group(1)), m.group(2) or "")
    return toks, None


def _regnal(toks: list[str]) -> int | None:
    """The value of a trailing pope's or king's numeral after a name word, else None."""
    if len(toks) < 2:
        return None
    last, before = toks[-1].rstrip("."), toks[-2]
    if not (before.isalpha() and len(before) > 1 and before not in PARTICLES and before not in STREET_TYPES):
        return None
    value = ORDINALS.get(last) or ROMAN_LETTERS.get(last) or _roman(last)
    return value if value is not None and value <= MAX_REGNAL else None


def _name_words(toks: list[str], official: bool) -> tuple[tuple[str, ...], bool]:
    """The folded name words without particles, and whether the last is a regnal numeral."""
    regnal = _regnal(toks)
    body = toks[:-1] if regnal is not None else toks
    words = [_name_word(t, official).rstrip(".") for t in body if t not in PARTICLES and t.strip(".")]
    words = [w for w in words if w] + ([str(regnal)] if regnal is not None else [])
    return tuple(words), regnal is not None


def _street_part(tokens: list[str], official: bool = False) -> StreetPart:
    """A typed street (with its house number), or an ``official`` name (without one)."""
    with_number = not official
    toks = _strip_number_words(tokens)
    # Leading prepositions: "in via roma", "a piazza erbe", "presso via trento".
    while toks and toks[0] in ("in", "a", "al", "alla", "presso", "zona", "c/o", "sulla", "su"):
        toks = toks[1:]
    number = None
    if with_number:
        toks, number = _house_number(toks)
        # "lampione spento via roma 5": words before a street type are the caller's story.
        first = next((i for i, t in enumerate(toks) if STREET_TYPES.get(t) in LEADING_TYPES), 0)
        if first > 0 and toks[0] not in STREET_TYPES:
            toks = toks[first:]
    street_type = None
    if toks and (toks[0] in STREET_TYPES or (toks[0] == "v" and len(toks) > 1)):
        street_type = STREET_TYPES.get(toks[0], "via")
        toks = toks[1:]
    words, regnal = _name_words(toks, official)
    return StreetPart(street_type, words, number, regnal)


def name_key(name: str) -> StreetPart:
    """An official street or landmark name in the form queries are compared with."""
    return _street_part(_tokens(fold(name)), official=True)


def _drop_town(text: str, town_names: tuple[str, ...]) -> str:
    for town in town_names:
        town = fold(town)
        if town:
            text = re.sub(rf"(?:(?:^|(?<=\s))(?:comune di|a|in)\s+)?\b{re.escape(town)}\b", " ", text)
    text = re.sub(r"\(\s*[a-z]{2}\s*\)|\b\d{5}\b", " ", text)  # "(TN)", postcode
    return re.sub(r"\s+", " ", text).strip(" ,;-")


def _names_something(part: StreetPart) -> bool:
    # A lone initial or number is not a street name.
    return any(len(w) > 1 and not w.isdigit() for w in part.words)


def parse_query(query: str, town_names: tuple[str, ...] = ()) -> ParsedQuery:
    """Parse operator text into street parts, house number and landmark words.

    ``town_names`` are removed wherever they appear ("via roma 3 mezzolombardo").
    Raises ``ValueError`` for empty or overlong text; the geocoder turns it into
    ``BadInput``.
    """
    if query is None or not query.strip():
        raise ValueError("the query is empty")
    if len(query) > MAX_QUERY_LENGTH:
        raise ValueError(f"the query is {len(query)} characters long, at most {MAX_QUERY_LENGTH} are accepted")
    text = _drop_town(fold(query), town_names)
    text = re.sub(r"\s+(?:tn|bz|prov\.?\s+\w+)$", "", text)

    landmark_words: tuple[str, ...] = ()
    cue = LANDMARK_CUE.search(text + " ")
    if cue:
        before, after = text[:cue.start()].strip(), text[cue.end():].strip()
        landmark_words = tuple(_name_word(t).rstrip(".") for t in _tokens(after) if t not in PARTICLES)
        context = _street_part(_tokens(before)) if before else None
        if context is not None and context.words:
            # "via roma davanti alla chiesa": the street says which church.
            return ParsedQuery(text, (context,), False, landmark_words, True, True)
        text = after

    # "54 / b" is an exponent, not a crossing with a street called "b".
    text = re.sub(r"(\d)\s*/\s*([a-z0-9])\b", r"\1/\2", text)
    for pattern in INTERSECTION_PATTERNS:
        m = pattern.match(text)
        if m:
            a, b = _street_part(_tokens(m.group("a"))), _street_part(_tokens(m.group("b")))
            if _names_something(a) and _names_something(b):
                return ParsedQuery(text, (a, b), True, landmark_words, bool(cue))

    part = _street_part(_tokens(text))
    if not landmark_words:
        # Without a cue the whole text may still name a landmark ("scuole elementari").
        landmark_words = tuple(w for w in ((part.street_type,) if part.street_type else ()) + part.words)
    return ParsedQuery(text, (part,), False, landmark_words, bool(cue))


def parse_number(text: str) -> HouseNumber | None:
    """A civic number as written in the addresses layer ("12/A", "14 bis", "6a"), or None."""
    toks = _tokens(fold(text))
    if len(toks) == 2 and toks[0].isdigit() and (toks[1] in SUFFIX_WORDS or re.fullmatch(r"[a-z]|\d{1,2}", toks[1])):
        return HouseNumber(int(toks[0]), toks[1])
    if len(toks) == 1:
        m = HOUSE_NUMBER.match(toks[0])
        if m:
            return HouseNumber(int(m.group(1)), m.group(2) or "")
    return None
