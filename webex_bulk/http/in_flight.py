"""How many requests may be in flight, pure: Little's law over the measured answer latency.

``in flight = ⌈rate × p95 latency × headroom⌉`` within [4, 64]. Latencies come in as arguments;
no clock, no event loop. ``throttle`` applies the limit.
"""

from __future__ import annotations

import collections
import math

from webex_bulk.setting_values import MAX_CONCURRENCY

#: The limit until enough answers were timed (the old fixed default).
INITIAL_IN_FLIGHT = 8
MIN_IN_FLIGHT = 4
MAX_IN_FLIGHT = MAX_CONCURRENCY
#: Room above the p95 latency: the wait for a limiter slot counts as in flight too.
HEADROOM = 1.2
#: Latencies remembered (the most recent ones), and how many new ones between two re-sizings.
WINDOW = 256
RESIZE_EVERY = 16
QUANTILE = 0.95


def in_flight_for(rate: float, latency: float) -> int:
    """Requests in flight that carry ``rate`` per second when answers take ``latency`` s."""
    wanted = math.ceil(rate * latency * HEADROOM)
    return max(MIN_IN_FLIGHT, min(MAX_IN_FLIGHT, wanted))


class LatencyWindow:
    """The latest answer latencies, and the limit of requests in flight they call for."""

    def __init__(self, size: int = WINDOW) -> None:
        self._samples: collections.deque[float] = collections.deque(maxlen=size)
        self._fresh = 0

    def add(self, seconds: float) -> bool:
        """Remember one answer's latency; True when enough new ones came to size again."""
        self._samples.append(max(0.0, seconds))
        self._fresh += 1
        if self._fresh < RESIZE_EVERY:
            return False
        self._fresh = 0
        return True

    def quantile(self) -> float | None:
        """The p95 of the remembered latencies (None before ``RESIZE_EVERY`` answers: too few
        to tell a p95)."""
        if len(self._samples) < RESIZE_EVERY:
            return None
        ordered = sorted(self._samples)
        return ordered[min(len(ordered) - 1, math.ceil(QUANTILE * len(ordered)) - 1)]

    def limit(self, rate: float) -> int:
        """The in-flight limit for ``rate`` at the remembered latencies."""
        latency = self.quantile()
        return INITIAL_IN_FLIGHT if latency is None else in_flight_for(rate, latency)
