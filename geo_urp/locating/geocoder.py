"""Geocoding what contact-centre operators type, on the municipality's own layers.

``geocode`` turns "v.le IV novembre 12/a", "garibaldi angolo roma" or "davanti
al municipio" into a point with what it matched and how sure it is;
``reverse_geocode`` turns a point into "Via Roma 12/A"; ``geocode_address_id``
places one civic by its id. No outside service is used.

Where the work happens:

- text: ``address_parser`` (pure Python) reads the query;
- names: ``geocoder_town`` keeps each town's names, civics, landmarks and street
  meeting points in memory (built from PostGIS, rebuilt when the layers are
  reloaded) and ``geocoder_names`` scores them with rapidfuzz, because a few
  hundred fuzzy comparisons in memory are much faster than a query each;
- geometry: PostGIS (``geocoder_sql``) computes street middles
  (``ST_LineInterpolatePoint``), crossings (``ST_Intersection``),
  interpolations along ranges and between civics, nearest street and civic
  (KNN ``<->``) and the trigram "did you mean" list (pg_trgm, GIN-indexed).

What it cannot place with confidence it offers rather than refuses: when no
candidate is credible but some share a real word with the query (the surname,
say, with the wrong first name), the best of them comes back with its low score
and the others as alternatives, and the result is not ``confident``. When two
different places fit about as well ("G. Amendola" for Giuseppe and Giovanni),
both are offered, best first, with their scores lowered. Only a query with
nothing near raises ``NotFound``, with the nearest names and their scores: never
a made-up point. Services know nothing of Flask.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from geo_urp.errors import BadInput, NotFound
from geo_urp.language import N_
from geo_urp.locating import geocoder_resolve as resolve
from geo_urp.locating import geocoder_sql as sql
from geo_urp.locating.address_parser import MAX_QUERY_LENGTH, fold, parse_query
from geo_urp.locating.geocoder_resolve import Candidate
from geo_urp.locating.geocoder_town import town_index

MIN_SCORE = 0.6          # below this nothing is credible enough to place a report on
AMBIGUOUS_GAP = 0.05     # a different place scoring this close to the best makes it ambiguous
SAME_PLACE_M = 30.0      # candidates closer than this are the same place, not a doubt
REVERSE_CIVIC_M = 60.0   # reverse geocoding names a civic only this close to the point
SURE_STREET = 0.85       # a typed street type matched this well needs no landmark reading
ALTERNATIVE_MIN = 0.5    # weaker candidates are noise, not alternatives
WEAK_MIN = 0.4           # with nothing credible, a candidate sharing a word this good is still offered
AMBIGUOUS_FACTOR = 0.8   # what is left of the scores when two places fit alike: neither is sure
CROSSING_AS_STREET = 0.85  # an intersection asked but not found: each street alone, trusted less

__all__ = ["GeoMatch", "GeocodeResult", "geocode", "reverse_geocode", "geocode_address_id", "postcode"]


@dataclass
class GeoMatch:
    """One placed match: what it is, its label and point, and how sure it is."""

    kind: str            # address | interpolated | intersection | landmark | street
    street: str | None
    number: str | None
    label: str
    x: float             # EPSG:32632
    y: float
    lat: float
    lon: float
    score: float         # 0..1
    address_id: str | None = None
    street_id: str | None = None

    def as_dict(self) -> dict:
        """The match as SPEC §4 shows it: lat, lon, match and score."""
        return {"lat": round(self.lat, 7), "lon": round(self.lon, 7),
                "match": {"kind": self.kind, "street": self.street, "number": self.number,
                          "label": self.label},
                "score": round(self.score, 3)}


@dataclass
class GeocodeResult:
    """The best match, the other plausible ones, and whether the text was ambiguous."""

    best: GeoMatch
    alternatives: list[GeoMatch] = field(default_factory=list)
    ambiguous: bool = False

    @property
    def confident(self) -> bool:
        """Whether the best match may be used as it is: credible and with no rival elsewhere."""
        return not self.ambiguous and self.best.score >= MIN_SCORE

    def as_dict(self) -> dict:
        """The SPEC §4 body of ``GET /api/geocode``."""
        body = self.best.as_dict()
        body["alternatives"] = [alt.as_dict() for alt in self.alternatives]
        return body


def _match(cand: Candidate) -> GeoMatch:
    p = cand.place
    return GeoMatch(cand.kind, cand.street, cand.number, cand.label, p.x, p.y, p.lat, p.lon,
                    round(max(0.0, min(1.0, cand.score)), 3), cand.address_id, cand.street_id)


def _distance(a: Candidate, b: Candidate) -> float:
    return ((a.place.x - b.place.x) ** 2 + (a.place.y - b.place.y) ** 2) ** 0.5


def _check_text(query, field: str) -> None:
    if not isinstance(query, str) or not query.strip():
        raise BadInput(N_("%(field)s è vuoto: scrivi una via e un numero civico, un incrocio o un luogo"), field=field,
                       details=[{"field": field, "value": query}])
    if len(query) > MAX_QUERY_LENGTH:
        raise BadInput(N_("%(field)s è lungo %(length)s caratteri; se ne accettano al massimo %(most)s"), field=field,
                       length=len(query), most=MAX_QUERY_LENGTH, details=[{"field": field}])
    if not re.search(r"[a-z]{2}", fold(query)):
        raise BadInput(N_("%(field)s %(value)s non nomina alcuna via o luogo: servono parole come 'via roma 12' o "
                          "'davanti al municipio'"), field=field, value=repr(query), details=[{"field": field, "value": query}])


def _candidates(session: Session, town, query: str, limit: int, field: str) -> list[Candidate]:
    try:
        parsed = parse_query(query, (town.town_name,))
    except ValueError as exc:
        raise BadInput(f"{field} {query!r}: {exc}", details=[{"field": field, "value": query}]) from exc
    cands: list[Candidate] = []
    if parsed.intersection:
        cands += resolve.crossing_candidates(session, town, *parsed.streets)
        if not cands:
            for part in parsed.streets:
                for cand in resolve.street_candidates(session, town, part, limit):
                    cand.score *= CROSSING_AS_STREET
                    cands.append(cand)
    else:
        cands += resolve.street_candidates(session, town, parsed.streets[0], limit)
    near = cands[0].place if cands and parsed.context_street else None
    street_is_clear = (not parsed.landmark_cue and parsed.streets[0].street_type is not None
                       and cands and cands[0].score >= SURE_STREET)
    # "via roma 5" named a street plainly: no landmark is called "via ..." often enough to look.
    landmarks = [] if street_is_clear else resolve.landmark_candidates(town, parsed, near)
    if parsed.landmark_cue and landmarks:
        # "davanti al municipio": the cue says a landmark is meant; streets named after it are less likely.
        for cand in cands:
            cand.score *= 0.9
    cands += landmarks
    cands.sort(key=lambda c: (-c.score, c.label))
    unique, seen = [], set()
    for cand in cands:
        if (cand.kind, cand.label) not in seen:
            seen.add((cand.kind, cand.label))
            unique.append(cand)
    return unique


def geocode(session: Session, municipality_id: int, query: str, limit: int = 5,
            field: str = "q") -> GeocodeResult:
    """Place operator text on the municipality's layers.

    Returns the best match and up to ``limit - 1`` alternatives. ``ambiguous``
    when a different place scores nearly as well (then every score is scaled by
    ``AMBIGUOUS_FACTOR``); not ``confident`` either when nothing scored
    ``MIN_SCORE`` and the candidates sharing a word with the query are offered
    instead. Raises ``BadInput`` for empty, overlong or wordless text and
    ``NotFound`` (with the nearest names and their scores in ``details``) when
    nothing is near. ``field`` is the request field the text came from, named in
    those errors.
    """
    _check_text(query, field)
    town = town_index(session, municipality_id)
    found = _candidates(session, town, query, limit, field)
    cands, floor = found, ALTERNATIVE_MIN
    if found and found[0].score < MIN_SCORE:
        cands, floor = [c for c in found if c.score >= WEAK_MIN and c.named], WEAK_MIN
    if not cands:
        raise NotFound(N_("nessuna via, numero civico o luogo di %(town)s corrisponde a %(value)s"),
                       town=town.town_name, value=repr(query),
                       details=_suggestions(session, municipality_id, query, found))
    best = cands[0]
    ambiguous = any(c.score >= best.score - AMBIGUOUS_GAP and _distance(c, best) > SAME_PLACE_M
                    for c in cands[1:])
    kept = [best] + [c for c in cands[1:max(1, limit)] if c.score >= floor]
    matches = [_match(c) for c in kept]
    if ambiguous:
        for m in matches:
            m.score = round(m.score * AMBIGUOUS_FACTOR, 3)
    return GeocodeResult(matches[0], matches[1:], ambiguous)


def _suggestions(session: Session, municipality_id: int, query: str, cands: list[Candidate]) -> list[dict]:
    """The names nearest the query, for the operator to pick from: ours, then pg_trgm's."""
    out = [{"label": c.label, "score": round(c.score, 2)} for c in cands[:3]]
    folded = re.sub(r"\d+\S*", " ", fold(query)).strip()
    if folded:
        seen = {d["label"] for d in out}
        out += [{"label": name, "score": score} for name, score in sql.similar_names(session, municipality_id, folded)
                if name not in seen][:max(0, 5 - len(out))]
    return out


def reverse_geocode(session: Session, municipality_id: int, x: float, y: float) -> GeoMatch:
    """The nearest civic on the nearest street to metric (x, y), else that street.

    A civic is named only within ``REVERSE_CIVIC_M`` of the point; otherwise the
    match is the street, placed at its point nearest (x, y). ``NotFound`` when
    the municipality has no streets.
    """
    town = town_index(session, municipality_id)
    near = sql.nearest_street(session, municipality_id, float(x), float(y))
    if near is None:
        raise NotFound(N_("il comune %(id)s non ha vie su cui cercare l'indirizzo di un punto"), id=municipality_id)
    idx = town.by_street_name.get(near.name)
    entry = town.entries[idx] if idx is not None else None
    official = entry.name if entry else near.name
    streets = (entry.civic_streets | entry.street_names) if entry else {near.name}
    civic = sql.nearest_civic(session, municipality_id, sorted(streets), float(x), float(y), REVERSE_CIVIC_M)
    if civic is not None:
        at = civic.point
        return GeoMatch("address", official, civic.number, f"{official} {civic.number}", at.x, at.y, at.lat, at.lon,
                        round(max(0.5, 1.0 - civic.distance_m / (2 * REVERSE_CIVIC_M)), 3),
                        civic.address_id, near.street_id)
    at = near.point
    return GeoMatch("street", official, None, official, at.x, at.y, at.lat, at.lon,
                    round(max(0.1, 0.8 - near.distance_m / 250.0), 3), None, near.street_id)


def postcode(session: Session, municipality_id: int, address_id: str | None) -> str | None:
    """The postcode of a civic (from the addresses layer), else the town's single one, else None."""
    return town_index(session, municipality_id).postcode(address_id)


def geocode_address_id(session: Session, municipality_id: int, address_id: str) -> GeoMatch:
    """The civic with this ``address_id``; ``NotFound`` when the municipality has none such."""
    town = town_index(session, municipality_id)
    row = sql.address_by_id(session, municipality_id, str(address_id))
    if row is None:
        raise NotFound(N_("nessun numero civico con address_id %(value)s a %(town)s"), value=repr(address_id),
                       town=town.town_name,
                       details=[{"field": "address_id", "value": address_id}])
    street, written, place = row.street, row.number, row.point
    idx = town.by_civic_street.get(street)
    official = town.entries[idx].name if idx is not None else street
    street_id = (town.entries[idx].pieces[0].street_id
                 if idx is not None and town.entries[idx].pieces else None)
    return GeoMatch("address", official, written, f"{official} {written}", place.x, place.y,
                    place.lat, place.lon, 1.0, str(address_id), street_id)
