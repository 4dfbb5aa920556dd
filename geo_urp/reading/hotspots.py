"""What the council reads of where problems concentrate: ``GET /api/hotspots`` (SPEC §4).

A question names a town, a service (or every service), a period of whole months (Europe/Rome)
and a cell size. The answer is a GeoJSON FeatureCollection of the town's hexagons (WGS84),
each with ``count``, ``gi_z``, ``gi_p``, ``class`` (``hot``, ``cold``, ``none``) and, when the
trend is asked, ``trend`` and the count of each month, for the time slider.

- counts come from ``hotspot_grid`` (kept per cell and month by ``acting.hotspot_counts``,
  brought up to date first);
- the statistics from ``hotspot_stats``: Getis-Ord Gi* on the period's counts with permutation
  inference and false-discovery-rate control, and the emerging-hotspot trend over the months;
- privacy (``privacy.COUNCIL_MIN_REPORTS``): a cell, or a cell's month, with fewer reports than
  that shows no count, nor does any it would take to work one out by subtraction
  (``privacy.hide_small``: the cells add up to the town's count, a cell's months to the cell, a
  month's cells to the month, which the trend page shows); a cell shown without its count shows
  no z-score or p-value either (they are worked out from the counts); only counts and statistics
  leave, never a report;
- a worked-out answer is kept in ``hotspot_answers`` with the version of the counts it read,
  so the same question is answered again without the statistics, by any worker, until a
  report of the town changes the counts.
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

import numpy as np
from sqlalchemy import text
from sqlalchemy.orm import Session

from geo_urp import catalog, municipalities, timestamps
from geo_urp.acting import hotspot_counts
from geo_urp.errors import BadInput
from geo_urp.language import N_
from geo_urp.models import Municipality
from geo_urp.reading import hotspot_grid, hotspot_stats, parameters, privacy
from geo_urp.reading.privacy import COUNCIL_MIN_REPORTS

DEFAULT_CELL_M = 200
DEFAULT_MONTHS = 12
MAX_MONTHS = 120
ALPHA = 0.05
# Permutation inference: a pseudo p-value is never below 2 / (permutations + 1), and the
# false-discovery-rate control asks the k-th smallest of m p-values to be below k * ALPHA / m,
# so 999 draws can find no hotspot of a few cells among a few hundred. Small grids get more
# draws; the draws per map are bounded (cells x permutations), so big grids stay quick.
MIN_PERMUTATIONS, MAX_PERMUTATIONS, DRAWS = 999, 9999, 4_000_000
SEED = 311
# Raised whenever the statistics change, so answers kept by an older method are not reused.
# How answers are worked out, in the kept answers' key: 2 since secondary suppression. Permutation
# inference is random: one seed, so the same counts give the same map.
METHOD = 2

_ANSWER = text("""
    SELECT answer FROM hotspot_answers WHERE municipality_id = :mid AND question = :question AND version = :version
""")
_KEEP = text("""
    INSERT INTO hotspot_answers (municipality_id, question, version, answer)
    VALUES (:mid, :question, :version, CAST(:answer AS jsonb))
    ON CONFLICT (municipality_id, question)
    DO UPDATE SET version = EXCLUDED.version, answer = EXCLUDED.answer, made_at = now()
""")


@dataclass(frozen=True)
class Question:
    """A hotspot question, checked: one town, a service or all, whole months, a cell size."""

    municipality: Municipality
    service_code: str | None    # None: every service the council may see
    service_codes: tuple[str, ...]  # the services counted
    first: date  # first day of the first month
    last: date   # first day of the last month
    cell_m: int = DEFAULT_CELL_M
    trend: bool = False

    def key(self) -> str:
        """The question as ``hotspot_answers`` keeps it (the layers' load too: it decides the grid)."""
        loaded = self.municipality.layers_loaded_at.isoformat() if self.municipality.layers_loaded_at else "-"
        services = self.service_code or "*" + hashlib.sha1(",".join(self.service_codes).encode()).hexdigest()[:8]
        return (f"{self.cell_m}|{services}|{self.first:%Y-%m}|{self.last:%Y-%m}|"
                f"{int(self.trend)}|k{COUNCIL_MIN_REPORTS}|m{METHOD}|{loaded}")


def period(start: datetime | None, end: datetime | None, today: date | None = None) -> tuple[date, date]:
    """The whole months (Europe/Rome) a period covers: from ``start``'s month to ``end``'s, by
    default the last ``DEFAULT_MONTHS`` months up to this one."""
    rome = ZoneInfo(hotspot_counts.TIME_ZONE)
    today = today or datetime.now(timezone.utc).astimezone(rome).date()
    last = (end.astimezone(rome).date() if end else today).replace(day=1)
    if start is None:
        index = last.year * 12 + last.month - 1 - (DEFAULT_MONTHS - 1)  # months since year 0, 0-based
        first = date(index // 12, index % 12 + 1, 1)
    else:
        first = start.astimezone(rome).date().replace(day=1)
    if first > last:
        raise BadInput(N_("from non deve essere dopo to"), details=[{"field": "from"}])
    if (last.year - first.year) * 12 + last.month - first.month + 1 > MAX_MONTHS:
        raise BadInput(N_("from e to possono coprire al massimo %(most)s mesi"), most=MAX_MONTHS,
                       details=[{"field": "from"}])
    return first, last


def ask(session: Session, args: Mapping[str, str], bound_to: int | None, today: date | None = None) -> Question:
    """The question a request's query asks (``jurisdiction_id``, ``service_code``, ``from``, ``to``,
    ``cell_m``, ``trend``), each checked: a bad one is a ``BadInput`` naming it."""
    muni = municipalities.municipality_for(session, args.get("jurisdiction_id") or None, bound_to)
    code = (args.get("service_code") or "").strip() or None
    shown = privacy.council_services(catalog.catalog_for(session, muni.id), muni.service_settings)
    if code is not None:
        catalog.service_for(session, muni.id, code)
        if code not in shown:
            raise BadInput(N_("service_code %(value)s riguarda persone e resta fuori dalle mappe del consiglio"),
                               value=repr(code),
                           details=[{"field": "service_code", "value": code}])
    cell_m = parameters.whole_number(args, "cell_m", hotspot_grid.MIN_CELL_M, hotspot_grid.MAX_CELL_M)
    trend = (args.get("trend") or "0").strip()
    if trend not in ("0", "1"):
        raise BadInput(N_("trend deve essere 0 o 1, non %(value)s"), value=repr(trend), details=[{"field": "trend", "value": trend}])
    first, last = period(timestamps.parameter(args, "from") if "T" in (args.get("from") or "") else _day(args, "from"),
                         timestamps.parameter(args, "to") if "T" in (args.get("to") or "") else _day(args, "to"),
                         today)
    return Question(muni, code, (code,) if code else tuple(shown), first, last, cell_m or DEFAULT_CELL_M,
                    trend == "1")


def _day(args: Mapping[str, str], name: str) -> datetime | None:
    """``name`` as a calendar day (YYYY-MM-DD, or YYYY-MM for a whole month) at noon in Rome."""
    raw = (args.get(name) or "").strip()
    if not raw:
        return None
    try:
        day = date.fromisoformat(raw + "-01" if len(raw) == 7 else raw)
    except ValueError:
        raise BadInput(N_("%(field)s deve essere un giorno (YYYY-MM-DD), un mese (YYYY-MM) o una data e ora con lo "
                          "scarto dall'UTC, non %(value)s"), field=name, value=repr(raw), details=[{"field": name, "value": raw}]) from None
    return datetime(day.year, day.month, day.day, 12, tzinfo=ZoneInfo(hotspot_counts.TIME_ZONE))


def hotspots(session: Session, question: Question) -> dict:
    """The answer to ``question``: kept, or worked out now and kept (see the module's docstring)."""
    mid = question.municipality.id
    cells = hotspot_grid.town_cells(session, mid, question.cell_m)
    counts = hotspot_counts.refresh(session, mid, question.cell_m)
    params = {"mid": mid, "question": question.key(), "version": counts.version}
    kept = session.execute(_ANSWER, params).scalar()
    if kept is not None:
        return kept
    answer = _work_out(session, question, cells)
    if counts.writable:
        session.execute(_KEEP, {**params, "answer": json.dumps(answer)})
    return answer


def _work_out(session: Session, question: Question, cells: hotspot_grid.TownCells) -> dict:
    """Counts, Gi*, classes and (when asked) trends of every cell of the town, k-suppressed."""
    months, by_month = hotspot_grid.monthly_counts(session, question.municipality.id, question.cell_m,
                                                   question.first, question.last, question.service_codes, cells)
    total = by_month.sum(axis=0)
    w = hotspot_stats.neighbours(cells.x, cells.y, question.cell_m)
    permutations = permutations_for(len(cells.i))
    z, p = hotspot_stats.gi_star(total, w, permutations=permutations, seed=SEED)
    classes = hotspot_stats.classify(z, p, alpha=ALPHA)
    trends = hotspot_stats.emerging(by_month, w, alpha=ALPHA) if question.trend else None
    hidden = privacy.hide_small(_partitions(total, by_month if question.trend else None))
    features = []
    for k in range(len(cells.i)):
        shown = ("cell", k) not in hidden
        props = {"i": int(cells.i[k]), "j": int(cells.j[k]),
                 "count": int(total[k]) if shown else None, "suppressed": not shown,
                 "gi_z": round(float(z[k]), 2) if shown else None,
                 "gi_p": round(float(p[k]), 3) if shown else None,
                 "class": str(classes[k])}
        if trends is not None:
            props["trend"] = str(trends[k])
            props["monthly"] = [None if (m, k) in hidden else int(n) for m, n in enumerate(by_month[:, k])]
        features.append({"type": "Feature", "geometry": _shape(cells.geojson[k]), "properties": props})
    return {"type": "FeatureCollection", "features": features,
            "jurisdiction_id": question.municipality.slug, "service_code": question.service_code,
            "from": question.first.isoformat(), "to": _month_end(question.last).isoformat(),
            "months": [m.strftime("%Y-%m") for m in months] if question.trend else None,
            "cell_m": question.cell_m, "min_count": COUNCIL_MIN_REPORTS, "alpha": ALPHA,
            "permutations": permutations,
            "hot": int(np.sum(classes == "hot")), "cold": int(np.sum(classes == "cold"))}


def _partitions(total: np.ndarray, by_month: np.ndarray | None) -> list[list[tuple]]:
    """The sets of counts that add up to one a reader knows: the cells (to the town's count), and
    with the months shown a cell's months (to the cell) and a month's cells (to the month)."""
    out = [[(("cell", k), int(n)) for k, n in enumerate(total)]]
    if by_month is not None:
        months, cells = by_month.shape
        out += [[((m, k), int(by_month[m, k])) for m in range(months)] for k in range(cells)]
        out += [[((m, k), int(by_month[m, k])) for k in range(cells)] for m in range(months)]
    return out


def permutations_for(cells: int) -> int:
    """How many permutations Gi*'s inference draws on a grid of ``cells`` cells."""
    return max(MIN_PERMUTATIONS, min(MAX_PERMUTATIONS, DRAWS // max(cells, 1)))


def _shape(geojson: str) -> dict:
    return json.loads(geojson)


def _month_end(first_day: date) -> date:
    """The last day of ``first_day``'s month."""
    nxt = date(first_day.year + (first_day.month == 12), first_day.month % 12 + 1, 1)
    return date.fromordinal(nxt.toordinal() - 1)
