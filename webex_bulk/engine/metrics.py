"""``--metrics-file``: a run's figures in the Prometheus text format, for node_exporter's textfile
collector. Rewritten atomically every few seconds and at the end; reads the wall clock it is given.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from pathlib import Path

from prometheus_client import CollectorRegistry, Gauge, write_to_textfile
from prometheus_client.parser import text_string_to_metric_families

from webex_bulk.engine.summary import Tally
from webex_bulk.error_handling import ExitCode
from webex_bulk.http import ClientStats

_PREFIX = "webex_bulk_"
_LAST_SUCCESS = f"{_PREFIX}last_success_timestamp_seconds"
#: A run that got to the end of the file, even with rejected rows, counts as a success.
_FINISHED = frozenset({ExitCode.OK, ExitCode.ROWS_FAILED})


class MetricsFile:
    """The gauges of one run and the file they are written to."""

    def __init__(self, path: Path, *, wall_clock: Callable[[], float] = time.time) -> None:
        self.path = path
        self._clock = wall_clock
        self._registry = CollectorRegistry()
        reg = self._registry

        def gauge(name: str, doc: str, labels: tuple[str, ...] = ()) -> Gauge:
            return Gauge(_PREFIX + name, doc, labels, registry=reg)

        self._rows = gauge(
            "rows", "Rows by terminal status, reason and entity type.",
            ("status", "reason", "entity_type"),
        )  # fmt: skip
        self._requests = gauge("http_requests", "HTTP answers by status code.", ("code",))
        self._sent = gauge("requests", "HTTP requests sent, every attempt counted.")
        self._rate_limited = gauge("rate_limited", "Answers 429 or 423 (rate limited).")
        self._retries = gauge("retries", "Re-sends after a transient failure.")
        self._trips = gauge("breaker_trips", "Times the circuit breaker opened.")
        self._rate = gauge("rate_per_second", "The request rate the limiter allows now.")
        self._duration = gauge("duration_seconds", "Seconds since the run started.")
        self._running = gauge("running", "1 while the run is going, 0 once it ended.")
        self._exit = gauge("exit_code", "Exit code of the run; NaN while it runs.")
        self._last_success = gauge(
            "last_success_timestamp_seconds",
            "Unix time at which a run last reached the end of its file (exit 0 or 3).",
        )
        self._last_success.set(_previous_last_success(path))

    def update(self, tally: Tally, stats: ClientStats, rate: float, duration: float) -> None:
        """Take the run's current figures."""
        self._rows.clear()
        for (entity_type, status, reason), count in tally.by_all.items():
            self._rows.labels(status, reason, entity_type).set(count)
        self._requests.clear()
        for code, count in stats.by_status.items():
            self._requests.labels(str(code)).set(count)
        self._sent.set(stats.requests)
        self._rate_limited.set(stats.rate_limited)
        self._retries.set(stats.retries)
        self._trips.set(stats.breaker_trips)
        self._rate.set(rate)
        self._duration.set(duration)
        self._running.set(1)
        self._exit.set(math.nan)

    def end(self, exit_code: ExitCode) -> None:
        """The run ended with ``exit_code``: record it (and the time, when it finished)."""
        self._running.set(0)
        self._exit.set(int(exit_code))
        if exit_code in _FINISHED:
            self._last_success.set(self._clock())

    def write(self) -> None:
        """Replace the file atomically (a temporary file beside it, then a rename)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        write_to_textfile(str(self.path), self._registry)


def _previous_last_success(path: Path) -> float:
    """The last-success time an earlier run left in the file, 0 when there is none."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return 0.0
    try:
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                if sample.name == _LAST_SUCCESS:
                    return float(sample.value)
    except ValueError:  # a damaged file: start over rather than fail the run
        return 0.0
    return 0.0
