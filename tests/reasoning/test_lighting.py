"""Street-light roll-up (``reasoning/lighting.py``) on the Borgo fixture: C1 = L01-L04 and
C2 = L05-L07 on Q1, C3 = L08-L10 on Q2. Calls near no lamp are clusters: test_clusters.py."""
from __future__ import annotations

import json

from sqlalchemy import text

from geo_urp.models import Municipality
from geo_urp.reasoning.rules import DEFAULTS
from tests.reasoning.borgo_variants import borgo_with_c5
from tests.reasoning.conftest import each_report_linked_once, incident_of, open_incidents, report_ids
from tests.explained import in_english

HOURS = DEFAULTS["lighting"]["window_h"]


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
    assert "circuito C1 del quadro Q1" in i3.explanation and "3 chiamate" in i3.explanation
    assert "circuit C1 of cabinet Q1" in in_english(i3) and "3 calls" in in_english(i3)
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
    assert "2 circuiti (C1, C2) del quadro Q1 si sono spenti insieme" in cab.explanation
    assert "2 circuits (C1, C2) of cabinet Q1 went dark together" in in_english(cab)
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


def test_a_circuit_that_took_in_an_old_lamp_still_counts_for_its_cabinet(session, borgo, call):
    call("streetlight_out", 0, lamp="L01")                          # C1's first lamp
    _, c1 = call("streetlight_out", (HOURS - 1) * 60, lamp="L02")   # 2 of 4 in the window: circuit C1
    assert c1.kind == "lighting_circuit" and c1.opened_at.hour == 22  # opened with its first call
    call("streetlight_out", (HOURS + 1) * 60, lamp="L05")
    _, cab = call("streetlight_out", (HOURS + 1) * 60 + 5, lamp="L06")  # C2 fails while C1 is still dark
    assert (cab.kind, cab.asset_ids) == ("lighting_cabinet", ["Q1"])
    assert [i.id for i in open_incidents(session, borgo)] == [cab.id]
    assert len(report_ids(session, cab)) == 4


def test_a_circuit_does_not_take_in_a_lamp_reported_before_its_window(session, borgo, call):
    old, _ = call("streetlight_out", 0, lamp="L01")
    call("streetlight_out", (HOURS + 8) * 60, lamp="L02")
    r3, circuit = call("streetlight_out", (HOURS + 8) * 60 + 5, lamp="L03")
    assert (circuit.kind, circuit.asset_ids) == ("lighting_circuit", ["C1"])
    assert incident_of(session, old).kind == "lamp" and old.id not in report_ids(session, circuit)
    assert each_report_linked_once(session, borgo)


def test_a_dark_cabinet_takes_every_open_circuit_it_feeds(session, borgo, call, tmp_path):
    mid = borgo_with_c5(session, tmp_path / "b3")
    for n, lamp in enumerate(("L50", "L51", "L52")):           # C5 dark, a day before
        _, c5 = call("streetlight_out", -(HOURS * 2) * 60 + n, lamp=lamp, mid=mid)
    assert c5.kind == "lighting_circuit"
    for n, lamp in enumerate(("L01", "L02", "L03")):           # C1 dark now
        call("streetlight_out", n, lamp=lamp, mid=mid)
    for n, lamp in enumerate(("L05", "L06")):                  # and C2: the cabinet has failed
        _, cabinet = call("streetlight_out", 10 + n, lamp=lamp, mid=mid)
    assert cabinet.kind == "lighting_cabinet" and cabinet.asset_ids == ["Q1"]
    assert c5.status == "closed" and c5.absorbed_into_id == cabinet.id
    assert len(report_ids(session, cabinet)) == 8


def test_a_dark_cabinet_leaves_an_older_circuit_a_crew_is_already_on(session, borgo, call, tmp_path):
    mid = borgo_with_c5(session, tmp_path / "b3")
    for n, lamp in enumerate(("L50", "L51", "L52")):           # C5 dark, a day before; a crew is on it
        _, c5 = call("streetlight_out", -(HOURS * 2) * 60 + n, lamp=lamp, mid=mid)
    c5.status = "assigned"
    session.flush()
    for n, lamp in enumerate(("L01", "L02", "L05", "L06")):    # C1 and C2 dark now: cabinet Q1
        _, cabinet = call("streetlight_out", n, lamp=lamp, mid=mid)
    assert cabinet.kind == "lighting_cabinet" and c5.status == "assigned" and c5.absorbed_into_id is None
    assert len(report_ids(session, cabinet)) == 4


def test_a_single_lamp_tells_how_many_of_its_circuit_were_called_in(session, borgo, call):
    _, alone = call("streetlight_out", 0, lamp="L08")
    assert "nessun altro lampione del circuito C3 segnalato entro 12 h" in alone.explanation
    assert "no other lamp of circuit C3 reported within 12 h" in in_english(alone)
    _, first = call("streetlight_out", 0, lamp="L01")
    assert "nessun altro lampione del circuito C1" in first.explanation
    session.execute(text("UPDATE municipalities SET rules = :r WHERE id = :m"),
                    {"r": json.dumps({"lighting": {"circuit_min_share": 1.0, "circuit_min_lamps": 4}}), "m": borgo})
    session.expire_all()
    _, second = call("streetlight_out", 5, lamp="L02")
    assert second.kind == "lamp"
    assert ("1 altro lampione del circuito C1 segnalato entro 12 h, non abbastanza per un guasto del circuito"
            in second.explanation)
    assert "1 other lamp of circuit C1 reported within 12 h, not enough for a circuit fault" in in_english(second)
