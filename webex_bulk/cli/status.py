"""``webex-bulk status``: where a run stands, as text or one JSON document, and an exit code
that says its state (complete, complete with rejections, incomplete or running, no run)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from webex_bulk.cli.group import finish
from webex_bulk.cli.options import config_option, settings_from
from webex_bulk.cli.output import Output, counts_of, http_of, output_options
from webex_bulk.cli.report import RUN_STATES, run_state
from webex_bulk.error_handling import ExitCode
from webex_bulk.state import read_status


@click.command("status")
@click.argument(
    "run_dir", required=False, type=click.Path(exists=True, file_okay=False, path_type=Path)
)
@config_option
@output_options
def status_command(run_dir: Path | None, config_file: Path | None, **flags: Any) -> None:
    """Show where a run stands: counts, phase, whether it is running (works mid-run).

    RUN_DIR defaults to the most recently changed run directory under runs/. Exit 0 complete,
    3 complete with rejected or pending rows, 4 incomplete or still running, 5 no run yet.
    """
    output = Output.take("status", flags)
    if run_dir is None:
        run_dir = latest_run_dir(Path(settings_from({}, config_file).runs_root))
    if run_dir is None:
        if not output.json:
            click.echo("webex-bulk: no run yet (no run directory under runs/)", err=True)
        output.document(ExitCode.NO_RUN, state="no_run")
        finish(ExitCode.NO_RUN)
    found = read_status(run_dir)
    state = run_state(found)
    code = RUN_STATES[state]
    summary = found.get("summary") or {}
    output.text(json.dumps({**found, "state": state}, indent=2, default=str))
    counts = counts_of(summary) if summary else counts_of({"by_status": found.get("counts")})
    output.document(
        code,
        run_dir=str(run_dir),
        state=state,
        counts=counts,
        http=http_of(summary),
        stopped=summary.get("stopped"),
        duration_seconds=summary.get("duration_seconds"),
    )
    finish(code)


def latest_run_dir(runs_root: Path) -> Path | None:
    """The most recently changed run directory, or None when there is none."""
    candidates = [p for p in runs_root.glob("*") if (p / "run.json").exists()]
    if not candidates:
        return None
    return max(candidates, key=lambda p: p.stat().st_mtime)
