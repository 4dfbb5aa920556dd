"""Which OSM objects are landmarks, and the Italian words a caller uses for them.

A caller says "davanti al municipio" or "vicino alle scuole elementari", not
"amenity=townhall". Each landmark gets a ``kind`` and ``aliases``: the generic
Italian words for its kind, words suggested by its name (a "Scuola Primaria" is
also "scuola elementare") and the alternative names mapped in OSM.
"""
from __future__ import annotations

#: kind -> (generic Italian words, name used when the object has no name)
KIND_WORDS: dict[str, tuple[tuple[str, ...], str]] = {
    "townhall": (("municipio", "comune"), "Municipio"),
    "church": (("chiesa",), "Chiesa"),
    "place_of_worship": (("luogo di culto",), "Luogo di culto"),
    "school": (("scuola",), "Scuola"),
    "kindergarten": (("asilo", "scuola materna", "scuola dell'infanzia"), "Scuola dell'infanzia"),
    "pharmacy": (("farmacia",), "Farmacia"),
    "station": (("stazione", "stazione ferroviaria"), "Stazione ferroviaria"),
    "cemetery": (("cimitero",), "Cimitero"),
    "post_office": (("posta", "ufficio postale"), "Ufficio postale"),
    "hospital": (("ospedale",), "Ospedale"),
    "clinic": (("ambulatorio", "clinica"), "Ambulatorio"),
    "library": (("biblioteca",), "Biblioteca"),
    "fire_station": (("vigili del fuoco", "caserma dei pompieri"), "Vigili del fuoco"),
    "police": (("polizia",), "Polizia"),
}

#: substrings of a (lower-case) name -> extra aliases, per kind.
NAME_HINTS: dict[str, tuple[tuple[tuple[str, ...], tuple[str, ...]], ...]] = {
    "school": (
        (("primaria", "elementar"), ("scuola elementare", "scuole elementari", "scuola primaria")),
        (("primo grado", "media", "medie"), ("scuola media", "scuole medie")),
        (("secondo grado", "superior", "liceo", "istituto"), ("scuola superiore", "scuole superiori")),
        (("liceo",), ("liceo",)),
        (("istituto",), ("istituto",)),
    ),
    "church": (
        (("cappella",), ("cappella",)),
        (("convento",), ("convento",)),
        (("santuario",), ("santuario",)),
        (("duomo",), ("duomo",)),
    ),
    "kindergarten": ((("nido",), ("asilo nido", "nido")),),
    "police": (
        (("carabinieri",), ("carabinieri", "caserma dei carabinieri")),
        (("locale", "municipale"), ("polizia locale", "vigili urbani", "vigili")),
    ),
    "hospital": ((("guardia medica",), ("guardia medica",)),),
}

#: ISCED level (OSM ``isced:level``) -> the words Italians use for that school.
ISCED_WORDS = {
    "1": ("scuola elementare", "scuole elementari", "scuola primaria"),
    "2": ("scuola media", "scuole medie"),
    "3": ("scuola superiore", "scuole superiori"),
}


def landmark_kind(tags: dict[str, str]) -> str | None:
    """The landmark kind of an OSM object, or None when it is not a landmark."""
    amenity = tags.get("amenity")
    if amenity == "townhall":
        return "townhall"
    if amenity == "place_of_worship" or tags.get("building") in ("church", "chapel", "cathedral"):
        # Untagged religion is almost always a Catholic church in Italy.
        return "church" if tags.get("religion", "christian") == "christian" else "place_of_worship"
    if amenity in ("school", "kindergarten", "pharmacy", "post_office", "hospital", "library",
                   "fire_station", "police"):
        return amenity
    if amenity in ("clinic", "doctors") or tags.get("healthcare") in ("clinic", "doctor", "centre"):
        return "clinic"
    if tags.get("healthcare") == "hospital":
        return "hospital"
    if tags.get("railway") in ("station", "halt") and tags.get("station") != "subway":
        return "station"
    if tags.get("landuse") == "cemetery" or amenity == "grave_yard":
        return "cemetery"
    return None


def _split(value: str | None) -> list[str]:
    return [v.strip() for v in (value or "").split(";") if v.strip()]


def landmark_names(kind: str, tags: dict[str, str]) -> tuple[str, list[str], bool]:
    """Name, aliases and whether the name is generic (the object had no ``name``)."""
    name = (tags.get("name") or "").strip()
    generic = not name
    if generic:
        name = KIND_WORDS[kind][1]
    words: list[str] = list(KIND_WORDS[kind][0])
    low = name.lower()
    for needles, extra in NAME_HINTS.get(kind, ()):
        if any(n in low for n in needles):
            words.extend(extra)
    if kind == "school":
        words.extend(ISCED_WORDS.get(tags.get("isced:level", ""), ()))
    if kind == "station" and not generic and "stazione" not in low:
        words.append(f"stazione di {name}")
    alt: list[str] = []
    for key in ("alt_name", "short_name", "official_name", "old_name", "loc_name"):
        alt.extend(v for v in _split(tags.get(key)) if v.lower() != low)
    # The kind words stay even when one equals the name ("Municipio"): callers
    # and the locator rely on finding "municipio" among the aliases.
    aliases: list[str] = []
    seen: set[str] = set()
    for w in words + alt:
        if w.lower() not in seen:
            seen.add(w.lower())
            aliases.append(w)
    return name, aliases, generic
