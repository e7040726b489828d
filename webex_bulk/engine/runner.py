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
from webex_bulk.engine.metrics import MetricsFile
from webex_bulk.engine.progress import Progress
from webex_bulk.engine.saved_plan import SavedPlan, current_org
from webex_bulk.engine.session import (
    RunRequest,
    log_end,
    logged_command,
    new_run_id,
    open_client,
    pass_preflight,
    resolve_run_dir,
)
from webex_bulk.engine.summary import build_summary
from webex_bulk.error_handling import TRANSIENT_PENDING_REASONS, ExitCode, exit_code_for
from webex_bulk.http import WebexClient
from webex_bulk.input import InputFile, scan
from webex_bulk.state import (
    IntentLog,
    OutcomeWriter,
    ResumeState,
    RunInfo,
    RunLock,
    carried_codes,
    open_run,
    read_activation_codes,
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
    approved = _approved_plan(request, source)
    run_dir = resolve_run_dir(request, source)
    with logged_command(request, run_dir, "run"), RunLock(run_dir) as lock:
        if request.stop_note:
            log.info("run.window", extra={"event_fields": {"note": request.stop_note}})
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
            plan_sha256=approved.sha256 if approved is not None else "",
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
        result = await _run_with_session(
            request, source, run_dir, run_id, resume, stop, out, timer, approved
        )
        log_end("run", result.exit_code, stopped=result.summary.get("stopped"))
        return result


async def _run_with_session(
    request: RunRequest,
    source: InputFile,
    run_dir: Path,
    run_id: str,
    resume: ResumeState,
    stop: StopControl,
    out: TextIO,
    timer: Timer,
    approved: SavedPlan | None,
) -> RunResult:
    settings = request.settings
    started = time.monotonic()
    selection = RowSelection(source, settings, request.caps)
    async with open_client(settings, request.credentials, run_id) as client:
        if approved is not None and request.plan_in is not None:
            approved.check_org(request.plan_in, await current_org(client, settings.org_id))
        await pass_preflight(client, source, selection, run_dir, settings, out)
        now = datetime.datetime.now(datetime.UTC)
        carried = carried_codes(run_dir, settings.fingerprint(), now)
        codes = [*carried, *read_activation_codes(run_dir)]
        writer = OutcomeWriter(
            run_dir, source.header, settings, run_id, resume, carried_codes=carried
        )
        intents = IntentLog(run_dir)
        for note in intents.notes:
            log.warning("resume.note", extra={"event_fields": {"note": note}})
        progress = Progress(interval=settings.progress_interval, display=request.display)
        engine = Engine(
            selection=selection,
            settings=settings,
            context=ActionContext(
                client=client,
                settings=settings,
                approve=approved.approve if approved is not None else None,
                intents=intents,
                activation_codes=codes,
            ),
            writer=writer,
            resume=resume,
            stop=stop,
            progress=progress,
            places=client.in_flight,
        )
        metrics = _Metrics(request.metrics_file, engine, client, started)
        async with _background(progress, client, stop, request.seconds_left, timer, metrics):
            try:
                await engine.run()
            except Exception as error:
                metrics.write(exit_code_for(error))
                raise
        summary = build_summary(engine.tally, client.stats, time.monotonic() - started, stop.why)
        write_summary(run_dir, summary)
        code = engine.tally.exit_code(stop.exit_code)
        metrics.write(code)
        return RunResult(code, run_dir, summary)


def _approved_plan(request: RunRequest, source: InputFile) -> SavedPlan | None:
    """``--plan``'s saved plan, refused here (before any write) when made from another file."""
    if request.plan_in is None:
        return None
    approved = SavedPlan.load(request.plan_in)
    approved.check_input(request.plan_in, source.sha256, request.input_path)
    return approved


class _Metrics:
    """The run's ``--metrics-file`` (or nothing), fed from the engine's tally and the client."""

    def __init__(
        self, path: Path | None, engine: Engine, client: WebexClient, started: float
    ) -> None:
        self._file = MetricsFile(path) if path is not None else None
        self._engine = engine
        self._client = client
        self._started = started

    def write(self, exit_code: ExitCode | None = None) -> None:
        """Rewrite the file with the current figures; with ``exit_code`` once the run ended."""
        if self._file is None:
            return
        client = self._client
        duration = time.monotonic() - self._started
        self._file.update(self._engine.tally, client.stats, client.rate, duration)
        if exit_code is not None:
            self._file.end(exit_code)
        self._file.write()


@contextlib.asynccontextmanager
async def _background(
    progress: Progress,
    client: WebexClient,
    stop: StopControl,
    seconds_left: float | None,
    timer: Timer,
    metrics: _Metrics,
) -> AsyncIterator[None]:
    """Progress ticks, metrics and the deadline watch, for as long as the engine runs.

    Not a TaskGroup: an error of the engine must reach the caller as itself, not wrapped in an
    exception group; the helpers are cancelled and awaited here whatever happens.
    """
    ticker = _tick(progress, client, metrics)
    helpers = [asyncio.create_task(ticker, name="progress")]
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


#: Seconds between two rewrites of the metrics file during a run.
METRICS_EVERY = 5.0


async def _tick(progress: Progress, client: WebexClient, metrics: _Metrics) -> None:
    next_metrics = time.monotonic()
    while True:
        stats = client.stats
        now = time.monotonic()
        progress.update_http(stats.requests, stats.rate_limited, client.breaker_state())
        progress.tick(now)
        if now >= next_metrics:
            next_metrics = now + METRICS_EVERY
            metrics.write()
        await asyncio.sleep(0.25)
