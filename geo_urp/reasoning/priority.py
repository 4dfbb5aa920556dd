"""How urgent an incident is: priority 1 (most urgent) to 4, and the reasons, from a readable table.

The starting point is the incident's kind (``BASE``). Each rule of ``RAISES`` that
holds makes it one step more urgent, never past 1:

========================  ============================================================
rule                      holds when
========================  ============================================================
dark at night             a lighting fault whose latest call came between 19:00 and
                          07:00 local time (a dark street at night, not at noon)
near a sensitive place    the fix lies within ``SENSITIVE_M`` of a school, kindergarten,
                          hospital or clinic of the landmarks layer (not for noise and
                          social distress, which are about people, not places)
many callers              ``MANY_CALLS`` or more calls
many households           ``MANY_HOUSEHOLDS`` or more addresses affected (water)
========================  ============================================================

The reasons are message parts (``reasoning.words``), so that each reader reads why in
their language ("priorità 1: al buio di notte, vicino a Scuola primaria").
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from geo_urp import settings
from geo_urp.reasoning import words

BASE = {
    "water_main_burst": 1, "flooding": 1, "social_distress": 1,
    "lighting_cabinet": 2, "lighting_circuit": 2, "water_outage": 2,
    "road_damage": 3, "noise": 3, "other": 3,
    "lamp": 4,
}
LIGHTING = ("lamp", "lighting_circuit", "lighting_cabinet")
NIGHT_FROM_H, NIGHT_UNTIL_H = 19, 7        # local hours: 19:00 up to 06:59
SENSITIVE_KINDS = ("school", "kindergarten", "hospital", "clinic")  # landmarks' ``kind``
SENSITIVE_M = 150.0
PLACE_BLIND = ("noise", "social_distress")  # their urgency is about people, not the place
MANY_CALLS = 5
MANY_HOUSEHOLDS = 50


@dataclass(frozen=True)
class Facts:
    """What the priority is worked out from."""

    kind: str
    last_call_at: datetime | None
    calls: int
    affected_addresses: int | None = None
    sensitive_place: str | None = None   # the name of the nearest sensitive landmark within reach


@dataclass(frozen=True)
class Priority:
    """1 (most urgent) .. 4, with the reasons it is more urgent than its kind alone (message parts)."""

    value: int
    reasons: tuple[words.Part, ...]


def is_night(at: datetime | None) -> bool:
    """Whether ``at`` falls in the night hours of the towns' local time."""
    if at is None:
        return False
    hour = at.astimezone(settings.local_zone()).hour
    return hour >= NIGHT_FROM_H or hour < NIGHT_UNTIL_H


def priority_of(facts: Facts) -> Priority:
    """The priority of an incident with these facts (see the module's table)."""
    reasons = []
    if facts.kind in LIGHTING and is_night(facts.last_call_at):
        reasons.append(words.part("dark_at_night"))
    if facts.sensitive_place and facts.kind not in PLACE_BLIND:
        reasons.append(words.part("near", place=facts.sensitive_place))
    if facts.calls >= MANY_CALLS:
        reasons.append(words.part("many_calls", n=facts.calls))
    if (facts.affected_addresses or 0) >= MANY_HOUSEHOLDS:
        reasons.append(words.part("many_households", n=facts.affected_addresses))
    base = BASE.get(facts.kind, 3)
    return Priority(max(1, base - len(reasons)), tuple(reasons))
