"""The read side of Open311: a municipality's services, and the view of its reports.

A report shows its Open311 fields only (``reading.privacy.OPEN311_FIELDS``). Caller contact
data lives in another table and is never joined here, so no Open311 GET can leak it. Who
reads (``reader``, None for anyone) decides the view (``reading.privacy``): an operator or
admin of the town sees every field as stored; everyone else the public view, in which the
caller's words and the staff's notes are null, the address is the street's name, lat/long the
centre of the report's 50 m cell (``ST_SnapToGrid`` in the metric CRS, then WGS84: PostGIS does
both where the points are), times are cut to the hour, and services not public in the town
are left out, a report of one read by id being a 404 like a report that does not exist. The
service list names every service, public or not: each may be posted.

Filters follow the GeoReport v2 ``GET requests`` rules: ``service_request_id`` (a comma
list) overrides the others; dates default to the last 90 days and may not span more than
that, and for the public view are widened to whole hours (so a narrow window tells no
minute); at most ``MAX_REQUESTS`` come back, newest first. There is no filter by place.

Each read is given the reader's ``language`` (Italian by default): the service's name, and the
texts the service itself stored on a report (``STORED_WORDS``: the operator's answer given on the
phone, a service's notice), come in it; what people wrote (the caller's words, the staff's
notes) is shown as written.
"""
from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from geo_urp.acting.intake import ANSWERED_ON_THE_PHONE
from geo_urp.catalog import DEFAULT_SERVICES, catalog_for
from geo_urp.errors import BadInput, NotFound
from geo_urp.language import DEFAULT, N_, gettext_in
from geo_urp.models import WGS84, Municipality, Report, Street
from geo_urp.municipalities import municipality_for
from geo_urp.reading import privacy
from geo_urp.reading.privacy import OPEN311_FIELDS, PUBLIC_GRID_M, PUBLIC_HIDES

if TYPE_CHECKING:
    from geo_urp.accounts import Principal

MAX_REQUESTS = 1000
WINDOW = timedelta(days=90)
STATUSES = ("open", "closed")
# The texts the service itself stores in a report's status_notes and service_notice (catalog
# words): shown in the reader's language. Any other text there is a person's, shown as written.
STORED_WORDS = frozenset({ANSWERED_ON_THE_PHONE} | {s.notice for s in DEFAULT_SERVICES if s.notice})


def worded(text: str | None, language: str) -> str | None:
    """A stored text in ``language`` when the service wrote it (``STORED_WORDS``), else as it is."""
    return gettext_in(language, text) if text in STORED_WORDS else text


def services(session: Session, jurisdiction_id: str | None, language: str = DEFAULT) -> list[dict]:
    """The municipality's service list as ``GET services`` shows it, in ``language``."""
    muni = municipality_for(session, jurisdiction_id)
    return [s.as_open311(language) for s in catalog_for(session, muni.id).services]


def service_definition(session: Session, jurisdiction_id: str | None, service_code: str,
                       language: str = DEFAULT) -> dict:
    """The Open311 definition (attributes) of one service in ``language``; ``NotFound`` for an unknown code."""
    muni = municipality_for(session, jurisdiction_id)
    catalog = catalog_for(session, muni.id)
    service = catalog.get(service_code)
    if service is None:
        raise NotFound(N_("service_code %(code)s non è stato trovato: uno tra %(codes)s"), code=repr(service_code),
                       codes=", ".join(catalog.codes), details=[{"field": "service_code", "value": service_code}])
    return service.definition(language)


def iso(value: datetime | None) -> str | None:
    """A date-time as ISO 8601 in UTC with its offset, to the second."""
    return value.astimezone(timezone.utc).isoformat(timespec="seconds") if value else None


def _columns():
    """A report with its point in WGS84 as stored (``lat``, ``long``) and as the public view
    shows it (``cell_lat``, ``cell_long``: its cell's centre), and its street's name."""
    point = func.ST_Transform(Report.geom, WGS84)
    half = PUBLIC_GRID_M / 2
    cell = func.ST_Transform(func.ST_SnapToGrid(Report.geom, half, half, PUBLIC_GRID_M, PUBLIC_GRID_M), WGS84)
    street = (select(Street.name).where(Street.municipality_id == Report.municipality_id,
                                        Street.street_id == Report.street_id).scalar_subquery())
    return (Report, func.ST_Y(point).label("lat"), func.ST_X(point).label("long"),
            func.ST_Y(cell).label("cell_lat"), func.ST_X(cell).label("cell_long"), street.label("street"))


def _view(session: Session, municipality_id: int, rows, full: bool, language: str = DEFAULT) -> list[dict]:
    """The rows (of ``_columns``) as Open311 shows them, in ``language``: all as stored when ``full``,
    else the public view."""
    catalog = catalog_for(session, municipality_id)
    when = (lambda at: at) if full else privacy.to_the_hour
    out = []
    for row in rows:
        report = row.Report
        service = catalog.get(report.service_code)
        lat, lon = (row.lat, row.long) if full else (row.cell_lat, row.cell_long)
        view = {
            "service_request_id": report.service_request_id, "status": report.status,
            "status_notes": worded(report.status_notes, language),
            "service_name": gettext_in(language, service.name) if service else None,
            "service_code": report.service_code, "description": report.description,
            "agency_responsible": report.agency_responsible,
            "service_notice": worded(report.service_notice, language),
            "requested_datetime": iso(when(report.requested_datetime)),
            "updated_datetime": iso(when(report.updated_datetime)),
            "expected_datetime": iso(when(report.expected_datetime)),
            "address": report.address if full else row.street,
            "address_id": report.address_id, "zipcode": report.zipcode,
            "lat": round(lat, 7) if lat is not None else None,
            "long": round(lon, 7) if lon is not None else None, "media_url": report.media_url,
        }
        if not full:
            view.update(dict.fromkeys(PUBLIC_HIDES))
        out.append(_only_public(view))
    return out


def _only_public(view: dict) -> dict:
    """A report's view cut to the fields Open311 shows (``reading.privacy.OPEN311_FIELDS``), in order."""
    return {name: view[name] for name in OPEN311_FIELDS}


def _comma_list(args: Mapping[str, str], name: str) -> list[str]:
    return [part.strip() for part in (args.get(name) or "").split(",") if part.strip()]


def _date(args: Mapping[str, str], name: str) -> datetime | None:
    raw = (args.get(name) or "").strip()
    if not raw:
        return None
    try:
        value = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise BadInput(N_("%(field)s deve essere una data e ora ISO 8601 come 2026-11-27T22:00:00+01:00, "
                          "non %(value)s"), field=name, value=repr(raw),
                       details=[{"field": name, "value": raw}]) from None
    # A date-time without offset is read as UTC.
    if value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    try:
        return value.astimezone(timezone.utc)
    except OverflowError:
        raise BadInput(N_("%(field)s %(value)s è fuori dal calendario una volta letto in UTC"), field=name,
                       value=repr(raw), details=[{"field": name, "value": raw}]) from None


def _ids(raw: list[str]) -> list[int]:
    try:
        ids = [int(part) for part in raw]
    except ValueError:
        raise BadInput(N_("service_request_id deve essere un elenco di id separati da virgole, non %(value)s"),
                       value=repr(",".join(raw)), details=[{"field": "service_request_id"}]) from None
    if len(ids) > MAX_REQUESTS:
        raise BadInput(N_("al massimo %(limit)s valori di service_request_id alla volta, non %(count)s"),
                       limit=MAX_REQUESTS, count=len(ids), details=[{"field": "service_request_id"}])
    return ids


def _window(args: Mapping[str, str], now: datetime) -> tuple[datetime, datetime]:
    start, end = _date(args, "start_date"), _date(args, "end_date")
    if start is None and end is None:
        end = now
    try:
        if start is None:
            start = end - WINDOW
        if end is None:
            end = start + WINDOW
    except OverflowError:
        raise BadInput(N_("start_date/end_date non lasciano una finestra di %(days)s giorni nel calendario"),
                       days=WINDOW.days, details=[{"field": "start_date"}, {"field": "end_date"}]) from None
    if start > end:
        raise BadInput(N_("start_date %(start)s è dopo end_date %(end)s"), start=iso(start), end=iso(end),
                       details=[{"field": "start_date"}, {"field": "end_date"}])
    if end - start > WINDOW:
        raise BadInput(N_("da start_date a end_date ci sono %(days)s giorni; se ne ammettono al massimo %(limit)s"),
                       days=(end - start).days, limit=WINDOW.days,
                       details=[{"field": "start_date"}, {"field": "end_date"}])
    return start, end


def _filtered(session: Session, muni: Municipality, args: Mapping[str, str], now: datetime, full: bool) -> Select:
    query = select(*_columns()).where(Report.municipality_id == muni.id)
    catalog = catalog_for(session, muni.id)
    if not full:
        query = query.where(Report.service_code.in_(privacy.public_services(catalog, muni.service_settings)))
    ids = _comma_list(args, "service_request_id")
    if ids:  # GeoReport v2: with service_request_id every other filter is ignored
        return query.where(Report.id.in_(_ids(ids)))
    codes = _comma_list(args, "service_code")
    if codes:
        unknown = [c for c in codes if c not in catalog.codes]
        if unknown:
            raise BadInput(N_("service_code %(code)s non è offerto qui: uno tra %(codes)s"), code=", ".join(unknown),
                           codes=", ".join(catalog.codes), details=[{"field": "service_code", "value": unknown}])
        query = query.where(Report.service_code.in_(codes))
    statuses = _comma_list(args, "status")
    if statuses:
        wrong = [s for s in statuses if s not in STATUSES]
        if wrong:
            raise BadInput(N_("status deve essere open o closed (o entrambi, separati da virgola), non %(value)s"),
                           value=", ".join(wrong), details=[{"field": "status", "value": wrong}])
        query = query.where(Report.status.in_(statuses))
    start, end = _window(args, now)
    if not full:
        start, end = privacy.public_window(start, end)
    return query.where(Report.requested_datetime >= start, Report.requested_datetime <= end)


def search_requests(session: Session, jurisdiction_id: str | None, args: Mapping[str, str],
                    now: datetime | None = None, reader: Principal | None = None,
                    language: str = DEFAULT) -> list[dict]:
    """Service requests matching the GeoReport v2 filters in ``args``, newest first, at most 1000,
    as ``reader`` (None: anyone) may see them, in ``language``."""
    muni = municipality_for(session, jurisdiction_id)
    full = privacy.sees_everything(reader, muni.id)
    query = _filtered(session, muni, args, now or datetime.now(timezone.utc), full)
    rows = session.execute(query.order_by(Report.requested_datetime.desc(), Report.id.desc())
                           .limit(MAX_REQUESTS)).all()
    return _view(session, muni.id, rows, full, language)


def get_request(session: Session, jurisdiction_id: str | None, service_request_id: str,
                reader: Principal | None = None, language: str = DEFAULT) -> dict:
    """One service request by id as ``reader`` (None: anyone) may see it, in ``language``; ``NotFound`` when there
    is none in that jurisdiction, or when its service is not public and the reader sees the public view."""
    report_id = int(service_request_id) if service_request_id.isascii() and service_request_id.isdigit() else None
    query = select(*_columns(), Municipality.service_settings).join(
        Municipality, Municipality.id == Report.municipality_id).where(Report.id == report_id)
    if jurisdiction_id:
        query = query.where(Report.municipality_id == municipality_for(session, jurisdiction_id).id)
    row = session.execute(query).first() if report_id is not None and report_id < 2 ** 63 else None
    full = row is not None and privacy.sees_everything(reader, row.Report.municipality_id)
    if row is not None and not full:
        service = catalog_for(session, row.Report.municipality_id).get(row.Report.service_code)
        if not privacy.is_public(service, row.service_settings):
            row = None  # as if there were none: that it exists is not the public's to know
    if row is None:
        raise NotFound(N_("service_request_id %(value)s non è stato trovato"), value=repr(service_request_id),
                       details=[{"field": "service_request_id", "value": service_request_id}])
    return _view(session, row.Report.municipality_id, [row], full, language)[0]


def request_for_token(session: Session, jurisdiction_id: str | None, token: str) -> dict:
    """The service request id behind a submission token; ``NotFound`` when the token is unknown.
    Only the one who submitted holds the token, so it answers for every service."""
    query = select(Report.id, Report.token, Report.municipality_id).where(Report.token == token)
    if jurisdiction_id:
        query = query.where(Report.municipality_id == municipality_for(session, jurisdiction_id).id)
    row = session.execute(query).first()
    if row is None:
        raise NotFound(N_("token %(value)s non è stato trovato"), value=repr(token),
                       details=[{"field": "token", "value": token}])
    return {"service_request_id": str(row[0]), "token": row[1]}
