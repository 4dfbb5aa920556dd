"""The thresholds of incident reasoning, with defaults and per-municipality overrides.

A municipality may override any value through its ``rules`` JSON (for example
``{"lighting": {"circuit_min_lamps": 4}, "clusters": {"flooding": {"distance_m": 200}}}``);
what it does not set keeps the default below.
"""
from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from functools import lru_cache

from geo_urp.errors import BadInput

DEFAULTS: dict = {
    "lighting": {
        # A circuit has failed when this many distinct lamps of it are reported in the window...
        "circuit_min_lamps": 3,
        # ...or this share of its lamps (counted only from two distinct lamps up).
        "circuit_min_share": 0.30,
        "window_h": 12,
        # A cabinet has failed when this many of its circuits have failed in the window.
        "cabinet_min_circuits": 2,
    },
    "water": {
        # Calls about one water problem must fall within this window of each other.
        "window_h": 12,
        # A leak call joins a burst whose suspected pipes lie this close.
        "leak_join_m": 150,
        # An address counts for the segment of its nearest main within this distance: the same
        # reach as the intake's snapping of a call to a main (setting SNAP_PIPE_MAX_M, 80 m).
        "address_buffer_m": 80,
        # A no-water call joins an outage when one failure explains both with a dry
        # area of at most max(outage_min_spread, outage_spread x reported segments).
        "outage_spread": 3,
        "outage_min_spread": 4,
    },
    # Space-time clustering for services without a network: a report joins an
    # incident with a report of the same service within distance_m and window_h.
    "clusters": {
        "flooding": {"distance_m": 150, "window_h": 3},
        "road_damage": {"distance_m": 30, "window_h": 24 * 30},
        "noise": {"distance_m": 15, "window_h": 24 * 7},
        "social_distress": {"distance_m": 50, "window_h": 24},
        # Water calls with no main within reach: grouped like the network's window.
        "water_unlocated": {"distance_m": 150, "window_h": 12},
        "default": {"distance_m": 100, "window_h": 24},
    },
    # A call on the asset of an incident resolved this recently reopens it (the fix did not hold).
    "reopen": {"within_h": 48},
    # Services that never make an incident (a town's list adds to ALWAYS_NO_INCIDENT).
    "no_incident": ["info_request"],
}
# A question is not a fault, whatever a town's rules say.
ALWAYS_NO_INCIDENT = frozenset({"info_request"})


def _merge(base: dict, override: dict) -> dict:
    out = copy.deepcopy(base)
    for key, value in (override or {}).items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


@dataclass(frozen=True)
class Rules:
    """The effective rules of one municipality."""

    values: dict

    @property
    def lighting(self) -> dict:
        return self.values["lighting"]

    @property
    def water(self) -> dict:
        return self.values["water"]

    @property
    def reopen(self) -> dict:
        return self.values["reopen"]

    def cluster(self, service_code: str) -> dict:
        """Distance and window for clustering reports of ``service_code``."""
        clusters = self.values["clusters"]
        return clusters.get(service_code, clusters["default"])

    def makes_incident(self, service_code: str) -> bool:
        """Information requests never make an incident; a town's ``no_incident`` adds to that."""
        return service_code not in ALWAYS_NO_INCIDENT and service_code not in self.values["no_incident"]


def rules_for(overrides: dict | None) -> Rules:
    """Defaults with a municipality's overrides applied.

    Made once per distinct set of overrides and shared (every call asks for its town's
    rules, and merging copies the defaults): read them, never change them.
    """
    return _rules_for(json.dumps(overrides or {}, sort_keys=True))


@lru_cache(maxsize=64)
def _rules_for(overrides_json: str) -> Rules:
    return Rules(_merge(DEFAULTS, json.loads(overrides_json)))


def check_overrides(overrides: object, path: str = "", base: object = DEFAULTS) -> dict:
    """Refuse overrides the rules cannot use, naming the first wrong entry; return them unchanged.

    Every key must be one of the defaults' (a new ``clusters`` entry, for a service
    code, needs ``distance_m`` and ``window_h``), numbers must be positive numbers,
    a share at most 1, and ``no_incident`` a list of service codes.
    """
    where = path or "rules"
    if isinstance(base, dict):
        if not isinstance(overrides, dict):
            raise BadInput(f"{where} must be an object")
        for key, value in overrides.items():
            sub = f"{path}.{key}" if path else key
            if key in base:
                check_overrides(value, sub, base[key])
            elif path == "clusters":
                check_overrides(value, sub, DEFAULTS["clusters"]["default"])
                missing = {"distance_m", "window_h"} - set(value)
                if missing:
                    raise BadInput(f"{sub} needs {' and '.join(sorted(missing))}")
            else:
                raise BadInput(f"{sub} is not a rule (known here: {', '.join(sorted(base))})")
        return overrides
    if isinstance(base, list):
        if not isinstance(overrides, list) or not all(isinstance(v, str) and v for v in overrides):
            raise BadInput(f"{where} must be a list of service codes")
        return overrides
    if isinstance(overrides, bool) or not isinstance(overrides, (int, float)) or not overrides > 0:
        raise BadInput(f"{where} must be a positive number, not {overrides!r}")
    if isinstance(base, int) and not isinstance(overrides, int):
        raise BadInput(f"{where} must be a whole number, not {overrides!r}")
    if path.endswith("_share") and overrides > 1:
        raise BadInput(f"{where} is a share of the circuit's lamps: at most 1, not {overrides!r}")
    return overrides
