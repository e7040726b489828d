"""The ``webex-bulk`` command line: thin click commands; domain errors become exit codes here.

Options are declared once below and stacked on the commands that take them. Adding a command
is adding a function decorated with ``@main.command()``.
"""

from __future__ import annotations

import contextlib
import csv
import enum
import os
import sys
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any, NoReturn, TextIO, TypeVar

import click

from webex_bulk import __version__
from webex_bulk.config import Settings, load_settings
from webex_bulk.data_pipeline import OUTPUT_COLUMNS, InputFile, escape_cell, read_rows, scan
from webex_bulk.error_handling import InputFileError, RunAborted, Status, WebexBulkError
from webex_bulk.input_schema import EXAMPLES, KNOWN_COLUMNS, SCHEMA
from webex_bulk.models import EntityType, Outcome, Row


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
