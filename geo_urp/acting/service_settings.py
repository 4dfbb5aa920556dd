"""A town's own settings for each of its services, as an admin changes them.

``municipalities.service_settings`` holds, per service code, what the town says otherwise
than the catalog: ``public`` (whether the public Open311 view and the council's maps show its
reports: ``reading.privacy``) and ``sla_hours`` (the target time to a fix:
``service_levels``). A change is checked whole before anything is written (a known service,
a true/false flag, hours within ``service_levels``' bounds), replaces that service's entry,
and is written to the audit trail with the values before and after.
"""
from __future__ import annotations

from sqlalchemy.orm import Session

from geo_urp import audit, municipalities
from geo_urp.accounts import Principal
from geo_urp.acting import service_levels
from geo_urp.catalog import service_for
from geo_urp.errors import BadInput
from geo_urp.language import N_
from geo_urp.models import Municipality


def set_service(session: Session, principal: Principal, jurisdiction_id: str, service_code: str,
                public: bool, sla_hours: float | None) -> Municipality:
    """Set whether ``service_code``'s reports are public in the town, and its SLA hours (None: the
    catalog's); returns the municipality, its settings changed (flushed with the audit entry)."""
    muni = municipalities.municipality_for(session, jurisdiction_id, principal.municipality_id)
    service = service_for(session, muni.id, service_code)
    if not isinstance(public, bool):
        raise BadInput(N_("public deve essere true o false, non %(value)s"), value=repr(public), details=[{"field": "public"}])
    own: dict = {}
    if public != service.public:
        own["public"] = public
    if sla_hours is not None:
        own["sla_hours"] = service_levels.check_sla_hours(service.code, sla_hours)
    before = dict((muni.service_settings or {}).get(service.code) or {})
    settings = {code: dict(value) for code, value in (muni.service_settings or {}).items() if code != service.code}
    if own:
        settings[service.code] = own
    muni.service_settings = settings  # a new dict: the JSONB column is written
    audit.record(session, principal.name, "service settings", "municipality", muni.id, muni.id,
                 service_code=service.code, before=before, after=own)
    session.flush()
    return muni
