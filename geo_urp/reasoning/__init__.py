"""Reasoning: from reports to incidents, the common cause behind the calls.

``on_report_stored`` runs in the same transaction as the report's insert, so an
incident is visible as soon as the call is (no batch job, no queue to lose):
the report and its incident commit together or not at all. Each report follows
one *route* (``route``): the lighting network, the water network, or clusters by
place and time of its kind (street-light and water calls near no lamp or main
among them). An advisory lock per municipality and route serialises concurrent
calls that could meet, so two calls on one circuit never start two incidents,
while a flooding call does not wait for a street-light one.
"""
from __future__ import annotations

from sqlalchemy.orm import Session

from geo_urp import locks
from geo_urp.models import Incident, Municipality, Report
from geo_urp.reasoning import clusters, grouping, lighting, priority, reopening, responsibility, water, words
from geo_urp.reasoning.rules import Rules, rules_for


def rules_of(session: Session, municipality_id: int) -> Rules:
    """The effective rules of a municipality (defaults with its overrides)."""
    muni = session.get(Municipality, municipality_id)  # no query while the caller holds it (see below)
    return rules_for(muni.rules if muni is not None else None)


def on_report_stored(session: Session, report: Report) -> Incident | None:
    """Put a newly stored report into its incident and describe it; return the incident (None: it
    makes none).

    The municipality is held for the whole call: the session keeps only the objects someone
    holds, and the rules and the facts of its layers (``loading.layer_cache``) are asked of it
    over and over, each time without a query while it is held.
    """
    muni = session.get(Municipality, report.municipality_id)
    rules = rules_for(muni.rules)
    if not rules.makes_incident(report.service_code):
        return None
    locks.lock_route(session, muni.id, route(report.service_code, report.lamp_id, report.pipe_id))
    reopening.reopen_for(session, report, rules)  # a fix that did not hold: the incident is open again
    incident = group(session, report, rules)
    refresh(session, incident)
    return incident


def family(service_code: str) -> str:
    """Which incidents a report of ``service_code`` may belong to: ``"lighting"``, ``"water"`` or its
    cluster kind. An operator may move a report only into an incident of its family."""
    if service_code == "streetlight_out":
        return "lighting"
    if service_code in water.SERVICES:
        return "water"
    return clusters.kind_for(service_code)


def family_of_kind(kind: str) -> str:
    """The family (as ``family`` names it) of an incident of ``kind``: merges stay inside one."""
    if kind in lighting.KINDS:
        return "lighting"
    if kind in water.KINDS:
        return "water"
    return kind


# Routes of a call near no lamp or near no main: grouped by place and time (``clusters``).
NEAR_NO_LAMP, NEAR_NO_MAIN = "lighting near no lamp", "water near no main"


def route(service_code: str, lamp_id: str | None, pipe_id: str | None) -> str:
    """Which rule groups a report: ``"lighting"`` or ``"water"`` (on the network), the clusters of
    calls near no lamp or no main, or the clusters of its service's kind; also the name of its
    lock (``locks.lock_route``).

    Two routes never touch the same incidents: the clusters hold no asset, the network's
    incidents always do (``lighting``'s and ``water``'s queries ask for them), and only an
    operator's correction, under the town's own lock, moves an incident from one side to the
    other. So calls on different routes do not wait for each other.
    """
    if service_code == "streetlight_out":
        return "lighting" if lamp_id else NEAR_NO_LAMP
    if service_code in water.SERVICES:
        return "water" if pipe_id else NEAR_NO_MAIN
    return clusters.kind_for(service_code)


def route_of(inc: Incident) -> str:
    """The route (``route``) whose calls may join ``inc``: its lock, held while anything else
    changes the incident, keeps a call from joining it halfway through the change."""
    if inc.kind in lighting.KINDS:
        return "lighting" if inc.asset_ids else NEAR_NO_LAMP
    if inc.kind in water.KINDS:
        return "water" if water.located(inc) else NEAR_NO_MAIN
    return inc.kind


def group(session: Session, report: Report, rules: Rules) -> Incident:
    """Put a new report that makes an incident into one, by its route (its lock already held)."""
    way = route(report.service_code, report.lamp_id, report.pipe_id)
    if way == "lighting":
        return lighting.handle(session, report, rules)
    if way == "water":
        return water.handle(session, report, rules)
    if way == NEAR_NO_LAMP:
        return clusters.handle(session, report, rules, kind="lamp")
    if way == NEAR_NO_MAIN:
        # No main within reach (or no water layer): still a water problem for the water crew,
        # grouped by place and time until someone locates the cause.
        return clusters.handle(session, report, rules, kind="water_outage", codes=water.SERVICES,
                               config="water_unlocated")
    return clusters.handle(session, report, rules)


def _on_network(inc: Incident) -> bool:
    """Whether an incident is a lamp, circuit, cabinet, burst or outage placed on its network
    (else a cluster of calls, described from a summary of them)."""
    return bool(inc.kind in lighting.KINDS and inc.asset_ids) or (inc.kind in water.KINDS and water.located(inc))


def refresh(session: Session, inc: Incident) -> None:
    """Work out an incident's explanation, confidence, area, crew and priority again."""
    refresh_many(session, [inc])


def refresh_many(session: Session, incidents: list[Incident]) -> None:
    """``refresh`` for several incidents: their calls read, and their crews found, in one query each.

    What the operator reads is kept as message parts (``words``) in ``explanation_parts``
    (``description``, ``dispatch_note``, ``priority_reasons``), worded in each reader's
    language when read, and in Italian in ``explanation``, ``dispatch_note`` and
    ``priority_reasons`` for the tools that read the table or the API without a language.
    An incident left as it was is not written (the ORM updates only what changed), so its
    change stamp stays and pollers are not told.
    """
    session.flush()
    networked = [inc for inc in incidents if _on_network(inc)]
    calls = grouping.reports_of_many(session, networked) if networked else {}
    summaries = clusters.summaries(session, [inc for inc in incidents if inc.id not in calls])
    described = {}
    for inc in incidents:
        if inc.id in calls:
            module = lighting if inc.kind in lighting.KINDS else water
            described[inc.id] = module.describe(session, inc, calls[inc.id])
        elif inc.id in summaries:
            described[inc.id] = clusters.describe(inc, summaries[inc.id])
    done = [inc for inc in incidents if inc.id in described]
    assigned = responsibility.assign_many(session, done)
    for inc in done:
        (sentence, confidence), who = described[inc.id], assigned[inc.id]
        count, last = _calls_count_and_last(calls.get(inc.id), summaries.get(inc.id))
        urgency = priority.priority_of(priority.Facts(inc.kind, last, count, inc.affected_addresses,
                                                      who.sensitive_place))
        inc.explanation_parts = {"description": sentence, "dispatch_note": who.note,
                                 "priority_reasons": list(urgency.reasons)}
        italian = words.worded(inc.explanation_parts, "it")
        inc.priority, inc.priority_reasons = urgency.value, italian["priority_reasons"]
        inc.explanation, inc.dispatch_note = italian["explanation"], italian["dispatch_note"]
        inc.confidence = round(confidence, 2)
        inc.area_id, inc.crew_id = who.area_id, who.crew_id
    session.flush()


def _calls_count_and_last(calls, summary) -> tuple[int, object]:
    """How many calls an incident has and when the latest came, from its calls or their summary."""
    if calls:
        return len(calls), max(c.requested_datetime for c in calls)
    if summary is not None:
        return summary.count, summary.last
    return 0, None
