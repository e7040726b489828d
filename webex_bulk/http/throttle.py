"""How fast requests leave: the limiter (swapped when the adaptive rate changes), the global
429/423 pause, the retry budget and the in-flight gate. The decisions are ``rate``'s and
``in_flight``'s; this module applies them."""

from __future__ import annotations

import asyncio
import collections
import contextlib
import contextvars
import logging
import math
from collections.abc import AsyncIterator, Awaitable, Callable

from aiolimiter import AsyncLimiter

from webex_bulk.config import Settings
from webex_bulk.http.in_flight import INITIAL_IN_FLIGHT, LatencyWindow
from webex_bulk.http.rate import AdaptiveRate, RetryBudget

log = logging.getLogger("webex_bulk.http")

#: Whether the running task already holds a place in flight (a whole row's place).
_HOLDS_PLACE: contextvars.ContextVar[bool] = contextvars.ContextVar("holds_place", default=False)
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


class InFlightGate:
    """A semaphore whose size can change: at most ``limit`` holders, first come first served."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.in_flight = 0
        self._waiters: collections.deque[asyncio.Future[None]] = collections.deque()

    async def acquire(self) -> None:
        """Wait for a place; cancelling the wait gives back a place already handed over."""
        if self.in_flight < self.limit and not self._waiters:
            self.in_flight += 1
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self.release()
            elif waiter in self._waiters:
                self._waiters.remove(waiter)
            raise

    def release(self) -> None:
        """Give one place back."""
        self.in_flight -= 1
        self._wake()

    def resize(self, limit: int) -> None:
        """Change the limit; holders above a lowered limit finish, newcomers then wait."""
        self.limit = limit
        self._wake()

    def _wake(self) -> None:
        while self._waiters and self.in_flight < self.limit:
            waiter = self._waiters.popleft()
            if not waiter.done():
                self.in_flight += 1
                waiter.set_result(None)


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
        # --concurrency pins the requests in flight; otherwise they follow the latency.
        self._latencies = None if settings.concurrency_pinned else LatencyWindow()
        pinned = self._latencies is None
        self.gate = InFlightGate(settings.workers if pinned else INITIAL_IN_FLIGHT)

    @property
    def rate(self) -> float:
        """The current request rate (requests per second)."""
        return self._rate.rate

    @property
    def in_flight_limit(self) -> int:
        """The most requests in flight at once, now."""
        return self.gate.limit

    @contextlib.asynccontextmanager
    async def in_flight(self) -> AsyncIterator[None]:
        """Hold one of the places in flight (pinned by --concurrency, else sized by latency).

        A task that already holds one (a worker holds one for a whole row, so rows in flight
        follow the same limit) takes no second place: nesting never waits on itself.
        """
        if _HOLDS_PLACE.get():
            yield
            return
        await self.gate.acquire()
        held = _HOLDS_PLACE.set(True)
        try:
            yield
        finally:
            _HOLDS_PLACE.reset(held)
            self.gate.release()

    def answered(self, latency: float) -> None:
        """One answer came ``latency`` s after its request left: maybe size the gate again."""
        if self._latencies is not None and self._latencies.add(latency):
            self._resize()

    def _resize(self) -> None:
        if self._latencies is None:
            return
        limit = self._latencies.limit(self._rate.rate)
        if limit != self.gate.limit:
            self.gate.resize(limit)
            fields = {"limit": limit, "p95": round(self._latencies.quantile() or 0.0, 4)}
            log.debug("http.in_flight_sized", extra={"event_fields": fields})

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
        if self._rate.on_rate_limited(now, sent_at, resumed_at, pause):
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
        self._resize()
        fields = {"old": before, "new": self._rate.rate, "why": why}
        log.info("http.rate_changed", extra={"event_fields": fields})
