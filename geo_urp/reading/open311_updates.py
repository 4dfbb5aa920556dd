"""FixMyStreet's ``servicerequestupdates``: every status change of every report of a municipality.

FixMyStreet (and mySociety's open311-adapter, which serves it for councils) polls
``GET servicerequestupdates`` with ``start_date`` and ``end_date`` and turns each
``request_update`` into an update on its report. What one update shows is
``reading.privacy.OPEN311_UPDATE_FIELDS``, never the report's description or anything of
the caller (the rows come from ``report_updates`` alone, joined to ``reports`` only for the
report's municipality and service). Who reads (``reader``, None for anyone) decides the view
(``reading.privacy``): an operator or admin of the town sees each update's note (what the
operator or crew wrote) and its time to the second; everyone else sees an empty description
(FixMyStreet then words the update from its template for the state), the time cut to the
hour, and no update of a report whose service is not public in the town.

The window, in UTC and inclusive at both ends, to the second an update shows
(``updated_datetime`` is given to the second, so an update at 12:00:00.7 is one at
12:00:00), and for the public view to the hour (widened to whole hours: a poller that moves
its window on by the clock sees an update of the hour it is in again, never misses one):
neither bound given means the last ``DEFAULT_WINDOW``; a missing bound is
the other one moved by ``DEFAULT_WINDOW``; a window may span at most ``MAX_WINDOW``
(FixMyStreet asks for the last 2 hours, its backfill for 24-hour steps). Updates come
oldest first, then by ``update_id``. A window holding more than ``MAX_UPDATES`` is
refused rather than cut: a poller moves its window on, so a cut list would lose the
updates past the cut without anyone knowing. A note the service wrote itself
(``reading.open311.STORED_WORDS``) comes in the reader's ``language``; a person's as written.
"""
from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from geo_urp.catalog import catalog_for
from geo_urp.errors import BadInput
from geo_urp.language import DEFAULT, N_
from geo_urp.models import Municipality, Report, ReportUpdate, report_of
from geo_urp.municipalities import municipality_for
from geo_urp.reading import privacy
from geo_urp.reading.open311 import iso, worded
from geo_urp.reading.privacy import OPEN311_UPDATE_FIELDS, PUBLIC_UPDATE_HIDES
from geo_urp.timestamps import parameter

if TYPE_CHECKING:
    from geo_urp.accounts import Principal

DEFAULT_WINDOW = timedelta(hours=24)
MAX_WINDOW = timedelta(days=7)
MAX_UPDATES = 10_000
_HOURS = int(DEFAULT_WINDOW.total_seconds() // 3600)

# The incident's step (``report_updates.stage``) in FixMyStreet's status words. FixMyStreet
# (``Open311::map_state``) lower-cases a status and reads "_" as " ": ``action_scheduled``
# becomes its state "action scheduled", ``in_progress`` "in progress", ``fixed`` "fixed -
# council", ``closed`` "closed" (or "fixed - council" for a body without extended statuses)
# and ``open`` "confirmed", which also reopens a fixed report.
FIXMYSTREET_STATUS = {
    "assigned": "action_scheduled",   # a crew is named: the work is scheduled
    "in_progress": "in_progress",     # the crew is on it
    "resolved": "fixed",              # the crew fixed it
    "closed": "closed",               # the operator closed it
    "reopened": "open",               # it came back: open again
}


def fixmystreet_status(stage: str, status: str) -> str:
    """FixMyStreet's status word for an update at ``stage``; for a stage the table does not
    know, the report's own Open311 status (``open`` or ``closed``), which FixMyStreet reads too."""
    return FIXMYSTREET_STATUS.get(stage, status)



def window(args: Mapping[str, str], now: datetime) -> tuple[datetime, datetime]:
    """The ``start_date`` / ``end_date`` window asked for in ``args``, in UTC, both ends included
    (the defaults and the limit are in the module's docstring); ``BadInput`` naming the parameter."""
    start, end = parameter(args, "start_date"), parameter(args, "end_date")
    try:
        if end is None:
            end = now if start is None else start + DEFAULT_WINDOW
    except OverflowError:
        raise BadInput(N_("start_date non lascia una finestra di %(hours)s ore nel calendario"), hours=_HOURS,
                       details=[{"field": "start_date"}]) from None
    try:
        if start is None:
            start = end - DEFAULT_WINDOW
    except OverflowError:
        raise BadInput(N_("end_date non lascia una finestra di %(hours)s ore nel calendario"), hours=_HOURS,
                       details=[{"field": "end_date"}]) from None
    if start > end:
        raise BadInput(N_("end_date %(end)s è prima di start_date %(start)s"), end=iso(end), start=iso(start),
                       details=[{"field": "start_date"}, {"field": "end_date"}])
    if end - start > MAX_WINDOW:
        raise BadInput(N_("da start_date a end_date ci sono %(span)s; si ammettono al massimo %(days)s giorni"),
                       span=str(end - start), days=MAX_WINDOW.days,
                       details=[{"field": "start_date"}, {"field": "end_date"}])
    return start, end


def _in_window(start: datetime, end: datetime):
    """The condition "shown within ``[start, end]``" on the stored times: an update shows its
    time cut to the second, so it is in from ``start`` rounded up to a whole second to the last
    microsecond of ``end``'s second (PostgreSQL keeps microseconds)."""
    at = ReportUpdate.updated_datetime
    after = at >= start if start.microsecond == 0 else at > start.replace(microsecond=999_999)
    return after & (at <= end.replace(microsecond=999_999))


def _updates(muni: Municipality, start: datetime, end: datetime, services: list[str] | None) -> Select:
    """The updates of ``muni``'s reports in the window (already widened for the public view),
    of the ``services`` given (None: of every service)."""
    query = (
        select(ReportUpdate.id.label("update_id"), ReportUpdate.report_id, ReportUpdate.stage,
               ReportUpdate.status, ReportUpdate.updated_datetime, ReportUpdate.description)
        .join(Report, report_of(ReportUpdate))
        .where(ReportUpdate.municipality_id == muni.id, Report.municipality_id == muni.id,
               _in_window(start, end))
        .order_by(ReportUpdate.updated_datetime, ReportUpdate.id)
    )
    return query if services is None else query.where(Report.service_code.in_(services))


def search_updates(session: Session, jurisdiction_id: str | None, args: Mapping[str, str],
                   now: datetime | None = None, reader: Principal | None = None,
                   language: str = DEFAULT) -> list[dict]:
    """The municipality's report updates in the ``start_date`` / ``end_date`` window of ``args``,
    as FixMyStreet's ``request_update`` items, oldest first, as ``reader`` (None: anyone) may see
    them, in ``language``."""
    muni = municipality_for(session, jurisdiction_id)
    full = privacy.sees_everything(reader, muni.id)
    start, end = window(args, now or datetime.now(timezone.utc))
    services = None
    if not full:
        start, end = privacy.public_window(start, end)
        services = privacy.public_services(catalog_for(session, muni.id), muni.service_settings)
    rows = session.execute(_updates(muni, start, end, services).limit(MAX_UPDATES + 1)).all()
    if len(rows) > MAX_UPDATES:
        raise BadInput(N_("più di %(limit)s aggiornamenti da %(start)s a %(end)s: chiedi una finestra più breve"),
                       limit=MAX_UPDATES, start=iso(start), end=iso(end),
                       details=[{"field": "start_date"}, {"field": "end_date"}])
    return [_view(row, full, language) for row in rows]


def _view(row, full: bool, language: str) -> dict:
    view = {
        "update_id": str(row.update_id), "service_request_id": str(row.report_id),
        "status": fixmystreet_status(row.stage, row.status),
        "updated_datetime": iso(row.updated_datetime if full else privacy.to_the_hour(row.updated_datetime)),
        "description": worded(row.description, language) or "",
        "media_url": "",  # no photos yet; FixMyStreet's format has the element, empty
    }
    if not full:
        view.update(dict.fromkeys(PUBLIC_UPDATE_HIDES, ""))
    return {name: view[name] for name in OPEN311_UPDATE_FIELDS}
