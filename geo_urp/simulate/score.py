"""After a replay: did the service find each planted fault? Asked of the service itself.

The night is planned on the layers of the local database; the calls go to the
service at ``--url``. Reading the incidents back from that service (``GET
/api/incidents``) and checking each planted fault against them tells whether the
service found the causes, and also whether both sides hold the same town: a
service with other layers snaps the calls to other assets and finds other causes.
"""
from __future__ import annotations

from dataclasses import dataclass

import requests

from geo_urp.errors import BadInput
from geo_urp.reasoning.responsibility import SKILL
from geo_urp.simulate.night import Night


@dataclass(frozen=True)
class FaultCheck:
    """One planted fault against what the service made of its calls (empty ``problems``: found)."""

    kind: str
    asset: str
    problems: tuple[str, ...]

    @property
    def found(self) -> bool:
        return not self.problems


def check_faults(night: Night, ids: dict[int, str], features: list[dict]) -> list[FaultCheck]:
    """Each planted fault: one incident holding exactly its calls, of its kind, on its asset, with
    its valves, and a crew named when its kind has one (which crew is the town's crew areas' say:
    the service's own data, not the plan's)."""
    incident_of = {rid: f["properties"] for f in features for rid in f["properties"].get("report_ids", [])}
    checks = []
    for fault in night.faults:
        calls = {ids[i] for i in fault.call_indexes if i in ids}
        found = {incident_of[r]["id"]: incident_of[r] for r in calls if r in incident_of}
        problems = []
        if len(calls) < len(fault.call_indexes):
            problems.append(f"{len(fault.call_indexes) - len(calls)} of its calls were not taken")
        if len(found) != 1:
            problems.append(f"its calls are in {len(found)} incidents ({', '.join(map(str, sorted(found)))})"
                            if found else "none of its calls is in an incident")
        else:
            inc = next(iter(found.values()))
            if inc["kind"] != fault.kind:
                problems.append(f"incident {inc['id']} is a {inc['kind']}")
            if fault.asset_ids and inc["asset_ids"][:1] != list(fault.asset_ids[:1]):
                problems.append(f"incident {inc['id']} points at {', '.join(inc['asset_ids']) or 'no asset'}")
            if set(inc["valves_to_close"]) != set(fault.valves_to_close):
                problems.append(f"incident {inc['id']} closes {', '.join(inc['valves_to_close']) or 'no valve'}")
            skill = SKILL.get(inc["kind"])
            if skill is not None and inc.get("crew_id") is None:
                problems.append(f"incident {inc['id']} names no {skill} crew")
            extra = set(inc["report_ids"]) - calls
            if extra:
                problems.append(f"incident {inc['id']} also holds {len(extra)} other call(s)")
        checks.append(FaultCheck(fault.kind, " ".join(fault.asset_ids) or fault.note, tuple(problems)))
    return checks


def incidents_of(url: str, key: str, jurisdiction_id: str, http: requests.Session | None = None) -> list[dict]:
    """The open incidents of a town, read from the service (an operator key sees their calls)."""
    response = (http or requests.Session()).get(
        url.rstrip("/") + "/api/incidents", params={"jurisdiction_id": jurisdiction_id},
        headers={"X-API-Key": key, "Accept": "application/geo+json"}, timeout=60)
    if response.status_code != 200:
        raise BadInput(f"the service answered {response.status_code} to GET /api/incidents: "
                       f"{response.text[:200]} (the key must be an operator's)")
    return response.json()["features"]
