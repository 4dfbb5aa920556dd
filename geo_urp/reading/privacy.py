"""What each role may see of the callers and their calls (SPEC §6): the privacy rules in one place.

- Open311 readers see a report's public view only (``OPEN311_FIELDS``): never the
  caller's name, phone or e-mail, which live in another table no read here joins.
  A report's updates (FixMyStreet's ``servicerequestupdates``) show ``OPEN311_UPDATE_FIELDS``:
  the update's own note, not the report's description.
- Operators (and admins) see everything of the municipalities assigned to them.
- Crews see their own crew's incidents and what the callers said, but no caller's contact
  data, except the name and phone (``CREW_CONTACT_FIELDS``, never the e-mail) of a report
  marked call back (``crew_contact``); the view that shows them audits the reading.
- The council sees aggregates only: no report ids (they lead to single calls), no
  explanation (it tells streets and hours of calls), none of the operators' drawing detail
  (valve and cabinet positions), times to the hour, an incident
  placed by its callers' positions shown at the centre of its ``COUNCIL_GRID_M``
  cell, and incidents about people (``COUNCIL_PEOPLE_KINDS``) only once
  ``COUNCIL_MIN_CALLS`` calls make them a pattern rather than one household.
"""
from __future__ import annotations

# The fields of a report that GeoReport v2 shows about a service request.
OPEN311_FIELDS = ("service_request_id", "status", "status_notes", "service_name", "service_code",
                  "description", "agency_responsible", "service_notice", "requested_datetime",
                  "updated_datetime", "expected_datetime", "address", "address_id", "zipcode",
                  "lat", "long", "media_url")

# The fields of one report update (FixMyStreet's ``request_update``).
OPEN311_UPDATE_FIELDS = ("update_id", "service_request_id", "status", "updated_datetime", "description",
                         "media_url")

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
