"""Where a command's results go: text for a person, one JSON document (``--output json``) for a
machine, or nothing but errors (``--quiet``). The document's shape is ``docs/output.schema.json``.
"""

from __future__ import annotations

import datetime
import io
import json
import os
import sys
from collections.abc import Callable, Mapping
from typing import Any, TextIO, TypeVar

import attrs
import click

from webex_bulk import __version__
from webex_bulk.error_handling import ExitCode

F = TypeVar("F", bound=Callable[..., Any])

#: Where a command keeps its ``Output`` for the error handler of the command group.
META_KEY = "webex_bulk.output"

output_option = click.option(
    "--output",
    "output_format",
    type=click.Choice(["text", "json"]),
    default="text",
    help="text for a person, or json: one JSON document on stdout (docs/output.schema.json).",
)
quiet_option = click.option(
    "--quiet", "-q", is_flag=True, help="Print nothing but errors (for cron mail)."
)


def output_options(function: F) -> F:
    """``--output`` and ``--quiet``."""
    return output_option(quiet_option(function))


@attrs.define
class Output:
    """A command's output mode; ``text`` prints only in text mode, ``document`` only in json."""

    command: str
    json: bool = False
    quiet: bool = False
    log_format: str = "human"

    @classmethod
    def take(cls, command: str, flags: dict[str, Any]) -> Output:
        """Pop ``--output``/``--quiet`` from a command's flags; keep it for the error handler."""
        log_format = flags.get("log_format") or os.environ.get("WEBEX_BULK_LOG_FORMAT") or "human"
        output = cls(
            command,
            json=flags.pop("output_format", "text") == "json",
            quiet=bool(flags.pop("quiet", False)),
            log_format=log_format,
        )
        if output.quiet and not flags.get("log_level"):
            flags["log_level"] = "error"
        click.get_current_context().meta[META_KEY] = output
        return output

    @property
    def stream(self) -> TextIO:
        """Where the engine prints its lines for a person (the preflight checklist)."""
        return sys.stdout if not (self.json or self.quiet) else io.StringIO()

    def text(self, message: str) -> None:
        """Print a line for a person (not in json or quiet mode)."""
        if not (self.json or self.quiet):
            click.echo(message)

    def document(self, exit_code: ExitCode, **fields: Any) -> None:
        """Print the command's one JSON document (json mode only)."""
        if self.json:
            click.echo(json.dumps(result_document(self.command, exit_code, **fields), indent=2))

    def error(self, message: str, exit_code: ExitCode, *, reported: bool) -> None:
        """A fatal error: one line on stderr (JSON with ``--log-format json``), the document."""
        if self.log_format == "json":
            if not reported:
                click.echo(json.dumps(fatal_event(message, exit_code)), err=True)
        else:
            click.echo(message, err=True)
        self.document(exit_code, error=message)


def fatal_event(message: str, exit_code: ExitCode) -> dict[str, Any]:
    """A ``run.fatal`` line of the JSON log for an error met before logging was set up."""
    now = datetime.datetime.now(datetime.UTC).isoformat(timespec="milliseconds")
    return {
        "ts": now,
        "level": "error",
        "logger": "webex_bulk.cli",
        "event": "run.fatal",
        "exit_code": int(exit_code),
        "error": message,
    }


def result_document(command: str, exit_code: ExitCode, **fields: Any) -> dict[str, Any]:
    """The JSON document of one command: every key of the schema, null when it does not apply."""
    document: dict[str, Any] = {
        "command": command,
        "version": __version__,
        "exit_code": int(exit_code),
        "run_dir": None,
        "state": None,
        "counts": {"by_status": {}, "by_reason": {}, "by_entity_type": {}},
        "http": None,
        "stopped": None,
        "duration_seconds": None,
        "error": None,
    }
    document.update(fields)
    return document


def counts_of(summary: Mapping[str, Any]) -> dict[str, Any]:
    """The ``counts`` of a document from a run's summary (or anything with the same keys)."""
    return {
        key: dict(summary.get(key) or {}) for key in ("by_status", "by_reason", "by_entity_type")
    }


def http_of(summary: Mapping[str, Any]) -> dict[str, Any] | None:
    """The ``http`` figures of a document from a run's summary; None when it sent nothing."""
    keys = ("requests", "writes", "rate_limited", "retries", "breaker_trips", "by_http_status")
    if "requests" not in summary:
        return None
    return {key: summary.get(key, {} if key == "by_http_status" else 0) for key in keys}
