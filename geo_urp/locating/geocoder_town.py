"""A municipality's names and points, gathered once and kept in the process.

Geocoding asks the same questions of a town over and over: which streets are
called what, which civic numbers exist, where the landmarks are, where two
streets meet. ``town_index`` reads all of that from PostGIS in a handful of
queries (the geometry, such as street middles and meeting points, is computed
there) and keeps it in memory, keyed by database, municipality id and
``layers_loaded_at``: a reload of the layers changes the key, so a stale index is
never used. Matching then runs in Python on these lists; PostGIS is asked again
only for points that depend on the query (interpolations, reverse look-ups).

Names are grouped into ``StreetEntry`` objects by their folded key, so that
"Via IV Novembre" on the civics and "Via Quattro Novembre" on the street are one
street, and a civic's street name that no street carries is attached to the
nearest street when the two names plainly agree ("Via Garibaldi" beside "Via
Giuseppe Garibaldi").
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from sqlalchemy.orm import Session

from geo_urp.errors import NotFound
from geo_urp.language import N_
from geo_urp.loading import layer_cache
from geo_urp.locating import geocoder_sql as sql
from geo_urp.locating.address_parser import (
    HouseNumber,
    StreetPart,
    name_key,
    parse_number,
)
from geo_urp.locating.geocoder_names import NameMatcher, part_score
from geo_urp.locating.geocoder_sql import MapPoint
from geo_urp.models import Municipality

# A civic's street name is taken as another spelling of the nearest street when
# the names agree this well and the civic is this close to it.
ORPHAN_MATCH = 0.8
ORPHAN_NEAR_M = 150.0


@dataclass
class Civic:
    """One civic number of the town."""

    address_id: str
    street: str          # the street name as the addresses layer writes it
    written: str         # the number as written ("12/A")
    number: HouseNumber | None
    place: MapPoint


@dataclass
class Piece:
    """One street piece and its house-number ranges."""

    pk: int
    street_id: str
    ranges: tuple        # (l_from, l_to, r_from, r_to)


@dataclass
class StreetEntry:
    """One street as callers know it, whatever spellings the layers use."""

    name: str                                    # the official name shown in labels
    key: StreetPart
    street_names: set[str] = field(default_factory=set)    # names on the streets layer
    civic_streets: set[str] = field(default_factory=set)   # names on the addresses layer
    pieces: list[Piece] = field(default_factory=list)
    civics: list[Civic] = field(default_factory=list)
    by_number: dict[HouseNumber, Civic] = field(default_factory=dict)
    by_base: dict[int, list[Civic]] = field(default_factory=dict)
    point: MapPoint | None = None
    weight: int = 0

    def add_civic(self, civic: Civic) -> None:
        """Index a civic by its number and by its numeric base."""
        self.civics.append(civic)
        self.civic_streets.add(civic.street)
        if civic.number is not None:
            self.by_number.setdefault(civic.number, civic)
            self.by_base.setdefault(civic.number.base, []).append(civic)


@dataclass
class Landmark:
    """A landmark and its point."""

    name: str
    place: MapPoint


@dataclass
class TownIndex:
    """What the geocoder knows of one municipality's layers."""

    municipality_id: int
    town_name: str
    entries: list[StreetEntry]
    by_street_name: dict[str, int]
    by_civic_street: dict[str, int]
    landmarks: list[Landmark]
    meetings: dict[tuple[int, int], sql.Gap]
    streets: NameMatcher
    landmark_names: NameMatcher
    postcodes: dict[str, str] = field(default_factory=dict)   # address_id -> postcode

    def postcode(self, address_id: str | None) -> str | None:
        """The postcode of a civic; without one, the town's when all its civics share one."""
        if address_id is not None and address_id in self.postcodes:
            return self.postcodes[address_id]
        return self.town_postcode

    @cached_property
    def town_postcode(self) -> str | None:
        """The postcode all the town's civics share, if they share one (worked out once)."""
        found = set(self.postcodes.values())
        return found.pop() if len(found) == 1 else None

    def meeting(self, a: int, b: int) -> sql.Gap | None:
        """Gap and point where entries ``a`` and ``b`` meet, if they do."""
        return self.meetings.get((min(a, b), max(a, b)))




def _key_of(name: str) -> StreetPart:
    # "Via Damiano Chiesa - dal civico 2/1 al civico 2/13" is a part of "Via Damiano Chiesa".
    return name_key(name.split(" - ")[0])


def _key_id(key: StreetPart) -> tuple:
    return key.street_type, key.words


def _build(session: Session, mid: int, town_name: str) -> TownIndex:
    entries: list[StreetEntry] = []
    by_key: dict[tuple, int] = {}
    by_street_name: dict[str, int] = {}
    alt_keys: list[tuple[int, StreetPart]] = []

    def entry_for(name: str) -> int:
        key = _key_of(name)
        idx = by_key.get(_key_id(key))
        if idx is None:
            idx = by_key[_key_id(key)] = len(entries)
            entries.append(StreetEntry(name=name, key=key))
        return idx

    points = sql.street_points(session, mid)
    for row in sql.street_rows(session, mid):
        idx = entry_for(row.name)
        by_street_name[row.name] = idx
        entry = entries[idx]
        entry.street_names.add(row.name)
        entry.pieces.append(Piece(row.id, row.street_id, (row.l_from, row.l_to, row.r_from, row.r_to)))
        for alt in (row.alt_names or "").split(";"):
            if alt.strip():
                alt_keys.append((idx, _key_of(alt.strip())))
    for entry in entries:
        # The label is the streets layer's spelling with most pieces, the shortest on a tie.
        best = max(entry.street_names, key=lambda n: (points[n][1] if n in points else 0, -len(n)))
        entry.name, entry.point = best, points[best][0] if best in points else None

    orphans = sql.orphan_street_neighbours(session, mid)
    by_civic_street: dict[str, int] = {}
    loose: dict[int, list[MapPoint]] = {}
    postcodes: dict[str, str] = {}
    for address_id, street, written, postcode, point in sql.address_rows(session, mid):
        if postcode:
            postcodes[address_id] = postcode
        idx = by_civic_street.get(street)
        if idx is None:
            idx = by_street_name.get(street)
            if idx is None:
                idx = by_key.get(_key_id(_key_of(street)))
            if idx is None and street in orphans:
                near, dist = orphans[street]
                near_idx = by_street_name.get(near)
                if near_idx is not None and dist <= ORPHAN_NEAR_M and max(
                        part_score(_key_of(street), entries[near_idx].key),
                        part_score(entries[near_idx].key, _key_of(street))) >= ORPHAN_MATCH:
                    idx = near_idx
            if idx is None:
                idx = entry_for(street)
            by_civic_street[street] = idx
        civic = Civic(address_id, street, written, parse_number(written), point)
        entries[idx].add_civic(civic)
        if not entries[idx].street_names:
            loose.setdefault(idx, []).append(civic.place)
    for idx, places in loose.items():
        # A street known only from its civics: stand it at the civic nearest their mean.
        mx = sum(p.x for p in places) / len(places)
        my = sum(p.y for p in places) / len(places)
        entries[idx].point = min(places, key=lambda p: (p.x - mx) ** 2 + (p.y - my) ** 2)

    meetings: dict[tuple[int, int], sql.Gap] = {}
    for name_a, name_b, gap in sql.meeting_points(session, mid):
        a, b = by_street_name[name_a], by_street_name[name_b]
        if a == b:
            continue
        pair = (min(a, b), max(a, b))
        if pair not in meetings or gap.gap_m < meetings[pair].gap_m:
            meetings[pair] = gap

    landmarks: list[Landmark] = []
    landmark_keys: list[tuple[int, StreetPart]] = []
    for name, aliases, point in sql.landmark_rows(session, mid):
        idx = len(landmarks)
        landmarks.append(Landmark(name, point))
        for label in [name] + [a.strip() for a in aliases.split(";") if a.strip()]:
            key = name_key(label)
            # The type word is part of a landmark's name ("Piazza ..." is rare but real).
            words = ((key.street_type,) if key.street_type else ()) + key.words
            landmark_keys.append((idx, StreetPart(None, words, regnal=key.regnal)))

    for entry in entries:
        entry.weight = len(entry.civics) + len(entry.pieces)
    street_keys = [(i, e.key) for i, e in enumerate(entries)] + alt_keys
    return TownIndex(mid, town_name, entries, by_street_name, by_civic_street, landmarks, meetings,
                     NameMatcher(street_keys), NameMatcher(landmark_keys), postcodes)


def town_index(session: Session, municipality_id: int) -> TownIndex:
    """The index of a municipality's layers, built once per load of them (``loading.layer_cache``).

    Raises ``NotFound`` when the municipality does not exist.
    """
    muni = session.get(Municipality, municipality_id)  # usually already in the session: no query
    if muni is None:
        raise NotFound(N_("il comune %(id)s non esiste"), id=municipality_id)
    return layer_cache.cached(session, municipality_id, "geocoder index",
                              lambda: _build(session, municipality_id, muni.name))
