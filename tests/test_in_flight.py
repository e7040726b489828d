"""Requests in flight sized from the measured latency (Little's law), and the resizable gate that
applies the size; latencies are arguments, no clock is read."""

from __future__ import annotations

import asyncio

import pytest

from webex_bulk.config import Settings
from webex_bulk.http.in_flight import (
    INITIAL_IN_FLIGHT,
    MAX_IN_FLIGHT,
    MIN_IN_FLIGHT,
    RESIZE_EVERY,
    LatencyWindow,
    in_flight_for,
)
from webex_bulk.http.throttle import InFlightGate, Throttle


@pytest.mark.parametrize(
    ("rate", "latency", "expected"),
    [(10.0, 0.5, 6), (10.0, 2.5, 30), (1.0, 0.1, MIN_IN_FLIGHT), (200.0, 2.0, MAX_IN_FLIGHT)],
)
def test_in_flight_is_rate_times_latency_with_headroom(
    rate: float, latency: float, expected: int
) -> None:
    """⌈rate × latency × 1.2⌉ requests in flight, never below 4 nor above 64."""
    assert in_flight_for(rate, latency) == expected


def test_the_window_sizes_from_its_p95_once_it_has_enough_answers() -> None:
    """Until 16 answers are timed the limit is the old default of 8; then it follows the p95 of
    the remembered latencies, not their mean: one slow answer in twenty counts."""
    window = LatencyWindow()
    for _ in range(RESIZE_EVERY - 1):
        assert not window.add(0.1)
    assert window.limit(10.0) == INITIAL_IN_FLIGHT
    assert window.add(0.1)
    assert window.limit(10.0) == MIN_IN_FLIGHT
    for index in range(4 * RESIZE_EVERY):
        window.add(2.0 if index % 10 == 0 else 0.1)
    assert window.quantile() == 2.0
    assert window.limit(10.0) == 24


def faster_answers(throttle: Throttle, latency: float) -> None:
    """Report ``RESIZE_EVERY`` answers of ``latency`` seconds."""
    for _ in range(RESIZE_EVERY):
        throttle.answered(latency)


def test_the_throttle_follows_latency_unless_concurrency_is_pinned() -> None:
    """Without --concurrency the gate grows with the latency (800 ms at 10/s: 31 in flight);
    with --concurrency 8 it stays at 8."""
    clock = lambda: 0.0  # noqa: E731 - a fixed instant is enough here

    async def sleep(seconds: float) -> None:
        raise AssertionError("no wait expected")

    sized = Throttle(Settings(rate=10.0), clock=clock, sleep=sleep)
    assert sized.in_flight_limit == INITIAL_IN_FLIGHT
    faster_answers(sized, 2.5)
    assert sized.in_flight_limit == 30
    pinned = Throttle(Settings(rate=10.0, concurrency=8), clock=clock, sleep=sleep)
    faster_answers(pinned, 2.5)
    assert pinned.in_flight_limit == 8


async def test_the_gate_admits_waiters_when_it_grows() -> None:
    """Holders up to the limit pass at once; a waiter passes when the limit grows."""
    gate = InFlightGate(1)
    await gate.acquire()
    waiter = asyncio.ensure_future(gate.acquire())
    await asyncio.sleep(0)
    assert not waiter.done()
    gate.resize(2)
    await waiter
    assert gate.in_flight == 2


async def test_a_cancelled_waiter_gives_its_place_back() -> None:
    """A wait cancelled after its place was handed over releases it; one cancelled before leaves
    the queue: either way the next waiter gets in."""
    gate = InFlightGate(1)
    await gate.acquire()
    handed = asyncio.ensure_future(gate.acquire())
    queued = asyncio.ensure_future(gate.acquire())
    await asyncio.sleep(0)
    gate.release()  # the place goes to ``handed``, which is cancelled before it runs
    handed.cancel()
    with pytest.raises(asyncio.CancelledError):
        await handed
    await queued
    assert gate.in_flight == 1


async def test_a_row_holds_one_place_for_all_its_requests() -> None:
    """Requests made inside a held place (a worker's row) take no second place, so a row never
    waits on itself even when the gate is full; the place is free again afterwards."""

    async def sleep(seconds: float) -> None:
        raise AssertionError("no wait expected")

    throttle = Throttle(Settings(rate=10.0, concurrency=1), clock=lambda: 0.0, sleep=sleep)
    async with throttle.in_flight():
        assert throttle.gate.in_flight == 1
        async with throttle.in_flight():
            assert throttle.gate.in_flight == 1
    assert throttle.gate.in_flight == 0
