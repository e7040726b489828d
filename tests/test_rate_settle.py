"""The limiter's small bursts and the adaptive rate's settled ceiling (a 429 settles it at the
server's proven rate), under a fake clock: every instant is an argument."""

from __future__ import annotations

import heapq
import math

import attrs
import pytest

from webex_bulk.http.limit import SendHistory
from webex_bulk.http.rate import (
    AUTO_START_RATE,
    PROBE_CALM,
    PROBE_PAUSES,
    RATE_FLOOR,
    SETTLE_SHARE,
    AdaptiveRate,
)
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


def test_the_send_history_proves_the_rate_of_a_one_second_bucket() -> None:
    """Requests at 15/s into a full bucket of one second of 10/s meet the first 429 after 2 s,
    having had 30 accepted: the history proves 10/s, whatever came before the bucket was full."""
    history = SendHistory()
    for i in range(20):  # 2/s for 10 s: the bucket stays full
        history.note(i * 0.5)
    start = 10.0
    for i in range(30):
        history.note(start + i / 15.0)
    proven = history.estimate(since=-1.0, rejected_at=start + 2.0)
    assert proven == pytest.approx(10.0, rel=0.03)
    assert history.estimate(since=start + 2.0, rejected_at=start + 2.0) is None


def test_an_isolated_burst_costs_little_and_the_probe_climbs_back() -> None:
    """A single 429 after minutes at the configured 10/s (another tool on the token for a
    moment) settles the ceiling just below the rate that met it, and the probes bring the rate
    back to 10/s, never above."""
    rate = AdaptiveRate(10.0)
    now = busy(rate, 0.0, 200.0)
    rate.on_rate_limited(now=now, sent_at=now, pause=1.0)
    assert rate.ceiling is not None
    assert 0.95 * 10.0 <= rate.ceiling < 10.0
    busy(rate, now, 10 * PROBE_CALM)
    assert rate.rate == pytest.approx(10.0)


def test_probes_wait_longer_when_the_server_pauses_longer() -> None:
    """After a burst with a 2 s pause the ceiling rises only after ``PROBE_CALM`` calm seconds;
    after a 10 s pause only after 50 pauses' worth (each failed probe costs one pause), and
    ``--rate auto`` probes too."""
    for pause in (2.0, 10.0):
        rate = AdaptiveRate(0.0)
        now = busy(rate, 0.0, 30.0)
        rate.on_rate_limited(now=now, sent_at=now, pause=pause)
        settled = rate.ceiling
        assert settled is not None
        wait = max(PROBE_CALM, PROBE_PAUSES * pause)
        now = busy(rate, now, wait - 5.0)
        assert rate.ceiling == settled
        busy(rate, now, 10.0)
        assert rate.ceiling is not None
        assert rate.ceiling > settled


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
    within 60 calm seconds. Without knowing when the pauses ended the ceiling stays too, since a
    429 with nothing accepted since the previous one proves no rate."""
    for echo in (True, False):
        rate = AdaptiveRate(10.0)
        now = penalised_pauses(rate, seconds=30.0, pause=1.0, echo=echo)
        assert rate.rate == RATE_FLOOR
        assert rate.ceiling == 10.0
        busy(rate, now, 60.0)
        assert rate.rate == pytest.approx(10.0)


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


def test_the_first_429_settles_auto_in_one_step() -> None:
    """The first burst ends slow start with the rate and ceiling at 97 % of the rate the accepted
    requests prove, and the rest of the burst changes nothing: one probe, one decrease."""
    rate = AdaptiveRate(0.0)
    now = busy(rate, 0.0, 4.0)
    assert rate.on_rate_limited(now=now, sent_at=now)
    assert rate.estimate is not None
    assert rate.estimate < rate.rate / SETTLE_SHARE * 1.0001
    for late in range(1, 20):  # answers to requests sent before the decrease
        assert not rate.on_rate_limited(now=now + late * 0.01, sent_at=now - 0.001)
    assert not rate.slow_start
    assert rate.rate == rate.ceiling == pytest.approx(SETTLE_SHARE * rate.estimate)


def test_a_first_429_that_proves_nothing_halves_the_rate() -> None:
    """A 429 for the very first request (nothing accepted yet) resumes at half the rate under a
    ceiling of 90 % of it, as slow start did before it could measure."""
    rate = AdaptiveRate(0.0)
    rate.note_sent(0.0)
    assert rate.on_rate_limited(now=0.1, sent_at=0.0)
    assert rate.rate == pytest.approx(AUTO_START_RATE * 0.5)
    assert rate.ceiling == pytest.approx(AUTO_START_RATE * 0.9)


@attrs.frozen
class BucketRun:
    """What a fake server saw of one run: its limit and the answers by time."""

    limit: float
    ok_at: list[float]
    bursts: list[float]  # when each 429 burst met the rate (one per decrease)
    rate_limited: int
    final: float

    def efficiency(self, start: float, end: float) -> float:
        """Successes per second in ``[start, end)`` as a share of the limit."""
        ok = sum(1 for t in self.ok_at if start <= t < end)
        return ok / (end - start) / self.limit


def bucket_run(
    configured: float, limit: float, seconds: float, *, pause: float = 2.0, burst: float = 1.0
) -> BucketRun:
    """A fake server: a token bucket of ``burst`` seconds of ``limit`` (at least one request)
    refilled at ``limit``/s, answering 429 at once with a ``pause`` s global pause once empty;
    requests leave at the adaptive rate and are accepted answers come 0.15 s later."""
    rate = AdaptiveRate(configured)
    capacity = max(1.0, float(math.ceil(limit * burst)))
    tokens, filled_at, now, resume = capacity, 0.0, 0.0, -math.inf
    answers: list[tuple[float, float, bool]] = []  # heap of (answered at, sent at, accepted)
    ok_at: list[float] = []
    bursts: list[float] = []
    limited = 0
    for _ in range(1_000_000):  # bounded: ends at ``seconds``
        now = max(now + 1.0 / rate.rate, resume, 0.0)
        if now >= seconds:
            break
        while answers and answers[0][0] <= now:
            answered, sent, accepted = heapq.heappop(answers)
            if accepted:
                ok_at.append(answered)
                rate.on_success(answered)
                continue
            limited += 1
            previous, resume = resume, max(resume, answered + pause)
            before = rate.rate
            rate.on_rate_limited(answered, sent, previous, pause)
            if rate.rate < before:
                bursts.append(answered)
        if now < resume:
            continue
        tokens = min(capacity, tokens + (now - filled_at) * limit)
        filled_at = now
        accepted = tokens >= 1.0
        tokens -= accepted
        rate.note_sent(now)
        heapq.heappush(answers, (now + (0.15 if accepted else 0.01), now, accepted))
    return BucketRun(limit, ok_at, bursts, limited, rate.rate)


LIMITS = [2.0, 10.0, 40.0, 150.0, 200.0]


@pytest.mark.parametrize("limit", LIMITS)
@pytest.mark.parametrize("twice", [False, True], ids=["auto", "2R"])
def test_the_limit_is_met_once_and_held(limit: float, twice: bool) -> None:
    """Against a one-second token bucket of 2 to 200 requests per second, --rate auto and a
    rate set to twice the limit meet it in one 429 burst within 10 s, then hold at least 0.95 of
    it from 15 s on (and from 15 to 25 s) with no second burst before the first probe."""
    run = bucket_run(2 * limit if twice else 0.0, limit, 100.0)
    assert len(run.bursts) == 1
    assert run.bursts[0] < 10.0
    assert run.efficiency(15.0, 25.0) >= 0.95
    assert run.efficiency(15.0, 100.0) >= 0.95
    assert 0.95 * limit <= run.final <= limit
    assert run.rate_limited <= 0.01 * len(run.ok_at) + 1


@pytest.mark.parametrize("limit", LIMITS)
def test_a_long_run_stays_near_the_limit_with_few_429s(limit: float) -> None:
    """Over ten minutes, probes included, --rate auto keeps at least 0.96 of the limit from 15 s
    on with 429s under 1 % of the successes."""
    run = bucket_run(0.0, limit, 600.0)
    assert run.efficiency(15.0, 600.0) >= 0.96
    assert run.rate_limited <= 0.01 * len(run.ok_at)


@pytest.mark.parametrize(("burst", "share"), [(0.25, 0.75), (3.0, 0.95)])
def test_other_bucket_sizes_still_converge(burst: float, share: float) -> None:
    """A server whose burst is a quarter of a second of its 40/s (the estimate, assuming one
    second, comes out about half of it) is probed back to at least 0.9 of its rate within ten
    minutes; one of three seconds (the estimate comes out high) meets a few more 429s and keeps
    at least 0.95 of it. Both with 429s under 1 % of the successes."""
    run = bucket_run(0.0, 40.0, 600.0, burst=burst)
    assert run.efficiency(15.0, 600.0) >= share
    assert run.efficiency(500.0, 600.0) >= 0.9
    assert run.rate_limited <= 0.01 * len(run.ok_at)
