"""The municipality in every key of a call's rows (migration 0015): a row only points within its town."""
from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from geo_urp.db import engine_for, session_scope
from geo_urp.models import ApiKey, Incident, IncidentReport, Municipality, OutboxMessage, Report, ReportRetry
from tests.conftest import report_row


def _incident(mid: int, **fields) -> Incident:
    return Incident(municipality_id=mid, kind="noise", status="open", priority=3, confidence=0.5, explanation="",
                    asset_ids=[], valves_to_close=[], affected_segment_nos=[], geom="SRID=32632;POINT(660500 5118500)",
                    **fields)


@pytest.fixture()
def two_towns(fresh_db_url) -> dict[str, dict[str, int]]:
    """Two towns, each with a report in an incident: slug -> {"town", "report", "incident"} ids."""
    with session_scope(fresh_db_url) as session:
        out = {}
        for slug in ("alta", "bassa"):
            town = Municipality(slug=slug, name=slug.title())
            session.add(town)
            session.flush()
            report, incident = report_row(town.id), _incident(town.id)
            session.add_all([report, incident])
            session.flush()
            session.add(IncidentReport(municipality_id=town.id, report_id=report.id, incident_id=incident.id))
            out[slug] = {"town": town.id, "report": report.id, "incident": incident.id}
        return out


def test_a_report_cannot_join_another_towns_incident(fresh_db_url, two_towns):
    alta, bassa = two_towns["alta"], two_towns["bassa"]
    with pytest.raises(IntegrityError, match="fk_incident_reports_municipality_id_incidents"):
        with engine_for(fresh_db_url).begin() as conn:
            conn.execute(text("UPDATE incident_reports SET incident_id = :other WHERE report_id = :r"),
                         {"other": bassa["incident"], "r": alta["report"]})
    with engine_for(fresh_db_url).connect() as conn:  # nothing changed
        assert conn.execute(text("SELECT incident_id FROM incident_reports WHERE report_id = :r"),
                            {"r": alta["report"]}).scalar() == alta["incident"]


def test_a_closing_message_cannot_name_another_towns_report(fresh_db_url, two_towns):
    alta, bassa = two_towns["alta"], two_towns["bassa"]
    with pytest.raises(IntegrityError, match="fk_outbox_municipality_id_reports"):
        with session_scope(fresh_db_url) as session:
            session.add(OutboxMessage(municipality_id=alta["town"], report_id=bassa["report"], channel="email",
                                      to="x@example.org", language="it", subject="", text=""))


def test_deleting_an_incident_empties_the_references_to_it_and_keeps_their_town(fresh_db_url, two_towns):
    alta = two_towns["alta"]
    with session_scope(fresh_db_url) as session:
        absorbed = _incident(alta["town"], absorbed_into_id=alta["incident"])
        session.add(absorbed)
        session.add(OutboxMessage(municipality_id=alta["town"], report_id=alta["report"],
                                  incident_id=alta["incident"], channel="email", to="x@example.org", language="it",
                                  subject="", text=""))
        session.flush()
        absorbed_id = absorbed.id
    with engine_for(fresh_db_url).begin() as conn:
        conn.execute(text("DELETE FROM incidents WHERE id = :i"), {"i": alta["incident"]})
    with session_scope(fresh_db_url) as session:
        kept = session.get(Incident, absorbed_id)
        assert (kept.municipality_id, kept.absorbed_into_id) == (alta["town"], None)
        message = session.query(OutboxMessage).one()
        assert (message.municipality_id, message.incident_id) == (alta["town"], None)
        # the report stays; only its link to the incident went with it
        assert session.get(Report, alta["report"]) is not None
        assert session.get(IncidentReport, alta["report"]) is None


def test_a_retried_call_has_one_report_within_its_town(fresh_db_url, two_towns):
    alta, bassa = two_towns["alta"], two_towns["bassa"]
    with session_scope(fresh_db_url) as session:
        key = ApiKey(prefix="k", key_hash="h" * 64, role="public", label="every town")
        session.add(key)
        session.flush()
        key_id = key.id
        session.add(ReportRetry(api_key_id=key_id, idempotency_key="call-1", municipality_id=alta["town"],
                                report_id=alta["report"]))
        # a key serving every town may use one Idempotency-Key in another town
        session.add(ReportRetry(api_key_id=key_id, idempotency_key="call-1", municipality_id=bassa["town"],
                                report_id=bassa["report"]))
    with pytest.raises(IntegrityError, match="pk_report_retries"):
        with session_scope(fresh_db_url) as session:
            other = report_row(alta["town"])
            session.add(other)
            session.flush()
            session.add(ReportRetry(api_key_id=key_id, idempotency_key="call-1", municipality_id=alta["town"],
                                    report_id=other.id))
    with pytest.raises(IntegrityError, match="fk_report_retries_municipality_id_reports"):
        with session_scope(fresh_db_url) as session:  # nor point to another town's report
            session.add(ReportRetry(api_key_id=key_id, idempotency_key="call-2", municipality_id=alta["town"],
                                    report_id=bassa["report"]))
