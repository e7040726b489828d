"""What the simulator has seen: requests by method, route and status (with recent arrival times),
and successful creates by entity type and natural key. Read through ``/_sim/counts`` and
``/_sim/creates``.
"""

from __future__ import annotations

import collections
from typing import Any

import attrs

from webex_bulk.simulator.faults import WRITE_METHODS


@attrs.frozen
class RequestRecord:
    """One request: arrival time on the server's monotonic clock, method, route and status
    (``"dropped"`` when the connection was closed without an answer)."""

    t: float
    method: str
    route: str
    status: int | str


class RequestLedger:
    """Request counters plus the most recent requests, oldest first."""

    def __init__(self, keep: int) -> None:
        self.total = 0
        self.writes = 0
        self.by_method: collections.Counter[str] = collections.Counter()
        self.by_route: collections.Counter[str] = collections.Counter()
        self.by_status: collections.Counter[str] = collections.Counter()
        self.recent: collections.deque[RequestRecord] = collections.deque(maxlen=keep)

    def record(self, arrived: float, method: str, route: str, status: int | str) -> None:
        """Count one request under ``/v1``; ``route`` is its route template."""
        self.total += 1
        if method in WRITE_METHODS and route != "/v1/access_token":
            self.writes += 1
        self.by_method[method] += 1
        self.by_route[f"{method} {route}"] += 1
        self.by_status[str(status)] += 1
        self.recent.append(RequestRecord(arrived, method, route, status))

    def snapshot(self) -> dict[str, Any]:
        """The ``/_sim/counts`` body."""
        return {
            "total": self.total,
            "writes": self.writes,
            "by_method": dict(self.by_method),
            "by_route": dict(self.by_route),
            "by_status": dict(self.by_status),
            "recent": [attrs.asdict(record) for record in self.recent],
        }


class CreateLedger:
    """Successful creates per entity type and natural key (a count above 1 is a duplicate)."""

    TYPES = (
        "people",
        "locations",
        "workspaces",
        "features",
        "schedules",
        "numbers",
        "devices",
        "virtualLines",
        "activationCodes",
        "moveJobs",
    )

    def __init__(self) -> None:
        self._counts: dict[str, collections.Counter[str]] = {
            kind: collections.Counter() for kind in self.TYPES
        }

    def record(self, kind: str, *key_parts: str) -> None:
        """Count a committed create; a composite key is joined with ``|``."""
        self._counts[kind]["|".join(key_parts)] += 1

    def snapshot(self) -> dict[str, Any]:
        """The ``/_sim/creates`` body."""
        body: dict[str, Any] = {kind: dict(counts) for kind, counts in self._counts.items()}
        body["duplicates"] = {
            kind: {key: count for key, count in counts.items() if count > 1}
            for kind, counts in self._counts.items()
            if any(count > 1 for count in counts.values())
        }
        return body
