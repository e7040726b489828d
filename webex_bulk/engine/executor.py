"""Orchestration of a run: phases in order, bounded workers, terminal states, clean stops.

Workers never touch files: every outcome goes through one bounded queue to the writer task.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import datetime
import functools
import logging
import signal
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, TextIO

import aiohttp
import attrs

from webex_bulk import __version__
from webex_bulk.actions import REGISTRY, ActionContext, EntityActions
from webex_bulk.config import Credentials, Settings
from webex_bulk.engine.batch_iterator import PHASES, VALIDATION_PHASE, Caps, Phase, RowSelection
from webex_bulk.engine.preflight import raise_on_failure, run_checks
from webex_bulk.error_handling import (
    AuthError,
    FatalError,
    Reason,
    RequestError,
    RunAborted,
    Status,
)
from webex_bulk.http import CircuitBreaker, WebexClient
from webex_bulk.input.data_pipeline import InputFile, dependencies, scan
from webex_bulk.log import Progress, setup_logging
from webex_bulk.models import EntityType, Outcome, Row
from webex_bulk.state.persistence import write_atomic
from webex_bulk.state.run_dir import ResumeState, RunInfo, RunLock, default_run_dir, open_run
from webex_bulk.state.writers import OutcomeWriter, PhaseDone, write_summary

log = logging.getLogger("webex_bulk.engine.executor")

EXIT_OK = 0
EXIT_FATAL = 1
EXIT_FINISHED_WITH_ISSUES = 3
EXIT_STOPPED = 4
EXIT_SIGINT = 130
EXIT_SIGTERM = 143

#: Entity types whose rows of one group key are sent together, up to this many per request.
BATCHED: Mapping[EntityType, Callable[[Settings], int]] = {
    EntityType.NUMBER: lambda settings: settings.numbers_batch_size,
}


class StopControl:
    """Why a run stops before its end, and how hard: intake first, then in-flight rows."""

    def __init__(self) -> None:
        self.intake_closed = asyncio.Event()
        self.cancel_now = asyncio.Event()
        self.exit_code: int | None = None
        self.why = ""

    def request(self, why: str, exit_code: int) -> None:
        """Stop taking rows; the first reason wins, a second request cancels in-flight rows."""
        if self.intake_closed.is_set():
            self.cancel_now.set()
            return
        self.why, self.exit_code = why, exit_code
        self.intake_closed.set()

    def on_signal(self, signum: int) -> None:
        """SIGINT → 130, SIGTERM → 143; a second signal skips the grace period."""
        code = EXIT_SIGINT if signum == signal.SIGINT else EXIT_SIGTERM
        log.warning("run.signal", extra={"event_fields": {"signal": signal.Signals(signum).name}})
        self.request(f"interrupted by {signal.Signals(signum).name}", code)

    @property
    def stopped(self) -> bool:
        """Whether a stop was requested."""
        return self.intake_closed.is_set()


@attrs.frozen
class WorkItem:
    """Rows handed to one worker together: one row, or one batch of one group key."""

    action: EntityActions
    rows: tuple[Row, ...]
    group_key: str | None


class Tally:
    """Counts of outcomes by status, reason and entity type, across resumes."""

    def __init__(self) -> None:
        self.by_status: collections.Counter[str] = collections.Counter()
        self.by_reason: collections.Counter[str] = collections.Counter()
        self.by_type: dict[str, collections.Counter[str]] = collections.defaultdict(
            collections.Counter
        )

    def add(self, entity_type: str, status: str, reason: str | None) -> None:
        """Count one terminal row."""
        self.by_status[status] += 1
        if reason:
            self.by_reason[reason] += 1
        self.by_type[entity_type][status] += 1

    def as_dict(self) -> dict[str, Any]:
        """The counts as plain JSON values."""
        return {
            "by_status": {s.value: self.by_status.get(s.value, 0) for s in Status},
            "by_reason": dict(sorted(self.by_reason.items())),
            "by_entity_type": {t: dict(c) for t, c in sorted(self.by_type.items())},
        }


class Engine:
    """Runs the phases of one input file against the tenant and hands outcomes to the writer."""

    def __init__(
        self,
        *,
        selection: RowSelection,
        settings: Settings,
        client: WebexClient,
        context: ActionContext,
        writer: OutcomeWriter,
        resume: ResumeState,
        stop: StopControl,
        progress: Progress,
    ) -> None:
        self._selection = selection
        self._settings = settings
        self._client = client
        self._ctx = context
        self._writer = writer
        self._stop = stop
        self._progress = progress
        self._done_lines = frozenset(resume.done)
        self._key_ok: dict[str, bool] = {}
        self.tally = Tally()
        for done in resume.done.values():
            self._record_key(done.key, done.status == Status.SUCCESS)
            self.tally.add(done.key.split(":", 1)[0], str(done.status), done.reason)
        self._queue: asyncio.Queue[Outcome | PhaseDone | None] = asyncio.Queue(
            maxsize=max(64, 4 * settings.concurrency)
        )
        self._writer_error: BaseException | None = None
        self._fatal: BaseException | None = None
        self._group_locks: dict[str, tuple[asyncio.Lock, int]] = {}

    # -- the run ---------------------------------------------------------------------------

    async def run(self) -> None:
        """Process every phase, then let the writer drain and commit; re-raise a fatal error."""
        writer_task = asyncio.create_task(self._write_all(), name="writer")
        try:
            await self._emit_pre_api()
            for phase in PHASES:
                if self._stop.stopped:
                    break
                await self._run_phase(phase)
                if not self._stop.stopped:
                    await self._queue.put(PhaseDone(phase.name))
        finally:
            # The writer must commit what it has even when this task is being cancelled.
            await asyncio.shield(self._finish_writer(writer_task))
        if self._writer_error is not None:
            raise self._writer_error
        if self._fatal is not None:
            raise self._fatal

    async def _finish_writer(self, writer_task: asyncio.Task[None]) -> None:
        await self._queue.put(None)
        await asyncio.wait({writer_task})

    async def _write_all(self) -> None:
        """The writer task; on failure it stops the run and drains so no producer blocks."""
        try:
            await self._writer.run(self._queue)
        except Exception as exc:  # StorageError and bugs alike: stop, keep the previous commit
            self._writer_error = exc
            self._stop.request(f"writing the run directory failed: {exc}", EXIT_FATAL)
            while await self._queue.get() is not None:
                pass

    async def _emit(self, outcome: Outcome) -> None:
        # Queue first: a worker cancelled while waiting for room counts nothing it did not hand on.
        await self._queue.put(outcome)
        self._record_key(outcome.key, outcome.status == Status.SUCCESS)
        self.tally.add(outcome.entity_type, outcome.status.value, outcome.reason)
        self._progress.row_done(outcome.status.value)

    def _record_key(self, key: str, ok: bool) -> None:
        # A key counts as done when any row with it succeeded (duplicates are rejected later rows).
        self._key_ok[key] = self._key_ok.get(key, False) or ok

    async def _emit_pre_api(self) -> None:
        self._progress.start_phase(VALIDATION_PHASE, 0)
        for outcome in self._selection.pre_api_outcomes():
            if outcome.line not in self._done_lines:
                await self._emit(outcome)
        await self._queue.put(PhaseDone(VALIDATION_PHASE))

    # -- one phase -------------------------------------------------------------------------

    async def _run_phase(self, phase: Phase) -> None:
        total = self._selection.count(phase)
        self._progress.start_phase(phase.name, total)
        if total == 0:
            return
        log.info("phase.start", extra={"event_fields": {"phase": phase.name, "rows": total}})
        work: asyncio.Queue[WorkItem | None] = asyncio.Queue(maxsize=2 * self._settings.concurrency)
        # Everything of the phase that talks to the API; the stop watchdog cancels what is left
        # of it once the grace period is over.
        running: list[asyncio.Task[Any]] = []
        async with asyncio.TaskGroup() as group:
            watchdog = group.create_task(self._watch_stop(running, work), name="stop-watchdog")
            preparing = group.create_task(self._prepare(phase), name="prepare")
            running.append(preparing)
            await asyncio.wait({preparing})
            if not self._stop.stopped:
                await self._fan_out(phase, work, group, running)
            watchdog.cancel()
        log.info("phase.end", extra={"event_fields": {"phase": phase.name}})

    async def _prepare(self, phase: Phase) -> None:
        """Let each entity type of the phase list its inventory when that saves requests."""
        for entity_type in phase.types:
            count = self._selection.count_type(entity_type)
            if count and not self._stop.stopped:
                await self._guard(self._list_inventory(entity_type, count))

    async def _list_inventory(self, entity_type: EntityType, count: int) -> None:
        """A listing is an optimisation: when it fails, each row looks itself up instead."""
        try:
            await REGISTRY[entity_type].prepare(self._ctx, count)
        except RequestError as exc:
            fields = {"entity_type": entity_type.value, "error": str(exc)}
            log.warning("phase.inventory_failed", extra={"event_fields": fields})

    async def _fan_out(
        self,
        phase: Phase,
        work: asyncio.Queue[WorkItem | None],
        group: asyncio.TaskGroup,
        running: list[asyncio.Task[Any]],
    ) -> None:
        """Feed the phase's rows to ``concurrency`` workers and wait for them."""
        workers = [
            group.create_task(self._worker(work), name=f"worker-{index}")
            for index in range(self._settings.concurrency)
        ]
        running.extend(workers)
        try:
            await self._produce(phase, work)
        finally:
            _drain_if_stopped(work, self._stop)
            for _ in workers:
                await work.put(None)
        await asyncio.wait(workers)

    async def _watch_stop(
        self, running: Sequence[asyncio.Task[Any]], work: asyncio.Queue[WorkItem | None]
    ) -> None:
        """After a stop request, give in-flight rows the grace period, then cancel them.

        Cancelled workers take nothing more from the work queue, so it is emptied here: a
        producer waiting for room must not wait forever (its rows get no outcome this run).
        """
        await self._stop.intake_closed.wait()
        grace = asyncio.create_task(self._stop.cancel_now.wait())
        try:
            await asyncio.wait({grace}, timeout=self._settings.shutdown_grace)
        finally:
            grace.cancel()
        for task in running:
            task.cancel()
        _drain_if_stopped(work, self._stop)

    async def _produce(self, phase: Phase, work: asyncio.Queue[WorkItem | None]) -> None:
        batches: dict[str, list[Row]] = {}
        for row in self._selection.phase_rows(phase):
            if self._stop.stopped:
                return
            if row.line in self._done_lines:
                continue
            action = REGISTRY[row.entity_type]
            key = action.group_key(row)
            limit = BATCHED[row.entity_type](self._settings) if row.entity_type in BATCHED else 1
            if key is None or limit == 1:
                await work.put(WorkItem(action, (row,), key))
                continue
            batch = batches.setdefault(key, [])
            batch.append(row)
            if len(batch) >= limit:
                await work.put(WorkItem(action, tuple(batches.pop(key)), key))
        for key, rows in batches.items():
            if self._stop.stopped:
                return
            await work.put(WorkItem(REGISTRY[rows[0].entity_type], tuple(rows), key))

    async def _worker(self, work: asyncio.Queue[WorkItem | None]) -> None:
        while (item := await work.get()) is not None:
            if self._stop.stopped:
                continue  # intake closed: leave the row for the next run
            async with self._group_lock(item.group_key):
                outcomes = await self._guard(self._run_item(item))
            for outcome in outcomes or ():
                await self._emit(outcome)

    async def _run_item(self, item: WorkItem) -> list[Outcome]:
        ready: list[Row] = []
        outcomes: dict[int, Outcome] = {}
        for row in item.rows:
            blocked = self._failed_dependency(row)
            if blocked is None:
                ready.append(row)
            else:
                outcomes[row.line] = Outcome.failed(
                    row, Reason.DEPENDENCY_FAILED, f"{blocked} did not end in success"
                )
        if ready:
            for outcome in await item.action.run(self._ctx, ready):
                outcomes[outcome.line] = outcome
        return [outcomes[row.line] for row in item.rows if row.line in outcomes]

    def _failed_dependency(self, row: Row) -> str | None:
        for key in dependencies(row):
            if self._key_ok.get(key) is False:
                return key
        return None

    def _group_lock(self, key: str | None) -> _GroupLock:
        return _GroupLock(self._group_locks, key)

    async def _guard(self, step: Awaitable[Any]) -> Any:
        """Run a step; a fatal error or an abort stops the run instead of crossing task borders."""
        try:
            return await step
        except RunAborted as exc:
            self._stop.request(exc.why, EXIT_STOPPED)
        except (AuthError, FatalError) as exc:
            self._fatal = self._fatal or exc
            self._stop.request(str(exc), EXIT_FATAL)
        except Exception as exc:  # a bug: stop cleanly with what is committed, report it once
            log.exception("run.internal_error", extra={"event_fields": {"error": repr(exc)}})
            self._fatal = self._fatal or exc
            self._stop.request(f"internal error: {exc!r}", EXIT_FATAL)
        return None


def _drain_if_stopped(work: asyncio.Queue[WorkItem | None], stop: StopControl) -> None:
    """Drop the rows still queued after a stop: they get no outcome and run next time."""
    while stop.stopped and not work.empty():
        work.get_nowait()


class _GroupLock:
    """Serialises work items of one group key (a device owner, a location's numbers).

    A key's lock lives only while some worker holds or waits for it, so the map stays as small
    as the work in flight.
    """

    def __init__(self, locks: dict[str, tuple[asyncio.Lock, int]], key: str | None) -> None:
        self._locks = locks
        self._key = key

    async def __aenter__(self) -> None:
        if self._key is None:
            return
        lock, users = self._locks.get(self._key, (asyncio.Lock(), 0))
        self._locks[self._key] = (lock, users + 1)
        try:
            await lock.acquire()
        except BaseException:
            self._leave(lock)
            raise

    async def __aexit__(self, *exc: object) -> None:
        if self._key is None:
            return
        lock, _ = self._locks[self._key]
        lock.release()
        self._leave(lock)

    def _leave(self, lock: asyncio.Lock) -> None:
        assert self._key is not None
        _, users = self._locks[self._key]
        if users == 1:
            del self._locks[self._key]
        else:
            self._locks[self._key] = (lock, users - 1)


async def deadline_watch(stop: StopControl, seconds_left: float) -> None:
    """Close intake when the run's time window ends (``--deadline``, ``--max-duration``)."""
    await asyncio.sleep(max(0.0, seconds_left))
    stop.request("the deadline was reached", EXIT_STOPPED)


def exit_code_for(stop: StopControl, tally: Tally) -> int:
    """The process exit code of a run that ended without a fatal error (DESIGN §13)."""
    if stop.exit_code is not None:
        return stop.exit_code
    issues = tally.by_status.get(Status.REJECTED.value, 0) + tally.by_status.get(
        Status.PENDING.value, 0
    )
    return EXIT_FINISHED_WITH_ISSUES if issues else EXIT_OK


# -- wiring one run ----------------------------------------------------------------------------


@attrs.frozen
class RunRequest:
    """Everything ``run`` needs, already parsed and checked by the CLI."""

    input_path: Path
    settings: Settings
    credentials: Credentials
    caps: Caps = attrs.field(factory=Caps)
    run_dir: Path | None = None
    fresh: bool = False
    seconds_left: float | None = None  # --deadline / --max-duration, as seconds from now


@attrs.frozen
class RunResult:
    """How a run ended."""

    exit_code: int
    run_dir: Path
    summary: Mapping[str, Any]


def resolve_run_dir(request: RunRequest, source: InputFile) -> Path:
    """``--run-dir`` or ``runs/<stem>-<sha12>``; ``--fresh`` sets an existing one aside."""
    run_dir = request.run_dir or default_run_dir(
        request.input_path, source.sha256, Path(request.settings.runs_root)
    )
    if request.fresh and run_dir.exists():
        stamp = datetime.datetime.now(datetime.UTC).strftime("%Y%m%dT%H%M%S")
        run_dir.rename(run_dir.with_name(f"{run_dir.name}.{stamp}"))
    return run_dir


async def run_file(request: RunRequest, stop: StopControl, out: TextIO) -> RunResult:
    """Provision the tenant from one input file; resumable, idempotent."""
    settings = request.settings
    source = scan(request.input_path, settings)
    run_dir = resolve_run_dir(request, source)
    run_dir.mkdir(parents=True, exist_ok=True)
    secrets = request.credentials.secrets()
    with (
        setup_logging(run_dir, settings.log_format, settings.log_level, secrets),
        RunLock(run_dir) as lock,
    ):
        for note in lock.notes:
            log.warning("lock.note", extra={"event_fields": {"note": note}})
        run_id = uuid.uuid4().hex[:12]
        info = RunInfo(
            input_path=str(request.input_path),
            input_sha256=source.sha256,
            version=__version__,
            started=datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
            fingerprint=settings.fingerprint(),
            run_id=run_id,
        )
        resume = open_run(run_dir, info, fresh=request.fresh)
        for note in resume.notes:
            log.warning("resume.note", extra={"event_fields": {"note": note}})
        if resume.run_info is not None:  # a resumed directory keeps its run id (state_store.md)
            run_id = resume.run_info.run_id
        return await _run_with_session(request, source, run_dir, run_id, resume, stop, out)


async def _run_with_session(
    request: RunRequest,
    source: InputFile,
    run_dir: Path,
    run_id: str,
    resume: ResumeState,
    stop: StopControl,
    out: TextIO,
) -> RunResult:
    settings = request.settings
    started = time.monotonic()
    selection = RowSelection(source, settings, request.caps)
    async with open_client(settings, request.credentials, run_id) as client:
        checks = await run_checks(client, source, selection, run_dir, settings.org_id)
        for check in checks:
            print(check.line(), file=out)
        raise_on_failure(checks)
        writer = OutcomeWriter(run_dir, source.header, settings, run_id, resume)
        progress = Progress(settings=settings)
        engine = Engine(
            selection=selection,
            settings=settings,
            client=client,
            context=ActionContext(client=client, settings=settings),
            writer=writer,
            resume=resume,
            stop=stop,
            progress=progress,
        )
        async with _background(progress, client, stop, request.seconds_left):
            await engine.run()
        summary = _summary(engine, client, started, stop)
        write_summary(run_dir, summary)
        return RunResult(exit_code_for(stop, engine.tally), run_dir, summary)


@contextlib.asynccontextmanager
async def open_client(
    settings: Settings, credentials: Credentials, run_id: str
) -> AsyncIterator[WebexClient]:
    """One aiohttp session, breaker and client for the whole run (created inside the loop)."""
    timeout = aiohttp.ClientTimeout(
        total=None, sock_connect=settings.connect_timeout, sock_read=settings.read_timeout
    )
    connector = aiohttp.TCPConnector(limit=max(settings.concurrency * 2, 10))
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


@contextlib.asynccontextmanager
async def _background(
    progress: Progress, client: WebexClient, stop: StopControl, seconds_left: float | None
) -> AsyncIterator[None]:
    """Progress ticks and the deadline watch, for as long as the engine runs.

    Not a TaskGroup: an error of the engine must reach the caller as itself, not wrapped in an
    exception group; the helpers are cancelled and awaited here whatever happens.
    """
    helpers = [asyncio.create_task(_tick_progress(progress, client), name="progress")]
    if seconds_left is not None:
        helpers.append(asyncio.create_task(deadline_watch(stop, seconds_left), name="deadline"))
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


def _summary(
    engine: Engine, client: WebexClient, started: float, stop: StopControl
) -> dict[str, Any]:
    stats = client.stats
    return {
        **engine.tally.as_dict(),
        "duration_seconds": round(time.monotonic() - started, 3),
        "stopped": stop.why or None,
        "requests": stats.requests,
        "writes": stats.writes,
        "rate_limited": stats.rate_limited,
        "retries": stats.retries,
        "breaker_trips": stats.breaker_trips,
        "by_http_status": {str(k): v for k, v in sorted(stats.by_status.items())},
    }
