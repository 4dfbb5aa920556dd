"""A fix that did not hold (``reasoning/reopening.py``): a call on the asset of an incident resolved
within 48 hours reopens it; later, or on another asset, or without an asset, a new incident starts."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from geo_urp.accounts import Principal
from geo_urp.acting import work_orders
from geo_urp.models import CallerContact, IncidentEvent, OutboxMessage, Report
from tests.reasoning.conftest import T0, incident_of

OPERATOR = Principal("operator", None, None, "user:anna")


def _resolve(session, inc, hours_after: float):
    """Send the rules' crew, set it at work, and resolve ``hours_after`` T0."""
    _work(session, inc, T0 + timedelta(hours=hours_after), "Lampada sostituita.")


def _work(session, inc, at, note):
    work_orders.move(session, inc.id, "assigned", OPERATOR, now=at - timedelta(minutes=30))
    work_orders.move(session, inc.id, "in_progress", OPERATOR, now=at - timedelta(minutes=20))
    work_orders.move(session, inc.id, "resolved", OPERATOR, note=note, now=at)


@pytest.mark.parametrize("hours_later, reopened", [(1, True), (47.5, True), (49, False)])
def test_a_call_on_a_lamp_fixed_within_48_hours_reopens_its_incident(session, borgo, call, hours_later, reopened):
    first, lamp = call("streetlight_out", 0, lamp="L05")
    _resolve(session, lamp, 2)
    again, inc = call("streetlight_out", 120 + 60 * hours_later, lamp="L05")
    assert (inc.id == lamp.id) is reopened
    assert inc.status == "open" and inc.resolved_at is None
    assert session.get(Report, first.id).status == "closed"      # its caller has heard back already
    assert incident_of(session, again).id == inc.id
    if reopened:
        line = session.scalars(select(IncidentEvent.detail).where(
            IncidentEvent.incident_id == lamp.id, IncidentEvent.action == "reopened")).one()
        assert (line["report_id"], line["was"]) == (str(again.id), "resolved")


def test_a_call_on_another_circuits_lamp_starts_afresh(session, borgo, call):
    _, lamp = call("streetlight_out", 0, lamp="L05")
    _resolve(session, lamp, 2)
    _, other = call("streetlight_out", 180, lamp="L01")
    assert other.id != lamp.id and session.get(type(lamp), lamp.id).status == "resolved"


def test_a_lamp_of_a_fixed_circuit_reopens_the_circuit(session, borgo, call):
    for n, name in enumerate(("L01", "L02", "L03")):
        _, circuit = call("streetlight_out", n, lamp=name)
    assert (circuit.kind, circuit.asset_ids) == ("lighting_circuit", ["C1"])
    _resolve(session, circuit, 3)
    _, again = call("streetlight_out", 60 * 5, lamp="L04")
    assert again.id == circuit.id and again.status == "open"


def test_a_burst_main_leaking_again_reopens_the_burst(session, borgo, call):
    _, burst = call("water_leak", 0, pipe="P4")
    _resolve(session, burst, 4)
    _, again = call("water_leak", 60 * 6, pipe="P4")
    assert again.id == burst.id and again.kind == "water_main_burst"


def test_flooding_names_no_asset_and_starts_afresh(session, borgo, call):
    _, flood = call("flooding", 0, at=(700, 300))
    _resolve(session, flood, 1)
    _, again = call("flooding", 90, at=(700, 300))
    assert again.id != flood.id


def test_a_reopened_incident_resolved_again_messages_only_its_new_callers(session, borgo, call):
    first, lamp = call("streetlight_out", 0, lamp="L05")
    session.add(CallerContact(municipality_id=first.municipality_id, report_id=first.id, email="primo@example.it"))
    session.flush()
    _resolve(session, lamp, 2)
    second, again = call("streetlight_out", 60 * 3, lamp="L05")
    session.add(CallerContact(municipality_id=second.municipality_id, report_id=second.id, email="secondo@example.it"))
    session.flush()
    _work(session, again, T0 + timedelta(hours=5), "Cavo riparato.")
    sent = session.execute(select(OutboxMessage.to, OutboxMessage.text).order_by(OutboxMessage.id)).all()
    assert [to for to, _ in sent] == ["primo@example.it", "secondo@example.it"]
    assert "Lampada sostituita." in sent[0].text and "Cavo riparato." in sent[1].text
