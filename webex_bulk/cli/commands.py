"""The ``webex-bulk`` command line: thin click commands; domain errors become exit codes here.

Options are declared once in ``options`` and stacked on the commands that take them. Adding a
command is adding a function decorated with ``@main.command()``.
"""

from __future__ import annotations

import asyncio
import datetime
import os
import signal
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import attrs
import click

from webex_bulk import __version__, engine
from webex_bulk.cli.export import (
    export_request,
    location_option,
    out_file_option,
    render_export,
    with_settings_option,
)
from webex_bulk.cli.group import CommandGroup, finish
from webex_bulk.cli.options import (
    base_url_option,
    concurrency_option,
    config_option,
    create_people_option,
    credentials_from_env,
    default_region_option,
    engine_options,
    file_argument,
    input_options,
    log_format_option,
    log_level_option,
    only_option,
    org_option,
    out_option,
    plan_in_option,
    plan_out_option,
    rate_option,
    request_from,
    settings_from,
)
from webex_bulk.cli.output import Output, counts_of, http_of, output_options
from webex_bulk.cli.report import ValidateReport, outcome_files
from webex_bulk.cli.status import status_command
from webex_bulk.cli.unlock import unlock_command
from webex_bulk.config import env_warnings
from webex_bulk.error_handling import ExitCode
from webex_bulk.input import (
    read_rows,
    scan,
    template_entity_type,
    write_template_csv,
    write_template_xlsx,
)
from webex_bulk.models import EntityType, Outcome
from webex_bulk.simulator.cli import simulator_command

T = TypeVar("T")


# -- commands --------------------------------------------------------------------------------


@click.group(cls=CommandGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="webex-bulk")
def main() -> None:
    """Provision Webex Calling for a whole tenant from one CSV file.

    Exit codes: 0 all rows fine, 1 fatal error, 2 changes pending (plan --detailed-exitcode
    only), 3 some rows rejected or pending, 4 stopped before the end (run again to resume),
    5 no run yet (status), 64 usage error, 129/130/143 interrupted.
    """


@main.command()
@file_argument
@input_options
@out_option
@config_option
@output_options
def validate(file: Path, out_dir: Path | None, config_file: Path | None, **flags: Any) -> None:
    """Check FILE offline: file format, every row, duplicates and conflicts; no API call.

    Prints rows per entity type and rejections per reason with their first line numbers.
    Exit 0 when every row is valid, 3 when some are rejected or pending, 1 when the file
    itself cannot be read, 64 when it does not exist.
    """
    output = Output.take("validate", flags)
    flags.pop("log_level", None)
    if not output.quiet:
        for note in env_warnings(os.environ):
            click.echo(f"warning: {note}", err=True)
    settings = settings_from(flags, config_file)
    source = scan(file, settings)
    report = ValidateReport()
    with outcome_files(out_dir, source.header) as write:
        for item in read_rows(source, settings, types=()):
            if isinstance(item, Outcome):  # types=(): outcomes only
                report.add(item)
                write(item)
    report.add_valid(source)
    code = ExitCode.ROWS_FAILED if report.failed else ExitCode.OK
    output.text(report.render(source, details=out_dir is None))
    output.document(code, counts=report.counts(), state="valid" if not report.failed else None)
    finish(code)


def _entity_type(_ctx: click.Context, _param: click.Parameter, value: str | None) -> Any:
    try:
        return None if value is None else template_entity_type(value)
    except ValueError as error:
        raise click.BadParameter(str(error)) from None


@main.command()
@click.option(
    "--entity-type",
    "entity_type",
    default=None,
    metavar="TYPE",
    callback=_entity_type,
    help="Only this entity type's columns and example, written as in the file (User, "
    "hunt-group…) [default: every type].",
)
@click.option(
    "--format",
    "file_format",
    type=click.Choice(["csv", "xlsx"]),
    default="csv",
    help="csv (printed, or written to --out) or xlsx (a workbook with drop-down lists; "
    "needs --out) [default: csv].",
)
@click.option(
    "--out",
    "out_file",
    default=None,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the template to this file instead of printing it.",
)
def template(entity_type: EntityType | None, file_format: str, out_file: Path | None) -> None:
    """Print a CSV header and one example row per entity type, ready to fill in.

    Lines starting with # above the header name the required columns of each type.
    """
    types = [entity_type] if entity_type else list(EntityType)
    if file_format == "xlsx":
        if out_file is None:
            raise click.UsageError("--format xlsx writes a workbook: name it with --out FILE.xlsx")
        write_template_xlsx(out_file, types)
    elif out_file is not None:
        with out_file.open("w", newline="", encoding="utf-8") as handle:
            write_template_csv(handle, types)
    else:
        write_template_csv(sys.stdout, types)


# -- the engine: run, plan, status, preflight ------------------------------------------------


#: Signals that stop a run gracefully: what ended is committed, the same command resumes.
_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def _run_async(work: Callable[[engine.StopControl], Awaitable[T]]) -> T:
    """Run an engine coroutine with SIGINT/SIGTERM/SIGHUP wired to a clean stop.

    The one ``asyncio.run`` of the package.
    """

    async def main_task() -> T:
        stop = engine.StopControl()
        loop = asyncio.get_running_loop()
        for signum in _STOP_SIGNALS:
            loop.add_signal_handler(signum, stop.on_signal, signum)
        try:
            return await work(stop)
        finally:
            for signum in _STOP_SIGNALS:
                loop.remove_signal_handler(signum)

    return asyncio.run(main_task())


@main.command()
@file_argument
@engine_options
@create_people_option
@click.option("--fresh", is_flag=True, help="Set the old run directory aside and start anew.")
@click.option(
    "--keep-runs",
    type=click.IntRange(min=1),
    default=None,
    help="Passes a run directory keeps, the current one included [default: 10].",
)
@click.option(
    "--deadline",
    default=None,
    metavar="HH:MM",
    help="Stop cleanly at this local time (exit 4; run again to resume).",
)
@click.option(
    "--max-duration",
    default=None,
    metavar="DURATION",
    help="Stop cleanly after this long, e.g. 8h or 90m (exit 4; run again to resume).",
)
@click.option(
    "--metrics-file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write the run's figures here in the Prometheus text format every few seconds and "
    "at the end (atomically; for node_exporter's textfile collector, name it *.prom).",
)
@plan_in_option
@output_options
def run(
    file: Path,
    fresh: bool,
    deadline: str | None,
    max_duration: str | None,
    metrics_file: Path | None,
    plan_in: Path | None,
    **flags: Any,
) -> None:
    """Provision the tenant from FILE: idempotent, resumable, within the API's rate limit.

    Running the same command again resumes where it stopped; after a complete run it starts a
    new pass that looks every row up again. Exit 0 every row success,
    3 some rows rejected or pending, 4 stopped early, 129/130/143 interrupted, 1 fatal,
    64 usage error.
    """
    output = Output.take("run", flags)
    now = datetime.datetime.now()
    try:
        seconds_left = engine.window_seconds(deadline, max_duration, now)
    except ValueError as error:
        raise click.BadParameter(str(error)) from None
    note = engine.stop_note(deadline, seconds_left, now) if seconds_left is not None else ""
    request = attrs.evolve(
        request_from(
            file, flags, fresh=fresh, seconds_left=seconds_left, stop_note=note, quiet=output.quiet
        ),
        metrics_file=metrics_file,
        plan_in=plan_in,
    )
    result = _run_async(lambda stop: engine.run_file(request, stop, output.stream))
    output.text(engine.render_summary(result.summary, result.run_dir))
    output.document(
        result.exit_code,
        run_dir=str(result.run_dir),
        state=_RUN_END.get(result.exit_code, "incomplete"),
        counts=counts_of(result.summary),
        http=http_of(result.summary),
        stopped=result.summary.get("stopped"),
        duration_seconds=result.summary.get("duration_seconds"),
    )
    finish(result.exit_code)


#: The state a run's exit code leaves it in (the same names as ``status``).
_RUN_END = {ExitCode.OK: "complete", ExitCode.ROWS_FAILED: "complete_with_rejections"}


@main.command()
@file_argument
@engine_options
@create_people_option
@click.option(
    "--detailed-exitcode",
    is_flag=True,
    help="Exit 2 when changes are pending, 0 when nothing would change [default: 0 for both].",
)
@plan_out_option
@output_options
def plan(file: Path, detailed_exitcode: bool, plan_out: Path | None, **flags: Any) -> None:
    """Compare FILE with the tenant, row by row, without sending a single write.

    Writes plan.csv (create / update with the fields and their old and new values / move with
    the old and new location / unchanged / pending / rejected) into the run directory and shows
    the first changes. Exit 0 when the plan is made (with --detailed-exitcode: 0 when nothing
    would change, 2 when changes are pending), 1 fatal, 64 usage error.
    """
    output = Output.take("plan", flags)
    request = attrs.evolve(request_from(file, flags, quiet=output.quiet), plan_out=plan_out)
    result = _run_async(lambda _stop: engine.plan_file(request, output.stream))
    code = result.exit_code
    if code is ExitCode.CHANGES_PENDING and not detailed_exitcode:
        code = ExitCode.OK
    counts = ", ".join(f"{k} {v}" for k, v in sorted(result.counts.items())) or "no rows"
    saved = (f"plan saved: {result.saved}",) if result.saved else ()
    lines = (*result.preview, f"plan: {counts}", f"plan.csv: {result.path}", *saved)
    output.text("\n".join(lines))
    pending = result.exit_code is ExitCode.CHANGES_PENDING
    output.document(
        code,
        run_dir=str(result.path.parent),
        state="changes_pending" if pending else "no_changes",
        counts={
            "by_status": dict(result.counts),
            "by_reason": dict(result.by_reason),
            "by_entity_type": {k: dict(v) for k, v in result.by_entity_type.items()},
        },
        http=dict(result.http),
        plan_file=str(result.path),
        **({"saved_plan": str(result.saved)} if result.saved else {}),
    )
    finish(code)


@main.command()
@file_argument
@engine_options
def preflight(file: Path, **flags: Any) -> None:
    """Check the environment, the token, the org, the scopes and the licenses for FILE.

    Sends reads only. Exit 0 when every check passed (warnings allowed), 1 when one failed.
    """
    request = request_from(file, flags)
    checks = _run_async(lambda _stop: engine.preflight_file(request))
    for check in checks:
        click.echo(check.line())
    engine.raise_on_failure(checks)


@main.command()
@click.option(
    "--keep",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Keep the run directories here [default: a new temporary folder].",
)
def demo(keep: Path | None) -> None:
    """Provision the example tenant on an embedded simulator, then run it again: zero writes.

    The simulator answers with realistic latency, a rate limit, a few 429s and 5xx; no Webex
    account or token is needed.
    """
    from webex_bulk.cli.demo import run_demo  # the embedded simulator: loaded for this command

    result = _run_async(lambda stop: run_demo(sys.stdout, stop, keep=keep))
    if result.writes_second != 0:
        click.echo(f"webex-bulk: the second run sent {result.writes_second} writes", err=True)
        finish(ExitCode.FATAL)
    first = result.first.exit_code
    finish(ExitCode.OK if first is ExitCode.ROWS_FAILED else first)


@main.command()
@out_file_option
@location_option
@with_settings_option
@only_option
@default_region_option
@concurrency_option
@rate_option
@org_option
@base_url_option
@log_format_option
@log_level_option
@config_option
def export(
    out_file: Path,
    location: str | None,
    with_settings: bool,
    only: str | None,
    config_file: Path | None,
    **flags: Any,
) -> None:
    """Write the tenant as an input file that run reads: a start, a backup, a baseline.

    Every entity type webex-bulk provisions, members and settings included, one row per
    object in phase order, behind a '#' header naming the org and the time. Sends reads only,
    within the rate limit. Exit 0 when written, 1 fatal, 4 stopped (nothing written).
    """
    settings = settings_from(flags, config_file)
    request = export_request(
        out_file, location, only, settings, credentials_from_env(), with_settings=with_settings
    )
    result = _run_async(lambda stop: engine.export_tenant(request, sys.stdout.buffer, stop))
    click.echo(render_export(result), err=True)


main.add_command(status_command)
main.add_command(simulator_command)
main.add_command(unlock_command)
