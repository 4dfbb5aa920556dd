"""What an admin reads of the service itself: the municipalities served, the logins, the API keys,
and each town's services as set there (public or not, SLA hours).

An admin bound to one municipality sees that municipality and its own logins and keys; one
bound to none sees everything, logins and keys of every town included. No secret ever
leaves this module: logins are read without their password hash, keys without their hash
or prefix (the columns are never selected, so no later template can show them by mistake).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from geo_urp.acting.service_levels import sla_hours
from geo_urp.catalog import catalog_for
from geo_urp.models import ApiKey, Incident, Municipality, Report, User
from geo_urp.models.incidents import OPEN_STATUSES
from geo_urp.reading.privacy import is_public


@dataclass(frozen=True)
class Town:
    """A municipality served, with how much it holds."""

    slug: str
    name: str
    layers_loaded_at: datetime | None
    reports: int
    open_incidents: int


@dataclass(frozen=True)
class Login:
    """A login as an admin sees it: no password hash."""

    username: str
    role: str
    crew_id: str | None
    municipality: str | None  # the slug; None: every municipality
    language: str             # of its pages
    active: bool
    created_at: datetime


@dataclass(frozen=True)
class Key:
    """An API key as an admin sees it: neither the key nor its hash nor its prefix."""

    label: str | None
    role: str
    crew_id: str | None
    municipality: str | None  # the slug; None: every municipality
    created_at: datetime
    revoked_at: datetime | None


@dataclass(frozen=True)
class ServiceSetting:
    """A service of a town as it is set there: public or not, and its SLA hours."""

    town: str  # the slug
    code: str
    name: str
    public: bool
    public_by_default: bool
    sla_hours: float
    own_sla_hours: bool  # the town's own, not the catalog's


@dataclass(frozen=True)
class Overview:
    """The admin page's reading: towns, logins, keys and each town's services."""

    towns: list[Town]
    logins: list[Login]
    keys: list[Key]
    services: list[ServiceSetting]


def _within(query: Select, column, bound_to: int | None) -> Select:
    return query if bound_to is None else query.where(column == bound_to)


def towns(session: Session, bound_to: int | None = None) -> list[Town]:
    """The municipalities served (``bound_to``'s alone when given), by slug, each with its
    count of reports and of open incidents (absorbed ones not counted: their calls are in
    the incident that took them)."""
    reports = (select(func.count()).select_from(Report)
               .where(Report.municipality_id == Municipality.id).scalar_subquery())
    open_incidents = (select(func.count()).select_from(Incident)
                      .where(Incident.municipality_id == Municipality.id, Incident.status.in_(OPEN_STATUSES),
                             Incident.absorbed_into_id.is_(None)).scalar_subquery())
    query = _within(select(Municipality.slug, Municipality.name, Municipality.layers_loaded_at,
                           reports.label("reports"), open_incidents.label("open_incidents")),
                    Municipality.id, bound_to).order_by(Municipality.slug)
    return [Town(**row._mapping) for row in session.execute(query)]


def logins(session: Session, bound_to: int | None = None) -> list[Login]:
    """The logins (``bound_to``'s own when given), by user name."""
    query = _within(select(User.username, User.role, User.crew_id, Municipality.slug.label("municipality"),
                           User.language, User.active, User.created_at)
                    .outerjoin(Municipality, Municipality.id == User.municipality_id),
                    User.municipality_id, bound_to).order_by(User.username)
    return [Login(**row._mapping) for row in session.execute(query)]


def keys(session: Session, bound_to: int | None = None) -> list[Key]:
    """The API keys (``bound_to``'s own when given), newest first; revoked ones say when."""
    query = _within(select(ApiKey.label, ApiKey.role, ApiKey.crew_id, Municipality.slug.label("municipality"),
                           ApiKey.created_at, ApiKey.revoked_at)
                    .outerjoin(Municipality, Municipality.id == ApiKey.municipality_id),
                    ApiKey.municipality_id, bound_to).order_by(ApiKey.created_at.desc(), ApiKey.id.desc())
    return [Key(**row._mapping) for row in session.execute(query)]


def services(session: Session, bound_to: int | None = None) -> list[ServiceSetting]:
    """Each town's services (``bound_to``'s alone when given) as set there, by town and catalog order."""
    out = []
    for muni in session.scalars(_within(select(Municipality), Municipality.id, bound_to).order_by(Municipality.slug)):
        own_settings = muni.service_settings or {}
        for svc in catalog_for(session, muni.id).services:
            own = own_settings.get(svc.code) or {}
            out.append(ServiceSetting(muni.slug, svc.code, svc.name, is_public(svc, own_settings), svc.public,
                                      sla_hours(own_settings, svc.code), "sla_hours" in own))
    return out


def overview(session: Session, bound_to: int | None = None) -> Overview:
    """Everything the admin page shows, for an admin bound to ``bound_to`` (None: every town)."""
    return Overview(towns(session, bound_to), logins(session, bound_to), keys(session, bound_to),
                    services(session, bound_to))
