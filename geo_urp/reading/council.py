"""What the council's first page reads (SPEC §6): the open incidents on a map, and counts.

Both follow the council's rules in ``privacy``: the map takes the aggregate view of
``incidents.incidents_geojson`` and keeps of each incident only what it is, how far along,
how urgent and how many calls it holds (``MAP_PROPERTIES``: no incident or report id, no
explanation, no crew, no note); the counts leave out, as that view does, absorbed incidents
and incidents about people (``COUNCIL_PEOPLE_KINDS``) of fewer than ``COUNCIL_MIN_CALLS``
calls. The counts are one PostgreSQL ``GROUP BY``, so they cost the same for a week or
for years of incidents.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select, true
from sqlalchemy.orm import Session

from geo_urp.models import Incident, IncidentReport, Municipality, incident_of
from geo_urp.models.incidents import KINDS, STATUSES
from geo_urp.reading.incidents import incidents_geojson
from geo_urp.reading.privacy import COUNCIL_MIN_CALLS, COUNCIL_PEOPLE_KINDS

# What the council's map keeps of an aggregated incident.
MAP_PROPERTIES = ("kind", "status", "priority", "report_count", "opened_at")


@dataclass(frozen=True)
class KindCounts:
    """The incidents of one kind, by status, and the calls they hold."""

    kind: str
    by_status: dict[str, int]
    incidents: int
    calls: int


def open_incidents_map(session: Session, municipality_ids: list[int]) -> dict:
    """The open incidents of ``municipality_ids`` as the council sees them: a WGS84
    FeatureCollection whose features carry only ``MAP_PROPERTIES``."""
    found = incidents_geojson(session, municipality_ids, status="open", aggregate=True)
    return {"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": f["geometry"],
         "properties": {k: f["properties"].get(k) for k in MAP_PROPERTIES}} for f in found["features"]]}


def counts(session: Session, municipality_ids: list[int]) -> list[KindCounts]:
    """Per kind (in ``KINDS`` order, kinds with no incident left out): its incidents by status
    (every status of ``STATUSES``, zeros included), their total and the calls they hold."""
    calls = (select(func.count().label("n")).select_from(IncidentReport)
             .where(incident_of(IncidentReport)).lateral("calls"))
    rows = session.execute(
        select(Incident.kind, Incident.status, func.count().label("incidents"), func.sum(calls.c.n).label("calls"))
        .select_from(Incident).join(calls, true())
        .where(Incident.municipality_id.in_(municipality_ids), Incident.absorbed_into_id.is_(None),
               ~(Incident.kind.in_(COUNCIL_PEOPLE_KINDS) & (calls.c.n < COUNCIL_MIN_CALLS)))
        .group_by(Incident.kind, Incident.status)).all()
    table: dict[str, dict] = {}
    for row in rows:
        entry = table.setdefault(row.kind, {"by_status": dict.fromkeys(STATUSES, 0), "calls": 0})
        entry["by_status"][row.status] = row.incidents
        entry["calls"] += int(row.calls or 0)
    return [KindCounts(kind, entry["by_status"], sum(entry["by_status"].values()), entry["calls"])
            for kind, entry in sorted(table.items(), key=lambda item: KINDS.index(item[0]))]


def towns(session: Session, municipality_ids: list[int]) -> list[Municipality]:
    """The municipalities of ``municipality_ids``, by slug (the page shows the first)."""
    return list(session.scalars(select(Municipality).where(Municipality.id.in_(municipality_ids))
                                .order_by(Municipality.slug)))
