"""Street-light roll-up on the Borgo fixture: C1 = L01-L04 and C2 = L05-L07 on Q1, C3 = L08-L10 on Q2."""
from __future__ import annotations

from geo_urp.models import Municipality
from geo_urp.reasoning.rules import DEFAULTS
from tests.reasoning.conftest import incident_of, open_incidents, report_ids


def test_the_circuit_incident_exists_by_the_third_call(session, borgo, call):
    # Only the 3-lamp rule here: the share rule would already fire at 2 of C1's 4 lamps.
    session.get(Municipality, borgo).rules = {"lighting": {"circuit_min_share": 0.9}}
    r1, i1 = call("streetlight_out", 0, lamp="L01")
    r2, i2 = call("streetlight_out", 20, lamp="L02")
    assert (i1.kind, i1.asset_ids) == ("lamp", ["L01"]) and (i2.kind, i2.asset_ids) == ("lamp", ["L02"])
    r3, i3 = call("streetlight_out", 45, lamp="L04")
    assert (i3.kind, i3.asset_ids) == ("lighting_circuit", ["C1"])
    assert report_ids(session, i3) == {r1.id, r2.id, r3.id}
    assert [i.id for i in open_incidents(session, borgo)] == [i3.id]
    assert "circuit C1 of cabinet Q1" in i3.explanation and "3 calls" in i3.explanation
    assert i3.crew_id == "LUCI-O" and i3.area_id == "A1"
    # A later call on the dark circuit joins it, even on a lamp already reported.
    r4, i4 = call("streetlight_out", 300, lamp="L01")
    assert i4.id == i3.id and len(report_ids(session, i3)) == 4


def test_a_share_of_a_small_circuit_is_enough(session, borgo, call):
    call("streetlight_out", 0, lamp="L01")
    _, inc = call("streetlight_out", 5, lamp="L02")  # 2 of 4 lamps: 50% >= 30%
    assert (inc.kind, inc.asset_ids) == ("lighting_circuit", ["C1"])


def test_one_lamp_is_never_a_share(session, borgo, call):
    session.get(Municipality, borgo).rules = {"lighting": {"circuit_min_share": 0.2}}
    _, inc = call("streetlight_out", 0, lamp="L08")  # 1 of 3 lamps is 33%, but one lamp is one lamp
    assert inc.kind == "lamp"


def test_one_lamp_called_twice_stays_a_lamp(session, borgo, call):
    call("streetlight_out", 0, lamp="L01")
    call("streetlight_out", 10, lamp="L01")
    _, inc = call("streetlight_out", 20, lamp="L01")
    assert (inc.kind, inc.asset_ids) == ("lamp", ["L01"]) and len(report_ids(session, inc)) == 3


def test_single_lamps_on_two_circuits_of_one_cabinet_are_two_lamp_incidents(session, borgo, call):
    _, a = call("streetlight_out", 0, lamp="L01")
    _, b = call("streetlight_out", 10, lamp="L05")
    assert a.id != b.id and {a.kind, b.kind} == {"lamp"}
    assert len(open_incidents(session, borgo)) == 2


def test_two_failed_circuits_make_a_cabinet_incident(session, borgo, call):
    reports = [call("streetlight_out", m, lamp=lamp)[0]
               for m, lamp in ((0, "L01"), (5, "L02"), (10, "L03"), (15, "L05"), (20, "L06"))]
    incidents = open_incidents(session, borgo)
    assert len(incidents) == 1
    cab = incidents[0]
    assert (cab.kind, cab.asset_ids) == ("lighting_cabinet", ["Q1"])
    assert report_ids(session, cab) == {r.id for r in reports}
    assert "2 circuits (C1, C2) of cabinet Q1" in cab.explanation
    # Later calls on any circuit of the dark cabinet join it.
    r, inc = call("streetlight_out", 90, lamp="L07")
    assert inc.id == cab.id and incident_of(session, r).id == cab.id


def test_calls_outside_the_window_do_not_add_up(session, borgo, call):
    hours = DEFAULTS["lighting"]["window_h"]
    call("streetlight_out", 0, lamp="L01")
    _, inc = call("streetlight_out", (hours + 1) * 60, lamp="L02")
    assert inc.kind == "lamp"
    _, inc = call("streetlight_out", (hours + 1) * 60 + 5, lamp="L03")
    assert (inc.kind, inc.asset_ids) == ("lighting_circuit", ["C1"])


def test_a_street_light_call_far_from_any_lamp_still_gets_an_incident(session, borgo, call):
    _, inc = call("streetlight_out", 0, at=(900, 900))
    assert inc.kind == "lamp" and inc.asset_ids == []


def test_a_cabinet_takes_in_earlier_single_lamps_of_its_other_circuits(session, borgo, call):
    session.get(Municipality, borgo).rules = {"lighting": {"circuit_min_share": 0.9}}
    early, _ = call("streetlight_out", 0, lamp="L05")             # C2, alone for now
    for m, lamp in ((5, "L01"), (10, "L02"), (15, "L03")):        # C1 fails
        call("streetlight_out", m, lamp=lamp)
    session.get(Municipality, borgo).rules = {}
    _, cab = call("streetlight_out", 20, lamp="L06")              # C2 fails (2 of 3): cabinet Q1
    assert (cab.kind, cab.asset_ids) == ("lighting_cabinet", ["Q1"])
    assert incident_of(session, early).id == cab.id
    assert [i.id for i in open_incidents(session, borgo)] == [cab.id]
