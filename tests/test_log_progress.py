"""The progress figures and display: the run and its current phase counted across passes, a
request rate over a sliding window, a live display that fits 80 columns, events off a terminal."""

from __future__ import annotations

import io
import logging
import re

from support import FakeClock

from webex_bulk.engine.display import LiveDisplay
from webex_bulk.engine.progress import Figures, Progress


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


def quiet_progress(clock: FakeClock, interval: float = 30.0) -> Progress:
    """A Progress without a display, on a fake clock, logging to a private logger."""
    logger, _ = collecting_logger("quiet")
    return Progress(interval=interval, display=False, clock=clock, logger=logger)


def test_a_phase_ends_at_100_percent_when_rows_were_rejected_before_the_api() -> None:
    """Rows of a phase's type rejected before the API count as done for that phase."""
    progress = quiet_progress(FakeClock(0.0))
    progress.set_total(10)
    progress.start_phase("validate", 0)
    for _ in range(2):
        progress.row_done("rejected", "user")
    progress.start_phase("user", 10, ["user"])
    for _ in range(8):
        progress.row_done("success", "user")
    figures = progress.snapshot()
    assert (figures["done"], figures["total"]) == (10, 10)
    assert (figures["overall_done"], figures["overall_total"]) == (10, 10)
    assert (figures["success"], figures["rejected"]) == (8, 2)


def test_a_resume_counts_the_rows_of_earlier_passes() -> None:
    """After a resume the bars start where the earlier pass left them, not at 0."""
    progress = quiet_progress(FakeClock(0.0))
    for _ in range(30):
        progress.earlier("number", "success")
    progress.set_total(50)
    progress.start_phase("number", 40, ["number"])
    progress.row_done("success", "number")
    figures = progress.snapshot()
    assert (figures["done"], figures["overall_done"]) == (31, 31)


def test_rows_of_no_known_type_grow_the_overall_total() -> None:
    """A row whose entity type no phase has counts in the total too, so 100 % means done."""
    progress = quiet_progress(FakeClock(0.0))
    progress.set_total(2)
    progress.row_done("rejected", "conference_room")
    progress.row_done("success", "user")
    progress.row_done("success", "user")
    figures = progress.snapshot()
    assert (figures["overall_done"], figures["overall_total"]) == (3, 3)


def test_requests_per_second_is_the_rate_over_the_last_seconds() -> None:
    """At 10 requests a second the figure reads 10, through a phase change and a slow start."""
    clock = FakeClock(0.0)
    progress = quiet_progress(clock)
    progress.start_phase("location", 5, ["location"])
    progress.update_http(requests=25, rate_limited=0, breaker_state="closed")  # a burst at 0
    for tick in range(1, 81):
        clock.now = tick * 0.25
        if tick == 40:
            progress.start_phase("user", 5, ["user"])
        progress.update_http(requests=25 + round(tick * 2.5), rate_limited=0, breaker_state="x")
    assert progress.snapshot()["requests_per_second"] == 10.0


def test_the_live_display_redraws_in_place_within_80_columns() -> None:
    """Each redraw rewrites the same two lines, none of them wider than an 80-column terminal."""
    stream = io.StringIO()
    display = LiveDisplay(stream, width=80, terminal=True)
    for done in range(0, 45001, 500):
        display.show(
            Figures(
                phase="auto_attendant",
                done=done % 20001,
                total=20000,
                overall_done=done,
                overall_total=45000,
                success=done,
                rejected=12345,
                pending=678,
                requests_per_second=123.45,
                rate_limited=1234,
                breaker="half_open",
                eta_seconds=98765,
            )
        )
    display.close()
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", stream.getvalue())
    lines = [line for line in text.replace("\r", "\n").split("\n") if line]
    assert "\x1b[1A" in stream.getvalue() or "\x1b[2A" in stream.getvalue()  # cursor up: in place
    assert max(len(line) for line in lines) <= 80
    assert lines[-2].startswith("overall")
    assert "45000/45000" in lines[-2]


def test_off_tty_one_progress_event_per_interval() -> None:
    """Off a terminal nothing is drawn, and ticks every second emit one event per 30 s."""
    clock = FakeClock(0.0)
    stream = io.StringIO()
    logger, collector = collecting_logger("off_tty")
    progress = Progress(interval=30.0, stream=stream, tty=False, clock=clock, logger=logger)
    progress.set_total(200)
    progress.start_phase("user", 200, ["user"])
    for second in range(1, 101):
        clock.now = float(second)
        progress.row_done("success", "user")
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
