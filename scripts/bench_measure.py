"""The benchmark's figures, from what the simulator saw (every request's arrival time and answer)
and what the client recorded (each row's start and end). Pure: no I/O, no clock.

Every time is ``time.monotonic`` of this machine, which all processes share.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import attrs

PROJECTED_ROWS = (10_000, 50_000, 200_000)
#: A steady window shorter than this says nothing about a rate: the run's average is used.
MIN_WINDOW = 5.0
RETRIED_STATUSES = frozenset({"429", "423", "dropped"})


@attrs.frozen
class RunTimes:
    """When a client run started, was told to stop (inf: ran to its end) and ended."""

    launched: float
    stop: float
    ended: float


@attrs.frozen
class Usage:
    """CPU seconds and peak resident memory of the client process."""

    cpu_seconds: float
    peak_rss_mb: float


def is_success(status: Any) -> bool:
    """A 2xx answer."""
    return str(status).startswith("2")


def is_retried(status: Any) -> bool:
    """An answer that asks for the request again: 429, 423, 5xx, a dropped connection."""
    text = str(status)
    return text in RETRIED_STATUSES or text.startswith("5")


def percentile(values: Sequence[float], share: float) -> float | None:
    """Nearest-rank percentile (``share`` in 0..1); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(share * len(ordered)))
    return ordered[rank - 1]


def steady_window(
    arrivals: Sequence[float], times: RunTimes, warmup: float
) -> tuple[float, float] | None:
    """``[first arrival + warmup, stop or last arrival]``, or None when shorter than
    ``MIN_WINDOW`` (a run that ended before its initial burst was over)."""
    if not arrivals:
        return None
    start = min(arrivals) + warmup
    end = min(times.stop, max(arrivals))
    return (start, end) if end - start >= MIN_WINDOW else None


def figures(
    records: Sequence[Mapping[str, Any]],
    rows: Sequence[Sequence[Any]],
    times: RunTimes,
    *,
    warmup: float,
    rate_limit: float,
    k_min: float | None,
    usage: Usage,
) -> dict[str, Any]:
    """Every reported figure of one client run (see ``docs/performance.md`` for definitions)."""
    arrivals = [float(r["t"]) for r in records]
    window = steady_window(arrivals, times, warmup)
    sent = len(records)
    successes = sum(1 for r in records if is_success(r["status"]))
    limited = sum(1 for r in records if str(r["status"]) in ("429", "423"))
    retried = sum(1 for r in records if is_retried(r["status"]))
    done = [row for row in rows if row[2]]
    useful = sent - retried
    latencies = [float(row[1]) - float(row[0]) for row in done]
    result: dict[str, Any] = {
        "rows_done": len(done),
        "rows_failed": len(rows) - len(done),
        "requests": sent,
        "successes": successes,
        "rate_limited": limited,
        "retried_answers": retried,
        "rate_limited_per_success": _ratio(limited, successes),
        "k": _ratio(useful, len(done)),
        "retry_overhead": _ratio(sent, k_min * len(done)) if k_min else None,
        "row_latency_p50": percentile(latencies, 0.50),
        "row_latency_p99": percentile(latencies, 0.99),
        "cpu_seconds": round(usage.cpu_seconds, 2),
        "peak_rss_mb": round(usage.peak_rss_mb, 1),
        "duration": round(times.ended - times.launched, 2),
    }
    result.update(_rates(records, done, times, window, rate_limit))
    return result


def _rates(
    records: Sequence[Mapping[str, Any]],
    done: Sequence[Sequence[Any]],
    times: RunTimes,
    window: tuple[float, float] | None,
    rate_limit: float,
) -> dict[str, Any]:
    """Successful requests per second in the steady window (over the whole run without one);
    rows per hour in the steady window of a time-boxed run, over the whole run (launch to exit,
    start-up included) of a run that reached the end of its file."""
    whole = max(times.ended - times.launched, 1e-9)
    if window is None:
        span = whole
        per_second = sum(1 for r in records if is_success(r["status"])) / span
    else:
        start, end = window
        span = end - start
        ok = sum(1 for r in records if is_success(r["status"]) and start <= float(r["t"]) < end)
        per_second = ok / span
    finished = times.ended < times.stop
    if window is None or finished:
        rows_per_hour = len(done) / whole * 3600
        measured = "whole run"
    else:
        rows_per_hour = sum(1 for row in done if start <= float(row[1]) < end) / span * 3600
        measured = f"steady {span:.0f} s"
    return {
        "measured_over": measured,
        "window_seconds": round(span, 2),
        "rows_per_hour": round(rows_per_hour),
        "success_rps": round(per_second, 3),
        "efficiency": round(per_second / rate_limit, 3) if rate_limit and window else None,
        "projected_hours": {
            str(n): (round(n / rows_per_hour, 2) if rows_per_hour else None) for n in PROJECTED_ROWS
        },
    }


def _ratio(numerator: float, denominator: float) -> float | None:
    return round(numerator / denominator, 4) if denominator else None
