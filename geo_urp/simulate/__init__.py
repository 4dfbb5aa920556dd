"""Realistic calls for demos, load tests and council maps (``python -m geo_urp simulate``).

``scenario.plan_night`` plans a night of calls with planted faults and their
ground truth (a ``night.Night``); ``replay.replay`` sends it through a running service's Open311
API; ``history.write_history`` writes years of closed reports straight into the
database; ``mix`` holds the real aggregates (Comune di Alessandria open data)
and the words the simulated callers use. ``cli_simulate`` is the one function
the command line calls.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Callable

from sqlalchemy import text

from geo_urp import municipalities
from geo_urp.db import analyze, session_scope
from geo_urp.errors import BadInput, NotFound


def _municipality(session, slug: str | None) -> tuple[int, str]:
    """The municipality named by ``slug``, or the only one loaded."""
    if slug:
        muni = municipalities.by_slug(session, slug, field="--municipality")
        return muni.id, muni.slug
    rows = session.execute(text("SELECT id, slug FROM municipalities ORDER BY slug")).all()
    if len(rows) != 1:
        raise BadInput(f"{len(rows)} municipalities are loaded: say which one with --municipality"
                       + (f" ({', '.join(r.slug for r in rows)})" if rows else ""))
    return rows[0].id, rows[0].slug


def cli_simulate(database_url: str, *, owner_url: str | None = None, url: str | None = None,
                 key: str | None = None, hours: float = 8, seed: int = 1, history: int | None = None,
                 municipality: str | None = None, years: float = 2, jurisdiction_id: str | None = None,
                 speed: float | None = None, truth: Path | None = None, echo: Callable[[str], None] = print) -> int:
    """Run ``simulate``: replay a night (``url`` + ``key``) or write ``history`` past reports; returns the exit code.

    A replay plans the night on the layers of ``database_url`` (the service's database, or
    one loaded with the same layer files), sends it, then reads the incidents back from the
    service and says which planted faults it found; the exit code is 1 when a call was
    refused or a fault was not found.

    The statistics of the past reports written are refreshed on ``owner_url`` (the schema
    owner's; ``database_url`` when not given): ``db.analyze``.

    Raises ``GeoUrpError`` (``BadInput``/``NotFound``) for bad options; nothing is written then.
    """
    from geo_urp.acting import hotspot_counts
    from geo_urp.reading import hotspots
    from geo_urp.simulate.history import write_history
    from geo_urp.simulate.replay import replay
    from geo_urp.simulate.scenario import plan_night
    from geo_urp.simulate.score import check_faults, incidents_of

    if history is not None:
        with session_scope(database_url) as session:
            mid, slug = _municipality(session, municipality)
            written = write_history(session, mid, history, years=years, seed=seed)
        analyze(owner_url or database_url, ["reports"])
        with session_scope(database_url) as session:
            # Counted now for the council's default grid, so its first map does not wait for it.
            hotspot_counts.refresh(session, mid, hotspots.DEFAULT_CELL_M)
        echo(f"wrote {written} closed reports over {years:g} years for {slug}")
        return 0
    if not url or not key:
        raise BadInput("simulate needs --url and --key to replay a night, or --history N to write past reports")
    with session_scope(database_url) as session:
        mid, slug = _municipality(session, municipality or jurisdiction_id)
        night = plan_night(session, mid, seed, hours=hours)
    town = jurisdiction_id or slug
    _check_service_knows(url, town)
    if truth is not None:
        truth.write_text(json.dumps(night.to_dict(), ensure_ascii=False, indent=1), encoding="utf-8")
    echo(f"{len(night.calls)} calls from {night.start:%Y-%m-%d %H:%M %Z}, {len(night.faults)} planted faults:")
    for fault in night.faults:
        echo(f"  {fault.kind} {' '.join(fault.asset_ids)} ({fault.note}): {len(fault.call_indexes)} calls"
             + (f", close {' '.join(fault.valves_to_close)}" if fault.valves_to_close else ""))
    result = replay(night, url, key, jurisdiction_id=town, speed=speed)
    echo(f"sent {len(result.ids)} of {len(night.calls)} calls in {result.elapsed_s:.1f} s"
         + (f" ({result.retried} retries)" if result.retried else ""))
    for index, problem in sorted(result.errors.items()):
        echo(f"  call {index} ({night.calls[index].service_code}): {problem}")
    checks = check_faults(night, result.ids, incidents_of(url, key, town))
    echo(f"the service found {sum(c.found for c in checks)} of {len(checks)} planted faults"
         + ("" if all(c.found for c in checks) else " (are its layers of this town the ones of DATABASE_URL?)"))
    for check in checks:
        if not check.found:
            echo(f"  {check.kind} {check.asset}: {'; '.join(check.problems)}")
    return 0 if result.ok and all(c.found for c in checks) else 1


def _check_service_knows(url: str, town: str) -> None:
    """Refuse early, before any call is sent, when the service does not serve the town."""
    import requests

    try:
        response = requests.get(url.rstrip("/") + "/open311/v2/services.json",
                                params={"jurisdiction_id": town}, timeout=30)
    except requests.RequestException as exc:
        raise BadInput(f"no answer from the service at {url}: {exc.__class__.__name__}") from None
    if response.status_code == 404:
        raise NotFound(f"the service at {url} serves no municipality {town!r}")
    if response.status_code != 200:
        raise BadInput(f"the service at {url} answered {response.status_code} to services.json")
