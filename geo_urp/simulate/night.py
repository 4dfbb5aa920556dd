"""A planned night of calls (``scenario.plan_night`` writes it): the calls in time order, and the
ground truth of the faults planted among them, which a replay is scored against."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class PlannedCall:
    """One call: when, what, where (coordinates, and words when the caller gives an address), who."""

    at: datetime
    service_code: str
    lat: float
    lon: float
    address_string: str | None
    description: str
    first_name: str
    last_name: str
    phone: str | None
    email: str | None
    idempotency_key: str
    asset_id: str | None = None  # the lamp, pipe or address the caller means (ground truth)
    fault: int | None = None     # index in ``Night.faults``, None for background


@dataclass(frozen=True)
class PlantedFault:
    """Ground truth of one planted failure and the calls it caused."""

    kind: str
    asset_ids: tuple[str, ...]
    call_indexes: tuple[int, ...]
    valves_to_close: tuple[str, ...] = ()
    affected_segment_nos: tuple[int, ...] = ()
    note: str = ""


@dataclass
class Night:
    """A planned night: calls in time order and the faults behind some of them."""

    municipality_id: int
    seed: int
    start: datetime
    hours: float
    calls: list[PlannedCall] = field(default_factory=list)
    faults: list[PlantedFault] = field(default_factory=list)

    @property
    def background_indexes(self) -> list[int]:
        """Indexes of the calls that belong to no planted fault."""
        return [i for i, c in enumerate(self.calls) if c.fault is None]

    def to_dict(self) -> dict:
        """The plan as JSON-ready data (the ground truth file of a replay)."""
        return {"municipality_id": self.municipality_id, "seed": self.seed,
                "start": self.start.isoformat(), "hours": self.hours,
                "calls": [dict(asdict(c), at=c.at.isoformat()) for c in self.calls],
                "faults": [asdict(f) for f in self.faults]}
