"""The progress display: a throttled live line on a terminal, one event per interval elsewhere."""

from __future__ import annotations

import io
import logging

from support import FakeClock

from webex_bulk.engine.progress import Progress


class Collector(logging.Handler):
    """Keeps the records it receives."""

    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def collecting_logger(name: str) -> tuple[logging.Logger, Collector]:
    """A private logger whose records land in a list."""
    logger = logging.getLogger(f"webex_bulk.test_progress.{name}")
    logger.propagate = False
    logger.setLevel(logging.INFO)
    collector = Collector()
    logger.handlers[:] = [collector]
    return logger, collector


def test_tty_line_shows_every_figure() -> None:
    """The live line shows done/total, the three states, req/s, 429s, breaker state and ETA."""
    clock = FakeClock(0.0)
    progress = Progress(interval=30.0, stream=io.StringIO(), tty=True, clock=clock)
    progress.start_phase("user", 100)
    for status in ["success"] * 10 + ["rejected", "pending"]:
        progress.row_done(status)
    progress.update_http(requests=40, rate_limited=3, breaker_state="half_open")
    clock.now = 4.0
    assert progress.render() == (
        "user 12/100  12.0% | success 10 rejected 1 pending 1 | 10.0 req/s | 429s 3 "
        "| breaker half_open | ETA 0:00:29"
    )


def test_tty_redraws_at_most_every_redraw_interval() -> None:
    """Many rows within a quarter second cause one redraw; the next one after it passes."""
    clock = FakeClock(0.0)
    stream = io.StringIO()
    progress = Progress(interval=30.0, stream=stream, tty=True, clock=clock, redraw_interval=0.25)
    progress.start_phase("location", 50)
    for _ in range(20):
        progress.row_done("success")
    assert stream.getvalue().count("\r\x1b[K") == 1
    clock.now = 0.25
    progress.row_done("success")
    assert stream.getvalue().count("\r\x1b[K") == 2
    assert stream.getvalue().endswith(
        "location 21/50  42.0% | success 21 rejected 0 pending 0 "
        "| 0.0 req/s | 429s 0 | breaker closed | ETA 0:00:00"
    )


def test_new_phase_keeps_the_last_line_of_the_previous_one() -> None:
    """Starting a phase ends the previous phase's line, so it stays on the terminal."""
    clock = FakeClock(0.0)
    stream = io.StringIO()
    progress = Progress(interval=30.0, stream=stream, tty=True, clock=clock)
    progress.start_phase("location", 1)
    progress.row_done("success")
    progress.start_phase("number", 2)
    progress.finish()
    lines = stream.getvalue().split("\n")
    assert lines[0].endswith(
        "location 1/1 100.0% | success 1 rejected 0 pending 0 | 0.0 req/s "
        "| 429s 0 | breaker closed | ETA --:--:--"
    )
    assert lines[1].rsplit("\r\x1b[K", 1)[1].startswith("number 0/2")
    assert lines[2] == ""


def test_off_tty_one_progress_event_per_interval() -> None:
    """Off a terminal nothing is drawn, and ticks every second emit one event per 30 s."""
    clock = FakeClock(0.0)
    stream = io.StringIO()
    logger, collector = collecting_logger("off_tty")
    progress = Progress(interval=30.0, stream=stream, tty=False, clock=clock, logger=logger)
    progress.start_phase("user", 200)
    for second in range(1, 101):
        clock.now = float(second)
        progress.row_done("success")
        progress.tick()
    assert stream.getvalue() == ""
    assert [r.getMessage() for r in collector.records] == ["progress"] * 3
    fields = [r.__dict__["event_fields"] for r in collector.records]
    assert [f["done"] for f in fields] == [30, 60, 90]
    assert fields[0]["phase"] == "user"
    assert fields[0]["total"] == 200
    assert fields[0]["eta_seconds"] == 170


def test_one_event_per_given_interval() -> None:
    """With a 5 s interval (settings.progress_interval) the first event comes at 5 s."""
    clock = FakeClock(0.0)
    logger, collector = collecting_logger("interval")
    progress = Progress(interval=5.0, stream=io.StringIO(), tty=False, clock=clock, logger=logger)
    progress.start_phase("device", 10)
    clock.now = 4.9
    progress.tick()
    assert collector.records == []
    clock.now = 5.0
    progress.tick()
    assert len(collector.records) == 1
