"""Past reports, already closed, written straight into the database (``simulate --history``).

Council maps, hotspot trends and benchmarks need years of reports. These are
drawn from the real aggregates of ``mix`` (category mix, seasonal and weekly
rhythm, time to close) at the town's real addresses with a few metres of
jitter, and carry no caller contact data. Each is due when intake would have said
(``expected_datetime``: the town's SLA hours for its service, ``service_levels.sla_hours``, as
``service_levels.expected_at`` adds them), so the council's SLA figures have something to measure. Sampling is vectorised with numpy and
the rows go in through ``INSERT … SELECT … FROM unnest(arrays)`` in batches, so
100,000 reports take seconds rather than minutes: one round trip per batch
instead of one per row, with PostGIS building the points.
"""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import numpy as np
import pandas as pd
from sqlalchemy import text
from sqlalchemy.orm import Session

from geo_urp.acting import partitions
from geo_urp.acting.service_levels import sla_hours
from geo_urp.errors import BadInput, NotFound
from geo_urp.models import METRIC_SRID
from geo_urp.simulate import mix

BATCH = 20_000
JITTER_M = 8.0
# Addresses closer than this to the boundary are skipped, so jitter never leaves the town.
BOUNDARY_MARGIN_M = 2 * JITTER_M
TIME_ZONE = "Europe/Rome"
EPOCH = pd.Timestamp(0, tz="UTC")

_INSERT = text(f"""
    INSERT INTO reports (municipality_id, token, service_code, status, status_notes, description,
                         requested_datetime, updated_datetime, expected_datetime, address, address_id, attributes, geom, call_back)
    SELECT :mid, t.token, t.code, 'closed', t.note, t.descr, to_timestamp(t.req), to_timestamp(t.upd),
           to_timestamp(t.req + t.due_s),
           t.label, t.address_id, '{{}}'::jsonb, ST_SetSRID(ST_MakePoint(t.x, t.y), {METRIC_SRID}), false
    FROM unnest(CAST(:token AS text[]), CAST(:code AS text[]), CAST(:note AS text[]), CAST(:descr AS text[]),
                CAST(:req AS float8[]), CAST(:upd AS float8[]), CAST(:due_s AS float8[]), CAST(:label AS text[]),
                CAST(:address_id AS text[]), CAST(:x AS float8[]), CAST(:y AS float8[]))
         AS t(token, code, note, descr, req, upd, due_s, label, address_id, x, y)
""")


def _addresses(session: Session, mid: int) -> pd.DataFrame:
    """The municipality's addresses comfortably inside its boundary (all of them if it has none)."""
    if session.execute(text("SELECT 1 FROM municipalities WHERE id = :mid"), {"mid": mid}).first() is None:
        raise NotFound(f"no municipality with id {mid}")
    rows = session.execute(text(
        "SELECT a.address_id, a.street || ' ' || a.number AS label, ST_X(a.geom) AS x, ST_Y(a.geom) AS y "
        "FROM addresses a JOIN municipalities m ON m.id = a.municipality_id WHERE a.municipality_id = :mid "
        "AND (m.boundary IS NULL OR ST_Contains(ST_Buffer(m.boundary, -:margin), a.geom)) ORDER BY a.address_id"),
        {"mid": mid, "margin": BOUNDARY_MARGIN_M}).all()
    if not rows:
        raise BadInput(f"municipality {mid} has no addresses inside its boundary to place past reports at")
    return pd.DataFrame(rows, columns=["address_id", "label", "x", "y"])


def _request_times(rng: np.random.Generator, code: str, n: int, days: pd.DatetimeIndex,
                   m: mix.Mix) -> np.ndarray:
    """``n`` request times (epoch seconds) for ``code``: day by season and weekday, hour by the daily rhythm."""
    months = np.asarray(m.months_for(code))[days.month - 1]
    weekdays = np.asarray(m.weekday_weights)[days.day_of_week]
    p = months * weekdays
    day = days[rng.choice(len(days), size=n, p=p / p.sum())]
    hours = np.asarray(mix.HOURLY_WEIGHTS)
    hour = rng.choice(24, size=n, p=hours / hours.sum())
    local = pd.DatetimeIndex(day) + pd.to_timedelta(hour * 3600 + rng.integers(0, 3600, size=n), unit="s")
    # Times in the autumn hour that happens twice are read as standard time; spring's missing hour moves on.
    utc = local.tz_localize(TIME_ZONE, ambiguous=np.zeros(n, dtype=bool), nonexistent="shift_forward")
    return ((utc - EPOCH) / pd.Timedelta(seconds=1)).to_numpy(dtype=float)


def _close_hours(rng: np.random.Generator, code: str, n: int, m: mix.Mix) -> np.ndarray:
    """Hours from request to closing, from the observed days-to-close of ``code``."""
    days = rng.choice(np.asarray(m.close_days_for(code)), size=n)
    same_day = rng.uniform(0.5, 8.0, size=n)
    later = days * 24 + rng.uniform(-8.0, 8.0, size=n)
    return np.where(days == 0, same_day, np.maximum(later, 0.5))


def write_history(session: Session, municipality_id: int, n: int, years: float = 2, seed: int = 1,
                  now: datetime | None = None) -> int:
    """Write ``n`` closed past reports over the last ``years`` years; returns how many were written."""
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
        raise BadInput(f"n must be a whole number of reports, 0 or more; got {n!r}")
    if not years or years <= 0:
        raise BadInput(f"years must be positive, got {years!r}")
    if n == 0:
        return 0
    m = mix.load_mix()
    places = _addresses(session, municipality_id)
    rng = np.random.default_rng(seed)
    now = (now or datetime.now(timezone.utc)).astimezone(timezone.utc)
    first = now - timedelta(days=round(365.25 * years))
    days = pd.date_range(first.date(), (now - timedelta(days=1)).date(), freq="D")

    codes_all = np.array(list(m.weights))
    code = rng.choice(codes_all, size=n, p=np.array(list(m.weights.values())))
    req = np.empty(n)
    upd = np.empty(n)
    for c in codes_all:
        idx = np.flatnonzero(code == c)
        if not len(idx):
            continue
        req[idx] = _request_times(rng, c, len(idx), days, m)
        upd[idx] = req[idx] + _close_hours(rng, c, len(idx), m) * 3600
    # A report still open today is not history: draw those again, then pull the last few back.
    for _ in range(10):
        late = np.flatnonzero(upd >= now.timestamp())
        if not len(late):
            break
        for c in np.unique(code[late]):
            idx = late[code[late] == c]
            req[idx] = _request_times(rng, c, len(idx), days, m)
            upd[idx] = req[idx] + _close_hours(rng, c, len(idx), m) * 3600
    late = upd >= now.timestamp()
    shift = np.where(late, upd - now.timestamp() + 3600, 0.0)
    req, upd = req - shift, upd - shift

    pick = rng.integers(0, len(places), size=n)
    radius = JITTER_M * np.sqrt(rng.random(n))
    angle = rng.uniform(0, 2 * np.pi, size=n)
    x = places["x"].to_numpy()[pick] + radius * np.cos(angle)
    y = places["y"].to_numpy()[pick] + radius * np.sin(angle)
    descr = [mix.DESCRIPTIONS[c][k % len(mix.DESCRIPTIONS[c])] for c, k in zip(code, rng.integers(0, 1000, n))]
    note = [mix.STATUS_NOTES[c][k % len(mix.STATUS_NOTES[c])] for c, k in zip(code, rng.integers(0, 1000, n))]
    settings = session.execute(text("SELECT service_settings FROM municipalities WHERE id = :mid"),
                               {"mid": municipality_id}).scalar()
    due_s = np.zeros(n)
    for c in codes_all:
        due_s[code == c] = sla_hours(settings, c) * 3600
    labels = places["label"].to_numpy()[pick]
    address_ids = places["address_id"].to_numpy()[pick]

    # The partitions of the ids they are about to take first, so that they do not fill the default one.
    partitions.make_apart(session, n)
    for lo in range(0, n, BATCH):
        hi = min(n, lo + BATCH)
        session.execute(_INSERT, {
            "mid": municipality_id, "token": [uuid.uuid4().hex for _ in range(hi - lo)],
            "code": code[lo:hi].tolist(), "note": note[lo:hi], "descr": descr[lo:hi],
            "req": req[lo:hi].tolist(), "upd": upd[lo:hi].tolist(), "due_s": due_s[lo:hi].tolist(),
            "label": labels[lo:hi].tolist(),
            "address_id": address_ids[lo:hi].tolist(), "x": x[lo:hi].tolist(), "y": y[lo:hi].tolist()})
    session.flush()
    return n
