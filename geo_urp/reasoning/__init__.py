"""Reasoning: from reports to incidents, the common cause behind the calls.

``on_report_stored`` runs in the same transaction as the report's insert, so an
incident is visible as soon as the call is (no batch job, no queue to lose):
the report and its incident commit together or not at all. An advisory lock
per municipality and family of incidents (the lighting network, the water network,
each kind of cluster, street-light and water calls near no lamp or main among them)
serialises concurrent calls that could meet, so two calls on one circuit never
start two incidents, while a flooding call does not wait for a street-light one.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple

from sqlalchemy import Row
from sqlalchemy.orm import Session

from geo_urp import locks
from geo_urp.models import Incident, Municipality, Report
from geo_urp.reasoning import clusters, lighting, responsibility, water
from geo_urp.reasoning import grouping
from geo_urp.reasoning.rules import Rules, rules_for


def rules_of(session: Session, municipality_id: int) -> Rules:
    """The effective rules of a municipality (defaults with its overrides)."""
    muni = session.get(Municipality, municipality_id)  # usually already in the session: no query
    return rules_for(muni.rules if muni is not None else None)


def on_report_stored(session: Session, report: Report, describe: bool = True, locked: bool = False) -> Incident | None:
    """Update the incidents for a newly stored report; return its incident (None: no incident).

    ``describe=False`` leaves explanation, crew and confidence for a later ``refresh``
    (a recomputation describes each incident once, at the end). ``locked``: the report's
    family lock is held already (intake took it as it stored the report: ``family_to_lock``).
    """
    rules = rules_of(session, report.municipality_id)
    if not rules.makes_incident(report.service_code):
        return None
    if not locked:
        locks.lock_family(session, report.municipality_id, _route(report.service_code, report.lamp_id, report.pipe_id))
    with grouping.journaled(session):  # the call's history lines go with its description (write_described)
        placed = _place(session, report, rules)
        if describe:
            refresh(session, placed.incident, placed.calls, placed.where)
    return placed.incident


def family(report: Report) -> str:
    """Which kind of incident a report can belong to (lighting, water, or a cluster's kind): an
    operator may move it only into an incident of its family."""
    if report.service_code == "streetlight_out":
        return "lighting"
    if report.service_code in water.SERVICES:
        return "water"
    return clusters.kind_for(report.service_code)


def family_to_lock(session: Session, municipality_id: int, report: Mapping) -> str | None:
    """The lock a new report will need (None: it makes no incident), given the values it is
    stored with (its ``service_code``, and the ``lamp_id`` or ``pipe_id`` it was snapped to),
    for intake to take as it stores the report (``intake.FamilyOf``)."""
    if not rules_of(session, municipality_id).makes_incident(report["service_code"]):
        return None
    return _route(report["service_code"], report.get("lamp_id"), report.get("pipe_id"))


# Routes of a call near no lamp or near no main: grouped by place and time (``clusters``).
_NEAR_NO_LAMP, _NEAR_NO_MAIN = "lighting near no lamp", "water near no main"


def _route(service_code: str, lamp_id: str | None, pipe_id: str | None) -> str:
    """Where ``_place`` sends a report: ``"lighting"`` or ``"water"`` (on the network), or the
    clusters of calls near no lamp or no main, or the clusters of its service's kind. Also the
    name of its lock (``locks.lock_family``): two routes never touch the same incidents. The
    clusters hold no asset, the network's incidents always do (``lighting``'s and ``water``'s
    queries ask for them), and only an operator's correction, under the town's own lock, moves
    an incident from one side to the other. So calls on different routes do not wait for each other."""
    if service_code == "streetlight_out":
        return "lighting" if lamp_id else _NEAR_NO_LAMP
    if service_code in water.SERVICES:
        return "water" if pipe_id else _NEAR_NO_MAIN
    return clusters.kind_for(service_code)


def place(session: Session, report: Report, rules: Rules) -> Incident:
    """Put a new report that makes an incident into one, under the municipality's lock (already taken)."""
    return _place(session, report, rules).incident


class Placed(NamedTuple):
    """A report's incident, with what placing it found out on the way (None: not found), for
    ``refresh`` not to ask again: the incident's calls as ``grouping.reports_of`` gives them (for a
    cluster, their ``clusters.Summary``), and the (crew area, crew) of its fix point
    (``responsibility``'s rule)."""

    incident: Incident
    calls: list[Row] | clusters.Summary | None = None
    where: tuple[str | None, str | None] | None = None


def _place(session: Session, report: Report, rules: Rules) -> Placed:
    route = _route(report.service_code, report.lamp_id, report.pipe_id)
    if route == "lighting":
        return Placed(lighting.handle(session, report, rules))
    if route == "water":
        return Placed(*water.handle(session, report, rules))
    if route == _NEAR_NO_LAMP:
        return Placed(*clusters.handle(session, report, rules, kind="lamp"))
    if route == _NEAR_NO_MAIN:
        # No main within reach (or no water layer): still a water problem for the water crew,
        # grouped by place and time until someone locates the cause.
        return Placed(*clusters.handle(session, report, rules, kind="water_outage", codes=water.SERVICES,
                                       config="water_unlocated"))
    return Placed(*clusters.handle(session, report, rules))


def refresh(session: Session, inc: Incident, reports: list[Row] | clusters.Summary | None = None,
            where: tuple[str | None, str | None] | None = None) -> None:
    """Recompute an incident's explanation, confidence, area, crew and priority.

    ``reports``: its reports as ``grouping.reports_of`` gives them (or, for a cluster, their
    ``clusters.Summary``), when already loaded; ``where``:
    its (crew area, crew) by the rule, when already worked out (``Placed``).
    """
    refresh_many(session, [inc], None if reports is None else {inc.id: reports},
                 None if where is None else {inc.id: where})


def refresh_many(session: Session, incidents: list[Incident],
                 reports: dict[int, list[Row] | clusters.Summary] | None = None,
                 where: dict[int, tuple[str | None, str | None]] | None = None) -> None:
    """``refresh`` for several incidents: their reports read, and their crews found, in one query each.

    ``reports``: incident id -> its reports as ``grouping.reports_of_many`` gives them (or, for a
    cluster, their ``clusters.Summary``), when already loaded; ``where``: incident id -> its
    (crew area, crew), when already worked out.
    """
    if reports is None:
        reports = grouping.reports_of_many(session, [inc.id for inc in incidents])
    described = {}
    for inc in incidents:
        calls = reports.get(inc.id)
        if not calls:
            continue
        if inc.kind in lighting.KINDS and inc.asset_ids:
            described[inc.id] = lighting.describe(session, inc, calls)
        elif inc.kind in water.KINDS and water.located(inc):
            described[inc.id] = water.describe(session, inc, calls)
        else:
            summary = calls if isinstance(calls, clusters.Summary) else clusters.summary(calls)
            described[inc.id] = clusters.describe(session, inc, summary)
    done = [inc for inc in incidents if inc.id in described]
    assigned = responsibility.assign_many(session, done, where)
    values = {}
    for inc in done:
        (sentence, confidence), who = described[inc.id], assigned[inc.id]
        values[inc.id] = {"priority": who.priority, "explanation": sentence + (f" {who.note}" if who.note else ""),
                          "confidence": round(confidence, 2), "area_id": who.area_id, "crew_id": who.crew_id}
    # Written straight to the database and to the incidents as stored: set one by one on the
    # incidents instead, they would leave the session a unit of work to sort out at every flush.
    grouping.write_described(session, done, values)
    session.flush()  # anything else changed on the way (an incident's assets, its status)
