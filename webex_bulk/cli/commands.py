"""The ``webex-bulk`` command line: thin click commands; domain errors become exit codes here.

Options are declared once below and stacked on the commands that take them. Adding a command
is adding a function decorated with ``@main.command()``.
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import datetime
import enum
import json
import os
import re
import signal
import sys
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator, Mapping
from pathlib import Path
from typing import Any, NoReturn, TextIO, TypeVar

import click

from webex_bulk import __version__
from webex_bulk.cli.demo import run_demo
from webex_bulk.cli.export import export_request, location_option, out_file_option, render_export
from webex_bulk.config import Credentials, Settings, load_credentials, load_settings
from webex_bulk.engine.batch_iterator import Caps, parse_only
from webex_bulk.engine.executor import RunRequest, StopControl, run_file
from webex_bulk.engine.export import export_tenant
from webex_bulk.engine.planner import plan_file, preflight_file
from webex_bulk.engine.preflight import raise_on_failure
from webex_bulk.error_handling import (
    ConfigError,
    InputFileError,
    RunAborted,
    Status,
    WebexBulkError,
)
from webex_bulk.input.data_pipeline import OUTPUT_COLUMNS, InputFile, escape_cell, read_rows, scan
from webex_bulk.input.schema import EXAMPLES, KNOWN_COLUMNS, SCHEMA
from webex_bulk.models import EntityType, Outcome, Row
from webex_bulk.simulator.cli import simulator_command
from webex_bulk.state.run_dir import read_status


class ExitCode(enum.IntEnum):
    """The exit codes of every command (an external contract, like the reason codes)."""

    OK = 0  # every row success (plan: nothing to change)
    FATAL = 1  # config, input file, auth, preflight, lock
    USAGE = 2  # bad command line (plan: changes pending)
    ROWS_FAILED = 3  # finished, some rows rejected or pending
    STOPPED = 4  # stopped before the end (breaker, deadline); run again to resume
    SIGINT = 130
    SIGTERM = 143


def exit_code_for(error: WebexBulkError) -> ExitCode:
    """The exit code of a domain error that reached the top."""
    return ExitCode.STOPPED if isinstance(error, RunAborted) else ExitCode.FATAL


class _Group(click.Group):
    """The command group that turns domain errors into a message on stderr and an exit code."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except WebexBulkError as error:
            # An input file error reads ``FILE:LINE: …`` so that editors can jump to it.
            message = str(error) if isinstance(error, InputFileError) else f"webex-bulk: {error}"
            click.echo(message, err=True)
            ctx.exit(exit_code_for(error))
        except KeyboardInterrupt:
            click.echo("webex-bulk: interrupted", err=True)
            ctx.exit(ExitCode.SIGINT)


# -- options, declared once ------------------------------------------------------------------

F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")


def _delimiter(_ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
    return "\t" if value in ("tab", "\\t") else value


encoding_option = click.option(
    "--encoding",
    default=None,
    metavar="NAME",
    help="Encoding of the input file, e.g. cp1252 for Excel exports "
    "[default: UTF-8 with or without BOM].",
)
delimiter_option = click.option(
    "--delimiter",
    default=None,
    type=click.Choice([",", ";", "tab", "\\t", "|"]),
    metavar="DELIM",
    callback=_delimiter,
    help="Cell delimiter of the input file: ',' ';' 'tab' or '|' "
    "[default: sniffed from the header line].",
)
default_region_option = click.option(
    "--default-region",
    default=None,
    metavar="CC",
    help="ISO 3166 region for phone numbers written without +country code [default: US].",
)
config_option = click.option(
    "--config",
    "config_file",
    default=None,
    envvar="WEBEX_BULK_CONFIG",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="TOML settings file (flags > WEBEX_BULK_* variables > this file > defaults).",
)
out_option = click.option(
    "--out",
    "out_dir",
    default=None,
    type=click.Path(file_okay=False, path_type=Path),
    help="Write rejected.csv and pending.csv into this folder.",
)
file_argument = click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))


def input_options(function: F) -> F:
    """The options that say how to read an input file."""
    for option in (default_region_option, delimiter_option, encoding_option):
        function = option(function)
    return function


def finish(code: ExitCode) -> NoReturn:
    """End the command with an exit code."""
    raise click.exceptions.Exit(int(code))


def settings_from(flags: Mapping[str, Any], config_file: Path | None) -> Settings:
    """The settings of a command: its flags > environment > ``--config`` file > defaults."""
    return load_settings(flags, os.environ, config_file)


# -- commands --------------------------------------------------------------------------------


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="webex-bulk")
def main() -> None:
    """Provision Webex Calling for a whole tenant from one CSV file.

    Exit codes: 0 all rows fine, 1 fatal error, 2 usage error, 3 some rows rejected or
    pending, 4 stopped before the end (run again to resume), 130/143 interrupted.
    """


@main.command()
@file_argument
@input_options
@out_option
@config_option
def validate(file: Path, out_dir: Path | None, config_file: Path | None, **flags: Any) -> None:
    """Check FILE offline: file format, every row, duplicates and conflicts; no API call.

    Prints rows per entity type and rejections per reason with their first line numbers.
    Exit 0 when every row is valid, 3 when some are rejected or pending, 1 when the file
    itself cannot be read.
    """
    settings = settings_from(flags, config_file)
    source = scan(file, settings)
    report = _Report()
    with _outcome_files(out_dir, source.header) as write:
        for item in read_rows(source, settings):
            report.add(item)
            if isinstance(item, Outcome):
                write(item)
    click.echo(report.render(source))
    finish(ExitCode.ROWS_FAILED if report.failed else ExitCode.OK)


@main.command()
@click.option(
    "--entity-type",
    "entity_type",
    type=click.Choice([t.value for t in EntityType]),
    default=None,
    help="Only this entity type's columns and example [default: every type].",
)
def template(entity_type: str | None) -> None:
    """Print a CSV header and one example row per entity type, ready to fill in."""
    types = [EntityType(entity_type)] if entity_type else list(EntityType)
    if entity_type:
        columns = ["entity_type", *(c.name for c in SCHEMA[types[0]].columns)]
    else:
        columns = list(KNOWN_COLUMNS)
    table = csv.writer(sys.stdout, lineterminator="\n")
    table.writerow(columns)
    for kind in types:
        example = {"entity_type": kind.value, **EXAMPLES[kind]}
        table.writerow([example.get(column, "") for column in columns])


# -- validate: report and output files -------------------------------------------------------

_FIRST_LINES = 5


class _Report:
    """Counts of one validation: rows per entity type and status, rejections per reason."""

    def __init__(self) -> None:
        self.by_type: dict[str, Counter[str]] = {}
        self.by_reason: dict[tuple[str, str], list[int]] = {}
        self.reason_counts: Counter[tuple[str, str]] = Counter()
        self.failed = 0

    def add(self, item: Row | Outcome) -> None:
        """Count one row or pre-API outcome."""
        if isinstance(item, Row):
            self.by_type.setdefault(item.entity_type.value, Counter())["valid"] += 1
            return
        self.failed += 1
        self.by_type.setdefault(item.entity_type or "(blank)", Counter())[item.status.value] += 1
        reason = (item.status.value, item.reason.value if item.reason else "")
        self.reason_counts[reason] += 1
        lines = self.by_reason.setdefault(reason, [])
        if len(lines) < _FIRST_LINES:
            lines.append(item.line)

    def render(self, source: InputFile) -> str:
        """The report as text."""
        delimiter = "tab" if source.delimiter == "\t" else source.delimiter
        out = [
            f"{source.path}: {source.row_count} rows · encoding {source.encoding} "
            f"· delimiter {delimiter!r}"
        ]
        out.extend(f"warning: {warning}" for warning in source.warnings)
        out.append("")
        out.append(f"{'entity type':<18}{'rows':>7}{'valid':>7}{'rejected':>10}{'pending':>9}")
        total: Counter[str] = Counter()
        for name in sorted(self.by_type, key=_type_order):
            counts = self.by_type[name]
            total.update(counts)
            out.append(_type_line(name, counts))
        out.append(_type_line("total", total))
        for status in (Status.REJECTED.value, Status.PENDING.value):
            reasons = sorted(r for r in self.reason_counts if r[0] == status)
            if reasons:
                out.append("")
                out.append(f"{status} ({sum(self.reason_counts[r] for r in reasons)}):")
                out.extend(self._reason_line(reason) for reason in reasons)
        return "\n".join(out)

    def _reason_line(self, reason: tuple[str, str]) -> str:
        count = self.reason_counts[reason]
        lines = ", ".join(str(line) for line in self.by_reason[reason])
        more = ", …" if count > len(self.by_reason[reason]) else ""
        label = "line" if count == 1 else "lines"
        return f"  {reason[1]:<24}{count:>6}   {label} {lines}{more}"


def _type_order(name: str) -> tuple[int, str]:
    order = [t.value for t in EntityType]
    return (order.index(name), name) if name in order else (len(order), name)


def _type_line(name: str, counts: Counter[str]) -> str:
    rows = counts["valid"] + counts["rejected"] + counts["pending"]
    return f"{name:<18}{rows:>7}{counts['valid']:>7}{counts['rejected']:>10}{counts['pending']:>9}"


@contextlib.contextmanager
def _outcome_files(
    out_dir: Path | None, header: tuple[str, ...]
) -> Iterator[Callable[[Outcome], None]]:
    """A function writing each outcome to ``rejected.csv`` or ``pending.csv`` (or nowhere)."""
    if out_dir is None:
        yield lambda _outcome: None
        return
    out_dir.mkdir(parents=True, exist_ok=True)
    with contextlib.ExitStack() as stack:
        tables = {}
        for status in (Status.REJECTED, Status.PENDING):
            handle: TextIO = stack.enter_context(
                (out_dir / f"{status.value}.csv").open("w", newline="", encoding="utf-8")
            )
            tables[status] = csv.writer(handle)
            tables[status].writerow([*header, *OUTPUT_COLUMNS])

        def write(outcome: Outcome) -> None:
            tables[outcome.status].writerow(_output_line(header, outcome))

        yield write


def _output_line(header: tuple[str, ...], outcome: Outcome) -> list[str]:
    cells = [outcome.cells.get(column, "") for column in header]
    extra = [
        str(outcome.line),
        outcome.key,
        outcome.status.value,
        outcome.reason.value if outcome.reason else "",
        outcome.detail,
        outcome.action.value if outcome.action else "",
        outcome.remote_id,
        outcome.tracking_id,
    ]
    return [escape_cell(text) for text in (*cells, *extra)]


# -- the engine: run, plan, status, preflight ------------------------------------------------

concurrency_option = click.option(
    "--concurrency", type=int, default=None, help="Worker tasks per phase [default: 8, max 64]."
)
rate_option = click.option(
    "--rate",
    default=None,
    metavar="N|auto",
    help="Requests per second; 'auto' probes upward until the first 429 [default: 10].",
)
org_option = click.option(
    "--org-id", default=None, help="Target organisation id (partner admins) [default: the token's]."
)
base_url_option = click.option(
    "--base-url", default=None, help="Webex API base URL [default: https://webexapis.com/v1]."
)
log_format_option = click.option(
    "--log-format",
    type=click.Choice(["human", "json"]),
    default=None,
    help="Format of the log lines on stderr [default: human].",
)
log_level_option = click.option(
    "--log-level",
    type=click.Choice(["debug", "info", "warning", "error"]),
    default=None,
    help="Least severe log lines shown on stderr [default: info].",
)
run_dir_option = click.option(
    "--run-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Run directory [default: runs/<file stem>-<sha256[:12]>].",
)
only_option = click.option(
    "--only", default=None, metavar="TYPES", help="Only these entity types, e.g. user,workspace."
)
limit_option = click.option(
    "--limit",
    type=click.IntRange(min=1),
    default=None,
    help="A canary run: only the first N rows of the file.",
)


def engine_options(function: F) -> F:
    """The options of every command that talks to Webex."""
    options = (
        config_option,
        log_level_option,
        log_format_option,
        base_url_option,
        org_option,
        rate_option,
        concurrency_option,
        only_option,
        limit_option,
        run_dir_option,
    )
    for option in options:
        function = option(function)
    return input_options(function)


def _request(
    file: Path,
    flags: dict[str, Any],
    *,
    fresh: bool = False,
    seconds_left: float | None = None,
) -> RunRequest:
    """Settings, credentials and caps of an engine command; errors name the flag or variable."""
    config_file = flags.pop("config_file")
    run_dir = flags.pop("run_dir")
    try:
        caps = Caps(only=parse_only(flags.pop("only")), limit=flags.pop("limit"))
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--only") from None
    return RunRequest(
        input_path=file,
        settings=settings_from(flags, config_file),
        credentials=_credentials(),
        caps=caps,
        run_dir=run_dir,
        fresh=fresh,
        seconds_left=seconds_left,
    )


def _credentials() -> Credentials:
    """The token (or refresh credentials) from the environment; none is a config error."""
    credentials = load_credentials()
    if not credentials.access_token and not credentials.can_refresh:
        raise ConfigError(
            "token",
            "the environment",
            "no token: set WEBEX_TOKEN, or WEBEX_BULK_TOKEN_FILE, or WEBEX_BULK_CLIENT_ID + "
            "WEBEX_BULK_CLIENT_SECRET + WEBEX_BULK_REFRESH_TOKEN",
        )
    return credentials


def _run_async(work: Callable[[StopControl], Awaitable[T]]) -> T:
    """Run an engine coroutine with SIGINT/SIGTERM wired to a clean stop (the one asyncio.run)."""

    async def main_task() -> T:
        stop = StopControl()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.on_signal, signum)
        try:
            return await work(stop)
        finally:
            for signum in (signal.SIGINT, signal.SIGTERM):
                loop.remove_signal_handler(signum)

    return asyncio.run(main_task())


@main.command()
@file_argument
@engine_options
@click.option("--fresh", is_flag=True, help="Set the old run directory aside and start anew.")
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
def run(
    file: Path, fresh: bool, deadline: str | None, max_duration: str | None, **flags: Any
) -> None:
    """Provision the tenant from FILE: idempotent, resumable, within the API's rate limit.

    Running the same command again resumes where it stopped. Exit 0 every row success,
    3 some rows rejected or pending, 4 stopped early, 130/143 interrupted, 1 fatal.
    """
    try:
        seconds_left = window_seconds(deadline, max_duration, datetime.datetime.now())
    except ValueError as error:
        raise click.BadParameter(str(error)) from None
    request = _request(file, flags, fresh=fresh, seconds_left=seconds_left)
    result = _run_async(lambda stop: run_file(request, stop, sys.stdout))
    click.echo(render_summary(result.summary, result.run_dir))
    finish(ExitCode(result.exit_code))


@main.command()
@file_argument
@engine_options
def plan(file: Path, **flags: Any) -> None:
    """Compare FILE with the tenant, row by row, without sending a single write.

    Writes plan.csv (create / update with the fields / unchanged / pending / rejected) into
    the run directory. Exit 0 when nothing would change, 2 when changes are pending.
    """
    request = _request(file, flags)
    result = _run_async(lambda _stop: plan_file(request, sys.stdout))
    counts = ", ".join(f"{k} {v}" for k, v in sorted(result.counts.items())) or "no rows"
    click.echo(f"plan: {counts}\nplan.csv: {result.path}")
    finish(ExitCode.USAGE if result.exit_code == 2 else ExitCode.OK)


@main.command()
@file_argument
@engine_options
def preflight(file: Path, **flags: Any) -> None:
    """Check the environment, the token, the org, the scopes and the licenses for FILE.

    Sends reads only. Exit 0 when every check passed (warnings allowed), 1 when one failed.
    """
    request = _request(file, flags)
    checks = _run_async(lambda _stop: preflight_file(request))
    for check in checks:
        click.echo(check.line())
    raise_on_failure(checks)


@main.command()
@click.argument(
    "run_dir", required=False, type=click.Path(exists=True, file_okay=False, path_type=Path)
)
@config_option
def status(run_dir: Path | None, config_file: Path | None) -> None:
    """Show where a run stands: counts, phase, whether it is running (works mid-run).

    RUN_DIR defaults to the most recently changed run directory under runs/.
    """
    if run_dir is None:
        run_dir = latest_run_dir(Path(settings_from({}, config_file).runs_root))
    click.echo(json.dumps(read_status(run_dir), indent=2, default=str))


def latest_run_dir(runs_root: Path) -> Path:
    """The most recently changed run directory, or a usage error when there is none."""
    candidates = [p for p in runs_root.glob("*") if (p / "run.json").exists()]
    if not candidates:
        raise click.UsageError(f"no run directory under {runs_root}/; name one")
    return max(candidates, key=lambda p: p.stat().st_mtime)


def render_summary(summary: Mapping[str, Any], run_dir: Path) -> str:
    """The end-of-run summary for a person: counts, requests, where the outputs are."""
    by_status = summary.get("by_status", {})
    lines = [
        "",
        "summary: " + "  ".join(f"{k} {v}" for k, v in by_status.items()),
        f"  requests {summary.get('requests', 0)} (writes {summary.get('writes', 0)}), "
        f"429s {summary.get('rate_limited', 0)}, retries {summary.get('retries', 0)}, "
        f"breaker trips {summary.get('breaker_trips', 0)}, "
        f"{summary.get('duration_seconds', 0)} s",
    ]
    if summary.get("by_reason"):
        reasons = ", ".join(f"{k} {v}" for k, v in summary["by_reason"].items())
        lines.append(f"  reasons: {reasons}")
    if summary.get("stopped"):
        lines.append(f"  stopped: {summary['stopped']} — run the same command again to resume")
    lines.append(f"  outputs: {run_dir}/ (success.csv, rejected.csv, pending.csv, summary.json)")
    return "\n".join(lines)


_DURATION = re.compile(r"(\d+(?:\.\d+)?)([smhd])")
_UNIT = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def window_seconds(
    deadline: str | None, max_duration: str | None, now: datetime.datetime
) -> float | None:
    """Seconds until the earlier of ``--deadline HH:MM`` (next occurrence, local time) and
    ``--max-duration`` (``8h``, ``90m``, ``1h30m``); None when neither is given."""
    limits = []
    if max_duration:
        parts = _DURATION.findall(max_duration.strip().lower())
        if not parts or "".join(n + u for n, u in parts) != max_duration.strip().lower():
            raise ValueError(f"--max-duration {max_duration!r}: write it like 8h, 90m or 1h30m")
        limits.append(sum(float(n) * _UNIT[u] for n, u in parts))
    if deadline:
        try:
            at = datetime.datetime.strptime(deadline.strip(), "%H:%M").time()
        except ValueError:
            raise ValueError(f"--deadline {deadline!r}: write it as HH:MM, e.g. 06:00") from None
        target = datetime.datetime.combine(now.date(), at)
        if target <= now:
            target += datetime.timedelta(days=1)
        limits.append((target - now).total_seconds())
    return min(limits) if limits else None


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
    result = _run_async(lambda stop: run_demo(sys.stdout, stop, keep=keep))
    if result.writes_second != 0:
        click.echo(f"webex-bulk: the second run sent {result.writes_second} writes", err=True)
        finish(ExitCode.FATAL)
    finish(ExitCode(result.first.exit_code) if result.first.exit_code != 3 else ExitCode.OK)


@main.command()
@out_file_option
@location_option
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
    out_file: Path, location: str | None, only: str | None, config_file: Path | None, **flags: Any
) -> None:
    """Write the tenant as an input file that run reads: a start, a backup, a baseline.

    Every entity type webex-bulk provisions, members and settings included, one row per
    object in phase order, behind a '#' header naming the org and the time. Sends reads only,
    within the rate limit. Exit 0 when written, 1 fatal, 4 stopped (nothing written).
    """
    settings = settings_from(flags, config_file)
    request = export_request(out_file, location, only, settings, _credentials())
    result = _run_async(lambda stop: export_tenant(request, sys.stdout.buffer, stop))
    click.echo(render_export(result), err=True)


main.add_command(simulator_command)
