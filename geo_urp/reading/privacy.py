"""What each role may see of the callers and their calls (SPEC §6): the privacy rules in one place.

- Open311 readers see a report's public view only (``OPEN311_FIELDS``): never the
  caller's name, phone or e-mail, which live in another table no read here joins.
  A report's updates (FixMyStreet's ``servicerequestupdates``) show ``OPEN311_UPDATE_FIELDS``:
  the update's own note, not the report's description.
- Operators (and admins) see everything of the municipalities assigned to them.
- Crews see their own crew's incidents.
- The council sees aggregates only: no report ids (they lead to single calls), no
  explanation (it tells streets and hours of calls), times to the hour, an incident
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

# The council's grid: an incident placed by its callers' positions is shown at its cell's centre.
COUNCIL_GRID_M = 200
# Incident properties the council never sees.
COUNCIL_HIDES = ("report_ids", "explanation")
# Incidents about people (someone in distress, a noisy neighbour) reach the council only when
# this many calls make them a pattern, not one household.
COUNCIL_PEOPLE_KINDS = ("social_distress", "noise")
COUNCIL_MIN_CALLS = 3
