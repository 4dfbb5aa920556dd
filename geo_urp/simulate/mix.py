"""What real citizen reports look like in aggregate: category mix, rhythm, time to close.

The figures come from the Comune di Alessandria's open data (4,651 reports,
``data/alessandria/``, CC BY 4.0): its categories are mapped onto our service
codes (SPEC §3) and counted, its created dates give the seasonal and weekly
rhythm, its created/closed dates the time to close. The file has dates but no
times, so the hour-of-day rhythm of a 24-hour line is a stated assumption
(``HOURLY_WEIGHTS``), not a measurement.

It also holds what simulated callers say: Italian descriptions per service,
odd strings that exercise escaping, fictional callers, and the spoken form of
an official address ("c.so mazzini 28" for "Corso Giuseppe Mazzini 28").
"""
from __future__ import annotations

import csv
import random
import re
import unicodedata
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Iterable

from geo_urp.settings import PROJECT_ROOT

CSV_PATH = PROJECT_ROOT / "data" / "alessandria" / "alessandria_segnalazioni_municipium.csv"

# Category words (lower case, matched as substrings, first rule wins) -> service code.
# Alessandria's app has no category for the phone-only calls (noise, distress,
# no water), so those rules only fire on other towns' files.
CATEGORY_RULES: tuple[tuple[str, str], ...] = (
    ("illuminazione", "streetlight_out"),
    ("tombin", "flooding"),
    ("allagament", "flooding"),
    ("acquedotto", "water_leak"),
    ("buche", "road_damage"),
    ("strad", "road_damage"),          # "Semafori e segnaletica stradale": the roads crew
    ("arredo urbano", "road_damage"),  # broken bollards, benches, railings on the street
    ("accessibilit", "road_damage"),   # barriers on pavements and crossings
    ("rumor", "noise"),
    ("quiete", "noise"),
    ("disagio", "social_distress"),
)
# Green areas, parks, pest control, cemeteries, animals, ideas, "Altro", blank:
# no crew of SPEC §3 handles them, the operator answers and forwards.
FALLBACK_CODE = "info_request"

# Calls per local hour (0..23) on a 24-hour line: quiet from 1 to 6, a morning
# peak, an evening shoulder. Relative weights; an assumption, see module docstring.
HOURLY_WEIGHTS: tuple[float, ...] = (
    1.6, 1.0, 0.6, 0.4, 0.4, 0.6, 1.2, 2.6, 4.6, 6.0, 6.2, 5.8,
    4.8, 4.4, 4.8, 5.0, 5.0, 4.8, 4.4, 3.8, 3.2, 2.8, 2.4, 2.0,
)

CLOSED_STATES = frozenset({"chiusa", "archiviata"})
MIN_ROWS_FOR_OWN_PROFILE = 200


def service_code_for(category: str) -> str:
    """The service code a source category maps to."""
    folded = category.strip().lower()
    for word, code in CATEGORY_RULES:
        if word in folded:
            return code
    return FALLBACK_CODE


@dataclass(frozen=True)
class Mix:
    """Aggregates of a report file, ready to sample from."""

    weights: dict[str, float]                  # service code -> share of reports
    month_weights: dict[str, tuple[float, ...]]  # code (or "*") -> 12 relative weights
    weekday_weights: tuple[float, ...]         # Monday..Sunday
    close_days: dict[str, tuple[int, ...]]     # code (or "*") -> observed days to close
    source_rows: int
    categories: dict[str, int]                 # source category -> rows

    def months_for(self, code: str) -> tuple[float, ...]:
        """The month profile of ``code``, or the overall one when the code is rare."""
        return self.month_weights.get(code, self.month_weights["*"])

    def close_days_for(self, code: str) -> tuple[int, ...]:
        """Observed days-to-close for ``code``, or overall ones when it is rare."""
        return self.close_days.get(code, self.close_days["*"])


def _parse_date(text: str) -> date | None:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        return None


def _month_profile(counts: Counter, months_seen: Counter) -> tuple[float, ...]:
    # Months seen in more years weigh more only because they were seen more often:
    # divide by how many (year, month) pairs the file covers for each month.
    raw = [counts[m] / months_seen[m] if months_seen[m] else 0.0 for m in range(1, 13)]
    total = sum(raw) or 1.0
    return tuple(r / total * 12 for r in raw)


@lru_cache(maxsize=4)
def load_mix(path: Path = CSV_PATH) -> Mix:
    """Read the report file (``;``-separated: Stato, Creato, Chiusa, Categoria) into a ``Mix``."""
    if not path.exists():
        raise FileNotFoundError(f"report file {path} not found: the category mix needs it")
    codes: Counter = Counter()
    categories: Counter = Counter()
    by_month: dict[str, Counter] = defaultdict(Counter)
    year_months: set[tuple[int, int]] = set()
    weekdays: Counter = Counter()
    durations: dict[str, list[int]] = defaultdict(list)
    rows = 0
    with path.open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh, delimiter=";"):
            rows += 1
            category = (row.get("Categoria") or "").strip()
            code = service_code_for(category)
            categories[category or "(vuota)"] += 1
            codes[code] += 1
            created = _parse_date(row.get("Creato") or "")
            if created is None:
                continue
            for key in (code, "*"):
                by_month[key][created.month] += 1
            year_months.add((created.year, created.month))
            weekdays[created.weekday()] += 1
            closed = _parse_date(row.get("Chiusa") or "")
            if (row.get("Stato") or "").strip().lower() in CLOSED_STATES and closed and closed >= created:
                for key in (code, "*"):
                    durations[key].append((closed - created).days)
    if not rows:
        raise ValueError(f"report file {path} has no rows")
    months_seen = Counter(m for _, m in year_months)
    total = sum(codes.values())
    return Mix(
        weights={c: n / total for c, n in sorted(codes.items())},
        month_weights={k: _month_profile(c, months_seen) for k, c in by_month.items()
                       if k == "*" or sum(c.values()) >= MIN_ROWS_FOR_OWN_PROFILE},
        weekday_weights=tuple(weekdays[d] / max(1, sum(weekdays.values())) * 7 for d in range(7)),
        close_days={k: tuple(sorted(v)) for k, v in durations.items()
                    if k == "*" or len(v) >= 50},
        source_rows=rows,
        categories=dict(categories),
    )


# What callers say, per service code: Italian, as an operator would type it.
DESCRIPTIONS: dict[str, tuple[str, ...]] = {
    "streetlight_out": (
        "Il lampione davanti a casa è spento da ieri sera.",
        "Lampione spento, la strada è completamente al buio.",
        "Luce della strada che non si accende, c'è buio pesto.",
        "Il palo della luce lampeggia e poi si spegne.",
        "Tutta la via è al buio, non si vede niente.",
        "Lampione spento vicino al passaggio pedonale, pericoloso.",
    ),
    "water_leak": (
        "Esce acqua dall'asfalto, c'è un rivolo che scende lungo la strada.",
        "Grossa perdita d'acqua in strada, l'acqua zampilla dal tombino.",
        "Acqua che sgorga dal marciapiede, sembra un tubo rotto.",
    ),
    "no_water": (
        "Non esce più acqua dal rubinetto da mezz'ora.",
        "Siamo senza acqua in tutta la casa.",
        "Manca l'acqua, anche i vicini sono senza.",
        "Dal rubinetto non esce niente, né calda né fredda.",
    ),
    "low_pressure": ("L'acqua esce pochissimo, pressione molto bassa.",),
    "flooding": (
        "La strada è allagata, l'acqua arriva al marciapiede.",
        "Il tombino non scarica, si è formato un lago.",
        "Acqua che entra nel garage per la pioggia.",
        "Sottopasso allagato, le macchine non passano.",
        "Con questa pioggia la via è un fiume.",
    ),
    "road_damage": (
        "Buca profonda in mezzo alla carreggiata.",
        "Tombino sollevato, pericoloso per le moto.",
        "Asfalto sfondato vicino all'incrocio.",
        "Cartello stradale abbattuto.",
        "Marciapiede dissestato, una signora è inciampata.",
    ),
    "noise": (
        "Musica altissima dal locale, non si riesce a dormire.",
        "Schiamazzi in strada da ore.",
        "Festa nell'appartamento sopra, volume fortissimo.",
    ),
    "social_distress": (
        "Una persona anziana seduta per terra da tempo, sembra confusa.",
        "Un uomo dorme sulla panchina al freddo.",
    ),
    "info_request": (
        "Vorrei sapere gli orari dell'ecocentro.",
        "Chiede a chi rivolgersi per un albero pericolante nel parco.",
        "Informazioni sulla raccolta degli ingombranti.",
        "Segnala cestini pieni nei giardini, chiede chi deve svuotarli.",
        "Chiede quando riapre l'ufficio anagrafe.",
    ),
}

# Odd input a real intake sees sooner or later: quotes, markup, SQL, emoji, control-ish text.
HOSTILE: tuple[str, ...] = (
    "Dice: \"non è la prima volta\" e 'nessuno viene'",
    "<script>alert('urp')</script>",
    "Robert'); DROP TABLE reports;--",
    "<b>urgente</b> &amp; <img src=x onerror=alert(1)>",
    "acqua 💧💧 ovunque!!! \\ ${jndi:ldap://x}",
)

STATUS_NOTES: dict[str, tuple[str, ...]] = {
    "streetlight_out": ("Intervento completato: sostituita la lampada.", "Intervento completato: ripristinata l'alimentazione."),
    "water_leak": ("Intervento completato: riparata la condotta.",),
    "no_water": ("Intervento completato: fornitura ripristinata.",),
    "low_pressure": ("Intervento completato: pressione ripristinata.",),
    "flooding": ("Intervento completato: pulita la caditoia.", "Intervento completato: spurgo del tombino."),
    "road_damage": ("Intervento completato: buca chiusa.", "Intervento completato: ripristinata la pavimentazione."),
    "noise": ("Intervento completato: pattuglia della polizia locale sul posto.",),
    "social_distress": ("Intervento completato: servizi sociali avvisati.",),
    "info_request": ("Intervento completato: informazioni fornite.",),
}

# Fictional callers.
FIRST_NAMES = ("Giulia", "Marco", "Anna", "Luca", "Francesca", "Paolo", "Chiara", "Matteo", "Elena",
               "Andrea", "Sara", "Stefano", "Martina", "Davide", "Laura", "Nicolò", "Maria Grazia")
LAST_NAMES = ("Rossi", "Bianchi", "Dalpiaz", "Zeni", "Pedrotti", "Fedrizzi", "Moser", "Paolazzi",
              "Girardi", "D'Andrea", "Dalla Torre", "Endrizzi", "Chistè", "Toniolli", "Rigotti")


# How callers shorten a street type.
SHORT_TYPES = {"via": ("v.",), "corso": ("c.so",), "piazza": ("p.zza", "p.za"), "viale": ("v.le",),
               "vicolo": ("v.lo",), "largo": ("l.go",), "località": ("loc.",)}
# Given names callers leave out ("via de gasperi" for "Via Alcide De Gasperi").
GIVEN_NAMES = frozenset("""alcide alessandro arturo carlo cesare damiano emanuele fabio francesco
    giacomo giorgio giosuè giovanni giuseppe guido luigi riccardo""".split())


def ascii_fold(text: str) -> str:
    """``text`` without accents ("Unità" -> "Unita")."""
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")


def spoken_address(street: str, number: str, rng: random.Random, streets: Iterable[str] = ()) -> str:
    """How a caller says an official address: lower case, sometimes shortened, never ambiguous."""
    words = street.lower().split()
    if len(words) >= 3 and words[1] in GIVEN_NAMES and rng.random() < 0.4:
        tail = " ".join(words[2:])
        # Only when no other street ends the same way ("De Varda" is two streets).
        if sum(s.lower().endswith(" " + tail) for s in streets) <= 1:
            words = [words[0]] + words[2:]
    if words[0] in SHORT_TYPES and rng.random() < 0.3:
        words[0] = rng.choice(SHORT_TYPES[words[0]])
    said = " ".join(words)
    if rng.random() < 0.3:
        said = ascii_fold(said)
    number = number.lower()
    return f"{said} numero {number}" if rng.random() < 0.15 else f"{said} {number}"


def caller(rng: random.Random) -> tuple[str, str, str | None, str | None]:
    """A fictional caller: first and last name, phone and/or e-mail."""
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    # Half the phones are mobiles (an SMS can reach them), half landlines (a call-back): one draw
    # decides both the number and which. 0461 000xxx is Trento's area code with an unassigned
    # exchange; the mobiles are made up, and the demo sets no SMS gateway. example.org is reserved.
    phone = None
    if rng.random() < 0.8:
        n = rng.randrange(1000)
        phone = f"+39 0461 000{n:03d}" if n % 2 else f"+39 340 000 0{n:03d}"
    email = None
    if phone is None or rng.random() < 0.35:
        local = re.sub(r"[^a-z.]", "", ascii_fold(f"{first}.{last}").lower())
        email = f"{local}{rng.randrange(100)}@example.org"
    return first, last, phone, email


def description(rng: random.Random, code: str, hostile: bool = False) -> str:
    """What the caller says about a ``code`` problem, with an odd string appended when ``hostile``."""
    said = rng.choice(DESCRIPTIONS[code])
    return f"{said} {rng.choice(HOSTILE)}" if hostile else said
