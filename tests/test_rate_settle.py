"""The limiter's small bursts and the adaptive rate's settled ceiling (repeated 429 bursts),
under a fake clock: every instant is an argument."""

from __future__ import annotations

import pytest

from webex_bulk.http.rate import AUTO_START_RATE, RATE_FLOOR, SETTLE_MEMORY, AdaptiveRate
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


# -- slow start (--rate auto) ----------------------------------------------------------------------


def test_auto_doubles_every_busy_second_until_the_first_429() -> None:
    """--rate auto starts at 4/s and doubles after each busy calm second: 256/s within 7 s."""
    rate = AdaptiveRate(0.0)
    assert rate.slow_start
    seen = [rate.rate]
    now = 0.0
    while now < 7.0:
        now += 1.0 / rate.rate
        rate.note_sent(now)
        if rate.on_success(now):
            seen.append(rate.rate)
    assert seen == [AUTO_START_RATE * 2**step for step in range(len(seen))]
    assert seen[-1] >= 256.0


def test_the_first_429_ends_slow_start_at_half_the_rate_that_met_it() -> None:
    """The first burst resumes at half the rate that met it (the last clean one) under a ceiling
    of 90 % of it, and the rest of the burst changes nothing: one probe, one decrease."""
    rate = AdaptiveRate(0.0)
    now = busy(rate, 0.0, 4.0)
    met = rate.rate
    assert rate.on_rate_limited(now=now, sent_at=now)
    for late in range(1, 20):  # answers to requests sent before the decrease
        assert not rate.on_rate_limited(now=now + late * 0.01, sent_at=now - 0.001)
    assert not rate.slow_start
    assert rate.rate == pytest.approx(met * 0.5)
    assert rate.ceiling == pytest.approx(met * 0.9)


def bucket_run(configured: float, limit: float, seconds: float) -> tuple[float, int, int]:
    """A fake server: a token bucket of ``limit`` requests refilled at ``limit``/s, answering
    429 with a 2 s global pause once empty; requests leave at the adaptive rate and are answered
    0.15 s later. Returns the rate at the end, successes after 30 s, and 429s."""
    rate = AdaptiveRate(configured)
    tokens, filled_at, now, resume = limit, 0.0, 0.0, 0.0
    answers: list[tuple[float, float, bool]] = []  # (answered at, sent at, accepted)
    ok_late = limited = 0
    for _ in range(1_000_000):  # bounded: ends at ``seconds``
        now = max(now + 1.0 / rate.rate, resume)
        if now >= seconds:
            break
        while answers and answers[0][0] <= now:
            answered, sent, accepted = answers.pop(0)
            if accepted:
                ok_late += answered >= 30.0
                rate.on_success(answered)
            else:
                limited += 1
                previous, resume = resume, max(resume, answered + 2.0)
                rate.on_rate_limited(answered, sent, previous)
        if now < resume:
            continue
        tokens = min(limit, tokens + (now - filled_at) * limit)
        filled_at = now
        accepted = tokens >= 1.0
        tokens -= accepted
        rate.note_sent(now)
        answers.append((now + 0.15, now, accepted))
    return rate.rate, ok_late, limited


@pytest.mark.parametrize("limit", [2.0, 10.0, 40.0, 150.0, 200.0])
def test_auto_finds_limits_from_2_to_200_per_second(limit: float) -> None:
    """Against a token bucket of 2 to 200 requests per second, --rate auto ends below the limit
    but close to it, with 429s under 2 % of the successes once past the first 30 s."""
    final, ok_late, limited = bucket_run(0.0, limit, 120.0)
    assert 0.8 * limit <= final <= 1.05 * limit
    assert ok_late >= 0.85 * limit * 90.0
    assert limited <= 0.02 * ok_late + 10


def test_a_rate_twice_the_limit_converges() -> None:
    """A fixed rate of twice the limit settles near the limit: after 30 s it gets at least 88 %
    of it."""
    final, ok_late, _ = bucket_run(80.0, 40.0, 120.0)
    assert final <= 1.05 * 40.0
    assert ok_late >= 0.88 * 40.0 * 90.0
