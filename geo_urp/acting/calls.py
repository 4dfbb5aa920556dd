"""Taking a call: store the report (``intake``), then put it into its incident (reasoning), in one transaction.

The report and its incident commit together or not at all, so a call is never
stored without its incident, and an idempotent retry (the same report handed
back) is not reasoned about twice.
"""
from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from sqlalchemy.orm import Session

from geo_urp.accounts import Principal
from geo_urp.acting import intake
from geo_urp.reasoning import on_report_stored


def take_call(session: Session, api_key: str | None, fields: Mapping[str, str],
              attributes: Mapping[str, str | list[str]] | None = None, idempotency_key: str | None = None,
              limits: intake.IntakeLimits = intake.IntakeLimits(), now: datetime | None = None) -> intake.Receipt:
    """Create the report of an Open311 POST and place it in its incident."""
    receipt = intake.submit_request(session, api_key, fields, attributes, idempotency_key, limits, now)
    if receipt.created:  # an idempotent retry hands back a report already in its incident
        on_report_stored(session, receipt.report)  # its municipality held by the receipt: no query
    return receipt


def take_call_as(session: Session, principal: Principal, fields: Mapping[str, str],
                 attributes: Mapping[str, str | list[str]] | None = None,
                 limits: intake.IntakeLimits = intake.IntakeLimits()) -> intake.Receipt:
    """``take_call`` for a principal already known (an operator's login session, no api_key)."""
    receipt = intake.create_report(session, principal, fields, attributes or {}, limits=limits)
    on_report_stored(session, receipt.report)
    return receipt
