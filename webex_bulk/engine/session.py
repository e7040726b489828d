"""What every command that talks to Webex shares: the request, its run directory, one client.

``run``, ``plan`` and ``preflight`` all start here: scan the file, find the run directory, open
one session and client inside the running loop, and pass the preflight checklist.
"""

from __future__ import annotations

import contextlib
import datetime
import functools
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TextIO

import aiohttp
import attrs

from webex_bulk.config import Settings
from webex_bulk.credentials import Credentials
from webex_bulk.engine.batch_iterator import Caps, RowSelection
from webex_bulk.engine.preflight import Check, raise_on_failure, run_checks
from webex_bulk.http import CircuitBreaker, WebexClient
from webex_bulk.input import InputFile, scan
from webex_bulk.state import default_run_dir, write_atomic


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
    connector = aiohttp.TCPConnector(limit=max(settings.workers * 2, 10))
    async with aiohttp.ClientSession(timeout=timeout, connector=connector) as session:
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
    async with open_client(settings, request.credentials, new_run_id()) as client:
        return await run_checks(client, source, selection, run_dir, settings.org_id)


def new_run_id() -> str:
    """A fresh run id: twelve hex digits, in tracking ids and journal lines."""
    return uuid.uuid4().hex[:12]
