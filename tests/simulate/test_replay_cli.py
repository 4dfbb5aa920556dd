"""``simulate --url --key``: a night replayed through a running service, and what it found."""
from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import pytest

from geo_urp.accounts import create_api_key
from geo_urp.db import session_scope
from geo_urp.errors import NotFound
from geo_urp.loading.loader import load_municipality
from geo_urp.simulate import _check_service_knows
from geo_urp.simulate.night import Night, PlantedFault
from geo_urp.simulate.score import check_faults
from tests.showing.live_server import live_server

DEMO = Path(__file__).resolve().parents[2] / "layers" / "mezzolombardo"


def test_simulate_replays_a_night_and_says_which_planted_faults_the_service_found(app, runner, tmp_path):
    with session_scope(app.config["DATABASE_URL"]) as s:
        load_municipality(s, DEMO, "mezzolombardo")
        key = create_api_key(s, "operator", "mezzolombardo")
    truth = tmp_path / "truth.json"
    with live_server(app) as base:
        result = runner.invoke(args=["simulate", "--url", base, "--key", key, "--seed", "4",
                                     "--hours", "6", "--truth", str(truth)])
    assert truth.exists(), (result.output, result.exception)
    planted = json.loads(truth.read_text(encoding="utf-8"))
    n = len(planted["faults"])
    assert n >= 5 and result.exit_code == 0, result.output
    assert f"sent {len(planted['calls'])} of {len(planted['calls'])} calls" in result.output
    assert f"the service found {n} of {n} planted faults" in result.output


def test_a_replay_to_a_service_without_the_town_is_refused_before_any_call(app):
    with live_server(app) as base, pytest.raises(NotFound, match="serves no municipality 'atlantide'"):
        _check_service_knows(base, "atlantide")


def _night(*faults: PlantedFault) -> Night:
    return Night(municipality_id=1, seed=0, start=datetime(2026, 11, 27, 22, tzinfo=timezone.utc), hours=1,
                 faults=list(faults))


def _incident(id_, kind, assets, reports, valves=(), crew="SQUADRA"):
    return {"properties": {"id": id_, "kind": kind, "asset_ids": list(assets), "report_ids": list(reports),
                           "valves_to_close": list(valves), "crew_id": crew}}


def test_each_way_of_missing_a_fault_is_named():
    night = _night(PlantedFault("lighting_circuit", ("C1",), (0, 1, 2)),
                   PlantedFault("water_main_burst", ("P4",), (3, 4), ("V2", "V3")),
                   PlantedFault("flooding", (), (5,), note="rain"),
                   PlantedFault("noise", (), (6,)))
    ids = {i: str(100 + i) for i in range(6)}                        # call 6 was refused
    features = [_incident(1, "lamp", ["L1"], ["100"]), _incident(2, "lamp", ["L2"], ["101", "102"]),
                _incident(3, "water_main_burst", ["P4"], ["103", "104"], ["V3"]),
                _incident(4, "flooding", [], ["105", "999"])]
    checks = check_faults(night, ids, features)
    assert [c.found for c in checks] == [False, False, False, False]
    assert checks[0].problems == ("its calls are in 2 incidents (1, 2)",)
    assert checks[1].problems == ("incident 3 closes V3",)
    assert checks[2].problems == ("incident 4 also holds 1 other call(s)",)
    assert checks[3].problems == ("1 of its calls were not taken", "none of its calls is in an incident")
    features[:2] = [_incident(1, "lighting_circuit", ["C1"], ["100", "101", "102"])]
    assert check_faults(night, ids, features)[0].found
    features[0] = _incident(1, "lighting_circuit", ["C1"], ["100", "101", "102"], crew=None)
    assert check_faults(night, ids, features)[0].problems == ("incident 1 names no lighting crew",)
