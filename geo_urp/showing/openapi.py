"""``GET /openapi.json``: the machine-readable description of every ``/api/`` route (OpenAPI 3.1).

Written out by hand, next to the routes it describes; a test checks that every
``/api/`` rule of the app is in it, so the two cannot drift apart.
"""
from __future__ import annotations

from flask import Blueprint, jsonify

from geo_urp.models.incidents import KINDS, STATUSES
from geo_urp.reading import audit
from geo_urp.showing.geojson import MAP_LAYERS

bp = Blueprint("openapi", __name__)

_ERROR = {"description": "error", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
_AUTH_ERRORS = {"401": _ERROR, "403": _ERROR}
_JURISDICTION = {"name": "jurisdiction_id", "in": "query", "required": False, "schema": {"type": "string"},
                 "description": "municipality slug (default: every municipality the caller may see)"}

DOCUMENT: dict = {
    "openapi": "3.1.0",
    "info": {"title": "geo_urp API", "version": "1",
             "description": "Incidents, corrections and geocoding of a municipal 24-hour citizen line. "
                            "Open311 GeoReport v2 lives under /open311/v2/ and follows its own specification."},
    "security": [{"apiKey": []}, {"session": []}],
    "paths": {
        "/api/incidents": {"get": {
            "summary": "Open (or all) incidents as a GeoJSON FeatureCollection in WGS84",
            "parameters": [
                {"name": "status", "in": "query", "schema": {"enum": ["open", "all"], "default": "open"}},
                {"name": "kind", "in": "query", "schema": {"enum": list(KINDS)}},
                {"name": "since", "in": "query", "schema": {"type": "string"},
                 "description": "only incidents changed since: the next_since of the previous answer (a cursor "
                                "of each town's change number, which misses no change), or an ISO 8601 date-time "
                                "(may miss the changes of a transaction running when the previous poll read). "
                                "Changed incidents that match the other filters come in full (an absorbed one with absorbed_into_id), the others "
                                "as {id, removed: true}, so a poller drops what left its filter"},
                _JURISDICTION],
            "responses": {"200": {"description": "incidents", "content": {"application/geo+json": {
                "schema": {"$ref": "#/components/schemas/IncidentCollection"}}}}, "400": _ERROR, "404": _ERROR,
                **_AUTH_ERRORS}}},
        "/api/incidents/nearby": {"get": {
            "summary": ("The open incidents a call being taken may join (operator): those of the call's family "
                        "of kinds within radius_m of its point, nearest first, at most 5; none for a service "
                        "that makes no incident (info_request)"),
            "parameters": [
                {"name": "service_code", "in": "query", "required": True, "schema": {"type": "string"}},
                {"name": "lat", "in": "query", "required": True,
                 "schema": {"type": "number", "minimum": -90, "maximum": 90}},
                {"name": "long", "in": "query", "required": True,
                 "schema": {"type": "number", "minimum": -180, "maximum": 180}},
                {"name": "radius_m", "in": "query",
                 "schema": {"type": "number", "minimum": 1, "maximum": 2000, "default": 200}},
                {**_JURISDICTION, "description": "municipality slug (required when several are served)"}],
            "responses": {"200": {"description": "nearby open incidents", "content": {"application/json": {
                "schema": {"type": "object", "properties": {
                    "jurisdiction_id": {"type": "string"}, "radius_m": {"type": "number"},
                    "incidents": {"type": "array", "items": {"type": "object", "properties": {
                        "id": {"type": "integer"}, "kind": {"enum": list(KINDS)},
                        "asset_ids": {"type": "array", "items": {"type": "string"}},
                        "status": {"enum": list(STATUSES)},
                        "priority": {"type": "integer", "minimum": 1, "maximum": 4},
                        "crew_id": {"type": ["string", "null"]}, "report_count": {"type": "integer"},
                        "explanation": {"type": "string"},
                        "street": {"type": ["string", "null"],
                                   "description": "the street nearest the incident's point nearest the call"},
                        "distance_m": {"type": "number"},
                        "lat": {"type": "number"}, "lon": {"type": "number"}}}}}}}}},
                "400": _ERROR, "404": _ERROR, **_AUTH_ERRORS}}},
        "/api/incidents/{incident_id}/history": {"get": {
            "summary": "Every change of one incident, oldest first (operator)",
            "parameters": [{"name": "incident_id", "in": "path", "required": True, "schema": {"type": "integer"}}],
            "responses": {"200": {"description": "history", "content": {"application/json": {"schema": {
                "type": "array", "items": {"type": "object", "properties": {
                    "at": {"type": "string", "format": "date-time"}, "actor": {"type": "string"},
                    "action": {"type": "string"}, "detail": {"type": "object"}}}}}}}, "404": _ERROR,
                **_AUTH_ERRORS}}},
        "/api/incidents/merge": {"post": {
            "summary": "Merge incidents into the oldest of them (operator)",
            "requestBody": {"required": True, "content": {"application/json": {"schema": {
                "type": "object", "required": ["ids"],
                "properties": {"ids": {"type": "array", "items": {"type": "integer"}, "minItems": 2}}}}}},
            "responses": {"200": {"description": "the merged incident", "content": {"application/json": {
                "schema": {"$ref": "#/components/schemas/IncidentRef"}}}}, "400": _ERROR, "404": _ERROR,
                **_AUTH_ERRORS}}},
        "/api/incidents/{incident_id}/status": {"post": {
            "summary": ("One step of the work order (operator any; crew its own): open or assigned to "
                        "assigned, assigned to in_progress, in_progress to resolved (note required: it closes "
                        "every report and queues each caller's closing message), resolved to closed"),
            "parameters": [{"name": "incident_id", "in": "path", "required": True, "schema": {"type": "integer"}}],
            "requestBody": {"required": True, "content": {"application/json": {"schema": {
                "type": "object", "required": ["status"], "properties": {
                    "status": {"enum": ["assigned", "in_progress", "resolved", "closed"]},
                    "note": {"type": "string"}, "crew_id": {"type": "string"}}}}}},
            "responses": {"200": {"description": "the incident's new status and the steps allowed next",
                                  "content": {"application/json": {"schema": {"type": "object", "properties": {
                                      "id": {"type": "integer"}, "status": {"type": "string"},
                                      "crew_id": {"type": ["string", "null"]},
                                      "allowed": {"type": "array", "items": {"type": "string"}}}}}}},
                          "400": _ERROR, "404": _ERROR,
                          "409": {"description": "a step the incident's status does not allow; details[0].allowed "
                                                 "lists those it does", "content": {"application/json": {
                                                     "schema": {"$ref": "#/components/schemas/Error"}}}},
                          **_AUTH_ERRORS}}},
        "/api/reports/{report_id}/move": {"post": {
            "summary": "Move a report into another incident (operator)",
            "parameters": [{"name": "report_id", "in": "path", "required": True, "schema": {"type": "integer"}}],
            "requestBody": {"required": True, "content": {"application/json": {"schema": {
                "type": "object", "required": ["incident_id"], "properties": {"incident_id": {"type": "integer"}}}}}},
            "responses": {"200": {"description": "the incident it joined", "content": {"application/json": {
                "schema": {"$ref": "#/components/schemas/IncidentRef"}}}}, "400": _ERROR, "404": _ERROR,
                **_AUTH_ERRORS}}},
        "/api/audit": {"get": {
            "summary": ("The audit trail, newest first (admin): every assignment, status step, merge, move, "
                        "outbox action and reading of a caller's contact data; a page at a time (keyset)"),
            "parameters": [
                _JURISDICTION,
                *({"name": name, "in": "query", "schema": {"type": "string"}, "description": "exact match"}
                  for name in ("object_type", "actor", "action")),
                {"name": "object_id", "in": "query", "schema": {"type": "integer", "minimum": 0}},
                *({"name": name, "in": "query", "schema": {"type": "string", "format": "date-time"},
                   "description": f"entries at or {word} this time (ISO 8601 with its offset)"}
                  for name, word in (("since", "after"), ("until", "before"))),
                {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1,
                                                            "maximum": audit.MAX_LIMIT,
                                                            "default": audit.DEFAULT_LIMIT}},
                {"name": "before", "in": "query", "schema": {"type": "integer"},
                 "description": "the next_before of the previous page: the entries after it"}],
            "responses": {"200": {"description": "audit entries", "content": {"application/json": {"schema": {
                "type": "object", "properties": {
                    "next_before": {"type": ["integer", "null"], "description": "null on the last page"},
                    "items": {"type": "array", "items": {"type": "object", "properties": {
                        "id": {"type": "integer"}, "at": {"type": "string", "format": "date-time"},
                        "municipality": {"type": ["string", "null"], "description": "its jurisdiction_id"},
                        "actor": {"type": "string"}, "action": {"type": "string"},
                        "object_type": {"type": "string"}, "object_id": {"type": "integer"},
                        "detail": {"type": "object"}}}}}}}}},
                "400": _ERROR, "404": _ERROR, **_AUTH_ERRORS}}},
        "/api/outbox": {"get": {
            "summary": "The closing messages (riscontri) with their delivery state, call-backs to make (operator)",
            "parameters": [
                {"name": "status", "in": "query", "schema": {"enum": ["pending", "sent", "failed", "done"]}},
                {"name": "channel", "in": "query", "schema": {"enum": ["email", "sms", "phone"]}},
                {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 1000}},
                _JURISDICTION],
            "responses": {"200": {"description": "oldest first; each reading is in the audit trail",
                                  "content": {"application/json": {"schema": {"type": "object", "properties": {
                                      "items": {"type": "array", "items": {"$ref": "#/components/schemas/Outbox"}}}}}}},
                          "400": _ERROR, "404": _ERROR, **_AUTH_ERRORS}}},
        "/api/outbox/{outbox_id}/done": {"post": {
            "summary": "An operator made the call-back: it is done, with a note (operator)",
            "parameters": [{"name": "outbox_id", "in": "path", "required": True, "schema": {"type": "integer"}}],
            "requestBody": {"content": {"application/json": {"schema": {
                "type": "object", "properties": {"note": {"type": "string"}}}}}},
            "responses": {"200": {"description": "the call-back, done", "content": {"application/json": {
                "schema": {"type": "object", "properties": {
                    "id": {"type": "integer"}, "status": {"const": "done"}, "done_by": {"type": "string"},
                    "note": {"type": ["string", "null"]}}}}}},
                          "400": _ERROR, "404": _ERROR,
                          "409": {"description": "not a call-back, or no longer pending", "content": {
                              "application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
                          **_AUTH_ERRORS}}},
        "/api/outbox/{outbox_id}/retry": {"post": {
            "summary": "Send a failed e-mail or SMS again: pending, due now, attempts afresh (operator)",
            "parameters": [{"name": "outbox_id", "in": "path", "required": True, "schema": {"type": "integer"}}],
            "responses": {"200": {"description": "the message, pending again", "content": {"application/json": {
                "schema": {"type": "object", "properties": {
                    "id": {"type": "integer"}, "status": {"const": "pending"}, "attempts": {"type": "integer"}}}}}},
                          "404": _ERROR,
                          "409": {"description": "a call-back, or not failed", "content": {
                              "application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
                          **_AUTH_ERRORS}}},
        "/api/hotspots": {"get": {
            "summary": "Where reports concentrate: hexagon cells with Gi*, FDR class and trend (council)",
            "parameters": [
                {"name": "service_code", "in": "query", "schema": {"type": "string"},
                 "description": "one service; every service when absent"},
                {"name": "from", "in": "query", "schema": {"type": "string"},
                 "description": "first month (YYYY-MM, a day or a date-time with offset); 12 months ago by default"},
                {"name": "to", "in": "query", "schema": {"type": "string"}, "description": "last month; this one by default"},
                {"name": "cell_m", "in": "query", "schema": {"type": "integer", "minimum": 100, "maximum": 5000,
                                                             "default": 200}},
                {"name": "trend", "in": "query", "schema": {"enum": ["0", "1"]}},
                _JURISDICTION],
            "responses": {"200": {"description": "GeoJSON cells (WGS84); counts under 3 suppressed with their statistics",
                                  "content": {"application/json": {"schema": {"type": "object", "properties": {
                                      "type": {"const": "FeatureCollection"},
                                      "features": {"type": "array", "items": {"type": "object", "properties": {
                                          "properties": {"type": "object", "properties": {
                                              "count": {"type": ["integer", "null"]},
                                              "gi_z": {"type": ["number", "null"]}, "gi_p": {"type": ["number", "null"]},
                                              "class": {"enum": ["hot", "cold", "none"]},
                                              "trend": {"enum": ["new", "intensifying", "persistent", "diminishing",
                                                                 "sporadic", "none"]},
                                              "monthly": {"type": "array", "items": {"type": ["integer", "null"]}}}}}}}}}}}},
                          "400": _ERROR, "404": _ERROR, **_AUTH_ERRORS}}},
        "/api/trends": {"get": {
            "summary": "Reports per service per week and month, hours to resolve (median, p90), SLA share, per crew "
                       "area and district (council); groups under 3 reports suppressed",
            "parameters": [
                {"name": "service_code", "in": "query", "schema": {"type": "string"},
                 "description": "one service; every service the council may see when absent"},
                {"name": "from", "in": "query", "schema": {"type": "string"},
                 "description": "first month (YYYY-MM, a day or a date-time with offset); 12 months ago by default"},
                {"name": "to", "in": "query", "schema": {"type": "string"}, "description": "last month; this one by default"},
                _JURISDICTION],
            "responses": {"200": {"description": "the trend tables", "content": {"application/json": {"schema": {
                "type": "object", "properties": {
                    "weekly": {"type": "array"}, "monthly": {"type": "array"}, "months": {"type": "array"},
                    "areas": {"type": "array"}, "districts": {"type": ["array", "null"]},
                    "min_count": {"type": "integer"}}}}}},
                          "400": _ERROR, "404": _ERROR, **_AUTH_ERRORS}}},
        "/api/layers/{layer}": {"get": {
            "summary": "One of the town's layers as GeoJSON in WGS84 (what the operator's map fetches for the "
                       "civic numbers when they are ticked); layer data only",
            "parameters": [{"name": "layer", "in": "path", "required": True,
                            "schema": {"enum": list(MAP_LAYERS)}}, _JURISDICTION],
            "responses": {"200": {"description": "the layer's features, properties.id on each", "content": {
                "application/geo+json": {"schema": {"type": "object", "properties": {
                    "type": {"const": "FeatureCollection"}, "features": {"type": "array"}}}}}},
                "400": _ERROR, "404": _ERROR, **_AUTH_ERRORS}}},
        "/api/geocode": {"get": {
            "summary": "Geocode what a caller says on the municipality's own layers",
            "parameters": [{"name": "q", "in": "query", "required": True, "schema": {"type": "string"}},
                           _JURISDICTION],
            "responses": {"200": {"description": "best match and alternatives", "content": {"application/json": {
                "schema": {"$ref": "#/components/schemas/Geocode"}}}}, "400": _ERROR, "404": _ERROR,
                **_AUTH_ERRORS}}},
    },
    "components": {
        "securitySchemes": {"apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
                            "session": {"type": "apiKey", "in": "cookie", "name": "session"}},
        "schemas": {
            "Error": {"type": "object", "properties": {"error": {"type": "string"}, "details": {"type": "array"}}},
            "Outbox": {"type": "object", "properties": {
                "id": {"type": "integer"}, "report_id": {"type": "integer"},
                "incident_id": {"type": ["integer", "null"]}, "channel": {"enum": ["email", "sms", "phone"]},
                "to": {"type": "string", "description": "the caller's address or number (personal data)"},
                "text": {"type": "string", "description": "for a call-back, the text to read out"},
                "status": {"enum": ["pending", "sent", "failed", "done"]}, "attempts": {"type": "integer"},
                "last_error": {"type": ["string", "null"]}, "created_at": {"type": "string"},
                "sent_at": {"type": ["string", "null"]}, "jurisdiction_id": {"type": "string"},
                "subject": {"type": "string"}, "language": {"type": "string"},
                "done_by": {"type": ["string", "null"]}, "note": {"type": ["string", "null"]},
                "next_attempt_at": {"type": ["string", "null"]}}},
            "PlacedAsset": {"type": "object", "properties": {
                "valve_id": {"type": "string"}, "cabinet_id": {"type": "string"},
                "lat": {"type": ["number", "null"]}, "lon": {"type": ["number", "null"]}}},
            "IncidentRef": {"type": "object", "properties": {"id": {"type": "integer"}, "kind": {"enum": list(KINDS)}}},
            "IncidentCollection": {"type": "object", "properties": {
                "type": {"const": "FeatureCollection"},
                "next_since": {"type": "string", "description": "pass as since on the next poll"},
                "features": {"type": "array", "items": {"type": "object", "properties": {
                    "type": {"const": "Feature"}, "geometry": {"type": ["object", "null"], "description": (
                        "the council sees an incident placed by its callers' positions (not on a lamp, "
                        "cabinet or main) at the centre of its 200 m grid cell, and times to the hour")},
                    "properties": {"type": "object", "properties": {
                        "id": {"type": "integer"}, "kind": {"enum": list(KINDS)},
                        "removed": {"const": True, "description": (
                            "with since only: changed, and no longer matching the filters (no other property)")},
                        "asset_ids": {"type": "array", "items": {"type": "string"}},
                        "valves_to_close": {"type": "array", "items": {"type": "string"}},
                        "valve_points": {"type": "array", "description": (
                            "the valves_to_close in the same order with where each stands (lat/lon null for "
                            "a valve the layers no longer have); not shown to the council"),
                            "items": {"$ref": "#/components/schemas/PlacedAsset"}},
                        "cabinet_points": {"type": "array", "description": (
                            "for a dark circuit or cabinet: the cabinets feeding it, where they stand; "
                            "empty for other kinds; not shown to the council"),
                            "items": {"$ref": "#/components/schemas/PlacedAsset"}},
                        "report_ids": {"type": "array", "items": {"type": "string"},
                                       "description": "Open311 service_request_ids; not shown to the council"},
                        "report_count": {"type": "integer", "minimum": 0,
                                         "description": "0 only for an absorbed incident"},
                        "absorbed_into_id": {"type": ["integer", "null"],
                                             "description": "the incident that took this one's calls"},
                        "area_id": {"type": ["string", "null"]}, "crew_id": {"type": ["string", "null"]},
                        "priority": {"type": "integer", "minimum": 1, "maximum": 4},
                        "status": {"enum": list(STATUSES)},
                        "confidence": {"type": "number", "minimum": 0, "maximum": 1},
                        "explanation": {"type": "string", "description": "not shown to the council"}}}}}}}},
            "Geocode": {"type": "object", "properties": {
                "lat": {"type": "number"}, "lon": {"type": "number"}, "score": {"type": "number"},
                "match": {"type": "object", "properties": {
                    "kind": {"enum": ["address", "interpolated", "intersection", "landmark", "street"]},
                    "street": {"type": ["string", "null"]}, "number": {"type": ["string", "null"]},
                    "label": {"type": "string"}}},
                "alternatives": {"type": "array"}}},
        },
    },
}


@bp.get("/openapi.json")
def openapi():
    """The OpenAPI description of the /api/ routes."""
    return jsonify(DOCUMENT)
