"""A crew's work list as the crew reads it (SPEC §6): its jobs with where, what and how.

The list holds the crew's incidents that are still being worked (``OPEN_STATUSES``):
``assigned`` and ``in_progress`` ones, and ``open`` ones the rules already named the crew
for (``crew_id``) but an operator has not sent it to yet, so the crew sees what is
coming; on those the crew can take no step (``acting.work_orders``: open to assigned is
an operator's). It is the same set ``GET /api/incidents`` gives a crew key. Absorbed
incidents are left out. Order: priority, then age (oldest first), then id.

Each job carries what PostGIS works out where the data is, in one statement for the
whole list: a point to navigate to (on the incident's geometry), the nearest street,
the geometry and the nearby streets for a small map (WGS84), the valves to close in
their order with their positions, and, for a water incident, the streets of the dry
area: the streets of the civic numbers its valve segments serve, counted by the same
rule as ``affected_addresses`` (each address for the segment of its nearest main
within the town's ``water.address_buffer_m``). Its calls come with what the callers
said and, only where ``privacy.crew_contact`` allows, a name and phone to call back.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from geo_urp.accounts import Principal
from geo_urp.acting.work_orders import allowed_steps
from geo_urp.errors import BadInput, NotFound
from geo_urp.language import N_
from geo_urp.models import CallerContact, Crew, Incident, IncidentReport, Municipality, Report, report_of
from geo_urp.models.incidents import OPEN_STATUSES
from geo_urp.reading.privacy import CREW_CONTACT_FIELDS, crew_contact
from geo_urp.reasoning.rules import rules_for

# Streets drawn on a job's map: those within this distance of the incident, cut to that box.
NEARBY_STREETS_M = 250


@dataclass(frozen=True)
class Call:
    """One report of a job, as the crew may read it."""

    report_id: int
    municipality_id: int
    requested_at: datetime
    address: str | None
    description: str | None
    contact: dict | None  # {"name", "phone"} of a report marked call back, else None


@dataclass(frozen=True)
class Job:
    """One incident of the list with what the crew needs on the spot."""

    incident: Incident
    steps: list[str]            # the statuses the reader may move it to now
    lat: float
    lon: float
    street: str | None          # the street nearest to ``lat``/``lon``
    geometry: dict              # the incident's geometry, GeoJSON in WGS84
    valves: list[dict]          # {"valve_id", "lat", "lon"}, in the order to close them
    affected_streets: list[str]
    nearby_streets: list[dict]  # GeoJSON features with ``name``, for the map
    calls: list[Call] = field(default_factory=list)

    @property
    def addresses(self) -> list[str]:
        """The places the calls were located at, each once, in call order."""
        return list(dict.fromkeys(c.address for c in self.calls if c.address))


@dataclass(frozen=True)
class WorkList:
    """A crew's jobs, and the town it works in."""

    municipality: Municipality
    crew: Crew
    jobs: list[Job]

    @property
    def contacts_shown(self) -> list[tuple[int, int]]:
        """``(report_id, municipality_id)`` of every call whose caller's contact the list shows."""
        return [(c.report_id, c.municipality_id) for j in self.jobs for c in j.calls if c.contact]


def crews(session: Session, municipality_ids: list[int]) -> list[tuple[Crew, str]]:
    """Every crew of ``municipality_ids`` with its town's slug, by town and crew id."""
    return [(crew, slug) for crew, slug in session.execute(
        select(Crew, Municipality.slug).join(Municipality, Municipality.id == Crew.municipality_id)
        .where(Crew.municipality_id.in_(municipality_ids)).order_by(Municipality.slug, Crew.crew_id))]


def crew_in(session: Session, municipality_ids: list[int], crew_id: str) -> Crew:
    """The crew ``crew_id`` of ``municipality_ids``: ``NotFound`` when none has it, ``BadInput``
    when several towns have a crew of that id (crew ids are a town's own names)."""
    found = [crew for crew, _ in crews(session, municipality_ids) if crew.crew_id == crew_id]
    if not found:
        raise NotFound(N_("crew_id: nessuna squadra %(value)s qui"), value=repr(crew_id), details=[{"field": "crew_id", "value": crew_id}])
    if len(found) > 1:
        raise BadInput(N_("la squadra %(value)s c'è in più comuni: di' quale con jurisdiction_id"), value=repr(crew_id),
                       details=[{"field": "jurisdiction_id"}])
    return found[0]


_PLACES = text(
    "SELECT i.id, ST_Y(pt.wgs) AS lat, ST_X(pt.wgs) AS lon,"
    " ST_AsGeoJSON(ST_Transform(i.geom, 4326), 7)::jsonb AS geometry,"
    " (SELECT s.name FROM streets s WHERE s.municipality_id = i.municipality_id"
    "   ORDER BY s.geom <-> pt.metric LIMIT 1) AS street,"
    " (SELECT coalesce(jsonb_agg(jsonb_build_object('valve_id', o.valve_id,"
    "   'lat', ST_Y(ST_Transform(v.geom, 4326)), 'lon', ST_X(ST_Transform(v.geom, 4326))) ORDER BY o.n), '[]')"
    "   FROM unnest(i.valves_to_close) WITH ORDINALITY AS o(valve_id, n)"
    "   LEFT JOIN water_valves v ON v.municipality_id = i.municipality_id AND v.valve_id = o.valve_id) AS valves,"
    " (SELECT coalesce(jsonb_agg(jsonb_build_object('type', 'Feature', 'properties', jsonb_build_object('name', s.name),"
    "   'geometry', ST_AsGeoJSON(ST_Transform(ST_Intersection(s.geom, ST_Expand(i.geom, :near)), 4326), 7)::jsonb)"
    "   ORDER BY s.street_id), '[]')"
    "   FROM streets s WHERE s.municipality_id = i.municipality_id AND ST_DWithin(s.geom, i.geom, :near))"
    "   AS nearby_streets,"
    " CASE WHEN cardinality(i.affected_segment_nos) > 0 THEN ("
    "   SELECT coalesce(array_agg(DISTINCT a.street ORDER BY a.street), '{}') FROM addresses a"
    "   CROSS JOIN LATERAL (SELECT pp.segment_no, pp.geom FROM water_pipe_parts pp"
    "     WHERE pp.municipality_id = i.municipality_id ORDER BY pp.geom <-> a.geom LIMIT 1) p"
    "   WHERE a.municipality_id = i.municipality_id AND p.segment_no = ANY(i.affected_segment_nos)"
    "   AND ST_DWithin(p.geom, a.geom, :buffer)"
    # Only addresses near the dry area are looked at: the index finds them, the KNN decides.
    "   AND ST_DWithin(a.geom, (SELECT ST_Collect(vs.geom) FROM water_valve_segments vs"
    "     WHERE vs.municipality_id = i.municipality_id AND vs.segment_no = ANY(i.affected_segment_nos)), :buffer))"
    " ELSE '{}' END AS affected_streets "
    "FROM incidents i CROSS JOIN LATERAL (SELECT ST_PointOnSurface(i.geom) AS metric) pm"
    " CROSS JOIN LATERAL (SELECT pm.metric, ST_Transform(pm.metric, 4326) AS wgs) pt "
    "WHERE i.id = ANY(:ids)")


def _calls(session: Session, incident_ids: list[int]) -> dict[int, list[Call]]:
    """The calls of each incident, oldest first, with the contact the crew may see."""
    contact_columns = [getattr(CallerContact, name) for name in CREW_CONTACT_FIELDS]
    rows = session.execute(
        select(IncidentReport.incident_id, Report.id, Report.municipality_id, Report.requested_datetime,
               Report.address, Report.description, Report.call_back, CallerContact.erased_at, *contact_columns)
        .join(Report, report_of(IncidentReport))
        .outerjoin(CallerContact, report_of(CallerContact))
        .where(IncidentReport.incident_id.in_(incident_ids))
        .order_by(Report.requested_datetime, Report.id)).all()
    out: dict[int, list[Call]] = {}
    for r in rows:
        left = None if r.erased_at is not None else {name: getattr(r, name) for name in CREW_CONTACT_FIELDS}
        out.setdefault(r.incident_id, []).append(Call(
            r.id, r.municipality_id, r.requested_datetime, r.address, r.description, crew_contact(r.call_back, left)))
    return out


def read(session: Session, crew: Crew, reader: Principal) -> WorkList:
    """The work list of ``crew`` as ``reader`` sees it (the steps offered are ``reader``'s)."""
    muni = session.get(Municipality, crew.municipality_id)
    incidents = list(session.scalars(
        select(Incident).where(Incident.municipality_id == crew.municipality_id, Incident.crew_id == crew.crew_id,
                               Incident.status.in_(OPEN_STATUSES), Incident.absorbed_into_id.is_(None))
        .order_by(Incident.priority, Incident.opened_at, Incident.id)))
    ids = [inc.id for inc in incidents]
    places = {row.id: row for row in session.execute(_PLACES, {
        "ids": ids, "near": NEARBY_STREETS_M, "buffer": rules_for(muni.rules).water["address_buffer_m"]})}
    calls = _calls(session, ids)
    jobs = [Job(inc, allowed_steps(inc, reader), places[inc.id].lat, places[inc.id].lon, places[inc.id].street,
                places[inc.id].geometry, places[inc.id].valves, list(places[inc.id].affected_streets),
                places[inc.id].nearby_streets, calls.get(inc.id, []))
            for inc in incidents]
    return WorkList(muni, crew, jobs)
