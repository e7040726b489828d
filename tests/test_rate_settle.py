"""The limiter's small bursts and the adaptive rate's settled ceiling (repeated 429 bursts)."""

from __future__ import annotations

import pytest

from webex_bulk.http.client import new_limiter
from webex_bulk.http.retry import SETTLE_MEMORY, AdaptiveRate


def busy(rate: AdaptiveRate, now: float, seconds: float) -> float:
    """Send and succeed at exactly the current rate for ``seconds``; the time at the end."""
    end = now + seconds
    while now < end:
        now += 1.0 / rate.rate
        rate.note_sent(now)
        rate.on_success(now)
    return now


async def test_limiter_bursts_a_tenth_of_a_second_at_most() -> None:
    """At 100/s the limiter lets 10 requests through at once, not 100; below 10/s only one."""
    fast = new_limiter(100.0)
    for _ in range(10):
        await fast.acquire()
    assert not fast.has_capacity()
    slow = new_limiter(5.0)
    await slow.acquire()
    assert not slow.has_capacity()


def test_a_second_burst_soon_after_settles_the_ceiling() -> None:
    """Two 429 bursts a few seconds apart keep a fixed rate below 90 % of the rate that met the
    second one, instead of climbing back into the limit."""
    rate = AdaptiveRate(20.0)
    rate.on_rate_limited(now=0.0, sent_at=0.0)
    assert rate.ceiling == 20.0
    met = rate.rate
    rate.on_rate_limited(now=5.0, sent_at=5.0)
    assert rate.ceiling == pytest.approx(0.9 * met)
    busy(rate, 5.0, SETTLE_MEMORY - 10.0)
    assert rate.rate == pytest.approx(0.9 * met)


def test_an_isolated_burst_climbs_back_to_the_configured_rate() -> None:
    """A single 429 burst long after the previous one lowers the rate but not the ceiling."""
    rate = AdaptiveRate(10.0)
    rate.on_rate_limited(now=0.0, sent_at=0.0)
    now = busy(rate, 0.0, SETTLE_MEMORY + 10.0)
    rate.on_rate_limited(now=now, sent_at=now)
    assert rate.ceiling == 10.0


def test_a_settled_fixed_rate_probes_back_up_after_a_long_calm() -> None:
    """After ``SETTLE_MEMORY`` calm seconds at a settled ceiling, a fixed rate tries one step up;
    ``--rate auto`` never goes back above where it settled."""
    fixed = AdaptiveRate(20.0)
    fixed.on_rate_limited(now=0.0, sent_at=0.0)
    fixed.on_rate_limited(now=1.0, sent_at=1.0)
    settled = fixed.ceiling
    assert settled is not None
    busy(fixed, 1.0, SETTLE_MEMORY + 10.0)
    assert fixed.ceiling is not None
    assert settled < fixed.ceiling <= 20.0
    auto = AdaptiveRate(0.0)
    auto.on_rate_limited(now=0.0, sent_at=0.0)
    auto.on_rate_limited(now=1.0, sent_at=1.0)
    settled = auto.ceiling
    busy(auto, 1.0, 3 * SETTLE_MEMORY)
    assert auto.ceiling == settled
