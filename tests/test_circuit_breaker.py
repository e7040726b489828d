"""Circuit breaker transitions under a fake clock (no event loop, no sleeping)."""

from __future__ import annotations

import pytest

from webex_bulk.config import Settings
from webex_bulk.http.breaker import PROBE_RECHECK, BreakerState, CircuitBreaker


def make(
    threshold: int = 3,
    cooldown: float = 30.0,
    cooldown_max: float = 600.0,
    max_open: float = 1800.0,
    probes: int = 1,
) -> CircuitBreaker:
    """A breaker with small, readable numbers."""
    return CircuitBreaker(threshold, cooldown, cooldown_max, max_open, probes)


def trip(breaker: CircuitBreaker, now: float) -> None:
    """Record exactly enough consecutive failures to open a closed breaker."""
    for _ in range(breaker.threshold):
        breaker.record_failure(now)


def test_opens_exactly_at_the_threshold() -> None:
    """Threshold-1 consecutive transient failures keep it closed; one more opens it."""
    breaker = make(threshold=3)
    breaker.record_failure(0.0)
    breaker.record_failure(1.0)
    assert breaker.state(1.0) is BreakerState.CLOSED
    assert breaker.wait_time(now=1.0) == 0.0
    breaker.record_failure(2.0)
    assert breaker.state(2.0) is BreakerState.OPEN
    assert breaker.trips == 1


def test_a_success_resets_the_consecutive_count() -> None:
    """Failures separated by a success never reach the threshold."""
    breaker = make(threshold=2)
    for now in range(10):
        breaker.record_failure(float(now))
        breaker.record_success(float(now))
    assert breaker.state(10.0) is BreakerState.CLOSED
    assert breaker.trips == 0


def test_no_request_may_go_while_open() -> None:
    """While open, wait_time is positive at every instant of the cooldown and counts down."""
    breaker = make(cooldown=30.0)
    trip(breaker, 100.0)
    for step in range(30):
        now = 100.0 + step
        assert breaker.wait_time(now=now) == pytest.approx(30.0 - step)
        assert not breaker.acquire(now=now)
    assert breaker.state(129.999) is BreakerState.OPEN


def test_half_open_lets_exactly_the_probes_through() -> None:
    """After the cooldown the configured number of probes go; the others wait a recheck."""
    breaker = make(cooldown=10.0, probes=2)
    trip(breaker, 0.0)
    assert breaker.state(10.0) is BreakerState.HALF_OPEN
    assert breaker.acquire(now=10.0)
    assert breaker.acquire(now=10.0)
    assert not breaker.acquire(now=10.0)
    assert breaker.wait_time(now=10.0) == PROBE_RECHECK


def test_asking_the_wait_claims_no_probe_slot() -> None:
    """wait_time is a query: asked any number of times in half-open it says 'go' and leaves the
    one probe slot to the request that acquires it."""
    breaker = make(cooldown=10.0, probes=1)
    trip(breaker, 0.0)
    assert [breaker.wait_time(now=10.0) for _ in range(5)] == [0.0] * 5
    assert breaker.acquire(now=10.0)
    assert breaker.wait_time(now=10.0) == PROBE_RECHECK
    assert not breaker.acquire(now=10.0)


def test_from_settings_reads_the_breaker_settings() -> None:
    """The breaker built from settings opens at breaker_threshold and waits breaker_cooldown."""
    breaker = CircuitBreaker.from_settings(Settings(breaker_threshold=2, breaker_cooldown=7.0))
    trip(breaker, 0.0)
    assert breaker.trips == 1
    assert breaker.wait_time(now=0.0) == pytest.approx(7.0)


def test_probe_successes_close_it() -> None:
    """All probes succeeding closes the breaker; one success of two is not enough."""
    breaker = make(cooldown=10.0, probes=2)
    trip(breaker, 0.0)
    assert breaker.acquire(now=10.0)
    assert breaker.acquire(now=10.0)
    breaker.record_success(10.5)
    assert breaker.state(10.5) is BreakerState.HALF_OPEN
    breaker.record_success(11.0)
    assert breaker.state(11.0) is BreakerState.CLOSED
    assert breaker.wait_time(now=11.0) == 0.0


def test_a_failed_probe_reopens_with_a_doubled_cooldown_up_to_the_cap() -> None:
    """Each failed probe doubles the cooldown (30, 60, 120) until cooldown_max (100)."""
    breaker = make(cooldown=30.0, cooldown_max=100.0, max_open=10_000.0)
    trip(breaker, 0.0)
    now = 30.0
    waits = []
    for _ in range(3):
        assert breaker.acquire(now=now)
        breaker.record_failure(now)
        waits.append(breaker.wait_time(now=now))
        now += waits[-1]
    assert waits == [60.0, 100.0, 100.0]
    assert breaker.trips == 1


def test_cooldown_resets_after_closing() -> None:
    """A breaker that closed again starts its next open period with the base cooldown."""
    breaker = make(cooldown=10.0)
    trip(breaker, 0.0)
    assert breaker.acquire(now=10.0)
    breaker.record_failure(10.0)  # cooldown now 20
    assert breaker.acquire(now=30.0)
    breaker.record_success(30.0)
    trip(breaker, 40.0)
    assert breaker.wait_time(now=40.0) == pytest.approx(10.0)
    assert breaker.trips == 2


def test_answers_recorded_as_success_never_trip_it() -> None:
    """However many non-transient answers (the client records 4xx and 429 so), it stays closed."""
    breaker = make(threshold=1)
    for now in range(1000):
        breaker.record_success(float(now))
    assert breaker.state(1000.0) is BreakerState.CLOSED
    assert breaker.trips == 0


def test_open_total_accumulates_across_open_periods() -> None:
    """open_total adds up every stretch away from closed, and only those."""
    breaker = make(cooldown=10.0)
    trip(breaker, 0.0)
    assert breaker.acquire(now=10.0)
    breaker.record_success(12.0)  # away from closed for 12 s
    assert breaker.open_total(50.0) == pytest.approx(12.0)
    trip(breaker, 100.0)
    assert breaker.open_total(105.0) == pytest.approx(17.0)


def test_exhausted_after_max_open() -> None:
    """The breaker is exhausted only once it has been open longer than max_open in total."""
    breaker = make(cooldown=10.0, cooldown_max=10.0, max_open=25.0)
    trip(breaker, 0.0)
    assert not breaker.exhausted(25.0)
    assert breaker.seconds_to_exhaustion(20.0) == pytest.approx(5.0)
    assert breaker.exhausted(25.5)


def test_force_open_trips_a_closed_breaker_and_restarts_a_probing_one() -> None:
    """force_open opens a closed breaker (a trip) and sends a half-open one back to open."""
    breaker = make(cooldown=10.0)
    breaker.force_open(0.0)
    assert breaker.state(0.0) is BreakerState.OPEN
    assert breaker.trips == 1
    assert breaker.acquire(now=10.0)
    breaker.force_open(10.0)
    assert breaker.state(10.0) is BreakerState.OPEN
    assert breaker.trips == 1
    breaker.force_open(11.0)  # already open: nothing changes
    assert breaker.wait_time(now=11.0) == pytest.approx(19.0)


def test_release_gives_a_cancelled_probe_slot_back() -> None:
    """A probe that ended without a verdict frees its slot for the next request."""
    breaker = make(cooldown=10.0, probes=1)
    trip(breaker, 0.0)
    assert breaker.acquire(now=10.0)
    assert breaker.wait_time(now=10.0) == PROBE_RECHECK
    assert not breaker.acquire(now=10.0)
    breaker.release(10.1)
    assert breaker.wait_time(now=10.2) == 0.0
    assert breaker.acquire(now=10.2)


def test_late_answers_while_open_change_nothing() -> None:
    """Answers of requests sent before the trip neither close nor extend an open breaker."""
    breaker = make(cooldown=10.0)
    trip(breaker, 0.0)
    breaker.record_success(1.0)
    breaker.record_failure(2.0)
    assert breaker.state(5.0) is BreakerState.OPEN
    assert breaker.wait_time(now=5.0) == pytest.approx(5.0)


def test_repr_shows_state_and_counts() -> None:
    """The repr names the state and trips (useful in logs and test failures)."""
    breaker = make()
    trip(breaker, 0.0)
    assert "open" in repr(breaker)
    assert "trips=1" in repr(breaker)
