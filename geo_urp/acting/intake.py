"""Call intake: turn one Open311 submission into a stored, placed and snapped ``Report``.

``submit_request`` checks the api_key, then ``create_report`` validates every
field (which field, which value, what was expected), resolves the municipality,
sets when the report is due (``service_levels``: Open311 ``expected_datetime``),
places the report (lat/long, ``address_id`` or ``address_string`` through the
geocoder), snaps it to its street and to the lamp or water main its service
concerns, and stores the report and, apart, the caller's contact data. Putting the
report into its incident, in the same transaction, is ``acting.calls.take_call``'s job.
An information request an operator logs was answered during the call: it is
stored closed, with the answer as its status notes; given no place, it is stored without one.

Retries are safe: a submission carrying an ``Idempotency-Key`` that its api_key
already used returns the first report, when it is the same call (service, description
and caller alike); another call under a used key is refused (422), never answered with
the first one's report, so it is not lost unnoticed. The key of ``report_retries``,
``(api_key_id, idempotency_key, municipality_id)``, decides races: the loser's retry row is
refused as a duplicate (only its savepoint, with its report, is undone) and the winner's report
is returned instead.
"""
from __future__ import annotations

import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from geoalchemy2 import WKTElement
from sqlalchemy import bindparam, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

from geo_urp import locks
from geo_urp.acting import service_levels
from geo_urp.accounts import Principal, hash_key
from geo_urp.catalog import Service, service_for
from geo_urp.errors import BadInput, Forbidden, Unprocessable
from geo_urp.language import N_
from geo_urp.locating import placing
from geo_urp.locating.snapping import SnapLimits
from geo_urp.models import METRIC_SRID, ApiKey, CallerContact, Municipality, Report, ReportRetry
from geo_urp.municipalities import municipality_for
from geo_urp.timestamps import aware

POST_ROLES = ("operator", "public", "admin")          # council reads, crews work their list
BACKDATE_ROLES = ("operator", "admin")               # may send requested_datetime (SPEC §4)
CONTACT_FIELDS = ("first_name", "last_name", "email", "phone", "device_id", "account_id")
MAX_FIELD = 200
MAX_DESCRIPTION = 4000
MAX_IDEMPOTENCY_KEY = 200
LANGUAGES = ("it", "en")
INFO_REQUEST = "info_request"
ANSWERED_ON_THE_PHONE = N_("Risposta data dall'operatore durante la telefonata.")
FUTURE_SLACK = timedelta(minutes=5)
MAX_BACKDATE = timedelta(days=366)    # a call logged late or a replayed stream; older is a typing error
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
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
    """The stored report, its service and municipality, and whether this call created it (False: an
    idempotent retry)."""

    report: Report
    service: Service
    created: bool
    municipality: Municipality | None = None  # held: the rest of the call reads it without a query

    def as_open311(self) -> dict:
        """The GeoReport v2 answer to a POST: the id, the notice for the caller, and the token."""
        return {"service_request_id": self.report.service_request_id, "token": self.report.token,
                "service_notice": self.report.service_notice}


def submit_request(session: Session, api_key: str | None, fields: Mapping[str, str],
                   attributes: Mapping[str, str | list[str]] | None = None, idempotency_key: str | None = None,
                   limits: IntakeLimits = IntakeLimits(), now: datetime | None = None) -> Receipt:
    """Create a report from an Open311 POST authenticated by ``api_key``."""
    if not api_key:
        raise Forbidden(N_("api_key non è stato fornito"), details=[{"field": "api_key"}])
    idem = _idempotency_key(idempotency_key)  # refused before it is looked for
    found = session.execute(_KEY_AND_EARLIER, {"key_hash": hash_key(api_key), "idem": idem,
                                               "jurisdiction": str(fields.get("jurisdiction_id") or "").strip()}).first()
    if found is None:
        raise Forbidden(N_("api_key non è valido o è stato revocato"), details=[{"field": "api_key"}])
    key, town, earlier = found  # ``town`` held: the session keeps only the objects someone holds
    principal = Principal(key.role, key.municipality_id, key.crew_id, f"key:{key.prefix}")
    return create_report(session, principal, fields, attributes or {}, idem, key.id, limits, now,
                         earlier=earlier)


# A valid, unrevoked api_key (by its hash, ``accounts.hash_key``), the municipality it is bound to
# (None: every one) and the report an earlier try with the same Idempotency-Key stored in the
# call's town (None: no such try, or no key): what every POST asks first, in one query. The call's
# town is the key's, or, for a key serving every town, the one its ``jurisdiction_id`` names, else
# the only town served, as ``municipalities.municipality_for`` reads it (a key serving every town
# may use one Idempotency-Key in two towns: two calls). The key's town comes along so that naming
# it costs no query of its own.
_NAMED, _ANY = aliased(Municipality), aliased(Municipality)
_NAMED_TOWN = select(_NAMED.id).where(_NAMED.slug == bindparam("jurisdiction")).scalar_subquery()
_ONLY_TOWN = select(func.min(_ANY.id)).having(func.count() == 1).scalar_subquery()
_KEY_AND_EARLIER = (
    select(ApiKey, Municipality, Report)
    .outerjoin(Municipality, Municipality.id == ApiKey.municipality_id)
    .outerjoin(ReportRetry, (ReportRetry.api_key_id == ApiKey.id) & (ReportRetry.idempotency_key == bindparam("idem"))
               & (ReportRetry.municipality_id == func.coalesce(ApiKey.municipality_id, _NAMED_TOWN, _ONLY_TOWN)))
    .outerjoin(Report, (Report.id == ReportRetry.report_id) & (Report.municipality_id == ReportRetry.municipality_id))
    .where(ApiKey.key_hash == bindparam("key_hash"), ApiKey.revoked_at.is_(None)))


def _text(fields: Mapping[str, str], name: str, limit: int = MAX_FIELD) -> str | None:
    value = fields.get(name)
    if value is None:
        return None
    value = str(value).strip()
    if len(value) > limit:
        raise BadInput(N_("%(field)s è lungo %(length)s caratteri; se ne accettano al massimo %(limit)s"),
                       field=name, length=len(value), limit=limit, details=[{"field": name}])
    return value or None


def _contact(fields: Mapping[str, str]) -> dict:
    contact = {name: _text(fields, name) for name in CONTACT_FIELDS}
    if contact["email"] and not _EMAIL.match(contact["email"]):
        raise BadInput(N_("email %(value)s non è un indirizzo e-mail"), value=repr(contact["email"]),
                       details=[{"field": "email"}])
    if contact["phone"] and not _PHONE.match(contact["phone"]):
        raise BadInput(N_("phone %(value)s non è un numero di telefono (cifre, spazi, un + facoltativo)"),
                       value=repr(contact["phone"]), details=[{"field": "phone"}])
    return {k: v for k, v in contact.items() if v}


def _media_url(fields: Mapping[str, str]) -> str | None:
    url = _text(fields, "media_url", 2000)
    if url and not re.match(r"^https?://[^\s/]+\S*$", url):
        raise BadInput(N_("media_url deve essere un URL http(s), non %(value)s"), value=repr(url),
                       details=[{"field": "media_url"}])
    return url


def _requested_at(fields: Mapping[str, str], principal: Principal, now: datetime) -> datetime:
    raw = _text(fields, "requested_datetime", 64)
    if raw is None:
        return now
    if principal.role not in BACKDATE_ROLES:
        raise Forbidden(N_("requested_datetime si può inviare solo con una chiave operator, non con una "
                           "chiave %(role)s"), role=principal.role, details=[{"field": "requested_datetime"}])
    value = aware(raw)  # at its own offset until it is known to be near now, then in UTC
    if value is None:
        raise BadInput(N_("requested_datetime deve essere ISO 8601 con lo scarto dall'UTC, per esempio "
                          "2026-11-27T22:05:00+01:00, non %(value)s"), value=repr(raw),
                       details=[{"field": "requested_datetime", "value": raw}])
    age = now - value
    if age < -FUTURE_SLACK:
        raise BadInput(N_("requested_datetime %(value)s è nel futuro"), value=raw,
                       details=[{"field": "requested_datetime"}])
    if age > MAX_BACKDATE:
        raise BadInput(N_("requested_datetime %(value)s è di più di %(days)s giorni fa; le chiamate più vecchie "
                          "vanno importate, non registrate qui"), value=raw, days=MAX_BACKDATE.days,
                       details=[{"field": "requested_datetime"}])
    return value.astimezone(timezone.utc)


def _language(fields: Mapping[str, str]) -> str:
    """The language of the caller's closing message: ``language`` (or ``locale``) it or en, e.g.
    ``en-GB``; Italian when not given."""
    raw = _text(fields, "language", 16) or _text(fields, "locale", 16)
    if raw is None:
        return "it"
    code = raw.replace("_", "-").split("-")[0].lower()
    if code not in LANGUAGES:
        name = "language" if fields.get("language") else "locale"
        raise BadInput(N_("%(field)s deve essere uno tra %(languages)s (le lingue dei messaggi di chiusura), "
                          "non %(value)s"), field=name, languages=", ".join(LANGUAGES), value=repr(raw),
                       details=[{"field": name, "value": raw}])
    return code


def _answered_now(service: Service, answers: dict, principal: Principal) -> tuple[str, str | None]:
    """An information request an operator logs is answered during the call: stored closed, with the
    answer given (``attribute[answer]``) as its status notes. Anything else starts open."""
    if service.code != INFO_REQUEST or principal.role not in BACKDATE_ROLES:
        return "open", None
    return "closed", answers.get("answer") or ANSWERED_ON_THE_PHONE


def _idempotency_key(raw: str | None) -> str | None:
    key = (raw or "").strip() or None
    if key and len(key) > MAX_IDEMPOTENCY_KEY:
        raise BadInput(N_("Idempotency-Key è lunga %(length)s caratteri; al massimo %(limit)s"), length=len(key),
                       limit=MAX_IDEMPOTENCY_KEY, details=[{"field": "Idempotency-Key"}])
    if key and _CONTROL.search(key):
        raise BadInput(N_("Idempotency-Key contiene un carattere di controllo"), details=[{"field": "Idempotency-Key"}])
    return key


def _earlier(session: Session, retry: ReportRetry) -> Report | None:
    """The report an earlier try with the same api_key, Idempotency-Key and town stored, if any."""
    return session.scalar(select(Report).join(Report.retry).where(
        ReportRetry.api_key_id == retry.api_key_id, ReportRetry.idempotency_key == retry.idempotency_key,
        ReportRetry.municipality_id == retry.municipality_id))


# What a retry must repeat for it to be the same call: the service, what the caller said and who
# they are. Anything else differing (a place typed again, say) is the same call retried.
_SAME_CALL = ("service_code", "description") + CONTACT_FIELDS


def _said(fields: Mapping[str, str], name: str) -> str | None:
    try:
        return _text(fields, name, MAX_DESCRIPTION)
    except BadInput:
        return fields.get(name)


def _replay(session: Session, report: Report, fields: Mapping[str, str], idem: str) -> Receipt:
    """The answer to a retry of the call that stored ``report``; a 422 when ``fields`` are another call's."""
    stored = {"service_code": report.service_code, "description": report.description}
    contact = report.contact
    stored.update({name: getattr(contact, name, None) if contact is not None else None for name in CONTACT_FIELDS})
    differ = [name for name in _SAME_CALL if _said(fields, name) != stored[name]]
    if differ:
        raise Unprocessable(N_("Idempotency-Key %(key)s è già stata usata per service_request_id %(id)s, una "
                               "chiamata diversa in %(differ)s: una nuova chiamata vuole una nuova chiave"),
                            key=repr(idem), id=report.id, differ=", ".join(differ),
                            details=[{"field": "Idempotency-Key", "differs": differ}])
    return Receipt(report, service_for(session, report.municipality_id, report.service_code), False)


def create_report(session: Session, principal: Principal, fields: Mapping[str, str],
                  attributes: Mapping[str, str | list[str]], idempotency_key: str | None = None,
                  api_key_id: int | None = None, limits: IntakeLimits = IntakeLimits(),
                  now: datetime | None = None, earlier: Report | None = None) -> Receipt:
    """Validate, place, snap and store one report; nothing is written when any field is wrong.

    ``earlier``: the report an earlier try with this api_key and Idempotency-Key stored, as the
    caller found it (``submit_request`` reads it with the key); when it is not handed in, the
    key of ``report_retries`` still finds it, after the call has been placed.
    """
    now = now or datetime.now(timezone.utc)
    if principal.role not in POST_ROLES:
        raise Forbidden(N_("una chiave %(role)s non può inviare segnalazioni"), role=principal.role)
    idem = _idempotency_key(idempotency_key)
    # A retry is refused as its first try would be when it names a town its key is not for.
    muni = municipality_for(session, _text(fields, "jurisdiction_id", 64), principal.municipality_id)
    if earlier is not None:
        return _replay(session, earlier, fields, idem)

    # From here the call reads the town's layers: a reload of them waits until this call is
    # stored and placed, or this call waits for the reload and is placed on the new layers.
    locks.share_municipality(session, muni.id)
    session.refresh(muni, ["layers_loaded_at"])  # read under the lock: it names the layers placed on
    service = service_for(session, muni.id, _text(fields, "service_code", 64))
    answers = service.clean_attributes(attributes)
    description = _text(fields, "description", MAX_DESCRIPTION)
    media_url = _media_url(fields)
    contact = _contact(fields)
    requested = _requested_at(fields, principal, now)
    language = _language(fields)
    where = _placed(session, muni, service, fields, limits)
    status, notes = _answered_now(service, answers, principal)

    values = dict(
        municipality_id=muni.id, token=secrets.token_hex(16), service_code=service.code, status=status,
        status_notes=notes, language=language,
        expected_datetime=service_levels.expected_at(muni.service_settings, service.code, requested),
        description=description, agency_responsible=service.agency, service_notice=service.notice,
        requested_datetime=requested, updated_datetime=now, media_url=media_url, attributes=answers,
        api_key_id=api_key_id, **where)
    retry = (ReportRetry(api_key_id=api_key_id, idempotency_key=idem, municipality_id=muni.id)
             if api_key_id and idem else None)
    report = _store(session, values, contact, retry)
    if report is None:
        # A concurrent retry with the same Idempotency-Key stored its report first: answer with it.
        winner = _earlier(session, retry)
        if winner is None:  # the insert gave way to a report that is not there: never expected
            raise RuntimeError(f"report with Idempotency-Key {idem!r} conflicted but cannot be read")
        return _replay(session, winner, fields, idem)
    return Receipt(report, service, True, muni)


# The key of report_retries, (api_key_id, idempotency_key, municipality_id): one report, however
# often a call is retried (a retry names the same town).
_ONE_REPORT_PER_RETRY = "pk_report_retries"


def _placed(session: Session, muni: Municipality, service: Service, fields: Mapping[str, str],
            limits: IntakeLimits) -> dict:
    """The report's columns of where it is: its point, label, how it was found and what it snapped
    to. An information request given no place has none (it is about no place: migration 0013);
    any other call without one is refused, naming the location fields."""
    if service.code == INFO_REQUEST and not placing.has_location(fields):
        return {"geom": None}
    place, snap = placing.place(session, muni, fields, limits.boundary_margin_m, service.network, limits.snap)
    where = dict(geom=WKTElement(f"POINT({place.x} {place.y})", srid=METRIC_SRID), address=place.address,
                 address_id=place.address_id, zipcode=place.zipcode, geocode_kind=place.kind,
                 geocode_score=place.score, **snap.report_fields())
    if place.street_id:
        where["street_id"] = place.street_id
    return where


def _store(session: Session, values: dict, contact: dict, retry: ReportRetry | None) -> Report | None:
    """Insert a report (and its caller's contact, when given, and its ``retry`` row, when the call
    has an Idempotency-Key); the stored report, or None when a report with its api_key,
    Idempotency-Key and town already exists: a concurrent retry stored it first (PostgreSQL makes
    this retry row's insert wait for that one to commit, then refuses it as a duplicate of
    ``report_retries``' key; only this savepoint, with the report, is undone). A report without an
    Idempotency-Key cannot be such a duplicate, so it is inserted without the savepoint."""
    report = Report(**values, contact=CallerContact(**contact) if contact else None, retry=retry)
    if retry is None:
        session.add(report)
        session.flush()  # the insert's errors here, as with the savepoint
        return report
    try:
        with session.begin_nested():
            session.add(report)
    except IntegrityError as refused:
        if getattr(getattr(refused.orig, "diag", None), "constraint_name", None) != _ONE_REPORT_PER_RETRY:
            raise
        return None
    return report
