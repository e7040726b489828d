"""How fast requests leave: the limiter (swapped when the adaptive rate changes), the global
429/423 pause, and the retry budget. The decisions are ``rate``'s; this module applies them."""

from __future__ import annotations

import logging
import math
from collections.abc import Awaitable, Callable

from aiolimiter import AsyncLimiter

from webex_bulk.config import Settings
from webex_bulk.http.rate import AdaptiveRate, RetryBudget

log = logging.getLogger("webex_bulk.http")

#: Largest burst, as a share of one second's requests (at least one request).
LIMITER_BURST = 0.1


def new_limiter(rate: float) -> AsyncLimiter:
    """``rate`` requests per second, bursts of at most a tenth of a second's worth (at least one).

    A burst of a whole second (``AsyncLimiter(rate, 1)``) empties the server's token bucket when
    traffic starts, and every later request then arrives at its very edge: a millisecond of
    jitter is a 429 even though the rates match. Small bursts keep the server's slack.
    """
    burst = max(1.0, rate * LIMITER_BURST)
    return AsyncLimiter(burst, burst / max(rate, 1e-3))


class Throttle:
    """One per client: every attempt waits its turn here, and reports back what it met."""

    def __init__(
        self,
        settings: Settings,
        *,
        clock: Callable[[], float],
        sleep: Callable[[float], Awaitable[None]],
    ) -> None:
        self._clock = clock
        self._sleep = sleep
        # AdaptiveRate spells auto as a configured rate of 0.0
        self._rate = AdaptiveRate(settings.rate if isinstance(settings.rate, float) else 0.0)
        self._limiter = new_limiter(self._rate.rate)
        self._budget = RetryBudget(settings.retry_budget)
        self._pause_until = -math.inf

    @property
    def rate(self) -> float:
        """The current request rate (requests per second)."""
        return self._rate.rate

    async def wait_turn(self) -> None:
        """Wait for a limiter slot outside any global pause.

        A request that meets a pause sleeps until it ends and queues for a slot again, so the
        waiting workers leave one slot at a time, not in a stampede.
        """
        while True:
            await self._acquire_slot()
            now = self._clock()
            if now >= self._pause_until:
                return
            await self._sleep(self._pause_until - now)

    def note_sent(self, now: float) -> None:
        """Count one request sent at ``now`` (retry budget and adaptive rate)."""
        self._budget.note_request(now)
        self._rate.note_sent(now)

    async def rate_limited(self, now: float, sent_at: float, pause: float) -> None:
        """A 429/423 for a request sent at ``sent_at``: start or extend the global pause and
        lower the rate once per burst."""
        resumed_at = self._pause_until  # when the previous pause ended (or ends)
        self._pause_until = max(self._pause_until, now + pause)
        before = self._rate.rate
        if self._rate.on_rate_limited(now, sent_at, resumed_at):
            await self._swap_limiter(before, "rate_limited")

    async def succeeded(self, now: float) -> None:
        """A usable answer at ``now``: the rate may climb."""
        before = self._rate.rate
        if self._rate.on_success(now):
            await self._swap_limiter(before, "calm")

    def try_spend_retry(self, now: float) -> bool:
        """Take one retry from the run's budget; False when it is exhausted."""
        return self._budget.try_spend(now)

    async def _acquire_slot(self) -> None:
        # A rate change swaps the limiter; a slot taken from a replaced limiter does not count.
        while True:
            limiter = self._limiter
            await limiter.acquire()
            if limiter is self._limiter:
                return

    async def _swap_limiter(self, before: float, why: str) -> None:
        limiter = new_limiter(self._rate.rate)
        # Start full, so a rate change never opens a fresh burst on top of the traffic so far.
        # Claiming the whole capacity of an empty limiter returns without suspending.
        await limiter.acquire(limiter.max_rate)
        self._limiter = limiter
        fields = {"old": before, "new": self._rate.rate, "why": why}
        log.info("http.rate_changed", extra={"event_fields": fields})
