"""A fix that did not hold: a new call on the asset of an incident resolved within
``rules.reopen["within_h"]`` (48 h) reopens that incident instead of starting a new one.

"The same asset" is what the network names: the lamp, circuit or cabinet of a
street-light call, the main of a water call. Calls grouped by place and time
(flooding, road damage, ...) name no asset and always start afresh. The reopened
incident is open again (its crew named anew by the rules, an operator sends it);
its old reports stay closed (their callers have heard back), and the new call
joins it through the network's rules as any call joins an open incident.
"""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from geo_urp import audit
from geo_urp.models import Incident, Report
from geo_urp.reasoning import grouping, lighting, water
from geo_urp.reasoning.rules import Rules

REOPENABLE = ("resolved", "closed")


def _assets(report: Report) -> tuple[tuple[str, ...], list[str]]:
    """The incident kinds a report's asset can belong to, and the asset ids it names."""
    if report.service_code == "streetlight_out" and report.lamp_id:
        return lighting.KINDS, [a for a in (report.lamp_id, report.circuit_id, report.cabinet_id) if a]
    if report.service_code in water.SERVICES and report.pipe_id:
        return water.KINDS, [report.pipe_id]
    return (), []


def reopen_for(session: Session, report: Report, rules: Rules) -> Incident | None:
    """Reopen the incident resolved lately on ``report``'s asset, if there is one; it, or None."""
    kinds, assets = _assets(report)
    if not assets:
        return None
    since = report.requested_datetime - timedelta(hours=rules.reopen["within_h"])
    inc = session.scalar(
        select(Incident).where(
            Incident.municipality_id == report.municipality_id, Incident.kind.in_(kinds),
            Incident.status.in_(REOPENABLE), Incident.absorbed_into_id.is_(None),
            Incident.resolved_at >= since, Incident.resolved_at <= report.requested_datetime,
            Incident.asset_ids.overlap(assets))
        .order_by(Incident.resolved_at.desc(), Incident.id.desc()).limit(1).with_for_update())
    if inc is None:
        return None
    was, resolved_at = inc.status, inc.resolved_at
    inc.status, inc.resolved_at, inc.closed_at, inc.updated_at = "open", None, None, grouping.now()
    grouping.log(session, inc, "reopened", report_id=str(report.id), was=was, resolved_at=resolved_at.isoformat())
    audit.record(session, "system", "reopened", "incident", inc.id, inc.municipality_id, report_id=report.id, was=was)
    session.flush()
    return inc
