"""The single writer task: journal lines, the output CSVs and the checkpoint commits.

Only this task writes a run's outcomes; workers hand them over on a bounded queue. Also owns the
one spelling of an output CSV row (input cells, then the ``_`` columns, every cell escaped
against spreadsheet formulas), which ``validate --out`` and ``plan`` write as well.
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import enum
import io
import json
import logging
import os
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, BinaryIO

import attrs

from webex_bulk.config import Settings
from webex_bulk.error_handling import Status
from webex_bulk.input import OUTPUT_COLUMNS, escape_cell
from webex_bulk.models import ActivationCode, Outcome
from webex_bulk.state.activation_codes import (
    ACTIVATION_CODES_FILE,
    encode_code_row,
    open_codes_file,
)
from webex_bulk.state.checkpoint import (
    OUTPUT_FILES,
    Checkpoint,
    count_statuses,
    empty_checkpoint,
    write_checkpoint,
)
from webex_bulk.state.journal import JOURNAL_FILE, encode_entry, new_journal_entry
from webex_bulk.state.persistence import make_converter, storage, write_atomic
from webex_bulk.state.run_dir import SUMMARY_FILE, ResumeState

log = logging.getLogger("webex_bulk.state.writers")

#: The byte order mark each output CSV starts with, so that spreadsheets read it as UTF-8.
BOM = b"\xef\xbb\xbf"

# ---------------------------------------------------------------------------------------------
# One output row


def output_columns(header: Sequence[str]) -> tuple[str, ...]:
    """The input columns an output file repeats (never the ``_`` columns of a re-submission)."""
    return tuple(column for column in header if not column.startswith("_"))


def row_cells(
    columns: Sequence[str], cells: Mapping[str, str], line: int, key: str, extra: Sequence[str]
) -> list[str]:
    """One output row: the row's input cells, its line and key, then ``extra``; all escaped."""
    values = [cells.get(column, "") for column in columns]
    return [escape_cell(text) for text in (*values, str(line), key, *extra)]


def outcome_cells(columns: Sequence[str], outcome: Outcome) -> list[str]:
    """The row of one outcome in ``success.csv`` / ``rejected.csv`` / ``pending.csv``."""
    extra = (
        outcome.status.value,
        outcome.reason.value if outcome.reason else "",
        outcome.detail,
        outcome.action.value if outcome.action else "",
        outcome.remote_id,
        outcome.tracking_id,
    )
    return row_cells(columns, outcome.cells, outcome.line, outcome.key, extra)


@contextlib.contextmanager
def csv_table(path: Path, header: Sequence[str]) -> Iterator[Callable[[Sequence[str]], None]]:
    """Write a whole output CSV at once (``validate --out``, ``plan``): BOM, header, then rows.

    Yields a function that writes one row of already escaped cells.
    """
    with path.open("wb") as handle:
        buffer = io.StringIO()
        table = csv.writer(buffer, lineterminator="\r\n")

        def write(cells: Sequence[str]) -> None:
            buffer.seek(0)
            buffer.truncate()
            table.writerow(cells)
            # UTF-8 cannot hold a lone surrogate; it becomes "?" in the CSV only.
            handle.write(buffer.getvalue().encode("utf-8", errors="replace"))

        handle.write(BOM)
        write([escape_cell(column) for column in header])
        yield write


# ---------------------------------------------------------------------------------------------
# The writer task


@attrs.frozen
class PhaseDone:
    """Queue message: every outcome of this phase is queued; commit a checkpoint now."""

    phase: str


class _Idle:
    """The queue stayed quiet for the rest of the commit interval."""


_IDLE = _Idle()


@attrs.define
class _Batch:
    """Bytes appended since the last commit, per file."""

    journal: bytearray = attrs.Factory(bytearray)
    rows: dict[Status, bytearray] = attrs.Factory(lambda: {s: bytearray() for s in Status})
    codes: bytearray = attrs.Factory(bytearray)  # activation_codes.csv (outside the offsets)
    outcomes: int = 0
    since: float | None = None  # clock reading when the first uncommitted outcome arrived


class OutcomeWriter:
    """The run's only file writer: journal line + CSV row per outcome, atomic checkpoints.

    Commits every ``checkpoint_every`` outcomes, when the oldest uncommitted outcome is
    ``checkpoint_interval`` seconds old, at each ``PhaseDone`` and at the final ``None``.
    """

    def __init__(
        self,
        run_dir: Path,
        header: Sequence[str],
        settings: Settings,
        run_id: str,
        resume: ResumeState,
        *,
        clock: Callable[[], float] = time.monotonic,
        on_commit: Callable[[Checkpoint], None] | None = None,
        carried_codes: Sequence[ActivationCode] = (),
    ) -> None:
        self._run_dir = run_dir
        self._columns = output_columns(header)
        self._every = settings.checkpoint_every
        self._interval = settings.checkpoint_interval
        self._run_id = run_id
        self._clock = clock
        self._on_commit = on_commit
        self._converter = make_converter()
        self._committed = resume.checkpoint or empty_checkpoint(run_id)
        self._seq = self._committed.seq
        self._phase = self._committed.phase
        self._counts: Counter[str] = Counter(count_statuses(resume.done))
        self._seen = set(resume.done)
        self._has_header = {s for s in Status if self._committed.offsets[s.value] > 0}
        self._batch = _Batch()
        for code in carried_codes:  # a new directory starts with the valid codes beside it
            self._batch.codes += encode_code_row(code)
        self._handles: dict[str, BinaryIO] = {}
        self._buffer = io.StringIO()
        self._csv = csv.writer(self._buffer, lineterminator="\r\n")

    @property
    def counts(self) -> Mapping[str, int]:
        """Rows per terminal state in the whole run directory (resumed rows included)."""
        return {s.value: self._counts[s.value] for s in Status}

    @property
    def committed(self) -> Checkpoint:
        """The last checkpoint committed to disk."""
        return self._committed

    async def run(self, queue: asyncio.Queue[Outcome | PhaseDone | None]) -> None:
        """Write every outcome of the queue until ``None``; raise ``StorageError`` on a disk error.

        A cancellation commits what was received (the commit itself cannot be cut) and re-raises.
        """
        try:
            while True:
                item = await self._next(queue)
                if isinstance(item, _Idle):
                    await self._commit()
                    continue
                try:
                    if item is None:
                        await self._commit(final=True)
                        return
                    await self._take(item)
                finally:
                    queue.task_done()
        except asyncio.CancelledError:
            await self._commit()
            raise
        finally:
            self._close()

    async def _next(
        self, queue: asyncio.Queue[Outcome | PhaseDone | None]
    ) -> Outcome | PhaseDone | _Idle | None:
        """The next message, or ``_IDLE`` when uncommitted outcomes have waited long enough."""
        since = self._batch.since
        if since is None:
            return await queue.get()
        remaining = since + self._interval - self._clock()
        if remaining <= 0:
            return _IDLE
        try:
            async with asyncio.timeout(remaining):
                return await queue.get()
        except TimeoutError:
            return _IDLE

    async def _take(self, item: Outcome | PhaseDone) -> None:
        if isinstance(item, PhaseDone):
            self._phase = item.phase
            await self._commit()
            return
        self._add(item)
        since = self._batch.since
        due_by_time = since is not None and self._clock() - since >= self._interval
        if self._batch.outcomes >= self._every or due_by_time:
            await self._commit()

    def _add(self, outcome: Outcome) -> None:
        if outcome.line in self._seen:
            # Exactly once per row, whatever a caller does: the first outcome stands.
            log.warning(
                "outcome.duplicate",
                extra={"event_fields": {"line": outcome.line, "key": outcome.key}},
            )
            return
        self._seen.add(outcome.line)
        self._seq += 1
        entry = new_journal_entry(self._converter, self._seq, self._run_id, outcome)
        status = Status(outcome.status)
        batch = self._batch
        batch.journal += encode_entry(self._converter, entry)
        self._ensure_header(status)
        batch.rows[status] += self._encode_row(outcome_cells(self._columns, outcome))
        if outcome.activation_code is not None:
            batch.codes += encode_code_row(outcome.activation_code)
        batch.outcomes += 1
        if batch.since is None:
            batch.since = self._clock()
        self._counts[status.value] += 1

    def _ensure_header(self, status: Status) -> None:
        if status not in self._has_header:
            columns = (*self._columns, *OUTPUT_COLUMNS)
            self._batch.rows[status] += BOM + self._encode_row([escape_cell(c) for c in columns])
            self._has_header.add(status)

    def _encode_row(self, cells: Sequence[str]) -> bytes:
        """One CSV line of already escaped cells."""
        self._buffer.seek(0)
        self._buffer.truncate()
        self._csv.writerow(cells)
        # UTF-8 cannot hold a lone surrogate; such a character becomes "?" in the CSV only
        # (the journal keeps it, escaped).
        return self._buffer.getvalue().encode("utf-8", errors="replace")

    # -- commit --------------------------------------------------------------------------

    async def _commit(self, *, final: bool = False) -> None:
        """Append the batch, fsync, then write the checkpoint, in a thread no cancel can cut."""
        if final:
            for status in Status:  # a finished run always leaves the three files, with a header
                self._ensure_header(status)
        batch = self._batch
        has_bytes = bool(batch.journal) or any(batch.rows.values()) or bool(batch.codes)
        if not has_bytes and self._phase == self._committed.phase:
            return
        checkpoint = self._next_checkpoint(batch)
        loop = asyncio.get_running_loop()
        # The thread keeps the event loop (HTTP workers, limiter, signals) running while a slow
        # disk fsyncs. A thread cannot be stopped, so a cancellation waits for it to finish.
        future = loop.run_in_executor(None, self._write_batch, batch, checkpoint)
        try:
            await asyncio.shield(future)
        except asyncio.CancelledError:
            await _outlast_cancellation(future)
            self._committed_to(checkpoint)
            raise
        self._committed_to(checkpoint)

    def _next_checkpoint(self, batch: _Batch) -> Checkpoint:
        offsets = dict(self._committed.offsets)
        offsets["journal"] += len(batch.journal)
        for status in Status:
            offsets[status.value] += len(batch.rows[status])
        return Checkpoint(
            run_id=self._run_id,
            seq=self._seq,
            offsets=offsets,
            counts=self.counts,
            phase=self._phase,
        )

    def _write_batch(self, batch: _Batch, checkpoint: Checkpoint) -> None:
        """Runs in a worker thread: append → flush → fsync every file → atomic checkpoint.

        A code is on disk before the checkpoint that commits its row; one whose row is not
        committed yet stays in the file (the code exists), so the row's re-run finds it.
        """
        pending = [(ACTIVATION_CODES_FILE, batch.codes), (JOURNAL_FILE, batch.journal)]
        pending += [(OUTPUT_FILES[status], batch.rows[status]) for status in Status]
        written: list[tuple[Path, BinaryIO]] = []
        for name, data in pending:
            if data:
                path = self._run_dir / name
                handle = self._handle(path)
                with storage(path, "write"):
                    handle.write(data)
                    handle.flush()
                written.append((path, handle))
        for path, handle in written:
            with storage(path, "fsync"):
                os.fsync(handle.fileno())  # never retried: after a failed fsync the page is lost
        write_checkpoint(self._run_dir, self._converter, checkpoint, self._committed)

    def _handle(self, path: Path) -> BinaryIO:
        handle = self._handles.get(path.name)
        if handle is None:
            if path.name == ACTIVATION_CODES_FILE:
                handle = open_codes_file(path)
            else:
                with storage(path, "open"):
                    handle = open(path, "ab")  # noqa: SIM115 - kept open for the whole run
            self._handles[path.name] = handle
        return handle

    def _committed_to(self, checkpoint: Checkpoint) -> None:
        outcomes = self._batch.outcomes
        self._committed = checkpoint
        self._batch = _Batch()
        log.debug(
            "checkpoint.commit",
            extra={"event_fields": {"seq": checkpoint.seq, "outcomes": outcomes}},
        )
        if self._on_commit is not None:
            self._on_commit(checkpoint)

    def _close(self) -> None:
        for handle in self._handles.values():
            with contextlib.suppress(OSError):  # everything committed was already fsynced
                handle.close()
        self._handles.clear()


async def _outlast_cancellation(future: asyncio.Future[None]) -> None:
    """Wait for a commit thread to end although this task was cancelled (maybe repeatedly)."""
    while True:
        try:
            await asyncio.shield(future)
            return
        except asyncio.CancelledError:
            if future.done():
                future.result()
                return


# ---------------------------------------------------------------------------------------------
# Summary


def write_summary(run_dir: Path, summary: Mapping[str, Any]) -> None:
    """Write ``summary.json`` atomically (temp file, fsync, rename, fsync the directory)."""
    text = json.dumps(_plain(summary), indent=2, ensure_ascii=False)
    write_atomic(run_dir / SUMMARY_FILE, text.encode("utf-8", errors="replace") + b"\n")


def _plain(value: Any) -> Any:
    """Mappings, sequences and enums as plain JSON values; anything else as text."""
    if isinstance(value, Mapping):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_plain(item) for item in value]
    if isinstance(value, enum.Enum):
        return _plain(value.value)
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)
