"""The engine of a run: phases in order, bounded workers, terminal states, clean stops.

Workers never touch files: every outcome goes through one bounded queue to the writer task.
The wiring around it (client, logging, lock, background tasks, summary) is ``runner``'s.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Awaitable, Callable, Mapping
from typing import TypeVar

import attrs

from webex_bulk.actions import REGISTRY, ActionContext, EntityActions
from webex_bulk.config import Settings
from webex_bulk.engine.batch_iterator import PHASES, VALIDATION_PHASE, Phase, RowSelection
from webex_bulk.engine.dependencies import Dependencies
from webex_bulk.engine.progress import Progress
from webex_bulk.engine.summary import Tally
from webex_bulk.error_handling import (
    AuthError,
    ExitCode,
    FatalError,
    RequestError,
    RunAborted,
    Status,
    exit_code_for,
)
from webex_bulk.models import EntityType, Outcome, Row
from webex_bulk.state import OutcomeWriter, PhaseDone, ResumeState

log = logging.getLogger("webex_bulk.engine.executor")

T = TypeVar("T")

#: Entity types whose rows of one group key are sent together, up to this many per request.
BATCHED: Mapping[EntityType, Callable[[Settings], int]] = {
    EntityType.NUMBER: lambda settings: settings.numbers_batch_size,
}


class StopControl:
    """Why a run stops before its end, and how hard: intake first, then in-flight rows."""

    def __init__(self) -> None:
        self.intake_closed = asyncio.Event()
        self.cancel_now = asyncio.Event()
        self.exit_code: ExitCode | None = None
        self.why = ""

    def request(self, why: str, exit_code: ExitCode) -> None:
        """Stop taking rows; the first reason wins, a second request cancels in-flight rows."""
        if self.intake_closed.is_set():
            self.cancel_now.set()
            return
        self.why, self.exit_code = why, exit_code
        self.intake_closed.set()

    def on_signal(self, signum: int) -> None:
        """SIGINT → 130, SIGTERM → 143, SIGHUP → 129 (128 + the signal's number); a second
        signal skips the grace period."""
        code = ExitCode(128 + signum)
        name = signal.Signals(signum).name
        # Say what each signal does: an admin pressing Ctrl-C twice should know what follows.
        action = _SECOND_SIGNAL if self.stopped else _FIRST_SIGNAL
        log.warning("run.signal", extra={"event_fields": {"signal": name, "action": action}})
        self.request(f"interrupted by {name}", code)

    @property
    def stopped(self) -> bool:
        """Whether a stop was requested."""
        return self.intake_closed.is_set()


_FIRST_SIGNAL = (
    "stopping: no new rows; rows in flight may finish during the grace period "
    "(press Ctrl-C again to cancel them now)"
)
_SECOND_SIGNAL = (
    "cancelling the rows in flight now; they stay unrecorded and the same command resumes them"
)


@attrs.frozen
class WorkItem:
    """Rows handed to one worker together: one row, or one batch of one group key."""

    action: EntityActions
    rows: tuple[Row, ...]
    group_key: str | None


class Engine:
    """Runs the phases of one input file against the tenant and hands outcomes to the writer."""

    def __init__(
        self,
        *,
        selection: RowSelection,
        settings: Settings,
        context: ActionContext,
        writer: OutcomeWriter,
        resume: ResumeState,
        stop: StopControl,
        progress: Progress,
        places: Callable[[], contextlib.AbstractAsyncContextManager[None]] | None = None,
    ) -> None:
        self._selection = selection
        self._places = places or contextlib.nullcontext
        self._settings = settings
        self._ctx = context
        self._writer = writer
        self._stop = stop
        self._progress = progress
        self._done_lines = frozenset(resume.done)
        self._dependencies = Dependencies()
        self.tally = Tally()
        for done in resume.done.values():
            self._dependencies.record(done.key, done.status is Status.SUCCESS)
            self.tally.add(done.entity_type, done.status, done.reason)
            progress.earlier(done.entity_type, done.status.value)
        self._queue: asyncio.Queue[Outcome | PhaseDone | None] = asyncio.Queue(
            maxsize=max(64, 4 * settings.workers)
        )
        self._writer_error: BaseException | None = None
        self._fatal: BaseException | None = None
        self._group_locks: dict[str, tuple[asyncio.Lock, int]] = {}

    # -- the run ---------------------------------------------------------------------------

    async def run(self) -> None:
        """Process every phase, then let the writer drain and commit; re-raise a fatal error."""
        writer_task = asyncio.create_task(self._write_all(), name="writer")
        self._progress.set_total(sum(self._selection.count(phase) for phase in PHASES))
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
            self._stop.request(f"writing the run directory failed: {exc}", ExitCode.FATAL)
            while await self._queue.get() is not None:
                pass

    async def _emit(self, outcome: Outcome) -> None:
        # Queue first: a worker cancelled while waiting for room counts nothing it did not hand on.
        await self._queue.put(outcome)
        self._dependencies.record(outcome.key, outcome.status is Status.SUCCESS)
        self.tally.add(outcome.entity_type, outcome.status, outcome.reason)
        self._progress.row_done(outcome.status.value, outcome.entity_type)

    async def _emit_pre_api(self) -> None:
        self._progress.start_phase(VALIDATION_PHASE, 0)
        for outcome in self._selection.pre_api_outcomes():
            if outcome.line not in self._done_lines:
                await self._emit(outcome)
        await self._queue.put(PhaseDone(VALIDATION_PHASE))

    # -- one phase -------------------------------------------------------------------------

    async def _run_phase(self, phase: Phase) -> None:
        total = self._selection.count(phase)
        self._progress.start_phase(phase.name, total, [kind.value for kind in phase.types])
        if total == 0:
            return
        log.info("phase.start", extra={"event_fields": {"phase": phase.name, "rows": total}})
        work: asyncio.Queue[WorkItem | None] = asyncio.Queue(maxsize=2 * self._settings.workers)
        # Everything of the phase that talks to the API; the stop watchdog cancels what is left
        # of it once the grace period is over.
        running: list[asyncio.Task[None]] = []
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
        running: list[asyncio.Task[None]],
    ) -> None:
        """Feed the phase's rows to ``concurrency`` workers and wait for them."""
        workers = [
            group.create_task(self._worker(work), name=f"worker-{index}")
            for index in range(self._settings.workers)
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
        self, running: list[asyncio.Task[None]], work: asyncio.Queue[WorkItem | None]
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
        while True:
            # A place in flight before the row is taken: rows in flight follow the client's
            # limit, and a worker without a place holds no row when a stop comes.
            async with self._places():
                item = await work.get()
                if item is None:
                    return
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
            blocked = self._dependencies.blocked(row)
            if blocked is None:
                ready.append(row)
            else:
                outcomes[row.line] = blocked
        if ready:
            for outcome in await item.action.run(self._ctx, ready):
                outcomes[outcome.line] = outcome
        return [outcomes[row.line] for row in item.rows if row.line in outcomes]

    def _group_lock(self, key: str | None) -> _GroupLock:
        return _GroupLock(self._group_locks, key)

    async def _guard(self, step: Awaitable[T]) -> T | None:
        """Run a step; a fatal error or an abort stops the run instead of crossing task borders."""
        try:
            return await step
        except RunAborted as exc:
            self._stop.request(exc.why, exit_code_for(exc))
        except (AuthError, FatalError) as exc:
            self._fatal = self._fatal or exc
            self._stop.request(str(exc), exit_code_for(exc))
        except Exception as exc:  # a bug: stop cleanly with what is committed, report it once
            log.exception("run.internal_error", extra={"event_fields": {"error": repr(exc)}})
            self._fatal = self._fatal or exc
            self._stop.request(f"internal error: {exc!r}", ExitCode.FATAL)
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
