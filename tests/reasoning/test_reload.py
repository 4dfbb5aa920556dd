"""Replacing a town's layers while calls are open: the open calls follow the new layers.

A cross-cutting rule (docs/INCIDENTS.md, "Recomputing, and replacing the layers"): ``layers
load`` (``acting.layers``) snaps every open call again to the new layers and rebuilds the open
incidents (``reasoning.recompute``) in its transaction, or changes nothing when it fails. What
it checks is the incidents, so it is kept with the reasoning tests, whole.
"""
from __future__ import annotations

import pytest

from geo_urp.acting.layers import load_layers
from geo_urp.errors import LayerLoadError
from geo_urp.reasoning.isolation import isolate_pipes
from geo_urp.models import Incident, Report
from tests.reasoning.borgo_variants import borgo_copy, renamed
from tests.reasoning.conftest import each_report_linked_once, incident_of, open_incidents, report_ids


def test_open_calls_and_incidents_follow_renamed_assets(session, borgo, call, tmp_path):
    dark = [call("streetlight_out", n, lamp=lamp)[0] for n, lamp in enumerate(("L05", "L06", "L07"))]
    leak, burst = call("water_leak", 5, pipe="P4")
    dry, _ = call("no_water", 10, pipe="P6", at=(690, 455))
    assert incident_of(session, dark[0]).kind == "lighting_circuit" and incident_of(session, dry).id == burst.id
    # The same town, every lamp, circuit and main renamed and listed in reverse order.
    folder = borgo_copy(tmp_path / "new", {"lamps": renamed("N", "lamp_id", "circuit_id"),
                                          "water_pipes": renamed("W", "pipe_id")})
    _, reload = load_layers(session, folder, "borgo")
    assert reload.replayed == 5 and reload.resnapped == 5
    dark, leak, dry = ([session.get(Report, r.id) for r in dark], session.get(Report, leak.id),
                       session.get(Report, dry.id))    # the rebuild let go of the objects it read
    assert [r.lamp_id for r in dark] == ["NL05", "NL06", "NL07"] and leak.pipe_id == "WP4"
    circuit, water = (incident_of(session, r) for r in (dark[0], leak))
    assert circuit.kind == "lighting_circuit" and circuit.asset_ids == ["NC2"]
    assert report_ids(session, circuit) == {r.id for r in dark}
    assert water.kind == "water_main_burst" and water.asset_ids == ["WP4"] and incident_of(session, dry).id == water.id
    iso = isolate_pipes(session, borgo, "WP4")
    assert water.valves_to_close == list(iso.valves_to_close) and water.valves_to_close
    assert {i.id for i in open_incidents(session, borgo)} == {circuit.id, water.id}
    assert each_report_linked_once(session, borgo)
    # Calls taken after the reload land on the same incidents.
    _, again = call("water_leak", 30, pipe="WP4")
    _, later = call("streetlight_out", 30, lamp="NL05")
    assert (again.id, later.id) == (water.id, circuit.id)


def test_a_load_that_fails_leaves_open_calls_as_they_were(session, borgo, call, tmp_path):
    r, lamp = call("streetlight_out", 0, lamp="L01")
    folder = borgo_copy(tmp_path / "bad", {})
    (folder / "streets.geojson").write_text("{not json")
    with pytest.raises(LayerLoadError):
        load_layers(session, folder, "borgo")
    session.expire_all()
    r = session.get(Report, r.id)
    assert r.lamp_id == "L01" and incident_of(session, r).id == lamp.id
    assert session.get(Incident, lamp.id).asset_ids == ["L01"]
