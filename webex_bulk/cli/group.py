"""The command group of ``webex-bulk``: domain errors, file-system errors and usage errors
become one line on stderr (JSON with ``--log-format json``) and their exit code."""

from __future__ import annotations

from typing import Any, NoReturn

import click

from webex_bulk.cli.output import META_KEY, Output
from webex_bulk.error_handling import ExitCode, InputFileError, WebexBulkError, exit_code_for


class _UsageError(click.UsageError):
    """A usage error of any command, exiting 64 (EX_USAGE) rather than click's 2."""

    exit_code = ExitCode.USAGE

    def __init__(self, error: click.UsageError) -> None:
        super().__init__(error.format_message(), error.ctx)


class CommandGroup(click.Group):
    """The command group that turns domain errors into a message on stderr and an exit code.

    A usage error (unknown flag, bad value, missing input file) exits 64 (EX_USAGE), so that 2
    can mean "changes pending" for ``plan --detailed-exitcode`` alone.
    """

    def make_context(self, *args: Any, **kwargs: Any) -> click.Context:
        try:
            return super().make_context(*args, **kwargs)
        except click.UsageError as error:
            raise _UsageError(error) from None

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except click.UsageError as error:
            raise _UsageError(error) from None
        except WebexBulkError as error:
            # An input file error reads ``FILE:LINE: …`` so that editors can jump to it.
            message = str(error) if isinstance(error, InputFileError) else f"webex-bulk: {error}"
            _report(ctx, message, exit_code_for(error), reported=error.reported)
        except KeyboardInterrupt:
            _report(ctx, "webex-bulk: interrupted", ExitCode.SIGINT, reported=False)
        except OSError as error:  # a path the command cannot create or write (read-only, …)
            _report(ctx, f"webex-bulk: {os_error_line(error)}", ExitCode.FATAL, reported=False)


def _report(ctx: click.Context, message: str, code: ExitCode, *, reported: bool) -> NoReturn:
    """The error once on stderr (as the command's output mode wants it), then its exit code."""
    output = ctx.meta.get(META_KEY)
    if isinstance(output, Output):
        output.error(message, code, reported=reported)
    else:
        click.echo(message, err=True)
    ctx.exit(code)


def os_error_line(error: OSError) -> str:
    """One line for a file-system error: the path, the cause, what to do."""
    cause = error.strerror or str(error) or type(error).__name__
    if not error.filename:
        return f"{cause} ({type(error).__name__})"
    return (
        f"{error.filename}: {cause} — make the path writable (or choose another --run-dir / "
        "--out), then run the same command again"
    )


def finish(code: ExitCode) -> NoReturn:
    """End the command with an exit code."""
    raise click.exceptions.Exit(int(code))
