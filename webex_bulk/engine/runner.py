"""The wiring of one run: logging, lock, run directory, client, background tasks, summary.

``run_file`` is what ``webex-bulk run`` does; the rows themselves are the ``Engine``'s.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any, TextIO

import attrs

from webex_bulk import __version__
from webex_bulk.actions import ActionContext
from webex_bulk.engine.batch_iterator import PHASES, RowSelection
from webex_bulk.engine.deadline import deadline_watch
from webex_bulk.engine.executor import Engine, StopControl
from webex_bulk.engine.progress import Progress
from webex_bulk.engine.session import (
    RunRequest,
    new_run_id,
    open_client,
    pass_preflight,
    resolve_run_dir,
)
from webex_bulk.engine.summary import build_summary
from webex_bulk.error_handling import TRANSIENT_PENDING_REASONS, ExitCode
from webex_bulk.http import WebexClient
from webex_bulk.input import InputFile, scan
from webex_bulk.log import setup_logging
from webex_bulk.state import (
    EVENTS_FILE,
    OutcomeWriter,
    ResumeState,
    RunInfo,
    RunLock,
    open_run,
    write_summary,
)

log = logging.getLogger("webex_bulk.engine.runner")

#: Waits out a run's time window (``asyncio.sleep``; a test passes a deterministic one).
Timer = Callable[[float], Awaitable[None]]


@attrs.frozen
class RunResult:
    """How a run ended."""

    exit_code: ExitCode
    run_dir: Path
    summary: Mapping[str, Any]


async def run_file(
    request: RunRequest, stop: StopControl, out: TextIO, *, timer: Timer = asyncio.sleep
) -> RunResult:
    """Provision the tenant from one input file; resumable, idempotent."""
    settings = request.settings
    source = scan(request.input_path, settings)
    run_dir = resolve_run_dir(request, source)
    run_dir.mkdir(parents=True, exist_ok=True)
    secrets = request.credentials.secrets()
    with (
        setup_logging(run_dir / EVENTS_FILE, settings.log_format, settings.log_level, secrets),
        RunLock(run_dir) as lock,
    ):
        for note in lock.notes:
            log.warning("lock.note", extra={"event_fields": {"note": note}})
        run_id = new_run_id()
        info = RunInfo(
            input_path=str(request.input_path),
            input_sha256=source.sha256,
            version=__version__,
            started=datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
            fingerprint=settings.fingerprint(),
            run_id=run_id,
            scope=request.caps.scope,
        )
        resume = open_run(
            run_dir,
            info,
            fresh=request.fresh,
            complete_phase=PHASES[-1].name,
            keep_runs=settings.keep_runs,
            retry_reasons=TRANSIENT_PENDING_REASONS,
        )
        for note in resume.notes:
            log.warning("resume.note", extra={"event_fields": {"note": note}})
        if resume.run_info is not None:  # a resumed directory keeps its run id (state_store.md)
            run_id = resume.run_info.run_id
        return await _run_with_session(request, source, run_dir, run_id, resume, stop, out, timer)


async def _run_with_session(
    request: RunRequest,
    source: InputFile,
    run_dir: Path,
    run_id: str,
    resume: ResumeState,
    stop: StopControl,
    out: TextIO,
    timer: Timer,
) -> RunResult:
    settings = request.settings
    started = time.monotonic()
    selection = RowSelection(source, settings, request.caps)
    async with open_client(settings, request.credentials, run_id) as client:
        await pass_preflight(client, source, selection, run_dir, settings, out)
        writer = OutcomeWriter(run_dir, source.header, settings, run_id, resume)
        progress = Progress(interval=settings.progress_interval)
        engine = Engine(
            selection=selection,
            settings=settings,
            context=ActionContext(client=client, settings=settings),
            writer=writer,
            resume=resume,
            stop=stop,
            progress=progress,
            places=client.in_flight,
        )
        async with _background(progress, client, stop, request.seconds_left, timer):
            await engine.run()
        summary = build_summary(engine.tally, client.stats, time.monotonic() - started, stop.why)
        write_summary(run_dir, summary)
        return RunResult(engine.tally.exit_code(stop.exit_code), run_dir, summary)


@contextlib.asynccontextmanager
async def _background(
    progress: Progress,
    client: WebexClient,
    stop: StopControl,
    seconds_left: float | None,
    timer: Timer,
) -> AsyncIterator[None]:
    """Progress ticks and the deadline watch, for as long as the engine runs.

    Not a TaskGroup: an error of the engine must reach the caller as itself, not wrapped in an
    exception group; the helpers are cancelled and awaited here whatever happens.
    """
    helpers = [asyncio.create_task(_tick_progress(progress, client), name="progress")]
    if seconds_left is not None:
        watch = deadline_watch(stop, seconds_left, timer)
        helpers.append(asyncio.create_task(watch, name="deadline"))
    try:
        yield
    finally:
        for task in helpers:
            task.cancel()
        await asyncio.gather(*helpers, return_exceptions=True)
        progress.finish()


async def _tick_progress(progress: Progress, client: WebexClient) -> None:
    while True:
        stats = client.stats
        progress.update_http(stats.requests, stats.rate_limited, client.breaker_state())
        progress.tick(time.monotonic())
        await asyncio.sleep(0.25)
