"""Send a planned night through a running service's Open311 API, as the contact centre would.

Each call becomes one ``POST {url}/open311/v2/requests.json`` with the call's
planned time as ``requested_datetime`` (an operator key may set it, SPEC §4),
so the stream keeps its true time whatever the replay speed. Every call carries
its own ``Idempotency-Key``: a POST that timed out or hit a dropped connection
is sent again with the same key, and the service answers with the report it
already made instead of making a second one.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable

import requests

from geo_urp.errors import BadInput
from geo_urp.simulate.night import Night, PlannedCall

RETRIES = 3
TIMEOUT_S = 15.0
BACKOFF_S = 0.5


@dataclass
class ReplayResult:
    """What the service answered: call index -> service_request_id, and the calls that failed."""

    ids: dict[int, str] = field(default_factory=dict)
    errors: dict[int, str] = field(default_factory=dict)
    retried: int = 0
    elapsed_s: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.errors


def request_form(call: PlannedCall, key: str, jurisdiction_id: str | None = None) -> dict[str, str]:
    """The Open311 POST fields of one call: by address when the caller gave one, else by coordinates."""
    form = {"api_key": key, "service_code": call.service_code, "description": call.description,
            "requested_datetime": call.at.isoformat(timespec="seconds"),
            "first_name": call.first_name, "last_name": call.last_name}
    if jurisdiction_id:
        form["jurisdiction_id"] = jurisdiction_id
    if call.address_string:
        form["address_string"] = call.address_string
    else:
        form["lat"], form["long"] = f"{call.lat:.7f}", f"{call.lon:.7f}"
    for name in ("phone", "email"):
        if getattr(call, name):
            form[name] = getattr(call, name)
    return form


def _error_text(response: requests.Response) -> str:
    try:
        body = response.json()
        if isinstance(body, list) and body and isinstance(body[0], dict):
            return f"{response.status_code}: {body[0].get('description') or body[0]}"
    except ValueError:
        pass
    return f"{response.status_code}: {response.text[:200]}"


def _post(http: requests.Session, endpoint: str, call: PlannedCall, form: dict, timeout: float,
          result: ReplayResult, index: int) -> None:
    """POST one call, again with the same key after a timeout, a dropped connection or a 5xx."""
    problem = ""
    for attempt in range(RETRIES + 1):
        if attempt:
            result.retried += 1
            time.sleep(BACKOFF_S * 2 ** (attempt - 1))
        try:
            response = http.post(endpoint, data=form, timeout=timeout,
                                 headers={"Idempotency-Key": call.idempotency_key, "Accept": "application/json"})
        except (requests.Timeout, requests.ConnectionError) as exc:
            problem = f"no answer: {exc.__class__.__name__}"
            continue
        if response.status_code >= 500:
            problem = _error_text(response)
            continue
        if response.status_code >= 400:
            result.errors[index] = _error_text(response)
            return
        try:
            body = response.json()
            result.ids[index] = str(body[0].get("service_request_id") or body[0]["token"])
        except (ValueError, LookupError, TypeError, AttributeError):
            result.errors[index] = f"{response.status_code}: unexpected answer {response.text[:200]}"
        return
    result.errors[index] = f"gave up after {RETRIES + 1} tries: {problem}"


def replay(night: Night, url: str, key: str, jurisdiction_id: str | None = None, speed: float | None = None,
           timeout: float = TIMEOUT_S, http: requests.Session | None = None,
           progress: Callable[[int, PlannedCall, ReplayResult], None] | None = None) -> ReplayResult:
    """POST every call of ``night`` to ``url``; ``speed`` 60 plays an hour a minute, None as fast as possible."""
    if speed is not None and speed <= 0:
        raise BadInput(f"speed must be positive (60 = sixty times real time), got {speed}")
    endpoint = url.rstrip("/") + "/open311/v2/requests.json"
    http = http or requests.Session()
    result = ReplayResult()
    began = time.monotonic()
    first = night.calls[0].at if night.calls else None
    for index, call in enumerate(night.calls):
        if speed is not None:
            due = (call.at - first).total_seconds() / speed
            wait = due - (time.monotonic() - began)
            if wait > 0:
                time.sleep(wait)
        _post(http, endpoint, call, request_form(call, key, jurisdiction_id), timeout, result, index)
        if progress:
            progress(index, call, result)
    result.elapsed_s = time.monotonic() - began
    return result
