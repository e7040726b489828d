"""How fast requests may go, pure: the adaptive rate (AIMD on 429/423) and the retry budget.

Time comes in as ``now``; no network, no event loop, no clock read. ``throttle`` applies them.
"""

from __future__ import annotations

import collections
import math

#: Retries always allowed per sliding minute, whatever the request volume.
RETRY_BUDGET_FLOOR = 10
RETRY_BUDGET_WINDOW = 60
#: Adaptive rate: ×0.7 on a 429, never below 0.5/s; +5 % of the ceiling per 2 calm seconds in
#: which the traffic used at least 80 % of the rate (an unused allowance proves nothing).
RATE_DECREASE = 0.7
RATE_FLOOR = 0.5
RATE_INCREASE_INTERVAL = 2.0
RATE_INCREASE_FRACTION = 0.05
RATE_INCREASE_MIN_STEP = 0.1
RATE_BUSY = 0.8
#: ``--rate auto``: slow start. Start here and double the rate every busy calm second until the
#: first 429; then resume at half the rate that met it (the last rate that ran a whole interval
#: without a 429) under a ceiling of 90 % of it, and settle as a fixed rate does.
AUTO_START_RATE = 4.0
SLOW_START_FACTOR = 2.0
SLOW_START_INTERVAL = 1.0
SLOW_START_BACKOFF = 0.5
AUTO_SETTLE = 0.9
#: A burst that settles the ceiling lowers the rate ×0.85 rather than ×0.7: the limit was met
#: just above the settled ceiling, so a deep cut would only cost throughput.
SETTLED_DECREASE = 0.85
#: Once ``auto`` has met the limit it climbs back to its ceiling every this many busy seconds.
AUTO_INCREASE_INTERVAL = 1.0
MAX_RATE = 1000.0
#: A 429 burst less than this many seconds after the previous one shows that the server's limit
#: is below the rate that met it: the ceiling settles at 90 % of that rate. After this long calm
#: at a settled ceiling, the ceiling is raised one step again (the limit may have risen).
SETTLE_MEMORY = 300.0
#: A 429 for a request sent this soon after a global pause ended says the server still punished
#: the pause (its own pause was longer than ours), not that the rate is too high: it lowers the
#: rate but never the ceiling, so the rate climbs back to the ceiling once the 429s stop.
PAUSE_ECHO = RATE_INCREASE_INTERVAL


# -- retry budget and adaptive rate ----------------------------------------------------------------


class RetryBudget:
    """At most ``ratio`` × requests retries over a sliding minute (``floor`` always allowed)."""

    def __init__(
        self, ratio: float, *, floor: int = RETRY_BUDGET_FLOOR, window: int = RETRY_BUDGET_WINDOW
    ) -> None:
        self.ratio = ratio
        self.floor = floor
        self.window = window
        self._seconds: collections.deque[list[int]] = collections.deque()  # [second, req, retry]

    def note_request(self, now: float) -> None:
        """Count one request sent at ``now``."""
        self._bucket(now)[1] += 1

    def try_spend(self, now: float) -> bool:
        """Take one retry from the budget; False when the budget is exhausted."""
        bucket = self._bucket(now)
        requests = sum(entry[1] for entry in self._seconds)
        retries = sum(entry[2] for entry in self._seconds)
        if retries + 1 > max(self.floor, self.ratio * requests):
            return False
        bucket[2] += 1
        return True

    def _bucket(self, now: float) -> list[int]:
        second = math.floor(now)
        if self._seconds:
            second = max(second, self._seconds[-1][0])
        while self._seconds and self._seconds[0][0] <= second - self.window:
            self._seconds.popleft()
        if not self._seconds or self._seconds[-1][0] != second:
            self._seconds.append([second, 0, 0])
        return self._seconds[-1]


class AdaptiveRate:
    """Additive increase, multiplicative decrease of the request rate, driven by 429/423 answers.

    A fixed configured rate is the ceiling. ``auto`` (configured 0.0) slow-starts: it doubles the
    rate every busy calm second from 4/s until the first 429, then resumes at half the rate that
    met it under a ceiling of 90 % of it, so each probe costs one global pause and the overshoot
    is at most one doubling. A 429 burst within ``SETTLE_MEMORY`` of the previous one settles the
    ceiling at 90 % of the rate that met it (a fixed rate probes one step back up after
    ``SETTLE_MEMORY`` calm seconds). The rate only climbs while the traffic actually uses it
    (``note_sent``), so it never runs away from reality.
    """

    def __init__(self, configured: float) -> None:
        self.auto = configured <= 0.0
        self.ceiling: float | None = None if self.auto else min(configured, MAX_RATE)
        self.rate = AUTO_START_RATE if self.auto else min(configured, MAX_RATE)
        self._limit = MAX_RATE if self.auto else min(configured, MAX_RATE)  # never exceeded
        self._calm_since: float | None = None
        self._sent = 0  # requests sent since _calm_since
        self._last_decrease = -math.inf
        self._settled = -math.inf  # when the ceiling was last lowered or raised by a probe

    @property
    def slow_start(self) -> bool:
        """Whether ``auto`` is still doubling (no 429 met yet)."""
        return self.ceiling is None

    def note_sent(self, now: float) -> None:
        """Count one request sent at ``now``."""
        if self._calm_since is None:
            self._calm_since = now
        self._sent += 1

    def on_rate_limited(self, now: float, sent_at: float, resumed_at: float = -math.inf) -> bool:
        """A 429/423 arrived for a request sent at ``sent_at``; True when the rate changed.

        Answers to requests sent before the last decrease belong to the same burst: one decrease.
        ``resumed_at`` is when the previous global pause ended: a request sent within
        ``PAUSE_ECHO`` of it met the server's longer pause, which says nothing of the ceiling.
        """
        if sent_at <= self._last_decrease:
            return False
        settle = max(RATE_FLOOR, self.rate * AUTO_SETTLE)
        echo = sent_at < resumed_at + PAUSE_ECHO
        factor = RATE_DECREASE
        if self.ceiling is None:
            # The end of slow start: the rate before the last doubling ran a whole interval
            # without a 429, the one that met it is at most twice the limit.
            self.ceiling = settle
            self._settled = now
            factor = SLOW_START_BACKOFF
        elif not echo and now - self._last_decrease < SETTLE_MEMORY and settle < self.ceiling:
            # A second burst soon after the first: climbing back to the ceiling would meet the
            # same limit again, and each meeting costs a global pause (Retry-After).
            self.ceiling = settle
            self._settled = now
            factor = SETTLED_DECREASE
        self._last_decrease = now
        self._calm_since = now
        self._sent = 0
        lowered = max(RATE_FLOOR, self.rate * factor)
        changed = lowered != self.rate
        self.rate = lowered
        return changed

    def on_success(self, now: float) -> bool:
        """A successful answer at ``now``; True when the rate went up."""
        if self._calm_since is None:
            self._calm_since = now
            return False
        elapsed = now - self._calm_since
        if elapsed < self._interval():
            return False
        busy = self._sent >= RATE_BUSY * self.rate * elapsed
        self._calm_since = now
        self._sent = 0
        if not busy:
            return False
        if self.ceiling is None:
            doubled = min(self._limit, self.rate * SLOW_START_FACTOR)
            changed = doubled != self.rate
            self.rate = doubled
            return changed
        top = self.ceiling
        if self.rate >= top and self._may_probe(now):
            step = max(RATE_INCREASE_MIN_STEP, top * RATE_INCREASE_FRACTION)
            self.ceiling = top = min(self._limit, top + step)
            self._settled = now
        if self.rate >= top:
            return False
        step = max(RATE_INCREASE_MIN_STEP, self.ceiling * RATE_INCREASE_FRACTION)
        self.rate = min(top, self.rate + step)
        return True

    def _interval(self) -> float:
        """Seconds of calm traffic between two increases."""
        if self.ceiling is None:
            return SLOW_START_INTERVAL
        return AUTO_INCREASE_INTERVAL if self.auto else RATE_INCREASE_INTERVAL

    def _may_probe(self, now: float) -> bool:
        """A settled ceiling below the configured rate, calm for ``SETTLE_MEMORY`` s: one step
        up. ``auto`` never probes back above the rate it settled at."""
        if self.auto or self.ceiling is None or self.ceiling >= self._limit:
            return False
        return now - max(self._settled, self._last_decrease) >= SETTLE_MEMORY
