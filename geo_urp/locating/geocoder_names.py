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
"""
from __future__ import annotations

from rapidfuzz import fuzz, process

from geo_urp.locating.address_parser import StreetPart

# One typo in a word of 4+ letters still scores above this (Indel ratio).
WORD_MIN = 0.75
INITIAL = 0.85          # "g" for "giuseppe"
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
    ratio = fuzz.ratio(typed, word) / 100.0
    return ratio if ratio >= WORD_MIN else 0.0


def words_score(typed: tuple[str, ...], name: tuple[str, ...], typed_weights: tuple[float, ...] | None = None) -> float:
    """Score of the name words against the typed words, order ignored (0..1).

    ``typed_weights``: how much each typed word counts (default: all alike).
    """
    if not typed or not name:
        return 0.0
    weights_t = typed_weights or (1.0,) * len(typed)
    table = [[word_similarity(t, w) for w in name] for t in typed]
    typed_cover = sum(wt * max(row) for wt, row in zip(weights_t, table)) / sum(weights_t)
    weights = [1.0] * len(name)
    weights[-1] = 2.0 if len(name) > 1 else 1.0
    name_cover = sum(wt * max(table[i][j] for i in range(len(typed)))
                     for j, wt in enumerate(weights)) / sum(weights)
    score = 0.7 * typed_cover + 0.3 * name_cover
    joined_t, joined_n = "".join(typed), "".join(name)
    if len(joined_t) >= 5:
        joined = fuzz.ratio(joined_t, joined_n) / 100.0
        if joined >= JOINED_MIN:
            score = max(score, joined)
    return score


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
    body = words_score(typed.words, name.words, typed_weights)
    if body <= 0.0:
        return 0.0
    return max(0.0, min(1.0, body + type_adjustment(typed.street_type, name.street_type)))


class NameMatcher:
    """Candidate retrieval and scoring over one town's names.

    ``keys`` pairs an owner (an entry index) with one of its names as a parsed
    key; a street with alternative names has several keys. rapidfuzz's C
    ``process.extract`` picks a short list, then ``part_score`` ranks it.
    """

    def __init__(self, keys: list[tuple[int, StreetPart]]):
        self.keys = [(owner, key) for owner, key in keys if key.words]
        self.joined = [" ".join(key.words) for _, key in self.keys]
        self.vocabulary = sorted({w for _, key in self.keys for w in key.words})

    def typed_weights(self, words: tuple[str, ...]) -> tuple[float, ...]:
        """1 for a typed word some name contains (typos allowed), ``UNKNOWN_WEIGHT`` for any other.

        Only when a known word of letters is typed too: a number or an initial alone
        is too little to name a street, so then every word counts fully.
        """
        known = [len(w) == 1 or w[0].isdigit() or process.extractOne(
            w, self.vocabulary, scorer=fuzz.ratio, score_cutoff=WORD_MIN * 100) is not None for w in words]
        if not any(k and len(w) > 1 and not w[0].isdigit() for k, w in zip(known, words)):
            return (1.0,) * len(words)
        return tuple(1.0 if k else UNKNOWN_WEIGHT for k in known)

    def match(self, typed: StreetPart, limit: int = 8, ignore_type: bool = False) -> list[tuple[int, float]]:
        """The best owners for ``typed`` with their scores, best first."""
        if not typed.words or not self.keys:
            return []
        query = " ".join(typed.words)
        shortlist = process.extract(query, self.joined, scorer=fuzz.WRatio,
                                    limit=PREFILTER, score_cutoff=30)
        weights = self.typed_weights(typed.words)
        best: dict[int, float] = {}
        for _, _, i in shortlist:
            owner, key = self.keys[i]
            score = (words_score(typed.words, key.words, weights) if ignore_type
                     else part_score(typed, key, weights))
            if score > best.get(owner, 0.0):
                best[owner] = score
        ranked = sorted(best.items(), key=lambda kv: (-kv[1], kv[0]))
        return [kv for kv in ranked if kv[1] > 0.0][:limit]
