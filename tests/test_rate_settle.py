"""The limiter's small bursts and the adaptive rate's settled ceiling (repeated 429 bursts),
under a fake clock: every instant is an argument."""

from __future__ import annotations

import pytest

from webex_bulk.http.rate import RATE_FLOOR, SETTLE_MEMORY, AdaptiveRate
from webex_bulk.http.throttle import new_limiter


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


def penalised_pauses(rate: AdaptiveRate, *, seconds: float, pause: float, echo: bool) -> float:
    """A server that punishes requests sent during its (longer) pause: after each of our pauses
    the first request meets a 429 again, for ``seconds``. ``echo`` tells the rate when each
    pause ended (as the throttle does); the time at the end."""
    now = 0.0
    rate.on_rate_limited(now=now, sent_at=now)
    resumed = now + pause
    for _ in range(1000):  # bounded; the storm ends long before
        sent = resumed + 0.05
        now = sent + 0.05
        if now > seconds:
            break
        rate.note_sent(sent)
        rate.on_rate_limited(now=now, sent_at=sent, resumed_at=resumed if echo else -1e9)
        resumed = now + pause
    return now


def test_the_rate_climbs_back_after_a_penalised_storm() -> None:
    """429s met right after each of our 1 s pauses (the server's pause was longer) push the rate
    to its floor but leave the ceiling: once they stop the rate is back at the configured 10/s
    within 60 calm seconds. Without knowing when the pauses ended, the same storm would settle
    the ceiling at the floor and the rate would stay there."""
    rate = AdaptiveRate(10.0)
    now = penalised_pauses(rate, seconds=30.0, pause=1.0, echo=True)
    assert rate.rate == RATE_FLOOR
    assert rate.ceiling == 10.0
    busy(rate, now, 60.0)
    assert rate.rate == pytest.approx(10.0)
    stuck = AdaptiveRate(10.0)
    now = penalised_pauses(stuck, seconds=30.0, pause=1.0, echo=False)
    busy(stuck, now, 60.0)
    assert stuck.rate < 1.0


def test_a_429_long_after_a_pause_still_settles_the_ceiling() -> None:
    """A second burst met during sustained traffic (well after the last pause ended) settles the
    ceiling below the rate that met it, as before."""
    rate = AdaptiveRate(20.0)
    rate.on_rate_limited(now=0.0, sent_at=0.0)
    met = rate.rate
    rate.on_rate_limited(now=30.0, sent_at=29.9, resumed_at=1.0)
    assert rate.ceiling == pytest.approx(0.9 * met)
