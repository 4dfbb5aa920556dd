"""What the council reads of how problems grow and how fast they are fixed: ``GET /api/trends``.

A question names one town or several (a contact centre's), a service (or every service the
council may see, ``privacy.council_services``) and a period of whole months (Europe/Rome).
The answer holds, for those reports:

- ``weekly``: reports per service per ISO week (days of the period only, so a week cut by
  the period's first or last month counts only its days inside);
- ``monthly``: per service per month, and ``months``: per month over the services asked,
  the reports, how many are closed, the median and 90th percentile of hours to resolve
  (``updated_datetime - requested_datetime`` of the closed ones) and the SLA share (closed by
  ``expected_datetime``, of the closed ones that had one);
- ``areas``: the same over the period per crew area, and ``districts`` per district, or None
  when no town asked has a districts layer (the page says so).

Counts come from ``trend_weeks``, kept per town, service, area, district, week and month by
``acting.trend_counts`` (brought up to date first, so no answer is stale). Percentiles are
read from its fixed buckets of hours (``BUCKET_EDGES_H``): a figure is the geometric middle
of the bucket holding the percentile, so it is within ``BUCKET_RATIO`` ** 0.5 (about 9 %) of
the true one. An answer is kept in this process keyed by the question and the towns' count
versions, so a repeated question costs only the refresh's check.

Privacy (``privacy.COUNCIL_MIN_REPORTS``, k): a group (a week × service, a month × service,
an area...) of fewer than k reports shows no count and no figure (None, ``suppressed``), and so
does any group it would take to work such a count out by subtraction (``privacy.hide_small``: a
month's services add up to its count, the areas to the period's);
a group shown shows its closed count and times only from at least k closed reports, and its
SLA share only from at least k with a due time. Only codes, area and district names from the
town's layers, counts and figures leave: no report, no text, no caller.
"""
from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import numpy as np
from sqlalchemy import text
from sqlalchemy.orm import Session

from geo_urp import catalog, municipalities, timestamps
from geo_urp.acting import trend_counts
from geo_urp.acting.trend_counts import BUCKET_EDGES_H, BUCKETS, TIME_ZONE
from geo_urp.errors import BadInput
from geo_urp.language import N_
from geo_urp.models import Municipality
from geo_urp.reading import privacy
from geo_urp.reading.privacy import COUNCIL_MIN_REPORTS

DEFAULT_MONTHS = 12
MAX_MONTHS = 120
BUCKET_RATIO = BUCKET_EDGES_H[1] / BUCKET_EDGES_H[0]
FIGURES = ("count", "closed", "median_hours", "p90_hours", "sla_share")

_ROWS = text("""
    SELECT service_code, area_id, district_id, week, month, n, closed, with_due, on_time, hours FROM trend_weeks
    WHERE municipality_id = :mid AND month BETWEEN :first AND :last AND service_code = ANY(CAST(:codes AS text[]))
""")
_AREAS = text("SELECT area_id, name FROM crew_areas WHERE municipality_id = :mid ORDER BY area_id")
_DISTRICTS = text("SELECT district_id, name FROM districts WHERE municipality_id = :mid ORDER BY district_id")

_MAX_ENTRIES = 256
_ANSWERS: dict[tuple, dict] = {}
_LOCK = threading.Lock()


@dataclass(frozen=True)
class Question:
    """A trend question, checked: towns, a service or all, whole months."""

    towns: tuple[Municipality, ...]
    service_code: str | None                       # None: every service the council may see
    service_codes: dict[int, tuple[str, ...]] = field(hash=False)  # per town id, the services counted
    first: date  # first day of the first month
    last: date   # first day of the last month

    def key(self) -> tuple:
        """The question as the answers' cache keeps it."""
        return (tuple(t.id for t in self.towns), self.service_code,
                tuple(sorted(self.service_codes.items())), self.first, self.last, COUNCIL_MIN_REPORTS)


def ask(session: Session, args: Mapping[str, str], bound_to: int | None, today: date | None = None) -> Question:
    """The question of a request's query (``jurisdiction_id``: one town, else every town the key or
    login may see; ``service_code``; ``from``, ``to``: days, months or date-times), each checked."""
    ids = municipalities.ids_within(session, bound_to, (args.get("jurisdiction_id") or "").strip() or None)
    towns = tuple(session.get(Municipality, mid) for mid in sorted(ids))
    if not towns:
        raise BadInput(N_("nessun comune è ancora caricato"), details=[{"field": "jurisdiction_id"}])
    code = (args.get("service_code") or "").strip() or None
    shown = {t.id: tuple(privacy.council_services(catalog.catalog_for(session, t.id), t.service_settings))
             for t in towns}
    if code is not None:
        for t in towns:
            catalog.service_for(session, t.id, code)
            if code not in shown[t.id]:
                raise BadInput(N_("service_code %(value)s riguarda persone e resta fuori dalle tabelle del consiglio"),
                               value=repr(code),
                               details=[{"field": "service_code", "value": code}])
        shown = {t.id: (code,) for t in towns}
    first, last = period(_moment(args, "from"), _moment(args, "to"), today)
    return Question(towns, code, shown, first, last)


def period(start: datetime | None, end: datetime | None, today: date | None = None) -> tuple[date, date]:
    """The whole months (Europe/Rome) from ``start``'s to ``end``'s, by default the last
    ``DEFAULT_MONTHS`` months up to this one."""
    rome = ZoneInfo(TIME_ZONE)
    today = today or datetime.now(timezone.utc).astimezone(rome).date()
    last = (end.astimezone(rome).date() if end else today).replace(day=1)
    first = start.astimezone(rome).date().replace(day=1) if start else _add_months(last, 1 - DEFAULT_MONTHS)
    if first > last:
        raise BadInput(N_("from non deve essere dopo to"), details=[{"field": "from"}])
    if (last.year - first.year) * 12 + last.month - first.month + 1 > MAX_MONTHS:
        raise BadInput(N_("from e to possono coprire al massimo %(most)s mesi"), most=MAX_MONTHS,
                       details=[{"field": "from"}])
    return first, last


def _moment(args: Mapping[str, str], name: str) -> datetime | None:
    """``name`` as a date-time with its offset, a day (YYYY-MM-DD) or a month (YYYY-MM), at noon in Rome."""
    raw = (args.get(name) or "").strip()
    if not raw:
        return None
    if "T" in raw:
        return timestamps.parameter(args, name)
    try:
        day = date.fromisoformat(raw + "-01" if len(raw) == 7 else raw)
    except ValueError:
        raise BadInput(N_("%(field)s deve essere un giorno (YYYY-MM-DD), un mese (YYYY-MM) o una data e ora con lo "
                          "scarto dall'UTC, non %(value)s"), field=name, value=repr(raw), details=[{"field": name, "value": raw}]) from None
    return datetime(day.year, day.month, day.day, 12, tzinfo=ZoneInfo(TIME_ZONE))


def trends(session: Session, question: Question) -> dict:
    """The answer to ``question`` (see the module's docstring), k-suppressed."""
    versions = tuple(trend_counts.refresh(session, t.id).version for t in question.towns)
    key = (session.get_bind().engine.url.render_as_string(), question.key(), versions)
    found = _ANSWERS.get(key)
    if found is None:
        found = _work_out(session, question)
        with _LOCK:
            if len(_ANSWERS) >= _MAX_ENTRIES:
                _ANSWERS.clear()
            _ANSWERS[key] = found
    return found


class _Group:
    """The sums of one group of ``trend_weeks`` rows."""

    __slots__ = ("n", "closed", "with_due", "on_time", "hours")

    def __init__(self):
        self.n = self.closed = self.with_due = self.on_time = 0
        self.hours = np.zeros(BUCKETS, dtype=np.int64)

    def add(self, row) -> None:
        self.n += row.n
        self.closed += row.closed
        self.with_due += row.with_due
        self.on_time += row.on_time
        self.hours += np.asarray(row.hours, dtype=np.int64)

    def figures(self, hidden: bool = False) -> dict:
        """Its figures as the council may see them (see the module's docstring); none when ``hidden``
        (by ``privacy.hide_small``)."""
        k = COUNCIL_MIN_REPORTS
        if hidden or self.n < k:
            return {**dict.fromkeys(FIGURES), "suppressed": True}
        timed = self.closed >= k
        return {"count": self.n, "closed": self.closed if timed else None,
                "median_hours": percentile(self.hours, 0.5) if timed else None,
                "p90_hours": percentile(self.hours, 0.9) if timed else None,
                "sla_share": round(self.on_time / self.with_due, 3) if self.with_due >= k else None,
                "suppressed": False}


def percentile(hours: np.ndarray, q: float) -> float:
    """The ``q`` quantile of a resolve-time histogram: the geometric middle of the bucket holding it."""
    at = int(np.searchsorted(np.cumsum(hours), q * hours.sum()))
    if at == 0:
        return round(BUCKET_EDGES_H[0] / 2, 2)
    if at >= len(BUCKET_EDGES_H):
        return round(BUCKET_EDGES_H[-1], 2)
    return round(float(np.sqrt(BUCKET_EDGES_H[at - 1] * BUCKET_EDGES_H[at])), 2)


def _work_out(session: Session, question: Question) -> dict:
    """Every table of the answer, from ``trend_weeks``."""
    months = _months(question.first, question.last)
    weeks = _weeks(question.first, _add_months(question.last, 1))
    codes = sorted({c for cs in question.service_codes.values() for c in cs})
    weekly, monthly, overall = defaultdict(_Group), defaultdict(_Group), defaultdict(_Group)
    areas, districts = defaultdict(_Group), defaultdict(_Group)
    area_names, district_names = {}, {}
    for town in question.towns:
        params = {"mid": town.id, "first": question.first, "last": question.last,
                  "codes": list(question.service_codes[town.id])}
        area_names.update({(town.slug, r.area_id): r.name for r in session.execute(_AREAS, params)})
        district_names.update({(town.slug, r.district_id): r.name for r in session.execute(_DISTRICTS, params)})
        for row in session.execute(_ROWS, params):
            weekly[(row.week, row.service_code)].add(row)
            monthly[(row.month, row.service_code)].add(row)
            overall[row.month].add(row)
            areas[(town.slug, row.area_id)].add(row)
            districts[(town.slug, row.district_id)].add(row)
    has_districts = bool(district_names)
    # Every group the tables show, so that a group the council cannot see has a row of its own.
    for c in codes:
        for w in weeks:
            weekly[(w, c)]
        for m in months:
            monthly[(m, c)]
    for m in months:
        overall[m]
    for key in area_names:
        areas[key]
    for key in district_names:
        districts[key]
    hidden = privacy.hide_small(_partitions(weekly, monthly, overall, areas, districts, codes, weeks, months))
    return {
        "jurisdiction_ids": [t.slug for t in question.towns], "service_code": question.service_code,
        "services": codes, "from": question.first.isoformat(),
        "to": (_add_months(question.last, 1) - timedelta(days=1)).isoformat(),
        "min_count": COUNCIL_MIN_REPORTS, "bucket_ratio": round(BUCKET_RATIO, 3),
        "weekly": [{"week": _iso_week(w), "service_code": c,
                    **_count_only(weekly[(w, c)], ("weekly", (w, c)) in hidden)} for c in codes for w in weeks],
        "monthly": [{"month": f"{m:%Y-%m}", "service_code": c,
                     **monthly[(m, c)].figures(("monthly", (m, c)) in hidden)} for c in codes for m in months],
        "months": [{"month": f"{m:%Y-%m}", **overall[m].figures(("months", m) in hidden)} for m in months],
        "areas": _places(areas, area_names, "area_id", "areas", hidden),
        "districts": _places(districts, district_names, "district_id", "districts", hidden) if has_districts else None,
    }


def _count_only(group: _Group, hidden: bool) -> dict:
    if hidden or group.n < COUNCIL_MIN_REPORTS:
        return {"count": None, "suppressed": True}
    return {"count": group.n, "suppressed": False}


def _places(groups: dict, names: dict, id_name: str, table: str, hidden: set) -> list[dict]:
    """One row per area (or district) of the towns, then one for the reports in none, when any."""
    rows = [{"jurisdiction_id": key[0], id_name: key[1], "name": name, **groups[key].figures((table, key) in hidden)}
            for key, name in sorted(names.items())]
    rows += [{"jurisdiction_id": key[0], id_name: None, "name": None, **group.figures((table, key) in hidden)}
             for key, group in sorted(groups.items()) if key[1] == ""]
    return rows


def _partitions(weekly, monthly, overall, areas, districts, codes, weeks, months) -> list[list[tuple]]:
    """The sets of groups that add up to a figure a reader can see or work out: a month's services
    (to the month's count), a service's months and its weeks (to the service's total), the months,
    the areas and the districts (to the period's total). Each part: ((table, key), reports)."""
    def part(table, groups, key):
        return ((table, key), groups[key].n)

    out = [[part("monthly", monthly, (m, c)) for c in codes] for m in months]
    out += [[part("monthly", monthly, (m, c)) for m in months] for c in codes]
    out += [[part("weekly", weekly, (w, c)) for w in weeks] for c in codes]
    out.append([part("months", overall, m) for m in months])
    out.append([part("areas", areas, key) for key in areas])
    if districts:
        out.append([part("districts", districts, key) for key in districts])
    return out


def _iso_week(monday: date) -> str:
    year, week, _ = monday.isocalendar()
    return f"{year}-W{week:02d}"


def _weeks(first: date, end: date) -> list[date]:
    """The Mondays of every ISO week holding a day from ``first`` up to (not including) ``end``."""
    monday = first - timedelta(days=first.weekday())
    return [monday + timedelta(weeks=k) for k in range((end - monday).days // 7 + (1 if (end - monday).days % 7 else 0))]


def _add_months(first_day: date, k: int) -> date:
    index = first_day.year * 12 + first_day.month - 1 + k
    return date(index // 12, index % 12 + 1, 1)


def _months(first: date, last: date) -> list[date]:
    """First days of every month from ``first`` to ``last``, both included."""
    count = (last.year - first.year) * 12 + last.month - first.month + 1
    return [_add_months(first, k) for k in range(count)]
