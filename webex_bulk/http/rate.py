"""How fast requests may go, pure: the adaptive rate (settled on 429/423) and the retry budget.

Time comes in as ``now``; no network, no event loop, no clock read. ``throttle`` applies them.
"""

from __future__ import annotations

import collections
import math

from webex_bulk.http.limit import SendHistory

#: Retries always allowed per sliding minute, whatever the request volume.
RETRY_BUDGET_FLOOR = 10
RETRY_BUDGET_WINDOW = 60
#: Adaptive rate: ×0.7 on a 429 that proves nothing of the limit, never below 0.5/s; +5 % of the
#: ceiling per 2 calm seconds in which the traffic used at least 80 % of the rate (an unused
#: allowance proves nothing).
RATE_DECREASE = 0.7
RATE_FLOOR = 0.5
RATE_INCREASE_INTERVAL = 2.0
RATE_INCREASE_FRACTION = 0.05
RATE_INCREASE_MIN_STEP = 0.1
RATE_BUSY = 0.8
#: ``--rate auto``: slow start. Start here and double the rate every busy calm second until the
#: first 429.
AUTO_START_RATE = 4.0
SLOW_START_FACTOR = 2.0
SLOW_START_INTERVAL = 1.0
#: A 429 settles the ceiling at this share of the server's rate as the accepted requests before
#: it prove it (``limit.SendHistory``), and the rate goes straight there: one pause per meeting.
SETTLE_SHARE = 0.98
#: However low that proof, one burst never cuts the rate below this share of the rate that met
#: it (the rate half as fast ran a calm second: with a burst of at most a second, R ≥ 1/4 of it).
SETTLE_MIN_SHARE = 0.25
#: Without a proof (nothing sent since the previous burst), the first 429 of ``auto`` resumes at
#: half the rate that met it under a ceiling of 90 % of it.
SLOW_START_BACKOFF = 0.5
AUTO_SETTLE = 0.9
#: Once ``auto`` has met the limit it climbs back to its ceiling every this many busy seconds.
AUTO_INCREASE_INTERVAL = 1.0
MAX_RATE = 1000.0
#: The probe: after this many calm, busy seconds at the ceiling (and at least ``PROBE_PAUSES``
#: times the last pause, so that a failed probe costs at most 1/50 of the time even when the
#: server asks for a minute), the ceiling rises ``PROBE_STEP``. Each probe that meets no 429
#: doubles the next step (up to ``PROBE_MAX_STEP``) and halves the next wait (down to
#: ``PROBE_MIN_WAIT``): an estimate far too low (a server with a smaller burst) recovers in
#: minutes. A probe that meets the limit costs one pause, estimates it again and starts over.
#: Never above a configured rate.
PROBE_CALM = 60.0
PROBE_PAUSES = 50.0
PROBE_STEP = 0.02
PROBE_MAX_STEP = 0.32
PROBE_MIN_WAIT = 10.0
#: The quick probe: a burst that rested on few accepted requests (a few per second, a short
#: overshoot) proves the rate only to within one request over its span, up to 20 % at 2/s. Once
#: the pause is over and ``QUICK_PROBE_WAIT`` busy seconds have passed at the settled ceiling,
#: the ceiling goes once to ``SETTLE_SHARE`` of the most the burst allows (``limit.Proof.high``)
#: when that gains at least ``QUICK_PROBE_MIN_GAIN``. It costs at most one pause per burst, and
#: the burst a failed one meets proves the rate narrowly (a small overshoot takes many requests
#: to empty the bucket), so it seldom leads to another.
QUICK_PROBE_WAIT = 2.0
QUICK_PROBE_MIN_GAIN = 0.01
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
    """The request rate, driven by 429/423 answers and by what the server accepted before them.

    A fixed configured rate is the ceiling. ``auto`` (configured 0.0) slow-starts: it doubles the
    rate every busy calm second from 4/s until the first 429. Each 429 burst (not an echo of the
    previous pause) settles the ceiling at ``SETTLE_SHARE`` of the server's rate as the requests
    accepted before it prove it, and the rate goes straight there, so meeting the limit costs
    one global pause, wherever the rate that met it was. When that proof rested on few requests
    (a few per second), one quick probe soon after goes to the most the burst allows. A calm
    ceiling probes upward after ``PROBE_CALM`` s. The rate only climbs while the traffic
    actually uses it (``note_sent``), so it never runs away from reality.
    """

    def __init__(self, configured: float) -> None:
        self.auto = configured <= 0.0
        self.ceiling: float | None = None if self.auto else min(configured, MAX_RATE)
        self.rate = AUTO_START_RATE if self.auto else min(configured, MAX_RATE)
        self._limit = MAX_RATE if self.auto else min(configured, MAX_RATE)  # never exceeded
        #: The server's rate as last proven by a 429 (None before the first).
        self.estimate: float | None = None
        self._history = SendHistory()
        self._calm_since: float | None = None
        self._sent = 0  # requests sent since _calm_since
        self._last_decrease = -math.inf
        self._probed = -math.inf  # when the ceiling was last set by a burst or a probe
        self._probe_wait = PROBE_CALM
        self._probe_step = PROBE_STEP
        self._quick_to: float | None = None  # the quick probe's ceiling, until it is taken
        self._quick_wait = QUICK_PROBE_WAIT

    @property
    def slow_start(self) -> bool:
        """Whether ``auto`` is still doubling (no 429 met yet)."""
        return self.ceiling is None

    def note_sent(self, now: float) -> None:
        """Count one request sent at ``now``."""
        if self._calm_since is None:
            self._calm_since = now
        self._sent += 1
        self._history.note(now)

    def on_rate_limited(
        self, now: float, sent_at: float, resumed_at: float = -math.inf, pause: float = 0.0
    ) -> bool:
        """A 429/423 arrived at ``now`` for a request sent at ``sent_at``; True when the rate
        changed.

        Answers to requests sent before the last decrease belong to the same burst: one decrease.
        ``resumed_at`` is when the previous global pause ended: a request sent within
        ``PAUSE_ECHO`` of it met the server's longer pause, which says nothing of the ceiling.
        ``pause`` is the pause this answer asks for (it spaces the probes).
        """
        if sent_at <= self._last_decrease:
            return False
        echo = sent_at < resumed_at + PAUSE_ECHO
        proven = None if echo else self._history.estimate(self._last_decrease, sent_at)
        self._probe_wait = max(PROBE_CALM, PROBE_PAUSES * pause)
        if proven is not None:
            self.estimate = proven.rate
            settled = SETTLE_SHARE * proven.rate
            settled = max(RATE_FLOOR, settled, SETTLE_MIN_SHARE * self.rate)
            self.ceiling = min(self._limit, settled)
            self._probed = now
            self._probe_step = PROBE_STEP
            quick = min(self._limit, SETTLE_SHARE * proven.high)
            gains = quick >= self.ceiling * (1.0 + QUICK_PROBE_MIN_GAIN)
            self._quick_to = quick if gains else None
            self._quick_wait = pause + QUICK_PROBE_WAIT
            lowered = self.ceiling
        elif self.ceiling is None:
            # Nothing proven (the very first requests met it): the rate before the last
            # doubling ran a whole interval without a 429, the one that met it is at most
            # twice the limit.
            self.ceiling = max(RATE_FLOOR, self.rate * AUTO_SETTLE)
            self._probed = now
            self._quick_to = None
            lowered = max(RATE_FLOOR, self.rate * SLOW_START_BACKOFF)
        else:
            lowered = max(RATE_FLOOR, self.rate * RATE_DECREASE)
        self._last_decrease = now
        self._calm_since = now
        self._sent = 0
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
        if self.rate >= self.ceiling and self._quick_to is not None:
            return self._quick_probe(now)
        if self.rate >= self.ceiling and self._may_probe(now):
            step = max(RATE_INCREASE_MIN_STEP, self.ceiling * self._probe_step)
            self.ceiling = min(self._limit, self.ceiling + step)
            self._probed = now
            self._probe_step = min(PROBE_MAX_STEP, 2 * self._probe_step)
            self._probe_wait = max(PROBE_MIN_WAIT, self._probe_wait / 2)
            self.rate = self.ceiling
            return True
        if self.rate >= self.ceiling:
            return False
        step = max(RATE_INCREASE_MIN_STEP, self.ceiling * RATE_INCREASE_FRACTION)
        self.rate = min(self.ceiling, self.rate + step)
        return True

    def _interval(self) -> float:
        """Seconds of calm traffic between two increases."""
        if self.ceiling is None:
            return SLOW_START_INTERVAL
        return AUTO_INCREASE_INTERVAL if self.auto else RATE_INCREASE_INTERVAL

    def _quick_probe(self, now: float) -> bool:
        """The ceiling to the most the last burst allows, once it has been calm long enough."""
        calm = now - max(self._probed, self._last_decrease)
        if self._quick_to is None or calm < self._quick_wait:
            return False
        self.ceiling = self.rate = max(self.ceiling or 0.0, self._quick_to)
        self._quick_to = None
        self._probed = now
        return True

    def _may_probe(self, now: float) -> bool:
        """A ceiling below the configured rate, calm for the probe's wait: one step up."""
        if self.ceiling is None or self.ceiling >= self._limit:
            return False
        return now - max(self._probed, self._last_decrease) >= self._probe_wait
