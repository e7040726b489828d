"""Where a run stands: the figures of a run (rows across passes, the current phase, request
rate), shown live on a terminal (``display``) and logged as a ``progress`` event elsewhere.

Fed by the engine (rows done) and the run's background ticker (HTTP counters); reads the clock
it is given.
"""

from __future__ import annotations

import collections
import logging
import sys
import time
from collections import Counter
from collections.abc import Callable, Collection
from typing import TextIO

import attrs

from webex_bulk.engine.display import LiveDisplay
from webex_bulk.log import is_tty

#: Seconds of request history behind the requests-per-second figure.
RATE_WINDOW = 10.0


@attrs.frozen
class Figures:
    """The figures of one ``progress`` event (also what the live display shows).

    ``done``/``total`` are the current phase's rows, ``overall_done``/``overall_total`` the
    run's; both count rows finished in earlier passes and rows rejected before the API.
    """

    phase: str
    done: int
    total: int
    overall_done: int
    overall_total: int
    success: int
    rejected: int
    pending: int
    requests_per_second: float
    rate_limited: int
    breaker: str
    eta_seconds: int | None


class Progress:
    """A run's figures, its live display on a terminal and its ``progress`` events.

    On a TTY (and with ``display``) the live display is refreshed at most every
    ``redraw_interval`` seconds; a ``progress`` event is logged every ``interval`` seconds in
    both cases (stderr hides it on a terminal; ``events.log`` keeps it).
    """

    def __init__(
        self,
        *,
        interval: float,
        display: bool = True,
        stream: TextIO | None = None,
        tty: bool | None = None,
        clock: Callable[[], float] = time.monotonic,
        redraw_interval: float = 0.25,
        logger: logging.Logger | None = None,
    ) -> None:
        stream = stream if stream is not None else sys.stderr
        live = display and (is_tty(stream) if tty is None else tty)
        self._display = LiveDisplay(stream) if live else None
        self._clock = clock
        self._interval = interval
        self._redraw = redraw_interval
        self._log = logger or logging.getLogger("webex_bulk.progress")
        now = clock()
        self._started = now
        self._phase = ""
        self._phase_total = 0
        self._phase_types: frozenset[str] = frozenset()
        self._phase_base = 0  # rows done when a phase without types started
        self._overall_total = 0
        self._by_type: Counter[str] = Counter()
        self._by_status: Counter[str] = Counter()
        self._earlier = 0
        self._requests = 0
        self._samples: collections.deque[tuple[float, int]] = collections.deque()
        self._rate_limited = 0
        self._breaker = "closed"
        self._last_draw = -float("inf")
        self._last_event = now

    # -- what the engine reports --------------------------------------------------------------

    def set_total(self, total: int) -> None:
        """How many rows the run has in all (its overall bar)."""
        self._overall_total = total

    def earlier(self, entity_type: str, status: str) -> None:
        """A row that an earlier pass finished (a resume): it counts as done."""
        self._count(entity_type, status)
        self._earlier += 1

    def start_phase(self, name: str, total: int, types: Collection[str] = ()) -> None:
        """A new phase of ``total`` rows of ``types`` begins (a phase of 0 rows is not shown)."""
        self._phase = name
        self._phase_total = total
        self._phase_types = frozenset(types)
        self._phase_base = sum(self._by_status.values())
        self._last_draw = -float("inf")
        self.tick()

    def row_done(self, status: str, entity_type: str = "") -> None:
        """One row reached a terminal state."""
        self._count(entity_type, str(status))
        self.tick()

    def update_http(self, requests: int, rate_limited: int, breaker_state: str) -> None:
        """The connection client's counters (whole run) and the breaker's state."""
        now = self._clock()
        self._requests = requests
        self._rate_limited = rate_limited
        self._breaker = str(breaker_state)
        self._samples.append((now, requests))
        while len(self._samples) > 2 and now - self._samples[0][0] > RATE_WINDOW:
            self._samples.popleft()

    def _count(self, entity_type: str, status: str) -> None:
        self._by_type[entity_type] += 1
        self._by_status[status] += 1
        if self._overall_total and sum(self._by_status.values()) > self._overall_total:
            self._overall_total += 1  # a row of no known type: the total grows with it

    # -- figures, display, events -------------------------------------------------------------

    def snapshot(self, now: float | None = None) -> dict[str, object]:
        """The current figures as event fields."""
        return attrs.asdict(self._figures(self._clock() if now is None else now))

    def _figures(self, now: float) -> Figures:
        overall = sum(self._by_status.values())
        if self._phase_types:
            done = sum(self._by_type[kind] for kind in self._phase_types)
        else:
            done = overall - self._phase_base
        this_pass = overall - self._earlier
        elapsed = max(now - self._started, 0.0)
        left = self._overall_total - overall
        eta = None
        if this_pass > 0 and left > 0 and elapsed > 0:
            eta = round(left * elapsed / this_pass)
        return Figures(
            phase=self._phase,
            done=min(done, self._phase_total) if self._phase_total else done,
            total=self._phase_total,
            overall_done=overall,
            overall_total=max(self._overall_total, overall),
            success=self._by_status["success"],
            rejected=self._by_status["rejected"],
            pending=self._by_status["pending"],
            requests_per_second=round(self._rate(), 2),
            rate_limited=self._rate_limited,
            breaker=self._breaker,
            eta_seconds=eta,
        )

    def _rate(self) -> float:
        if len(self._samples) < 2:
            return 0.0
        (first_at, first), (last_at, last) = self._samples[0], self._samples[-1]
        return (last - first) / (last_at - first_at) if last_at > first_at else 0.0

    def tick(self, now: float | None = None) -> None:
        """Refresh the display (throttled) and log a ``progress`` event when one is due."""
        now = self._clock() if now is None else now
        if self._display is not None and now - self._last_draw >= self._redraw:
            self._last_draw = now
            self._display.show(self._figures(now))
        if now - self._last_event >= self._interval:
            self._last_event = now
            self._log.info("progress", extra={"event_fields": self.snapshot(now)})

    def finish(self) -> None:
        """End of the run: leave the last figures on the terminal and log a final event."""
        now = self._clock()
        if self._display is not None:
            self._display.show(self._figures(now))
            self._display.close()
        self._last_event = now
        self._log.info("progress", extra={"event_fields": self.snapshot(now)})
