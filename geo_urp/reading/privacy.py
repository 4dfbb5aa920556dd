"""What each role may see of the callers and their calls (SPEC §6): the privacy rules in one place.

- Open311 readers see a report's Open311 fields only (``OPEN311_FIELDS``): never the
  caller's name, phone or e-mail, which live in another table no read here joins. A report's
  updates (FixMyStreet's ``servicerequestupdates``) show ``OPEN311_UPDATE_FIELDS``.
- Of those, an operator or admin key or login (``FULL_VIEW_ROLES``) of the report's municipality
  sees everything (``sees_everything``). Every other reader (anyone without a key, public, crew
  and council keys and logins) gets the public view: no description, no status notes and no
  update notes (``PUBLIC_HIDES``, ``PUBLIC_UPDATE_HIDES``: the caller's words, and the free text
  operators and crews type, which nobody reviews for publication and which may name a
  household), no ``address_id``; for the address the name of the street the report is on
  (streets layer) without the civic, or none; lat/long at the centre of the report's
  ``PUBLIC_GRID_M`` cell; times cut to the hour (``to_the_hour``), date windows widened to
  whole hours (``public_window``) so that no filter tells more than an answer shows; and no
  report of a service that is not public in its town (``public_services``: social distress by
  default, a town's own ``service_settings`` decide), neither listed nor read by id nor in the
  updates. The council gets this public view as anyone does: its own view is aggregate only.
- Operators (and admins) see everything of the municipalities assigned to them.
- Crews see their own crew's incidents and what the callers said, but no caller's contact
  data, except the name and phone (``CREW_CONTACT_FIELDS``, never the e-mail) of a report
  marked call back (``crew_contact``); the view that shows them audits the reading.
- The council sees aggregates only: no report ids (they lead to single calls), no
  explanation (it tells streets and hours of calls), none of the operators' drawing detail
  (valve and cabinet positions), times to the hour, an incident
  placed by its callers' positions shown at the centre of its ``COUNCIL_GRID_M``
  cell, and incidents about people (``COUNCIL_PEOPLE_KINDS``) only once
  ``COUNCIL_MIN_CALLS`` calls make them a pattern rather than one household. Counts of
  reports it sees (hexagons, trends) hide a group of fewer than ``COUNCIL_MIN_REPORTS``, and
  any group that would let one be worked out by subtraction (``hide_small``).
"""
from __future__ import annotations

from datetime import datetime, timezone
from collections.abc import Hashable
from typing import TYPE_CHECKING

from geo_urp.catalog import Catalog, Service
from geo_urp.errors import BadInput

if TYPE_CHECKING:
    from geo_urp.accounts import Principal

# The fields of a report that GeoReport v2 shows about a service request.
OPEN311_FIELDS = ("service_request_id", "status", "status_notes", "service_name", "service_code",
                  "description", "agency_responsible", "service_notice", "requested_datetime",
                  "updated_datetime", "expected_datetime", "address", "address_id", "zipcode",
                  "lat", "long", "media_url")

# The fields of one report update (FixMyStreet's ``request_update``).
OPEN311_UPDATE_FIELDS = ("update_id", "service_request_id", "status", "updated_datetime", "description",
                         "media_url")

# The roles whose keys and logins see every Open311 field of their municipalities' reports.
FULL_VIEW_ROLES = ("operator", "admin")
# The public view of a report: these fields are null; lat/long are the centre of its cell of this
# side (in the metric CRS), at most 25 * sqrt(2) = 35.4 m from where it was placed.
PUBLIC_HIDES = ("description", "status_notes", "address_id")
PUBLIC_GRID_M = 50
# The public view of a report update: these are empty (FixMyStreet fills an empty update from its
# own response template for the new state).
PUBLIC_UPDATE_HIDES = ("description",)


def sees_everything(reader: Principal | None, municipality_id: int) -> bool:
    """Whether ``reader`` (None: anyone) sees every Open311 field of the reports of
    ``municipality_id``: an operator or admin of that municipality (or of all)."""
    return (reader is not None and reader.role in FULL_VIEW_ROLES
            and reader.municipality_id in (None, municipality_id))


def is_public(service: Service | None, service_settings: dict | None) -> bool:
    """Whether the public view lists reports of ``service`` in a town with these settings: the
    town's ``{"<code>": {"public": true|false}}``, else the catalog's ``Service.public``. A code
    no longer in the catalog (None) is not public."""
    if service is None:
        return False
    own = (service_settings or {}).get(service.code) or {}
    if "public" not in own:
        return service.public
    if not isinstance(own["public"], bool):
        raise BadInput(f"service_settings.{service.code}.public must be true or false, not {own['public']!r}",
                       details=[{"field": f"{service.code}.public"}])
    return own["public"]


def public_services(catalog: Catalog, service_settings: dict | None) -> list[str]:
    """The codes of ``catalog`` whose reports the public view lists in a town with these settings."""
    return [s.code for s in catalog.services if is_public(s, service_settings)]


def to_the_hour(value: datetime | None) -> datetime | None:
    """``value`` in UTC, cut to the start of its hour (None stays None)."""
    return value.astimezone(timezone.utc).replace(minute=0, second=0, microsecond=0) if value else None


def public_window(start: datetime, end: datetime) -> tuple[datetime, datetime]:
    """A date window widened to whole hours, both ends included: from the start of ``start``'s
    hour to the last microsecond of ``end``'s. Whether a report is in it then depends only on
    the hour its time shows, so narrowing a window tells no minute."""
    return to_the_hour(start), to_the_hour(end).replace(minute=59, second=59, microsecond=999_999)


# The caller's contact fields a crew may see, and only for a report marked call back.
CREW_CONTACT_FIELDS = ("first_name", "last_name", "phone")


def crew_contact(call_back: bool, contact: dict | None) -> dict | None:
    """What a crew sees of a caller's ``contact`` (its ``CREW_CONTACT_FIELDS``; None once erased):
    ``{"name", "phone"}`` for a report marked call back that left a phone, else None."""
    if not call_back or not contact or not contact.get("phone"):
        return None
    name = " ".join(part for part in (contact.get("first_name"), contact.get("last_name")) if part)
    return {"name": name, "phone": contact["phone"]}


# The council's grid: an incident placed by its callers' positions is shown at its cell's centre.
COUNCIL_GRID_M = 200
# Incident properties the council never sees: the report ids lead to single calls, the
# explanation tells streets and hours of calls, and the operators' drawing detail (where each
# valve to close and each feeding cabinet stands) is work detail, not an aggregate.
COUNCIL_HIDES = ("report_ids", "explanation", "valve_points", "cabinet_points")
# Incidents about people (someone in distress, a noisy neighbour) reach the council only when
# this many calls make them a pattern, not one household.
COUNCIL_PEOPLE_KINDS = ("social_distress", "noise")
COUNCIL_MIN_CALLS = 3
# The council's aggregates (hotspot cells, trend tables, their CSVs) show a count only when it
# holds at least this many reports; a smaller group is shown as suppressed ("< 3"), with no
# figure worked out from it, so no single caller or household can be picked out.
COUNCIL_MIN_REPORTS = 3


def council_services(catalog: Catalog, service_settings: dict | None) -> list[str]:
    """The services whose reports the council's maps and tables count: those the public view
    lists. Services about people (a person in distress, by default) stay off them: a hexagon of
    such calls can be one household, whatever the count."""
    return public_services(catalog, service_settings)


def hide_small(partitions: list[list[tuple[Hashable, int]]]) -> set:
    """The groups the council must not see the count of: those of fewer than ``COUNCIL_MIN_REPORTS``
    (k) reports, and as many more as it takes that none of those can be worked out by subtraction.

    ``partitions``: lists of (group, reports) whose counts add up to a figure a reader sees or can
    work out (a month's services to the month, a cell's months to the cell). In each, the hidden
    groups add up to that figure less the shown ones; while they add up to between 1 and k - 1 (a
    small group, as good as shown), the smallest group still shown is hidden too (secondary
    suppression, as statistical offices do it). A group may sit in several partitions, and hiding it
    in one may open another, so this repeats until nothing changes.
    """
    k = COUNCIL_MIN_REPORTS
    hidden = {group for parts in partitions for group, n in parts if n < k}
    changed = True
    while changed:
        changed = False
        for parts in partitions:
            left = sum(n for group, n in parts if group in hidden)
            if not 0 < left < k:
                continue
            shown = sorted(((n, repr(group)), group) for group, n in parts if group not in hidden)
            for (n, _), group in shown:
                hidden.add(group)
                changed = True
                left += n
                if left >= k:
                    break
    return hidden
