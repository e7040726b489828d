"""Requests per row by entity type, from the simulator's record of every request and the engine's
record of each row (its type, when a worker took it and when it ended). Pure: no I/O, no clock.

A request belongs to the type whose rows were being worked on when it arrived; a request between
two types' rows (a phase's listings, sent before its first row) to the next type; the requests
before the first row (preflight and the first phase's listings) to ``startup``. Types worked on
at the same time (hunt groups, call queues, auto attendants) are told apart by the route.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from bench_measure import is_retried

STARTUP = "startup"
#: Route fragments that name a type, for requests arriving while several types are worked on.
ROUTE_WORDS = {
    "hunt_group": "huntGroups",
    "call_queue": "queues",
    "auto_attendant": "autoAttendants",
    "schedule": "schedules",
    "number": "numbers",
    "device": "devices",
    "workspace": "workspaces",
    "user": "people",
}


def windows(rows: Sequence[Sequence[Any]]) -> dict[str, tuple[float, float]]:
    """Per entity type: from its first row taken to its last row ended."""
    spans: dict[str, tuple[float, float]] = {}
    for row in rows:
        if len(row) < 4:
            continue
        kind, started, ended = str(row[3]), float(row[0]), float(row[1])
        low, high = spans.get(kind, (started, ended))
        spans[kind] = (min(low, started), max(high, ended))
    return dict(sorted(spans.items(), key=lambda item: item[1][0]))


def kind_of(arrived: float, route: str, spans: Mapping[str, tuple[float, float]]) -> str:
    """The type a request arriving at ``arrived`` on ``route`` is counted to."""
    inside = [kind for kind, (low, high) in spans.items() if low <= arrived <= high]
    if len(inside) > 1:
        named = [kind for kind in inside if ROUTE_WORDS.get(kind, "\0") in route]
        return named[0] if named else inside[0]
    if inside:
        return inside[0]
    later = [kind for kind, (low, _) in spans.items() if low > arrived]
    if not later:
        return list(spans)[-1] if spans else STARTUP
    first = next(iter(spans))
    return STARTUP if later[0] == first else later[0]


def requests_by_kind(
    records: Sequence[Mapping[str, Any]], rows: Sequence[Sequence[Any]]
) -> dict[str, int]:
    """Requests per type (and ``startup``), answers asking for a retry left out as in ``k``."""
    spans = windows(rows)
    counted: Counter[str] = Counter()
    for record in records:
        if not is_retried(record["status"]):
            counted[kind_of(float(record["t"]), str(record.get("route", "")), spans)] += 1
    return dict(counted)


def k_by_kind(
    records: Sequence[Mapping[str, Any]],
    rows: Sequence[Sequence[Any]],
    minimum: Mapping[str, float] | None = None,
) -> dict[str, dict[str, Any]]:
    """Per type: rows done, requests, k, and the type's minimum when given."""
    requests = requests_by_kind(records, rows)
    done = Counter(str(row[3]) for row in rows if len(row) >= 4 and row[2])
    result: dict[str, dict[str, Any]] = {}
    for kind in [*windows(rows), STARTUP]:
        sent = requests.get(kind, 0)
        entry: dict[str, Any] = {"rows": done.get(kind, 0), "requests": sent}
        entry["k"] = round(sent / done[kind], 4) if done.get(kind) else None
        if minimum is not None and kind in minimum:
            entry["k_min"] = round(minimum[kind], 4)
        result[kind] = entry
    return result


def lines(by_kind: Mapping[str, Mapping[str, Any]], title: str) -> list[str]:
    """A small table: type, rows, requests, k, minimum."""
    out = [f"  {title}", f"    {'type':<15}{'rows':>7}{'requests':>10}{'k':>9}{'min':>9}"]
    for kind, entry in by_kind.items():
        k = "–" if entry["k"] is None else f"{entry['k']:.3f}"
        low = f"{entry['k_min']:.3f}" if "k_min" in entry else "–"
        out.append(f"    {kind:<15}{entry['rows']:>7,}{entry['requests']:>10,}{k:>9}{low:>9}")
    return out
