"""The circuit breaker: closed → open → half-open, driven by transient failures of the API.

A pure state machine: every method takes ``now`` (seconds on any monotonic clock); no I/O, no
sleeping. The connection client asks it before each attempt and reports each attempt's verdict.
"""

from __future__ import annotations

import enum

from webex_bulk.config import Settings

#: How long a request waits before asking again while every half-open probe slot is taken.
PROBE_RECHECK = 0.5


class BreakerState(enum.StrEnum):
    """Where the breaker stands."""

    CLOSED = "closed"  # requests flow
    OPEN = "open"  # requests wait at the gate until the cooldown ends
    HALF_OPEN = "half_open"  # `probes` requests may go; their verdicts close or reopen it


class CircuitBreaker:
    """Opens after ``threshold`` consecutive transient failures; probes after a doubling cooldown.

    ``trips`` counts closed → open transitions; a half-open probe failing reopens the breaker with
    a doubled cooldown (capped at ``cooldown_max``) without counting a new trip. ``open_total``
    is the time spent away from closed (open or half-open) over the whole run; once it exceeds
    ``max_open`` the breaker is ``exhausted`` and the run must stop.
    """

    def __init__(
        self, threshold: int, cooldown: float, cooldown_max: float, max_open: float, probes: int
    ) -> None:
        self.threshold = max(1, threshold)
        self.base_cooldown = cooldown
        self.cooldown_max = max(cooldown, cooldown_max)
        self.max_open = max_open
        self.probes = max(1, probes)
        self.trips = 0
        self._state = BreakerState.CLOSED
        self._failures = 0  # consecutive transient failures while closed
        self._cooldown = cooldown  # the current cooldown; doubles on each failed probe
        self._opened_at = 0.0  # start of the current open period
        self._left_closed_at = 0.0  # start of the current stretch away from closed
        self._open_before = 0.0  # seconds away from closed in earlier stretches
        self._probes_out = 0  # half-open probes sent and not yet answered
        self._probe_successes = 0

    @classmethod
    def from_settings(cls, settings: Settings) -> CircuitBreaker:
        """The breaker the ``breaker_*`` settings describe."""
        return cls(
            threshold=settings.breaker_threshold,
            cooldown=settings.breaker_cooldown,
            cooldown_max=settings.breaker_cooldown_max,
            max_open=settings.breaker_max_open,
            probes=settings.breaker_probes,
        )

    def __repr__(self) -> str:
        return (
            f"CircuitBreaker(state={self._state.value!r}, trips={self.trips}, "
            f"failures={self._failures}, cooldown={self._cooldown:g})"
        )

    def state(self, now: float) -> BreakerState:
        """The state at ``now``: an open breaker turns half-open once its cooldown has passed."""
        if self._state is BreakerState.OPEN and now >= self._opened_at + self._cooldown:
            return BreakerState.HALF_OPEN
        return self._state

    def wait_time(self, *, now: float) -> float:
        """Seconds before a request may ask to go (a query: claims nothing); 0.0 means ask now."""
        state = self.state(now)
        if state is BreakerState.CLOSED:
            return 0.0
        if state is BreakerState.OPEN:
            return self._opened_at + self._cooldown - now
        return 0.0 if self._probe_slots_free() > 0 else PROBE_RECHECK

    def acquire(self, *, now: float) -> bool:
        """Claim leave for one request: always while closed, one probe slot while half-open."""
        state = self.state(now)
        if state is BreakerState.CLOSED:
            return True
        if state is BreakerState.OPEN:
            return False
        if self._state is BreakerState.OPEN:  # the cooldown just ended: start probing
            self._state = BreakerState.HALF_OPEN
            self._probes_out = 0
            self._probe_successes = 0
        if self._probe_slots_free() <= 0:
            return False
        self._probes_out += 1
        return True

    def record_success(self, now: float) -> None:
        """An answer that is not a transient failure (2xx, 4xx, 429): the API is alive."""
        state = self.state(now)
        if state is BreakerState.CLOSED:
            self._failures = 0
        elif self._state is BreakerState.HALF_OPEN:
            self._release_probe()
            self._probe_successes += 1
            if self._probe_successes >= self.probes:
                self._close(now)
        # A late answer to a request sent before the breaker opened proves nothing: ignored.

    def record_failure(self, now: float) -> None:
        """A transient failure (5xx, timeout, connection error)."""
        state = self.state(now)
        if state is BreakerState.CLOSED:
            self._failures += 1
            if self._failures >= self.threshold:
                self._trip(now)
        elif self._state is BreakerState.HALF_OPEN:
            self._reopen(now)
        # Already open: a late failure of a request sent before the trip adds nothing.

    def release(self, now: float) -> None:
        """An attempt that passed the gate ended without a verdict (cancelled): free its slot."""
        if self.state(now) is BreakerState.HALF_OPEN:
            self._release_probe()

    def force_open(self, now: float) -> None:
        """Open now whatever the failure count (the retry budget ran out)."""
        state = self.state(now)
        if state is BreakerState.CLOSED:
            self._trip(now)
        elif state is BreakerState.HALF_OPEN:
            self._reopen(now)

    def open_total(self, now: float) -> float:
        """Seconds spent away from closed (open or half-open) so far in this run."""
        if self._state is BreakerState.CLOSED:
            return self._open_before
        return self._open_before + max(0.0, now - self._left_closed_at)

    def exhausted(self, now: float) -> bool:
        """Whether the breaker has been open longer than ``max_open`` in total: stop the run."""
        return self.open_total(now) > self.max_open

    def seconds_to_exhaustion(self, now: float) -> float:
        """Seconds of further open time before ``exhausted`` turns true (never negative)."""
        return max(0.0, self.max_open - self.open_total(now))

    def _trip(self, now: float) -> None:
        self.trips += 1
        self._state = BreakerState.OPEN
        self._opened_at = now
        self._left_closed_at = now
        self._cooldown = self.base_cooldown
        self._failures = 0

    def _reopen(self, now: float) -> None:
        self._state = BreakerState.OPEN
        self._opened_at = now
        self._cooldown = min(self.cooldown_max, max(self._cooldown * 2, self._cooldown))
        self._probes_out = 0
        self._probe_successes = 0

    def _close(self, now: float) -> None:
        self._open_before += max(0.0, now - self._left_closed_at)
        self._state = BreakerState.CLOSED
        self._failures = 0
        self._cooldown = self.base_cooldown
        self._probes_out = 0
        self._probe_successes = 0

    def _probe_slots_free(self) -> int:
        if self._state is BreakerState.OPEN:  # half-open by the clock only: nothing claimed yet
            return self.probes
        return self.probes - self._probes_out - self._probe_successes

    def _release_probe(self) -> None:
        self._probes_out = max(0, self._probes_out - 1)
