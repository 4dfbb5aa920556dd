"""The open incidents a call being taken may belong to, for the operator to see before saving.

"Probably circuit C1 in Via Roma, 3 calls: add this one?": a call of ``service_code`` at
``lat``/``long`` is shown the open incidents of its family of kinds (a lamp call the lamps,
circuits and cabinets; a water call the bursts and outages; any other call the incidents of its
own kind, as ``reasoning.family`` groups them) whose geometry lies within ``radius_m`` of the
point (``NEARBY_M`` by default), nearest first. The radius is wider than the grouping rules on
purpose: this is a hint for an operator's judgement, not the rule that groups the call.
A service that makes no incident (an information request) has nothing nearby.

PostGIS does the measuring where the geometries are (``ST_DWithin`` and ``ST_Distance`` in the
metric CRS, the street named by a KNN search from the incident's point nearest the caller).
"""
from __future__ import annotations

import math
from collections.abc import Mapping

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from geo_urp.catalog import service_for
from geo_urp.errors import BadInput, Word
from geo_urp.language import N_
from geo_urp.models import METRIC_SRID, WGS84, Incident, IncidentReport, Street, incident_of
from geo_urp.models.incidents import KINDS, OPEN_STATUSES
from geo_urp.municipalities import municipality_for
from geo_urp.reasoning import family, family_of_kind, rules_of, words

NEARBY_M = 200.0
MAX_RADIUS_M = 2000.0
STREET_NEAR_M = 150.0    # an incident farther than this from every street is named by no street
LIMIT = 5


def kinds_for(session: Session, municipality_id: int, service_code: str) -> list[str]:
    """The incident kinds a call of ``service_code`` may join (none for a service without incidents)."""
    if not rules_of(session, municipality_id).makes_incident(service_code):
        return []
    wanted = family(service_code)
    return [kind for kind in KINDS if family_of_kind(kind) == wanted]


def _number(params: Mapping[str, str], name: str, low: float, high: float, unit: Word) -> float:
    raw = str(params.get(name) or "").strip()
    if not raw:
        raise BadInput(N_("%(field)s è obbligatorio: un numero da %(low)s a %(high)s (%(unit)s)"), field=name,
                       low=f"{low:g}", high=f"{high:g}", unit=unit,
                       details=[{"field": name}])
    try:
        value = float(raw) if "_" not in raw else math.nan
    except ValueError:
        value = math.nan
    if not low <= value <= high:  # also false for nan
        raise BadInput(N_("%(field)s deve essere un numero da %(low)s a %(high)s (%(unit)s), non %(value)s"),
                       field=name, low=f"{low:g}", high=f"{high:g}", unit=unit, value=repr(raw),
                       details=[{"field": name, "value": raw}])
    return value


def open_incidents_near(session: Session, bound_to: int | None, params: Mapping[str, str],
                        language: str = "it") -> dict:
    """``GET /api/incidents/nearby``: ``{"jurisdiction_id", "radius_m", "incidents": [...]}``.

    ``params``: ``service_code``, ``lat``, ``long``, optional ``radius_m`` and ``jurisdiction_id``
    (required when several towns are served and the reader is bound to none). Each incident
    carries its ``id``, ``kind``, ``asset_ids``, ``status``, ``priority``, ``crew_id``,
    ``report_count``, ``explanation`` (in ``language``), ``street`` (the street nearest its point
    nearest the caller), ``distance_m`` and that point's ``lat``/``lon``. ``BadInput`` names a
    wrong field.
    """
    muni = municipality_for(session, (params.get("jurisdiction_id") or "").strip() or None, bound_to)
    service = service_for(session, muni.id, (params.get("service_code") or "").strip() or None)
    lat = _number(params, "lat", -90, 90, Word(N_("gradi WGS84")))
    lon = _number(params, "long", -180, 180, Word(N_("gradi WGS84")))
    radius = (_number(params, "radius_m", 1, MAX_RADIUS_M, Word(N_("metri")))
              if str(params.get("radius_m") or "").strip() else NEARBY_M)
    kinds = kinds_for(session, muni.id, service.code)
    found = _near(session, muni.id, kinds, lon, lat, radius, language) if kinds else []
    return {"jurisdiction_id": muni.slug, "radius_m": radius, "incidents": found}


def _near(session: Session, municipality_id: int, kinds: list[str], lon: float, lat: float,
          radius: float, language: str) -> list[dict]:
    here = func.ST_Transform(func.ST_SetSRID(func.ST_MakePoint(lon, lat), WGS84), METRIC_SRID)
    closest = func.ST_ClosestPoint(Incident.geom, here)
    reports = (select(func.count()).select_from(IncidentReport)
               .where(incident_of(IncidentReport)).scalar_subquery())
    street = (select(Street.name).where(Street.municipality_id == Incident.municipality_id,
                                        func.ST_DWithin(Street.geom, closest, STREET_NEAR_M))
              .order_by(Street.geom.op("<->")(closest)).limit(1).scalar_subquery())
    at = func.ST_Transform(closest, WGS84)
    distance = func.ST_Distance(Incident.geom, here)
    rows = session.execute(
        select(Incident.id, Incident.kind, Incident.asset_ids, Incident.status, Incident.priority,
               Incident.crew_id, Incident.explanation, Incident.explanation_parts, reports.label("report_count"),
               street.label("street"),
               distance.label("distance_m"), func.ST_Y(at).label("lat"), func.ST_X(at).label("lon"))
        .where(Incident.municipality_id == municipality_id, Incident.status.in_(OPEN_STATUSES),
               Incident.absorbed_into_id.is_(None), Incident.kind.in_(kinds),
               func.ST_DWithin(Incident.geom, here, radius))
        .order_by(distance, Incident.id).limit(LIMIT)).all()
    return [{"id": r.id, "kind": r.kind, "asset_ids": list(r.asset_ids or []), "status": r.status,
             "priority": r.priority, "crew_id": r.crew_id, "report_count": r.report_count,
             "explanation": words.worded(r.explanation_parts, language).get("explanation", r.explanation),
             "street": r.street, "distance_m": round(float(r.distance_m), 1),
             "lat": round(float(r.lat), 7), "lon": round(float(r.lon), 7)} for r in rows]
