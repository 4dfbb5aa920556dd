"""Fuzzy matching of parsed street and landmark names against a town's names.

Pure Python with rapidfuzz: scoring "how well do these typed words name that
street" is string work on a few hundred names held in memory, far quicker here
than a round trip per candidate, and it needs rules SQL says badly (initials,
surname only, words in any order, one typo per word, the street type weighed
apart from the name).

A score is 0..1: 1 when every typed word is a word of the name and the name has
no other word. Words typed that the name lacks cost most; name words left out
cost less, the last one (usually the surname) more than the others. A typed word
that no name of the town contains at all ("alighieri" where the street is just
"Via Dante") costs less than one that belongs to another street: it tells
nothing against this street.

Callers abbreviate. An initial ("g", "s") stands for any word with that first
letter (Giuseppe or Giovanni; San, Santa or Silvio) and counts less than a full
word, whether it is typed or written in the name. A title (papa, re, regina,
beato, don...) counts only where both sides say it. A pope's or king's numeral
at the end of a name ("Giovanni XXIII", "Umberto I") may be left out at a small
cost, but a different numeral typed is a different street.
"""
from __future__ import annotations

from rapidfuzz import fuzz, process

from geo_urp.locating.address_parser import StreetPart

# One typo in a word of 4+ letters still scores above this (Indel ratio).
WORD_MIN = 0.75
INITIAL = 0.85          # "g" for "giuseppe"
INITIAL_WEIGHT = 0.4    # how much a typed initial counts against a full word
SHARED_MIN = 0.8        # a word shared with a name, typo and all ("marziani" is not "maria")
NUMERAL_LEFT_OUT = 0.03  # "via giovanni" for "Via Giovanni XXIII"
# Words that may be said or left out on either side: only where both say them do they count.
TITLES = frozenset({"papa", "re", "regina", "beato", "beata", "don", "mons", "monsignor", "principe",
                    "principessa"})
JOINED_MIN = 0.85       # whole-name comparison, catches "devigili" for "de vigili"
VIA_LIKE = frozenset({"via", "viale", "vicolo", "corso", "strada", "largo", "salita", "contrada"})
PREFILTER = 12         # names rescored after rapidfuzz's shortlist
UNKNOWN_WEIGHT = 0.15  # weight of a typed word that is no word of any name of the town


def word_similarity(typed: str, word: str) -> float:
    """How well one typed word stands for one name word (0..1)."""
    if typed == word:
        return 1.0
    if typed[0].isdigit() or word[0].isdigit():
        return 0.0  # 4 novembre is not 5 novembre: numbers must be equal
    if len(typed) == 1:
        return INITIAL if word.startswith(typed) else 0.0
    if len(word) == 1:  # the name has the initial ("Via G. Marconi")
        return INITIAL if typed.startswith(word) else 0.0
    ratio = fuzz.ratio(typed, word) / 100.0
    return ratio if ratio >= WORD_MIN else 0.0


def _digits(words: tuple[str, ...]) -> list[str]:
    return sorted(w for w in words if w[0].isdigit())


def initial_weights(typed: tuple[str, ...]) -> tuple[float, ...]:
    """How much each typed word counts: ``INITIAL_WEIGHT`` for an initial, 1 for any other."""
    return tuple(INITIAL_WEIGHT if len(t) == 1 and t.isalpha() else 1.0 for t in typed)


def _name_weights(name: tuple[str, ...], name_best: list[float]) -> list[float]:
    """How much each name word counts: the surname (last word) twice, a title only when typed."""
    weights = [1.0] * len(name)
    if TITLES.isdisjoint(name):
        if len(name) > 1:
            weights[-1] = 2.0
        return weights
    said = [j for j, w in enumerate(name) if w not in TITLES]
    for j, w in enumerate(name):
        if w in TITLES and name_best[j] == 0.0:
            weights[j] = 0.0
    if len(said) > 1:
        weights[said[-1]] = 2.0
    return weights


def words_score(typed: tuple[str, ...], name: tuple[str, ...], typed_weights: tuple[float, ...] | None = None,
                regnal: bool = False) -> float:
    """Score of the name words against the typed words, order ignored (0..1).

    ``typed_weights``: how much each typed word counts (default ``initial_weights``);
    a typed title the name lacks does not count at all. ``regnal``: the name's
    last word is a numeral the caller may leave out.
    """
    if not typed or not name:
        return 0.0
    cost = 0.0
    if regnal and len(name) > 1 and name[-1] not in typed:
        name, cost = name[:-1], NUMERAL_LEFT_OUT
    table = [[word_similarity(t, w) for w in name] for t in typed]
    typed_best = [max(row) for row in table]
    name_best = [max(col) for col in zip(*table)]
    weights_t = typed_weights or initial_weights(typed)
    if not TITLES.isdisjoint(typed):
        weights_t = [0.0 if b == 0.0 and t in TITLES else wt for t, wt, b in zip(typed, weights_t, typed_best)]
    weights_n = _name_weights(name, name_best)
    total_t, total_n = sum(weights_t), sum(weights_n)
    if total_t == 0.0 or total_n == 0.0:
        return 0.0
    typed_cover = sum(wt * b for wt, b in zip(weights_t, typed_best)) / total_t
    name_cover = sum(wt * b for wt, b in zip(weights_n, name_best)) / total_n
    score = 0.7 * typed_cover + 0.3 * name_cover
    joined_t = "".join(typed)
    if len(joined_t) >= 5:
        joined = fuzz.ratio(joined_t, "".join(name)) / 100.0
        if joined > score and joined >= JOINED_MIN and _digits(typed) == _digits(name):
            score = joined
    return score - cost


def type_adjustment(typed: str | None, name: str | None) -> float:
    """What the street type adds or costs: a wrong type costs, no type costs a little."""
    if typed is None:
        return -0.02
    if typed == name:
        return 0.0
    if typed in VIA_LIKE and name in VIA_LIKE:
        return -0.06
    return -0.10


def part_score(typed: StreetPart, name: StreetPart, typed_weights: tuple[float, ...] | None = None) -> float:
    """Score of an official name (as a parsed key) for what was typed (0..1)."""
    body = words_score(typed.words, name.words, typed_weights, name.regnal)
    if body <= 0.0:
        return 0.0
    return max(0.0, min(1.0, body + type_adjustment(typed.street_type, name.street_type)))


def _says_something(word: str) -> bool:
    """A word that can name a street on its own: no initial, number or title."""
    return len(word) > 1 and not word[0].isdigit() and word not in TITLES


class NameMatcher:
    """Candidate retrieval and scoring over one town's names.

    ``keys`` pairs an owner (an entry index) with one of its names as a parsed
    key; a street with alternative names has several keys. The short list to
    rank is rapidfuzz's C ``process.extract`` over the whole names, together
    with every name holding a word close to a typed one (so "g. amendola" finds
    all the Amendola streets by the surname however many share a first name);
    then ``part_score`` ranks it.
    """

    def __init__(self, keys: list[tuple[int, StreetPart]]):
        self.keys = [(owner, key) for owner, key in keys if key.words]
        self.joined = [" ".join(key.words) for _, key in self.keys]
        self.by_word: dict[str, list[int]] = {}
        self.by_owner: dict[int, list[StreetPart]] = {}
        for i, (owner, key) in enumerate(self.keys):
            self.by_owner.setdefault(owner, []).append(key)
            for w in set(key.words):
                self.by_word.setdefault(w, []).append(i)
        self.vocabulary = sorted(self.by_word)

    def _close_words(self, word: str) -> list[str]:
        """The town's name words within one typo of ``word``."""
        return [w for w, _, _ in process.extract(word, self.vocabulary, scorer=fuzz.ratio,
                                                 score_cutoff=WORD_MIN * 100, limit=None)]

    def typed_weights(self, words: tuple[str, ...], close: dict[str, list[str]] | None = None) -> tuple[float, ...]:
        """1 for a typed word some name contains (typos allowed), ``UNKNOWN_WEIGHT`` for any other,
        ``INITIAL_WEIGHT`` for an initial.

        Only when a known word of letters is typed too: a number or an initial alone
        is too little to name a street, so then every word counts fully but for the
        initials. ``close``: each typed word's ``_close_words``, when already looked up.
        """
        close = close if close is not None else {}
        known = [len(w) == 1 or w[0].isdigit() or bool(close[w] if w in close else self._close_words(w))
                 for w in words]
        initial = initial_weights(words)
        if not any(k and len(w) > 1 and not w[0].isdigit() for k, w in zip(known, words)):
            return initial
        return tuple(wt if k else UNKNOWN_WEIGHT for k, wt in zip(known, initial))

    def match(self, typed: StreetPart, limit: int = 8, ignore_type: bool = False) -> list[tuple[int, float]]:
        """The best owners for ``typed`` with their scores, best first."""
        if not typed.words or not self.keys:
            return []
        query = " ".join(typed.words)
        shortlist = {i for _, _, i in process.extract(query, self.joined, scorer=fuzz.WRatio,
                                                      limit=PREFILTER, score_cutoff=30)}
        close = {w: self._close_words(w) for w in typed.words if len(w) > 1 and not w[0].isdigit()}
        for word, near in close.items():
            if word not in TITLES:
                for w in near:
                    shortlist.update(self.by_word[w])
        weights = self.typed_weights(typed.words, close)
        best: dict[int, float] = {}
        for i in shortlist:
            owner, key = self.keys[i]
            score = (words_score(typed.words, key.words, weights, key.regnal) if ignore_type
                     else part_score(typed, key, weights))
            if score > best.get(owner, 0.0):
                best[owner] = score
        ranked = sorted(best.items(), key=lambda kv: (-kv[1], kv[0]))
        return [kv for kv in ranked if kv[1] > 0.0][:limit]

    def shares_word(self, words: tuple[str, ...], owner: int) -> bool:
        """Whether a typed word that can name a street on its own is (one typo allowed) a word of ``owner``'s names."""
        said = [w for w in words if _says_something(w)]
        return any(word_similarity(t, w) >= SHARED_MIN for key in self.by_owner.get(owner, ())
                   for w in key.words if _says_something(w) for t in said)
