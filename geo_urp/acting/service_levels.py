"""Service levels: how soon each service's reports are due to be fixed, per municipality.

Each service has a target time (SLA) from the call to the fix. It sets the Open311
``expected_datetime`` of every report of the service, and the council's
SLA-compliance figures are measured against it. A town may set its own hours in
``municipalities.service_settings`` (``{"noise": {"sla_hours": 2}}``); what it does
not set keeps the default below.

=================  =========  ==========================================================
service            hours      why
=================  =========  ==========================================================
water_leak         4          water is being lost and may undermine the road
flooding           4          a flooded underpass is a danger to drivers
no_water           8          a household without water, often a whole street
noise              2          the local police's patrol, while the noise goes on
social_distress    24         the social services' first contact
streetlight_out    72         three working days, as lighting maintenance contracts set
low_pressure       72         a nuisance, rarely a fault that grows
road_damage        168        a week; a danger to traffic is made safe sooner by the crew
info_request       0          answered by the operator during the call
other              120        five working days
=================  =========  ==========================================================
"""
from __future__ import annotations

from datetime import datetime, timedelta

from geo_urp.errors import BadInput
from geo_urp.language import N_

DEFAULT_SLA_HOURS = {
    "water_leak": 4, "flooding": 4, "no_water": 8, "noise": 2, "social_distress": 24,
    "streetlight_out": 72, "low_pressure": 72, "road_damage": 168, "info_request": 0,
}
OTHER_SLA_HOURS = 120
MAX_SLA_HOURS = 24 * 365


def sla_hours(service_settings: dict | None, service_code: str) -> float:
    """The hours within which a report of ``service_code`` is due in a town with these settings."""
    own = (service_settings or {}).get(service_code) or {}
    if "sla_hours" in own:
        return check_sla_hours(service_code, own["sla_hours"])
    return float(DEFAULT_SLA_HOURS.get(service_code, OTHER_SLA_HOURS))


def check_sla_hours(service_code: str, value) -> float:
    """A town's ``sla_hours`` for a service, checked: a number of hours from 0 to a year."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= MAX_SLA_HOURS:
        raise BadInput(N_("service_settings.%(service)s.sla_hours deve essere un numero di ore da 0 a %(most)s, non "
                          "%(value)s"), service=service_code, most=MAX_SLA_HOURS, value=repr(value), details=[{"field": f"{service_code}.sla_hours"}])
    return float(value)


def expected_at(service_settings: dict | None, service_code: str, requested: datetime) -> datetime:
    """The Open311 ``expected_datetime`` of a report made at ``requested``."""
    return requested + timedelta(hours=sla_hours(service_settings, service_code))
