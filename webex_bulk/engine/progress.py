"""Where a run stands: a live line per phase on a terminal, a ``progress`` event elsewhere.

Fed by the engine (rows done) and the run's background ticker (HTTP counters); reads the clock
it is given.
"""

from __future__ import annotations

import logging
import math
import sys
import time
from collections import Counter
from collections.abc import Callable
from typing import TextIO

import attrs

from webex_bulk.log import is_tty


@attrs.frozen
class Figures:
    """The figures of one ``progress`` event (also what the live line shows)."""

    phase: str
    done: int
    total: int
    success: int
    rejected: int
    pending: int
    requests_per_second: float
    rate_limited: int
    breaker: str
    eta_seconds: int | None


class Progress:
    """A run's progress display and its ``progress`` events.

    On a TTY the line is redrawn at most every ``redraw_interval`` seconds; a ``progress`` event
    (the same figures) is logged every ``interval`` seconds in both cases (stderr hides it on a
    terminal; ``events.log`` keeps it). All terminal output goes to ``stream``.
    """

    def __init__(
        self,
        *,
        interval: float,
        stream: TextIO | None = None,
        tty: bool | None = None,
        clock: Callable[[], float] = time.monotonic,
        redraw_interval: float = 0.25,
        logger: logging.Logger | None = None,
    ) -> None:
        self._stream = stream if stream is not None else sys.stderr
        self._tty = is_tty(self._stream) if tty is None else tty
        self._clock = clock
        self._interval = interval
        self._redraw = redraw_interval
        self._log = logger or logging.getLogger("webex_bulk.progress")
        now = clock()
        self._phase = ""
        self._total = 0
        self._by_status: Counter[str] = Counter()
        self._requests = 0
        self._rate_limited = 0
        self._breaker = "closed"
        self._phase_started = now
        self._phase_requests = 0
        self._last_draw = -math.inf
        self._last_event = now
        self._line_open = False

    def start_phase(self, name: str, total: int) -> None:
        """A new phase begins; on a terminal the previous phase's last line stays visible."""
        now = self._clock()
        self._close_line(now)
        self._phase = name
        self._total = total
        self._by_status = Counter()
        self._phase_started = now
        self._phase_requests = self._requests
        self._last_draw = -math.inf
        self.tick(now)

    def row_done(self, status: str) -> None:
        """One row of the current phase reached a terminal state."""
        self._by_status[str(status)] += 1
        self.tick()

    def update_http(self, requests: int, rate_limited: int, breaker_state: str) -> None:
        """The connection client's counters (whole run) and the breaker's state."""
        self._requests = requests
        self._rate_limited = rate_limited
        self._breaker = str(breaker_state)

    def snapshot(self, now: float | None = None) -> dict[str, object]:
        """The current figures as event fields."""
        return attrs.asdict(self._figures(self._clock() if now is None else now))

    def render(self, now: float | None = None) -> str:
        """The one-line display of the current phase."""
        f = self._figures(self._clock() if now is None else now)
        share = f" {100 * f.done / f.total:5.1f}%" if f.total else ""
        eta = _clock_text(f.eta_seconds) if f.eta_seconds is not None else "--:--:--"
        return (
            f"{f.phase or '-'} {f.done}/{f.total}{share} | success {f.success} "
            f"rejected {f.rejected} pending {f.pending} | {f.requests_per_second:.1f} "
            f"req/s | 429s {f.rate_limited} | breaker {f.breaker} | ETA {eta}"
        )

    def _figures(self, now: float) -> Figures:
        elapsed = max(now - self._phase_started, 0.0)
        done = sum(self._by_status.values())
        rate = (self._requests - self._phase_requests) / elapsed if elapsed > 0 else 0.0
        eta = None
        if 0 < done < self._total and elapsed > 0:
            eta = round((self._total - done) * elapsed / done)
        return Figures(
            phase=self._phase,
            done=done,
            total=self._total,
            success=self._by_status["success"],
            rejected=self._by_status["rejected"],
            pending=self._by_status["pending"],
            requests_per_second=round(rate, 2),
            rate_limited=self._rate_limited,
            breaker=self._breaker,
            eta_seconds=eta,
        )

    def tick(self, now: float | None = None) -> None:
        """Redraw (terminal, throttled) and log a ``progress`` event when one is due."""
        now = self._clock() if now is None else now
        if self._tty and self._phase and now - self._last_draw >= self._redraw:
            self._draw(now)
        if now - self._last_event >= self._interval:
            self._last_event = now
            self._log.info("progress", extra={"event_fields": self.snapshot(now)})

    def finish(self) -> None:
        """End of the run: leave the last line on the terminal and log a final event."""
        now = self._clock()
        self._close_line(now)
        self._last_event = now
        self._log.info("progress", extra={"event_fields": self.snapshot(now)})

    def _draw(self, now: float) -> None:
        self._stream.write("\r\x1b[K" + self.render(now))
        self._stream.flush()
        self._last_draw = now
        self._line_open = True

    def _close_line(self, now: float) -> None:
        if self._tty and self._line_open:
            self._draw(now)
            self._stream.write("\n")
            self._stream.flush()
            self._line_open = False


def _clock_text(seconds: int) -> str:
    hours, rest = divmod(int(seconds), 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}"
