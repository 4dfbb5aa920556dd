"""All tables of geo_urp; import from here so that metadata is complete."""
from geo_urp.models.auth import ApiKey, User
from geo_urp.models.base import METRIC_SRID, WGS84, Base, Municipality, TownChange
from geo_urp.models.council import HotspotAnswer, HotspotCell, HotspotRefresh
from geo_urp.models.crews import Crew, CrewArea
from geo_urp.models.incidents import Incident, IncidentEvent, IncidentReport, incident_of
from geo_urp.models.lighting import Cabinet, Circuit, Lamp
from geo_urp.models.reports import CallerContact, Report, ReportRetry, report_of
from geo_urp.models.town import Address, Landmark, Street
from geo_urp.models.trends import District, TrendRefresh, TrendWeek
from geo_urp.models.water import Pipe, PipePart, Valve, ValveSegment, WaterSource
from geo_urp.models.work import AuditEntry, OutboxMessage, ReportUpdate

__all__ = [
    "ApiKey", "Address", "AuditEntry", "Base", "Cabinet", "CallerContact", "Circuit", "Crew", "CrewArea",
    "District", "HotspotAnswer", "HotspotCell", "HotspotRefresh", "Incident", "IncidentEvent", "IncidentReport", "Lamp", "Landmark", "METRIC_SRID",
    "Municipality", "OutboxMessage", "Pipe", "PipePart", "Report", "ReportRetry", "ReportUpdate", "Street", "TownChange", "TrendRefresh", "TrendWeek", "User", "Valve", "ValveSegment",
    "WGS84", "WaterSource", "incident_of", "report_of",
]
