"""What every command that talks to Webex shares: the request, its run directory, one client.

``run``, ``plan`` and ``preflight`` all start here: scan the file, find the run directory, open
one session and client inside the running loop, and pass the preflight checklist.
"""

from __future__ import annotations

import contextlib
import datetime
import functools
import logging
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import TextIO

import aiohttp
import attrs

from webex_bulk import __version__
from webex_bulk.config import Settings
from webex_bulk.credentials import Credentials
from webex_bulk.engine.batch_iterator import Caps, RowSelection
from webex_bulk.engine.preflight import Check, Level, raise_on_failure, run_checks
from webex_bulk.error_handling import ExitCode, WebexBulkError, exit_code_for
from webex_bulk.http import CircuitBreaker, WebexClient, ssl_context
from webex_bulk.input import InputFile, scan
from webex_bulk.log import setup_logging
from webex_bulk.state import EVENTS_FILE, default_run_dir, write_atomic

log = logging.getLogger("webex_bulk.engine.session")


@attrs.frozen
class RunRequest:
    """Everything ``run``, ``plan`` and ``preflight`` need, already parsed and checked."""

    input_path: Path
    settings: Settings
    credentials: Credentials
    caps: Caps = attrs.field(factory=Caps)
    run_dir: Path | None = None
    fresh: bool = False
    seconds_left: float | None = None  # --deadline / --max-duration, as seconds from now
    stop_note: str = ""  # when the window ends, in words (logged as ``run.window``)
    notes: tuple[str, ...] = ()  # warnings found before logging was set up (unknown variables)
    display: bool = True  # a live progress display on a terminal (off with --quiet)
    metrics_file: Path | None = None  # --metrics-file: the Prometheus textfile of the run
    plan_out: Path | None = None  # plan --out: save the plan there
    plan_in: Path | None = None  # run --plan: apply exactly this saved plan


def resolve_run_dir(request: RunRequest, source: InputFile) -> Path:
    """``--run-dir`` or ``runs/<stem>-<sha12>[-<scope>]``; ``--fresh`` sets one aside."""
    run_dir = request.run_dir or default_run_dir(
        request.input_path, source.sha256, Path(request.settings.runs_root), request.caps.scope
    )
    if request.fresh and run_dir.exists():
        stamp = datetime.datetime.now(datetime.UTC).strftime("%Y%m%dT%H%M%S")
        run_dir.rename(run_dir.with_name(f"{run_dir.name}.{stamp}"))
    return run_dir


@contextlib.asynccontextmanager
async def open_client(
    settings: Settings, credentials: Credentials, run_id: str
) -> AsyncIterator[WebexClient]:
    """One aiohttp session, breaker and client for the whole run (created inside the loop)."""
    timeout = aiohttp.ClientTimeout(
        total=None, sock_connect=settings.connect_timeout, sock_read=settings.read_timeout
    )
    connector = aiohttp.TCPConnector(
        limit=max(settings.workers * 2, 10), ssl=ssl_context(settings.ca_bundle)
    )
    # trust_env: HTTPS_PROXY / HTTP_PROXY / NO_PROXY (and ~/.netrc) as on a corporate network.
    async with aiohttp.ClientSession(
        timeout=timeout, connector=connector, trust_env=True
    ) as session:
        client = WebexClient(
            settings,
            credentials,
            session,
            CircuitBreaker.from_settings(settings),
            run_id=run_id,
            # A rotated refresh token goes back to the token file atomically, readable by its
            # owner only: the run directory's writer, so the package has one atomic write.
            save_file=functools.partial(write_atomic, mode=0o600),
        )
        yield client


async def pass_preflight(
    client: WebexClient,
    source: InputFile,
    selection: RowSelection,
    run_dir: Path,
    settings: Settings,
    out: TextIO,
) -> None:
    """Print the preflight checklist to ``out``; a failed check raises ``PreflightError``."""
    checks = await run_checks(client, source, selection, run_dir, settings.org_id)
    for check in checks:
        print(check.line(), file=out)
    raise_on_failure(checks)


async def preflight_file(request: RunRequest) -> list[Check]:
    """The preflight checklist for one input file, reads only."""
    settings = request.settings
    source = scan(request.input_path, settings)
    run_dir = resolve_run_dir(attrs.evolve(request, fresh=False), source)
    selection = RowSelection(source, settings, request.caps)
    with logged_command(request, run_dir, "preflight"):
        async with open_client(settings, request.credentials, new_run_id()) as client:
            checks = await run_checks(client, source, selection, run_dir, settings.org_id)
        failed = any(check.level is Level.FAIL for check in checks)
        log_end("preflight", ExitCode.FATAL if failed else ExitCode.OK)
        return checks


@contextlib.contextmanager
def logged_command(request: RunRequest, run_dir: Path, command: str) -> Iterator[None]:
    """Logging of one command to stderr and ``events.log``: ``run.start``, then ``run.fatal``
    for an error that ends it (marked as reported so the command line does not print it twice).
    """
    settings = request.settings
    run_dir.mkdir(parents=True, exist_ok=True)
    secrets = request.credentials.secrets()
    with setup_logging(run_dir / EVENTS_FILE, settings.log_format, settings.log_level, secrets):
        for note in request.notes:
            log.warning("config.note", extra={"event_fields": {"note": note}})
        start = {
            "command": command,
            "input": str(request.input_path),
            "run_dir": str(run_dir),
            "version": __version__,
        }
        log.info("run.start", extra={"event_fields": start})
        try:
            yield
        except Exception as error:
            fields = {"command": command, "exit_code": int(exit_code_for(error))}
            log.error("run.fatal", exc_info=error, extra={"event_fields": fields})
            if isinstance(error, WebexBulkError):
                error.reported = True
            raise


def log_end(command: str, exit_code: ExitCode, **fields: object) -> None:
    """The ``run.end`` event of a command that ended without a fatal error."""
    end = {"command": command, "exit_code": int(exit_code), **fields}
    log.info("run.end", extra={"event_fields": end})


def new_run_id() -> str:
    """A fresh run id: twelve hex digits, in tracking ids and journal lines."""
    return uuid.uuid4().hex[:12]
