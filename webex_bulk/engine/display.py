"""The live progress display on a terminal: one overall bar and the current phase's, redrawn in
place by ``rich`` at any terminal width; log lines are printed above it."""

from __future__ import annotations

from typing import TYPE_CHECKING, TextIO

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, TaskID, TaskProgressColumn, TextColumn
from rich.progress import Progress as RichProgress
from rich.table import Column

if TYPE_CHECKING:
    from webex_bulk.engine.progress import Figures


class LiveDisplay:
    """Two bars on ``stream``: the run (with rate, 429s, ETA) and its current phase."""

    def __init__(
        self, stream: TextIO, *, width: int | None = None, terminal: bool | None = None
    ) -> None:
        console = Console(file=stream, highlight=False, width=width, force_terminal=terminal)
        self._bars = RichProgress(
            TextColumn("{task.description}", table_column=Column(width=9, no_wrap=True)),
            BarColumn(bar_width=None, table_column=Column(ratio=1, min_width=8)),
            TaskProgressColumn(),
            MofNCompleteColumn(),
            TextColumn(
                "{task.fields[info]}",
                table_column=Column(ratio=2, no_wrap=True, overflow="ellipsis"),
            ),
            console=console,
            auto_refresh=False,  # refreshed by the run's ticker, never by a thread
            expand=True,
            redirect_stdout=False,
            redirect_stderr=True,  # log lines go above the bars instead of through them
        )
        self._overall = self._bars.add_task("overall", total=None, info="")
        self._phase: TaskID | None = None
        self._bars.start()

    def show(self, figures: Figures) -> None:
        """Redraw with these figures."""
        f = figures
        eta = _clock_text(f.eta_seconds) if f.eta_seconds is not None else "--:--"
        self._bars.update(
            self._overall,
            total=f.overall_total or None,
            completed=f.overall_done,
            info=f"{f.requests_per_second:.1f} req/s · 429s {f.rate_limited} · ETA {eta}",
        )
        if f.total:
            info = f"ok {f.success} · rejected {f.rejected} · pending {f.pending}"
            if f.breaker != "closed":
                info += f" · breaker {f.breaker}"
            if self._phase is None:
                self._phase = self._bars.add_task(f.phase, total=f.total, info=info)
            self._bars.update(
                self._phase, description=f.phase, total=f.total, completed=f.done, info=info
            )
        self._bars.refresh()

    def close(self) -> None:
        """Leave the last bars on the terminal and give the terminal back."""
        self._bars.stop()


def _clock_text(seconds: int) -> str:
    hours, rest = divmod(int(seconds), 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}"
