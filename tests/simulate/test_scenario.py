"""A planned night on the demo town: deterministic, faults as promised, background free of patterns."""
from __future__ import annotations

import csv
import itertools
import math
import threading
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs
from zoneinfo import ZoneInfo

import pytest
import shapely
from shapely.ops import unary_union
from sqlalchemy import text
from sqlalchemy.orm import Session

from geo_urp.db import engine_for
from geo_urp.errors import BadInput
from geo_urp.loading.loader import load_municipality
from geo_urp.locating.snapping import DEFAULT_PIPE_MAX_M
from geo_urp.simulate import mix
from geo_urp.simulate.replay import replay
from geo_urp.simulate.night import Night
from geo_urp.simulate.scenario import plan_night
from tests.water_truth import burst_truth

DEMO = Path(__file__).resolve().parents[2] / "layers" / "mezzolombardo"
START = datetime(2025, 11, 3, 22, 0, tzinfo=ZoneInfo("Europe/Rome"))
SEEDS = (1, 2, 3, 4, 5, 10)


@pytest.fixture(scope="module")
def demo(db_url):
    """The demo town loaded once for this module, in a transaction rolled back at the end."""
    conn = engine_for(db_url).connect()
    outer = conn.begin()
    session = Session(bind=conn, join_transaction_mode="create_savepoint", expire_on_commit=False)
    load_municipality(session, DEMO, "mezzolombardo")
    mid = session.execute(text("SELECT id FROM municipalities WHERE slug = 'mezzolombardo'")).scalar_one()
    nights: dict[int, Night] = {}

    def night(seed: int) -> Night:
        if seed not in nights:
            nights[seed] = plan_night(session, mid, seed, hours=8, start=START)
        return nights[seed]

    yield session, mid, night
    session.close()
    outer.rollback()
    conn.close()


def _metric(call) -> str:
    return f"ST_Transform(ST_SetSRID(ST_MakePoint({call.lon}, {call.lat}), 4326), 32632)"


def _nearest_lamp(session, mid, call):
    return session.execute(text(
        f"SELECT lamp_id, circuit_id, cabinet_id FROM lamps WHERE municipality_id = :mid "
        f"ORDER BY geom <-> {_metric(call)} LIMIT 1"), {"mid": mid}).one()


def _faults(night: Night, kind: str):
    return [f for f in night.faults if f.kind == kind]


def _metres(a, b) -> float:
    # Equirectangular is plenty at town scale.
    dy = (a.lat - b.lat) * 111_320
    dx = (a.lon - b.lon) * 111_320 * math.cos(math.radians(a.lat))
    return math.hypot(dx, dy)


def test_same_seed_same_night_other_seed_differs(demo):
    session, mid, night = demo
    again = plan_night(session, mid, 1, hours=8, start=START)
    assert again.calls == night(1).calls and again.faults == night(1).faults
    assert night(2).calls != night(1).calls
    assert [f.asset_ids for f in night(2).faults] != [f.asset_ids for f in night(1).faults]


def test_default_start_is_a_past_night_and_stable(demo):
    session, mid, _ = demo
    a, b = plan_night(session, mid, 9), plan_night(session, mid, 9)
    assert a.calls == b.calls
    assert a.calls[-1].at < datetime.now(ZoneInfo("UTC"))
    assert a.start.astimezone(ZoneInfo("Europe/Rome")).hour == 22


@pytest.mark.parametrize("seed", SEEDS)
def test_calls_in_time_order_inside_the_night(demo, seed):
    n = demo[2](seed)
    times = [c.at for c in n.calls]
    assert times == sorted(times) and all(t.tzinfo is not None for t in times)
    assert START <= times[0] and times[-1] <= START + timedelta(hours=8)
    assert len({c.idempotency_key for c in n.calls}) == len(n.calls)
    assert sorted(i for f in n.faults for i in f.call_indexes) == [i for i, c in enumerate(n.calls) if c.fault is not None]
    assert any(h in c.description for c in n.calls for h in mix.HOSTILE)
    spoken = [c.address_string for c in n.calls if c.address_string]
    assert spoken and all(s == s.lower() for s in spoken)
    assert all(c.phone or c.email for c in n.calls)


@pytest.mark.parametrize("seed", SEEDS)
def test_fault_sizes(demo, seed):
    n = demo[2](seed)
    kinds = [f.kind for f in n.faults]
    assert kinds.count("lighting_circuit") == kinds.count("lighting_cabinet") == 1
    assert kinds.count("water_main_burst") == kinds.count("flooding") == kinds.count("noise") == 1
    assert 4 <= kinds.count("lamp") <= 5  # 3 or 4 scattered, and the one beside the dark circuit
    assert kinds.count("water_outage") == 1  # the dry tap beside the burst's dry area
    circuit, = _faults(n, "lighting_circuit")
    assert 4 <= len(circuit.call_indexes) <= 6
    burst, = _faults(n, "water_main_burst")
    codes = sorted(n.calls[i].service_code for i in burst.call_indexes)
    assert codes.count("water_leak") == 2 and 4 <= codes.count("no_water") <= 6 and len(codes) == codes.count("water_leak") + codes.count("no_water")
    flood, = _faults(n, "flooding")
    calls = [n.calls[i] for i in flood.call_indexes]
    assert 4 <= len(calls) <= 6 and all(c.service_code == "flooding" for c in calls)
    assert max(_metres(a, b) for a, b in itertools.combinations(calls, 2)) <= 120
    assert calls[-1].at - calls[0].at <= timedelta(hours=2)
    assert min(_metres(c, n.calls[i]) for c in calls for i in burst.call_indexes) > 300
    noise, = _faults(n, "noise")
    a, b = (n.calls[i] for i in noise.call_indexes)
    assert a.asset_id == b.asset_id and (a.lat, a.lon) == (b.lat, b.lon)
    assert timedelta(minutes=50) <= b.at - a.at <= timedelta(minutes=70)
    assert all(len(f.call_indexes) == 1 for f in _faults(n, "lamp"))


@pytest.mark.parametrize("seed", SEEDS)
def test_every_lamp_call_snaps_to_its_lamp(demo, seed):
    session, mid, night = demo
    n = night(seed)
    lighting = [f for f in n.faults if f.kind in ("lighting_circuit", "lighting_cabinet", "lamp")]
    seen_circuits: dict[str, set] = {}
    for fault in lighting:
        lamps = []
        for i in fault.call_indexes:
            lamp, circuit, cabinet = _nearest_lamp(session, mid, n.calls[i])
            assert lamp == n.calls[i].asset_id, f"call {i} snaps to {lamp}, meant {n.calls[i].asset_id}"
            lamps.append(lamp)
            # (the lamp beside the dark circuit may share its cabinet: counted apart below)
            beside = fault.note.startswith("next to dark circuit")
            seen_circuits.setdefault("beside" if beside else fault.kind, set()).add((circuit, cabinet))
            if fault.kind == "lighting_circuit":
                assert circuit == fault.asset_ids[0]
            if fault.kind == "lighting_cabinet":
                assert cabinet == fault.asset_ids[0]
        assert len(set(lamps)) == len(lamps), "a fault's calls must be on distinct lamps"
    cabinet_fault, = _faults(n, "lighting_cabinet")
    per_circuit = {}
    for i in cabinet_fault.call_indexes:
        per_circuit.setdefault(_nearest_lamp(session, mid, n.calls[i])[1], []).append(i)
    assert 2 <= len(per_circuit) <= 3 and all(len(v) >= 3 for v in per_circuit.values())
    circuit_cabinet = {cab for _, cab in seen_circuits["lighting_circuit"]}
    assert circuit_cabinet.isdisjoint(cabinet_fault.asset_ids)
    singles = [cab for _, cab in seen_circuits["lamp"]]
    assert len(set(singles)) == len(singles)
    assert set(singles).isdisjoint(circuit_cabinet | set(cabinet_fault.asset_ids))
    assert {cab for _, cab in seen_circuits.get("beside", set())}.isdisjoint(cabinet_fault.asset_ids)


@pytest.mark.parametrize("seed", SEEDS)
def test_burst_calls_point_at_the_pipe_and_its_dry_area(demo, seed):
    """The leak callers stand round one spot of the main; the valves planted are those the truth
    (tests/water_truth.py, from the layer files) shuts for a break there; every no-water call is
    from a home whose main is dry per that truth."""
    session, mid, night = demo
    n = night(seed)
    burst, = _faults(n, "water_main_burst")
    leaks = [n.calls[i] for i in burst.call_indexes if n.calls[i].service_code == "water_leak"]
    assert max(_metres(a, b) for a, b in itertools.combinations(leaks, 2)) <= 6
    truth = burst_truth(DEMO, burst.asset_ids[0], [(c.lon, c.lat) for c in leaks])
    assert set(burst.valves_to_close) == truth.valves_to_close and burst.valves_to_close
    dry = unary_union([g for gs in truth.dry.values() for g in gs]).buffer(0.01)
    for i in burst.call_indexes:
        call = n.calls[i]
        pipe, pipe_segments = session.execute(text(
            f"SELECT pipe_id, segment_nos FROM water_pipes WHERE municipality_id = :mid "
            f"ORDER BY geom <-> {_metric(call)} LIMIT 1"), {"mid": mid}).one()
        part, part_geom = session.execute(text(
            f"SELECT segment_no, ST_AsBinary(ST_Transform(geom, {truth.srid})) FROM water_pipe_parts "
            f"WHERE municipality_id = :mid ORDER BY geom <-> {_metric(call)} LIMIT 1"), {"mid": mid}).one()
        if call.service_code == "water_leak":
            assert pipe == burst.asset_ids[0]
            assert session.execute(text(
                f"SELECT ST_Distance(geom, {_metric(call)}) FROM water_pipes "
                "WHERE municipality_id = :mid AND pipe_id = :p"), {"mid": mid, "p": pipe}).scalar() <= 5
        else:
            assert dry.contains(shapely.from_wkb(bytes(part_geom))), f"no-water call {i} is outside the dry area"
            assert part in burst.affected_segment_nos and set(pipe_segments) <= set(burst.affected_segment_nos)
            # ...and near enough to a main for intake to put it on the network (seed 10 once was not)
            assert session.execute(text(
                f"SELECT min(ST_Distance(geom, {_metric(call)})) FROM water_pipe_parts WHERE municipality_id = :mid"),
                {"mid": mid}).scalar() <= DEFAULT_PIPE_MAX_M, f"no-water call {i} is beyond snapping reach"


@pytest.mark.parametrize("seed, busy", [(s, None) for s in SEEDS] + [(1, 250), (2, 250)])
def test_background_forms_no_pattern(demo, seed, busy):
    session, mid, night = demo
    # A busy night (load test) has enough background lamp calls to catch two on one circuit.
    n = night(seed) if busy is None else plan_night(session, mid, seed, hours=8, start=START, background=busy)
    background = [n.calls[i] for i in n.background_indexes]
    assert background and all(c.fault is None for c in background)
    fault_lamps = [_nearest_lamp(session, mid, n.calls[i]) for f in n.faults
                   if f.kind in ("lighting_circuit", "lighting_cabinet", "lamp") for i in f.call_indexes]
    fault_circuits = {c for _, c, _ in fault_lamps}
    bg_circuits = [_nearest_lamp(session, mid, c)[1] for c in background if c.service_code == "streetlight_out"]
    assert len(bg_circuits) == len(set(bg_circuits)), "two background lamp calls on one circuit"
    assert fault_circuits.isdisjoint(bg_circuits)
    holes = [c for c in background if c.service_code == "road_damage"]
    assert all(_metres(a, b) >= 40 for a, b in itertools.combinations(holes, 2))
    floods = [c for c in n.calls if c.service_code == "flooding"]
    for a in (c for c in floods if c.fault is None):
        assert all(_metres(a, b) >= 150 for b in floods if b is not a)


def test_background_follows_the_category_mix(demo):
    codes = [demo[2](s).calls[i].service_code for s in SEEDS for i in demo[2](s).background_indexes]
    assert codes.count("road_damage") > codes.count("flooding") > 0
    assert set(codes) <= set(mix.load_mix().weights)


@pytest.mark.parametrize("category, code", [
    ("Buche", "road_damage"), ("Illuminazione pubblica", "streetlight_out"), ("Tombini", "flooding"),
    ("Rumore molesto", "noise"), ("Acquedotto e fognature", "water_leak"), ("Verde pubblico", "info_request"),
    ("", "info_request"), ("Semafori e segnaletica stradale", "road_damage"),
])
def test_category_mapping(category, code):
    assert mix.service_code_for(category) == code


def test_mix_shares_come_from_the_file():
    with mix.CSV_PATH.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh, delimiter=";"))
    weights = mix.load_mix().weights
    lamps = sum(r["Categoria"] == "Illuminazione pubblica" for r in rows) / len(rows)
    holes = sum(r["Categoria"] in ("Buche", "Semafori e segnaletica stradale", "Arredo urbano",
                                   "Accessibilità ed inclusione delle persone con disabilità") for r in rows) / len(rows)
    assert weights["streetlight_out"] == pytest.approx(lamps)
    assert weights["road_damage"] == pytest.approx(holes)
    assert sum(weights.values()) == pytest.approx(1.0)


@pytest.mark.parametrize("bad", [{"hours": 0}, {"start": datetime(2025, 11, 3, 22)}])
def test_bad_arguments(demo, bad):
    session, mid, _ = demo
    with pytest.raises(BadInput):
        plan_night(session, mid, 1, **{"hours": 8, "start": START, **bad})


class _Open311Stub(BaseHTTPRequestHandler):
    """Answers like the Open311 POST; the first request of each key times out once."""

    seen: list = []
    slow_once: set = set()

    def do_POST(self):  # noqa: N802 (http.server's name)
        key = self.headers["Idempotency-Key"]
        form = parse_qs(self.rfile.read(int(self.headers["Content-Length"])).decode())
        self.seen.append((key, form))
        if key not in self.slow_once:
            self.slow_once.add(key)
            threading.Event().wait(0.6)  # longer than the client's timeout
        body = f'[{{"service_request_id": "{abs(hash(key)) % 10**6}"}}]'.encode()
        self.send_response(201)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def test_replay_sends_true_times_and_retries_with_the_same_key(demo):
    night = demo[2](1)
    short = Night(night.municipality_id, 1, night.start, 8, night.calls[:4], [])
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Open311Stub)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        result = replay(short, f"http://127.0.0.1:{server.server_port}", "k3y", timeout=0.3)
    finally:
        server.shutdown()
    assert result.ok and sorted(result.ids) == [0, 1, 2, 3] and result.retried == 4
    keys = [k for k, _ in _Open311Stub.seen]
    assert all(keys.count(c.idempotency_key) == 2 for c in short.calls)
    for key, form in _Open311Stub.seen:
        call = next(c for c in short.calls if c.idempotency_key == key)
        assert datetime.fromisoformat(form["requested_datetime"][0]) == call.at.replace(microsecond=0)
        assert form["service_code"] == [call.service_code] and form["api_key"] == ["k3y"]
        assert ("address_string" in form) == bool(call.address_string)


@pytest.mark.parametrize("seed", SEEDS)
def test_near_misses_sit_beside_their_fault_in_space_and_time(demo, seed):
    session, mid, night = demo
    n = night(seed)
    circuit, = _faults(n, "lighting_circuit")
    beside = next(f for f in _faults(n, "lamp") if "next to dark circuit" in f.note)
    dark = [n.calls[i] for i in circuit.call_indexes]
    call, = (n.calls[i] for i in beside.call_indexes)
    lamp, lamp_circuit, _ = _nearest_lamp(session, mid, call)
    assert lamp == beside.asset_ids[0] and lamp_circuit != circuit.asset_ids[0]
    assert dark[0].at <= call.at <= dark[-1].at
    assert min(_metres(call, c) for c in dark) < 150
    burst, = _faults(n, "water_main_burst")
    outage, = _faults(n, "water_outage")
    dry_call, = (n.calls[i] for i in outage.call_indexes)
    segment = session.execute(text(
        f"SELECT segment_no FROM water_pipe_parts WHERE municipality_id = :mid ORDER BY geom <-> {_metric(dry_call)} "
        "LIMIT 1"), {"mid": mid}).scalar()
    assert dry_call.service_code == "no_water" and segment not in burst.affected_segment_nos
    times = sorted(n.calls[i].at for i in burst.call_indexes)
    assert times[0] <= dry_call.at <= times[-1]
