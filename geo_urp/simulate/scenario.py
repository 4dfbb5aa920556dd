"""Plan a night of calls to the 24-hour line, with known faults hidden in it.

``plan_night`` reads the town's layers (lamps, addresses, pipes and their valve
segments) and writes a script: every call with its time, place, words and
caller, and the ground truth of the faults planted among them (a dark circuit,
a dark cabinet, a burst main, a flooded spot, single dark lamps, a noisy flat),
so a replay through Open311 can be scored against it. A burst is planted at one
spot of a main: its leak callers stand round that spot, and its valves and dry
homes are those of the isolation of a break there (``isolate_break``).

Spatial facts (nearest lamp and pipe of every address, room around every lamp,
where a spot lies along a main) are asked of PostGIS; choosing and spacing calls is
plain Python on metric coordinates, driven by one ``random.Random(seed)`` over
rows read in a fixed order, so the same seed on the same layers gives the same
night.
"""
from __future__ import annotations

import math
import random
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from sqlalchemy import text
from sqlalchemy.orm import Session

from geo_urp.errors import BadInput
from geo_urp.models import METRIC_SRID
from geo_urp.reasoning.isolation import isolate_break
from geo_urp.reasoning.water import breaks_at
from geo_urp.simulate import mix
from geo_urp.simulate.night import Night, PlannedCall, PlantedFault
from geo_urp.simulate.town import Town, TownPipe, read_town

ROME = ZoneInfo("Europe/Rome")
BACKGROUND_PER_HOUR = 2.5
HOSTILE_SHARE = 0.08
# A background call keeps this far (m) from every other call of its service, so
# that it cannot join a cluster (twice the incident rules' default distances).
BACKGROUND_SPACING_M = {"road_damage": 60.0, "flooding": 300.0, "noise": 30.0,
                        "social_distress": 100.0, "water_leak": 500.0, "no_water": 500.0,
                        "low_pressure": 500.0, "streetlight_out": 0.0, "info_request": 0.0}
WATER_CODES = ("water_leak", "no_water", "low_pressure")
# A planted break keeps this far (m, along its main) from the valves either side of it, so that
# leak callers standing round it (within 3 m) place it in its valve segment (``water.breaks_at``).
BREAK_CLEAR_M = 10.0


@dataclass
class _Draft:
    offset_h: float
    code: str
    x: float
    y: float
    address: object | None = None  # a town address row when the caller says it
    asset_id: str | None = None
    fault: int | None = None
    caller: tuple | None = None


def default_start(now: datetime | None = None, hours: float = 8) -> datetime:
    """22:00 (Rome) of the last night that has fully passed, so every planned time is in the past."""
    now = (now or datetime.now(timezone.utc)).astimezone(ROME)
    start = now.replace(hour=22, minute=0, second=0, microsecond=0)
    while start + timedelta(hours=hours) > now:
        start = (start - timedelta(days=1)).replace(hour=22)
    return start


def plan_night(session: Session, municipality_id: int, seed: int, hours: float = 8,
               start: datetime | None = None, background: int | None = None) -> Night:
    """Plan ``hours`` of calls from ``start`` with planted faults; the same seed gives the same night."""
    if hours <= 0:
        raise BadInput(f"hours must be positive, got {hours}")
    if start is not None and start.tzinfo is None:
        raise BadInput(f"start must carry a time zone offset, got {start.isoformat()}")
    start = start or default_start(hours=hours)
    town = read_town(session, municipality_id)
    rng = random.Random(seed)
    local = start.astimezone(ROME)
    planner = _Planner(town, rng, hours, local.hour + local.minute / 60)
    faults = planner.plant(session, municipality_id)
    n_background = round(BACKGROUND_PER_HOUR * hours) if background is None else background
    planner.background(n_background)
    return _finish(session, municipality_id, seed, start, hours, planner.drafts, faults, rng, town.street_names)


class _Planner:
    """Picks assets and places calls, remembering what is used so patterns stay apart."""

    def __init__(self, town: Town, rng: random.Random, hours: float, start_hour: float):
        self.town, self.rng, self.hours, self.start_hour = town, rng, hours, start_hour
        self.drafts: list[_Draft] = []
        self.used_circuits: set[str] = set()
        self.fault_cabinets: set[str] = set()
        self.burst_pipe: TownPipe | None = None
        self.burst_dry: set[int] = set()
        # (circuit, its calls' lamps, first and last call offset) and the burst's (first, last)
        self.circuit_fault: tuple[str, list, float, float] | None = None
        self.burst_span: tuple[float, float] = (0.0, 0.0)
        self.dark_cabinet_id: str | None = None

    # -- time ---------------------------------------------------------------
    def window(self, span_h: float) -> tuple[float, float]:
        """A start offset and span (h) that fit in the night, with a margin at both ends."""
        span = min(span_h, self.hours * 0.6)
        margin = self.hours * 0.05
        return self.rng.uniform(margin, max(margin, self.hours - span - margin)), span

    def times(self, count: int, span_h: float) -> list[float]:
        t0, span = self.window(span_h)
        return sorted(t0 + self.rng.uniform(0, span) for _ in range(count))

    # -- the faults ---------------------------------------------------------
    def plant(self, session: Session, mid: int) -> list[PlantedFault]:
        rng, town = self.rng, self.town
        cabinets = sorted(c for c, circs in town.circuits_of_cabinet.items()
                          if sum(len(town.lamps_of_circuit[k]) >= 4 for k in circs) >= 2)
        if len(cabinets) < 2:
            raise BadInput("the town needs two lighting cabinets with two circuits of 4+ lamps each")
        cab_k, cab_c = rng.sample(cabinets, 2)
        self.fault_cabinets, self.dark_cabinet_id = {cab_k, cab_c}, cab_k
        faults = [self.dark_circuit(cab_c, 0), self.dark_cabinet(cab_k, 1), self.burst(session, mid, 2),
                  self.flood(3)]
        # Near misses: close in space and time to a fault, but not of it on the network.
        for near_miss in (lambda no: self.lamp_beside(self.circuit_fault, no), self.dry_beside):
            fault = near_miss(len(faults))
            if fault is not None:
                faults.append(fault)
        faults.extend(self.single_lamps(len(faults)))
        faults.append(self.noise(len(faults)))
        return faults

    def lamp_call(self, lamp, offset_h: float, fault: int, code: str = "streetlight_out") -> None:
        # Within a third of the way to the next lamp: nearer this lamp than any other.
        r = min(4.0, lamp.nn_m / 3) * math.sqrt(self.rng.random())
        a = self.rng.uniform(0, 2 * math.pi)
        self.drafts.append(_Draft(offset_h, code, lamp.x + r * math.cos(a), lamp.y + r * math.sin(a),
                                  asset_id=lamp.lamp_id, fault=fault))

    def circuit_calls(self, circuit: str, count: int, times: list[float], fault: int) -> None:
        lamps = self.rng.sample(self.town.lamps_of_circuit[circuit], count)
        for lamp, t in zip(lamps, times):
            self.lamp_call(lamp, t, fault)
        self.used_circuits.add(circuit)

    def dark_circuit(self, cabinet: str, no: int) -> PlantedFault:
        sizes = {c: len(self.town.lamps_of_circuit[c]) for c in self.town.circuits_of_cabinet[cabinet]}
        circuit = self.rng.choice([c for c, n in sizes.items() if n >= 6] or [c for c, n in sizes.items() if n >= 4])
        count = min(self.rng.randint(4, 6), len(self.town.lamps_of_circuit[circuit]))
        times = self.times(count, self.rng.uniform(1, 2))
        self.circuit_calls(circuit, count, times, no)
        lamps = [d for d in self.drafts if d.fault == no]
        self.circuit_fault = (circuit, lamps, times[0], times[-1])
        return PlantedFault("lighting_circuit", (circuit,), (), note=f"circuit {circuit} of cabinet {cabinet}")

    def dark_cabinet(self, cabinet: str, no: int) -> PlantedFault:
        circuits = [c for c in self.town.circuits_of_cabinet[cabinet] if len(self.town.lamps_of_circuit[c]) >= 4]
        chosen = sorted(self.rng.sample(circuits, min(len(circuits), self.rng.randint(2, 3))))
        t0, span = self.window(self.rng.uniform(1, 2))
        for circuit in chosen:
            count = self.rng.randint(3, 4)
            self.circuit_calls(circuit, count, sorted(t0 + self.rng.uniform(0, span) for _ in range(count)), no)
        return PlantedFault("lighting_cabinet", (cabinet,), (), note=f"circuits {', '.join(chosen)} dark")

    def burst(self, session: Session, mid: int, no: int) -> PlantedFault:
        """A burst at one spot of a main: leak calls round the spot, no-water calls from homes that
        the isolation of a break there (its valve segment, ``isolate_break``) leaves dry."""
        town, rng = self.town, self.rng
        options = []  # (main, valve segment, its isolation, homes it leaves dry, spots there)
        for pipe in (p for p in town.pipes if p.length_m >= 40):
            spots, clear = town.points_along(session, mid, pipe.pipe_id), {}
            for spot, at in zip(spots, breaks_at(session, mid, pipe.pipe_id, [s[:2] for s in spots])):
                if at.clear_m >= BREAK_CLEAR_M:
                    clear.setdefault(at.segment_no, []).append(spot)
            for segment, there in sorted(clear.items()):
                iso = isolate_break(session, mid, pipe.pipe_id, segment)
                dry = set(iso.affected_segment_nos)
                homes = [a for a in town.speakable if a.part_segment in dry and set(a.pipe_segments) <= dry]
                if len(homes) >= 6:
                    options.append((pipe, segment, iso, homes, there))
        if not options:
            raise BadInput("no spot on a water main whose isolation leaves six addresses dry")
        pipe, segment, iso, homes, spots = rng.choice(options)
        times = self.times(rng.randint(6, 8), rng.uniform(1, 1.5))
        n_dry = len(times) - 2
        leak_at = sorted(rng.sample(range(len(times)), 2))
        x, y, room = rng.choice(spots)
        for t in (times[i] for i in leak_at):
            r, a = min(3.0, room / 3) * math.sqrt(rng.random()), rng.uniform(0, 2 * math.pi)
            self.drafts.append(_Draft(t, "water_leak", x + r * math.cos(a), y + r * math.sin(a),
                                      asset_id=pipe.pipe_id, fault=no))
        dry_times = [t for i, t in enumerate(times) if i not in leak_at]
        for home, t in zip(rng.sample(homes, n_dry), dry_times):
            self.address_call(home, t, "no_water", fault=no)
        self.burst_pipe, self.burst_dry = pipe, set(iso.affected_segment_nos)
        self.burst_span = (times[0], times[-1])
        return PlantedFault("water_main_burst", (pipe.pipe_id,), (), iso.valves_to_close,
                            iso.affected_segment_nos, note=f"main {pipe.pipe_id}, valve segment {segment}")

    def address_call(self, home, t: float, code: str, fault: int | None, caller: tuple | None = None) -> None:
        self.drafts.append(_Draft(t, code, home.x, home.y, address=home, asset_id=home.address_id,
                                  fault=fault, caller=caller))

    def flood(self, no: int) -> PlantedFault:
        town, rng = self.town, self.rng
        burst_calls = [(d.x, d.y) for d in self.drafts if d.code in WATER_CODES]
        spots = [a for a in town.speakable if town.distance_to_pipe(a.x, a.y, self.burst_pipe) > 400
                 and all(math.dist((a.x, a.y), p) > 400 for p in burst_calls)]
        spots = [a for a in spots if len(town.speakable_near(a.x, a.y, 50)) >= 3] or spots
        spot = rng.choice(spots)
        near = town.speakable_near(spot.x, spot.y, 50)
        for t in self.times(rng.randint(4, 6), rng.uniform(1, 2)):
            if near and rng.random() < 0.6:
                self.address_call(rng.choice(near), t, "flooding", fault=no)
            else:
                r, a = 50 * math.sqrt(rng.random()), rng.uniform(0, 2 * math.pi)
                self.drafts.append(_Draft(t, "flooding", spot.x + r * math.cos(a), spot.y + r * math.sin(a), fault=no))
        return PlantedFault("flooding", (), (), note=f"rain near {spot.street} {spot.number}")

    def lamp_beside(self, circuit_fault, no: int) -> PlantedFault | None:
        """One lamp of another circuit, the nearest to the dark circuit's calls, called while it is
        dark: a neighbour's lamp is a lamp incident, never part of the circuit (nor, with one
        lamp, a second failed circuit of its cabinet)."""
        circuit, calls, t0, t1 = circuit_fault
        # Its own cabinet's other circuits are allowed (the hardest case); the dark cabinet's are not.
        others = [lamp for c, lamps in sorted(self.town.lamps_of_circuit.items()) if c not in self.used_circuits
                  for lamp in lamps if lamp.cabinet_id != self.dark_cabinet_id]
        if not others:
            return None
        lamp = min(others, key=lambda lp: (min(math.dist((lp.x, lp.y), (d.x, d.y)) for d in calls), lp.lamp_id))
        self.lamp_call(lamp, self.rng.uniform(t0, t1), fault=no)
        self.used_circuits.add(lamp.circuit_id)
        self.fault_cabinets.add(lamp.cabinet_id)
        return PlantedFault("lamp", (lamp.lamp_id,), (), note=f"next to dark circuit {circuit}, on {lamp.circuit_id}")

    def dry_beside(self, no: int) -> PlantedFault | None:
        """A no-water call from the address nearest the burst main that keeps its water when the break
        is isolated, during the burst's calls: an outage of its own, never one of the burst's calls."""
        pipe = self.burst_pipe
        homes = [a for a in self.town.speakable if a.part_segment is not None and a.part_segment not in self.burst_dry
                 and not set(a.pipe_segments) & self.burst_dry and self.town.distance_to_pipe(a.x, a.y, pipe) < 400]
        if pipe is None or not homes:
            return None
        home = min(homes, key=lambda a: (self.town.distance_to_pipe(a.x, a.y, pipe), a.address_id))
        self.address_call(home, self.rng.uniform(*self.burst_span), "no_water", fault=no)
        return PlantedFault("water_outage", (), (), note=f"{home.street} {home.number}, outside the burst's dry area")

    def single_lamps(self, first_no: int) -> list[PlantedFault]:
        town, rng = self.town, self.rng
        cabinets = [c for c in sorted(town.circuits_of_cabinet) if c not in self.fault_cabinets]
        faults = []
        for cabinet in rng.sample(cabinets, min(len(cabinets), rng.randint(3, 4))):
            circuit = rng.choice(town.circuits_of_cabinet[cabinet])
            lamp = rng.choice(town.lamps_of_circuit[circuit])
            self.lamp_call(lamp, rng.uniform(0.05, 0.95) * self.hours, fault=first_no + len(faults))
            self.used_circuits.add(circuit)
            self.fault_cabinets.add(cabinet)
            faults.append(PlantedFault("lamp", (lamp.lamp_id,), (), note=f"circuit {circuit}"))
        return faults

    def noise(self, no: int) -> PlantedFault:
        home = self.rng.choice(self.town.speakable)
        t0, _ = self.window(1.2)
        caller = mix.caller(self.rng)
        for t in (t0, t0 + self.rng.uniform(55, 65) / 60):
            self.address_call(home, t, "noise", fault=no, caller=caller)
        return PlantedFault("noise", (), (), note=f"{home.street} {home.number}")

    # -- the background -----------------------------------------------------
    def night_offset(self) -> float:
        """A time in the night, drawn by the hour-of-day rhythm of calls."""
        top = max(mix.HOURLY_WEIGHTS)
        while True:
            t = self.rng.uniform(0, self.hours)
            if self.rng.random() * top <= mix.HOURLY_WEIGHTS[int(self.start_hour + t) % 24]:
                return t

    def background(self, count: int) -> None:
        """``count`` calls by the real category mix, each where it joins no pattern.

        A code is tried at up to 50 addresses before another code is drawn, so the
        mix holds until the town runs out of room for a code (a very busy night).
        """
        weights = mix.load_mix().weights
        codes, shares = list(weights), list(weights.values())
        for _ in range(count):
            for _attempt in range(10):
                code = self.rng.choices(codes, shares)[0]
                home = next((h for h in (self.rng.choice(self.town.speakable) for _ in range(50))
                             if self.fits(code, h)), None)
                if home is not None:
                    self.address_call(home, self.night_offset(), code, fault=None)
                    if code == "streetlight_out":
                        self.used_circuits.add(home.circuit_id)
                    break

    def fits(self, code: str, home) -> bool:
        """Whether a background call of ``code`` at ``home`` stays clear of every pattern."""
        if code == "streetlight_out":
            return home.circuit_id not in self.used_circuits and home.cabinet_id not in self.fault_cabinets
        if code in WATER_CODES:
            if home.part_segment in self.burst_dry or self.town.distance_to_pipe(home.x, home.y, self.burst_pipe) < 300:
                return False
        gap = BACKGROUND_SPACING_M.get(code, 200.0)
        return all(math.dist((d.x, d.y), (home.x, home.y)) >= gap for d in self.drafts
                   if d.code == code or (code in WATER_CODES and d.code in WATER_CODES))


def _finish(session: Session, mid: int, seed: int, start: datetime, hours: float, drafts: list[_Draft],
            faults: list[PlantedFault], rng: random.Random, names: list[str]) -> Night:
    """Order the calls in time, give them words, callers and WGS84 positions, and index the faults."""
    order = sorted(range(len(drafts)), key=lambda i: (drafts[i].offset_h, i))
    lonlat = _to_wgs84(session, [(drafts[i].x, drafts[i].y) for i in order])
    hostile = {i for i in range(len(order)) if rng.random() < HOSTILE_SHARE}
    if not hostile and order:
        hostile.add(rng.randrange(len(order)))
    t0 = start.astimezone(timezone.utc)
    calls, members = [], {}
    for pos, i in enumerate(order):
        d = drafts[i]
        first, last, phone, email = d.caller or mix.caller(rng)
        words = mix.spoken_address(d.address.street, d.address.number, rng, names) if d.address else None
        key = uuid.uuid5(uuid.NAMESPACE_URL, f"geo_urp/simulate/{mid}/{seed}/{start.isoformat()}/{hours}/{pos}")
        calls.append(PlannedCall(
            at=(t0 + timedelta(hours=d.offset_h)).astimezone(ROME), service_code=d.code,
            lat=round(lonlat[pos][1], 7), lon=round(lonlat[pos][0], 7), address_string=words,
            description=mix.description(rng, d.code, pos in hostile), first_name=first, last_name=last,
            phone=phone, email=email, idempotency_key=f"sim-{key}", asset_id=d.asset_id, fault=d.fault))
        if d.fault is not None:
            members.setdefault(d.fault, []).append(pos)
    faults = [PlantedFault(f.kind, f.asset_ids, tuple(members.get(n, ())), f.valves_to_close,
                           f.affected_segment_nos, f.note) for n, f in enumerate(faults)]
    return Night(mid, seed, start, hours, calls, faults)


def _to_wgs84(session: Session, points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    if not points:
        return []
    rows = session.execute(text(
        "SELECT ST_X(g), ST_Y(g) FROM (SELECT ord, ST_Transform(ST_SetSRID(ST_MakePoint(x, y), :srid), 4326) AS g "
        "FROM unnest(CAST(:xs AS float8[]), CAST(:ys AS float8[])) WITH ORDINALITY AS t(x, y, ord)) q ORDER BY ord"),
        {"srid": METRIC_SRID, "xs": [p[0] for p in points], "ys": [p[1] for p in points]}).all()
    return [(r[0], r[1]) for r in rows]
