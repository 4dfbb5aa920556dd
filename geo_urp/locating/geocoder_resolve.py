"""From matched names to candidate points: civic, interpolation, street, crossing, landmark.

Given the entries and landmarks a query's words matched (``geocoder_names``),
this module decides what point each stands for and how much to trust it. Known
points (civics, street middles, meeting points, landmarks) come from the town
index, which PostGIS computed; points that depend on the typed number
(interpolation along a street's ranges or between its nearest civics) are asked
of PostGIS here, one round trip each.

Scores: the name score times a factor for how the point was found, so an exact
civic beats an interpolation, which beats the street alone. Each candidate also
tells whether the query named it by a real word (``named``): a weak candidate
that shares no word with the query is nothing near, not an alternative.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from geo_urp.locating import geocoder_sql as sql
from geo_urp.locating.address_parser import HouseNumber, ParsedQuery, StreetPart
from geo_urp.locating.geocoder_sql import MapPoint
from geo_urp.locating.geocoder_town import StreetEntry, TownIndex

# How far each way of placing a number is trusted, as a factor on the name score.
SAME_BASE = 0.92        # "12 bis" asked, only "12" or "12/A" exists
RANGE = 0.90            # interpolated on the street's l/r ranges
BETWEEN = 0.88          # interpolated between the nearest civics
NEXT_TO = 0.78          # beside the one nearest civic (no civic on the other side)
STREET_ASKED = 0.90     # no number typed: the street is what was asked
STREET_FALLBACK = 0.70  # a number typed that cannot be placed
CROSSING_APART = 0.85   # two streets that do not meet: the gap's middle
MAX_NEXT_TO_GAP = 6     # house numbers away from the only neighbour we still accept
MAX_APART_M = 120.0     # streets further apart than this have no crossing to speak of
NAME_KEEP = 0.15        # entries this far below the best name are not worth placing
MIN_SIDE = 0.6          # a crossing's street must be named at least this well


@dataclass
class Candidate:
    """A placed candidate before it becomes a public ``GeoMatch``."""

    kind: str
    street: str | None
    number: str | None
    label: str
    place: MapPoint
    score: float
    address_id: str | None = None
    street_id: str | None = None
    entry: int | None = None
    named: bool = True   # a word of the query (no initial, number or title) is a word of its name


def _street_id(entry: StreetEntry) -> str | None:
    return entry.pieces[0].street_id if entry.pieces else None


def _in_range(lo, hi, n: int) -> float | None:
    """Fraction of ``n`` along a from/to range of the same parity, or None."""
    if lo is None or hi is None or (lo - n) % 2 or (hi - n) % 2:
        return None
    if min(lo, hi) <= n <= max(lo, hi):
        return 0.5 if hi == lo else (n - lo) / (hi - lo)
    return None


def _civic_candidate(entry: StreetEntry, number: HouseNumber, score: float, idx: int) -> Candidate | None:
    civic = entry.by_number.get(number)
    factor = 1.0
    if civic is None and number.base in entry.by_base:
        # The same building under another exponent is metres away: take the plainest.
        civic = min(entry.by_base[number.base], key=lambda c: (c.number.suffix != "", c.written))
        factor = SAME_BASE
    if civic is None:
        return None
    return Candidate("address", entry.name, civic.written, f"{entry.name} {civic.written}",
                     civic.place, score * factor, civic.address_id, _street_id(entry), idx)


def _interpolated(session: Session, town: TownIndex, entry: StreetEntry, number: HouseNumber,
                  score: float, idx: int) -> Candidate | None:
    n = number.base
    label = f"{entry.name} {number.label()}"
    for piece in entry.pieces:
        l_from, l_to, r_from, r_to = piece.ranges
        frac = _in_range(l_from, l_to, n)
        if frac is None:
            frac = _in_range(r_from, r_to, n)
        if frac is not None:
            place = sql.point_along_piece(session, piece.pk, frac)
            return Candidate("interpolated", entry.name, number.label(), label, place,
                             score * RANGE, None, piece.street_id, idx)
    numbered = [c for c in entry.civics if c.number is not None]
    same = [c for c in numbered if (c.number.base - n) % 2 == 0] or numbered
    below = max((c for c in same if c.number.base < n), key=lambda c: c.number.base, default=None)
    above = min((c for c in same if c.number.base > n), key=lambda c: c.number.base, default=None)
    if below is not None and above is not None:
        t = (n - below.number.base) / (above.number.base - below.number.base)
        place = sql.point_between_civics(session, town.municipality_id, sorted(entry.street_names),
                                         (below.place.x, below.place.y), (above.place.x, above.place.y), t)
        return Candidate("interpolated", entry.name, number.label(), label, place,
                         score * BETWEEN, None, _street_id(entry), idx)
    near = below or above
    if near is not None and abs(near.number.base - n) <= MAX_NEXT_TO_GAP:
        return Candidate("interpolated", entry.name, number.label(), label, near.place,
                         score * NEXT_TO, None, _street_id(entry), idx)
    return None


def _street_candidate(entry: StreetEntry, score: float, idx: int, asked: bool) -> Candidate | None:
    if entry.point is None:
        return None
    return Candidate("street", entry.name, None, entry.name, entry.point,
                     score * (STREET_ASKED if asked else STREET_FALLBACK), None, _street_id(entry), idx)


def place_entry(session: Session, town: TownIndex, idx: int, score: float,
                number: HouseNumber | None) -> Candidate | None:
    """The best point for one matched street and the typed number (if any)."""
    entry = town.entries[idx]
    if number is None:
        return _street_candidate(entry, score, idx, asked=True)
    return (_civic_candidate(entry, number, score, idx)
            or _interpolated(session, town, entry, number, score, idx)
            or _street_candidate(entry, score, idx, asked=False))


def street_candidates(session: Session, town: TownIndex, part: StreetPart, limit: int) -> list[Candidate]:
    """Placed candidates for one typed street (with its number, if typed)."""
    matches = town.streets.match(part, limit=max(limit, 5))
    if part.number is not None and not part.number.suffix and (
            not matches or matches[0][1] < 0.95 or town.entries[matches[0][0]].key.regnal):
        # "piazza pio dodici", "via 4 novembre": the trailing number may belong to the name.
        numbered = StreetPart(part.street_type, part.words + (str(part.number.base),), None)
        numbered_matches = town.streets.match(numbered, limit=max(limit, 5))
        if numbered_matches:
            key = town.entries[numbered_matches[0][0]].key
            # A pope's or king's numeral may be left out of the name: the number typed is most likely it.
            margin = 0.0 if key.regnal and key.words[-1] == numbered.words[-1] else NAME_KEEP / 3
            if not matches or numbered_matches[0][1] > matches[0][1] + margin:
                matches, part = numbered_matches, numbered
    if not matches:
        return []
    top = matches[0][1]
    out = []
    for idx, score in matches:
        if score < top - NAME_KEEP:
            break
        cand = place_entry(session, town, idx, score, part.number)
        if cand is not None:
            cand.named = town.streets.shares_word(part.words, idx)
            out.append(cand)
    return out


def crossing_candidates(session: Session, town: TownIndex, a: StreetPart, b: StreetPart) -> list[Candidate]:
    """Where the two typed streets meet; each side's few best names are tried in pairs."""
    side_a = [m for m in town.streets.match(a, limit=3) if m[1] >= MIN_SIDE]
    side_b = [m for m in town.streets.match(b, limit=3) if m[1] >= MIN_SIDE]
    out = []
    for ia, sa in side_a:
        for ib, sb in side_b:
            if ia == ib:
                continue
            ea, eb = town.entries[ia], town.entries[ib]
            met = town.meeting(ia, ib)
            factor = 1.0
            if met is None:
                if not ea.street_names or not eb.street_names:
                    continue
                apart = sql.closest_between(session, town.municipality_id,
                                            sorted(ea.street_names), sorted(eb.street_names))
                if apart is None or apart.gap_m > MAX_APART_M:
                    continue
                met, factor = apart, CROSSING_APART
            out.append(Candidate("intersection", ea.name, None, f"{ea.name} / {eb.name}", met.point,
                                 min(sa, sb) * factor, None, _street_id(ea), ia,
                                 town.streets.shares_word(a.words, ia) and town.streets.shares_word(b.words, ib)))
    return out


def landmark_candidates(town: TownIndex, parsed: ParsedQuery, near: MapPoint | None) -> list[Candidate]:
    """Landmarks named by the query; a street named beside them ranks the nearest first."""
    if not parsed.landmark_words:
        return []
    matches = town.landmark_names.match(StreetPart(None, parsed.landmark_words), limit=12)
    out = []
    for idx, score in matches:
        lm = town.landmarks[idx]
        if not parsed.landmark_cue and parsed.streets and parsed.streets[0].number is not None:
            score *= 0.8  # a typed house number makes a landmark reading unlikely
        if near is not None:
            # Among equal names, a tiny preference for the one near the named street.
            dist = ((lm.place.x - near.x) ** 2 + (lm.place.y - near.y) ** 2) ** 0.5
            score -= min(dist, 2000.0) / 100000.0
        out.append(Candidate("landmark", None, None, lm.name, lm.place, min(score, 1.0),
                             named=town.landmark_names.shares_word(parsed.landmark_words, idx)))
    return out
