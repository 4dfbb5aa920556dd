"""Call intake: turn one Open311 submission into a stored, placed and snapped ``Report``.

``submit_request`` checks the api_key, then ``create_report`` validates every
field (which field, which value, what was expected), resolves the municipality,
places the report (lat/long, ``address_id`` or ``address_string`` through the
geocoder), snaps it to its street and to the lamp or water main its service
concerns, stores the report and, apart, the caller's contact data. Handing the report on to incident reasoning, in
the same transaction, is ``acting.calls.take_call``'s job: locating knows
nothing of reasoning.

Retries are safe: a submission carrying an ``Idempotency-Key`` that its api_key
already used returns the first report. The unique constraint on
``(api_key_id, idempotency_key)`` decides races: the losing insert does nothing
(``ON CONFLICT DO NOTHING``) and the winner's report is returned instead.
"""
from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from functools import lru_cache

from geoalchemy2 import WKTElement
from sqlalchemy import bindparam, select
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Session

from geo_urp import locks
from geo_urp.accounts import Principal, hash_key
from geo_urp.catalog import Service, service_for
from geo_urp.db import Prepared, as_loaded
from geo_urp.errors import BadInput, Forbidden
from geo_urp.locating import placing
from geo_urp.reading.open311 import NOT_READ, municipality_for
from geo_urp.locating.snapping import SnapLimits
from geo_urp.models import METRIC_SRID, CallerContact, Municipality, Report

POST_ROLES = ("operator", "public", "admin")          # council reads, crews work their list
BACKDATE_ROLES = ("operator", "admin")               # may send requested_datetime (SPEC §4)
CONTACT_FIELDS = ("first_name", "last_name", "email", "phone", "device_id", "account_id")
MAX_FIELD = 200
MAX_DESCRIPTION = 4000
MAX_IDEMPOTENCY_KEY = 200
FUTURE_SLACK = timedelta(minutes=5)
MAX_BACKDATE = timedelta(days=366)    # a call logged late or a replayed stream; older is a typing error
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PHONE = re.compile(r"^\+?[0-9][0-9 ()./-]{4,29}$")


@dataclass(frozen=True)
class IntakeLimits:
    """Settings intake works with: the boundary margin and the snapping distances."""

    boundary_margin_m: float = 200.0
    snap: SnapLimits = field(default_factory=SnapLimits)

    @classmethod
    def from_config(cls, config: Mapping) -> "IntakeLimits":
        """The limits from settings (``INTAKE_BOUNDARY_MARGIN_M`` and ``SNAP_*_MAX_M``)."""
        return cls(float(config.get("INTAKE_BOUNDARY_MARGIN_M", 200.0)), SnapLimits.from_config(config))


@dataclass(frozen=True)
class Receipt:
    """The stored report, its service, and whether this call created it (False: an idempotent retry)."""

    report: Report
    service: Service
    created: bool

    def as_open311(self) -> dict:
        """The GeoReport v2 answer to a POST: the id, the notice for the caller, and the token."""
        return {"service_request_id": self.report.service_request_id, "token": self.report.token,
                "service_notice": self.report.service_notice}


@dataclass(frozen=True)
class _Found:
    """What ``_CALL`` read with the api_key: the report an earlier try with the same
    Idempotency-Key stored, and the municipality asked for (its lock taken, unless the
    call is a retry answered with that report or its key may not post)."""

    earlier_id: int | None
    municipality: Municipality | None


# What every call needs first, in one round trip: its key, the report an earlier try with the
# same Idempotency-Key stored, and its municipality (by jurisdiction_id, else the key's own)
# with the town's lock taken shared (``locks.share_municipality``) before anything reads its
# layers. A retry answered with its first report, or a key that may not post, needs no lock:
# it is not taken for them, so they do not wait for a reload of the layers. Prepared: it runs
# on every call, and PostgreSQL took longer to plan it than to run it.
_MUNI_COLUMNS = tuple(a.key for a in sa_inspect(Municipality).column_attrs if not a.deferred)
_CALL = Prepared(f"""
    SELECT k.id AS key_id, k.role, k.municipality_id AS key_municipality_id, k.crew_id, k.prefix,
           e.id AS earlier_id, {", ".join(f"m.{c} AS m_{c}" for c in _MUNI_COLUMNS)},
           CASE WHEN e.id IS NULL AND k.role IN ({", ".join(f"'{r}'" for r in POST_ROLES)})
                THEN {locks.shared_municipality_lock_sql("m.id")} END AS locked
    FROM api_keys k
    LEFT JOIN reports e ON e.api_key_id = k.id AND e.idempotency_key = :idem
    LEFT JOIN municipalities m ON m.slug = :slug OR (:slug IS NULL AND m.id = k.municipality_id)
    WHERE k.key_hash = :hash AND k.revoked_at IS NULL""", types={"idem": "text", "slug": "text", "hash": "text"},
    result_types={f"m_{c}": Municipality.__table__.c[c].type for c in _MUNI_COLUMNS})
_EARLIER = select(Report).where(Report.api_key_id == bindparam("key_id"), Report.idempotency_key == bindparam("idem"))


# Which lock of a family of incidents a new report will need (``locks.lock_family``), given its
# session, municipality id and the values it is stored with; None when it needs none. Intake
# takes it as it stores the report, in the same statement: one round trip less for the
# incident's update.
FamilyOf = Callable[[Session, int, Mapping], "str | None"]


def submit_request(session: Session, api_key: str | None, fields: Mapping[str, str],
                   attributes: Mapping[str, str | list[str]] | None = None, idempotency_key: str | None = None,
                   limits: IntakeLimits = IntakeLimits(), now: datetime | None = None,
                   family_of: FamilyOf | None = None) -> Receipt:
    """Create a report from an Open311 POST authenticated by ``api_key``.

    ``family_of``: the family lock to take with the new report (``FamilyOf``); none when not given.
    """
    if not api_key:
        raise Forbidden("api_key was not provided", details=[{"field": "api_key"}])
    # Read as given: a value that fails validation later finds nothing here.
    slug = str(fields.get("jurisdiction_id") or "").strip() or None
    row = _CALL.execute(session, {"hash": hash_key(api_key), "slug": slug,
                                  "idem": (idempotency_key or "").strip() or None}).first()
    if row is None:
        raise Forbidden("api_key is invalid or revoked", details=[{"field": "api_key"}])
    principal = Principal(row.role, row.key_municipality_id, row.crew_id, f"key:{row.prefix}")
    return create_report(session, principal, fields, attributes or {}, idempotency_key, row.key_id, limits, now,
                         _Found(row.earlier_id, _municipality(session, row)), family_of)


def _municipality(session: Session, row) -> Municipality | None:
    """The municipality ``_CALL`` read, as the session would have loaded it (the one it holds already,
    if any): no second read."""
    if row.m_id is None:
        return None
    return as_loaded(session, Municipality, {c: getattr(row, f"m_{c}") for c in _MUNI_COLUMNS})


def _text(fields: Mapping[str, str], name: str, limit: int = MAX_FIELD) -> str | None:
    value = fields.get(name)
    if value is None:
        return None
    value = str(value).strip()
    if len(value) > limit:
        raise BadInput(f"{name} is {len(value)} characters long; at most {limit} are accepted",
                       details=[{"field": name}])
    return value or None


def _contact(fields: Mapping[str, str]) -> dict:
    contact = {name: _text(fields, name) for name in CONTACT_FIELDS}
    if contact["email"] and not _EMAIL.match(contact["email"]):
        raise BadInput(f"email {contact['email']!r} is not an e-mail address", details=[{"field": "email"}])
    if contact["phone"] and not _PHONE.match(contact["phone"]):
        raise BadInput(f"phone {contact['phone']!r} is not a phone number (digits, spaces, an optional +)",
                       details=[{"field": "phone"}])
    return {k: v for k, v in contact.items() if v}


def _media_url(fields: Mapping[str, str]) -> str | None:
    url = _text(fields, "media_url", 2000)
    if url and not re.match(r"^https?://[^\s/]+\S*$", url):
        raise BadInput(f"media_url must be an http(s) URL, not {url!r}", details=[{"field": "media_url"}])
    return url


def _requested_at(fields: Mapping[str, str], principal: Principal, now: datetime) -> datetime:
    raw = _text(fields, "requested_datetime", 64)
    if raw is None:
        return now
    if principal.role not in BACKDATE_ROLES:
        raise Forbidden(f"requested_datetime may only be sent with an operator key, not a {principal.role} key",
                        details=[{"field": "requested_datetime"}])
    try:
        value = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        value = None
    if value is None or value.tzinfo is None:
        raise BadInput(f"requested_datetime must be ISO 8601 with an offset, e.g. 2026-11-27T22:05:00+01:00, "
                       f"not {raw!r}", details=[{"field": "requested_datetime", "value": raw}])
    age = now - value
    if age < -FUTURE_SLACK:
        raise BadInput(f"requested_datetime {raw} is in the future", details=[{"field": "requested_datetime"}])
    if age > MAX_BACKDATE:
        raise BadInput(f"requested_datetime {raw} is more than {MAX_BACKDATE.days} days ago; "
                       "older calls belong in an import, not in intake", details=[{"field": "requested_datetime"}])
    return value


def _idempotency_key(raw: str | None) -> str | None:
    key = (raw or "").strip() or None
    if key and len(key) > MAX_IDEMPOTENCY_KEY:
        raise BadInput(f"Idempotency-Key is {len(key)} characters long; at most {MAX_IDEMPOTENCY_KEY}",
                       details=[{"field": "Idempotency-Key"}])
    return key


def _earlier(session: Session, key_id: int | None, idem: str | None) -> Report | None:
    return session.scalar(_EARLIER, {"key_id": key_id, "idem": idem})


def _replay(session: Session, report: Report, service_code: str | None, idem: str) -> Receipt:
    if service_code and service_code != report.service_code:
        raise BadInput(f"Idempotency-Key {idem!r} was already used for service_request_id "
                       f"{report.id} ({report.service_code}), not for {service_code!r}",
                       details=[{"field": "Idempotency-Key"}])
    return Receipt(report, service_for(session, report.municipality_id, report.service_code), False)


def create_report(session: Session, principal: Principal, fields: Mapping[str, str],
                  attributes: Mapping[str, str | list[str]], idempotency_key: str | None = None,
                  api_key_id: int | None = None, limits: IntakeLimits = IntakeLimits(),
                  now: datetime | None = None, found: _Found | None = None,
                  family_of: FamilyOf | None = None) -> Receipt:
    """Validate, place, snap and store one report; nothing is written when any field is wrong.

    ``found``: what ``submit_request`` read with the key (None: nothing read yet);
    ``family_of``: as for ``submit_request``.
    """
    now = now or datetime.now(timezone.utc)
    if principal.role not in POST_ROLES:
        raise Forbidden(f"a {principal.role} key may not submit service requests")
    idem = _idempotency_key(idempotency_key)
    if found is None:
        earlier = _earlier(session, api_key_id, idem) if api_key_id is not None and idem else None
    else:
        earlier = session.get(Report, found.earlier_id) if idem and found.earlier_id is not None else None
    if earlier is not None:
        return _replay(session, earlier, fields.get("service_code"), idem)

    slug = _text(fields, "jurisdiction_id", 64)
    # ``_CALL`` looked the municipality up as ``municipality_for`` would (by slug, else the key's
    # own) and took its lock; only a key bound to no town, sent without jurisdiction_id, is left,
    # and a retry whose first report was there for ``_CALL`` (no lock) and has gone since.
    looked_up = found is not None and (slug is not None or principal.municipality_id is not None)
    muni = municipality_for(session, slug, principal.municipality_id, found.municipality if looked_up else NOT_READ)
    if not looked_up or found.earlier_id is not None:
        # From here the call reads the town's layers: a reload of them waits until this call is
        # stored and placed, or this call waits for the reload and is placed on the new layers.
        locks.share_municipality(session, muni.id)
    session.expire(muni, ["layers_loaded_at"])  # read again if needed: it names the cached water graph
    service = service_for(session, muni.id, _text(fields, "service_code", 64))
    answers = service.clean_attributes(attributes)
    description = _text(fields, "description", MAX_DESCRIPTION)
    media_url = _media_url(fields)
    contact = _contact(fields)
    requested = _requested_at(fields, principal, now)
    place, snapped = placing.place(session, muni, fields, limits.boundary_margin_m, service.network, limits.snap)
    snapped = snapped.report_fields()
    if place.street_id:
        snapped["street_id"] = place.street_id

    values = dict(
        municipality_id=muni.id, token=secrets.token_hex(16), service_code=service.code, status="open",
        description=description, agency_responsible=service.agency, service_notice=service.notice,
        requested_datetime=requested, updated_datetime=now, address=place.address,
        address_id=place.address_id, zipcode=place.zipcode, media_url=media_url, attributes=answers,
        geocode_kind=place.kind, geocode_score=place.score, api_key_id=api_key_id,
        idempotency_key=idem if api_key_id else None, **snapped)
    family = family_of(session, muni.id, values) if family_of is not None else None
    report = _store(session, values, place.x, place.y, contact, family)
    if report is None:
        # A concurrent retry with the same Idempotency-Key stored its report first: answer with it.
        winner = _earlier(session, api_key_id, idem)
        if winner is None:  # the insert gave way to a report that is not there: never expected
            raise RuntimeError(f"report with Idempotency-Key {idem!r} conflicted but cannot be read")
        return _replay(session, winner, service.code, idem)
    return Receipt(report, service, True)


# The report and its caller's contact in one statement. A retry racing this one with the same
# Idempotency-Key makes the insert do nothing (PostgreSQL waits for the other to commit): no
# row comes back and the caller answers with the winner's report. Every column is written
# (at its Python-side default unless given), but those the database fills in (the id, a
# server default, a computed column), which come back with the row.
_GENERATED = tuple(c.key for c in Report.__table__.columns
                   if c.primary_key or c.server_default is not None or c.computed is not None)
_REPORT_COLUMNS = tuple(c.key for c in Report.__table__.columns if c.key not in _GENERATED and c.key != "geom")
_CONTACT_COLUMNS = tuple(c.key for c in CallerContact.__table__.columns if c.key != "report_id")
_STORE = Prepared(f"""
    WITH r AS (
        INSERT INTO reports ({", ".join(_REPORT_COLUMNS)}, geom)
        VALUES ({", ".join(":" + c for c in _REPORT_COLUMNS)}, ST_SetSRID(ST_MakePoint(:x, :y), {METRIC_SRID}))
        ON CONFLICT (api_key_id, idempotency_key) DO NOTHING
        RETURNING {", ".join(_GENERATED)}),
    c AS (
        INSERT INTO caller_contacts (report_id, {", ".join(_CONTACT_COLUMNS)})
        SELECT r.id, {", ".join(":contact_" + c for c in _CONTACT_COLUMNS)} FROM r WHERE :with_contact)
    SELECT {", ".join(_GENERATED)},
           (SELECT {locks.family_lock_sql(":municipality_id", ":family")} WHERE CAST(:family AS text) IS NOT NULL)
    FROM r""", bind_types=(bindparam("attributes", type_=JSONB),))


def _defaults(model, columns: tuple[str, ...]) -> dict:
    """``columns`` of ``model`` at their Python-side defaults (None where there is none); a
    callable default (``dict``, a new token) is called each time."""
    fixed, called = _default_kinds(model, columns)
    return fixed | {key: make(None) for key, make in called}


@lru_cache(maxsize=None)
def _default_kinds(model, columns: tuple[str, ...]) -> tuple[dict, tuple]:
    """``_defaults`` sorted out once: fixed values (None where there is no default), and the
    (column, callable) pairs to call for each row."""
    fixed, called = {}, []
    for key in columns:
        default = model.__table__.c[key].default
        if default is not None and not default.is_scalar:
            called.append((key, default.arg))
        else:
            fixed[key] = None if default is None else default.arg
    return fixed, tuple(called)


def _store(session: Session, values: dict, x: float, y: float, contact: dict, family: str | None) -> Report | None:
    """Insert a report (and its contact, when given) and take the lock of its incidents' ``family``
    (when given); the stored report, or None (and no lock) when a report with its api_key and
    Idempotency-Key already exists."""
    values = _defaults(Report, _REPORT_COLUMNS) | values
    params = {f"contact_{c}": v for c, v in (_defaults(CallerContact, _CONTACT_COLUMNS) | contact).items()}
    row = _STORE.execute(session, values | params | {"x": x, "y": y, "with_contact": bool(contact),
                                                     "family": family}).first()
    if row is None:
        return None
    # The row as the session would have loaded it: no second read, no unit-of-work flush.
    # ``contact`` stays unloaded (read if ever asked): the call's own code never needs it.
    return as_loaded(session, Report, {**{c: getattr(row, c) for c in _GENERATED},
                                       "geom": WKTElement(f"POINT({x} {y})", srid=METRIC_SRID), **values})
