"""The writer task: commit triggers, commit order under failures and cancellation, CSV rows."""

from __future__ import annotations

import asyncio
import csv
import errno
import json
import logging
import os
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest
from support import FakeClock

from webex_bulk.config import Settings
from webex_bulk.error_handling import Action, Reason, Status, StorageError
from webex_bulk.input import OUTPUT_COLUMNS, unescape_cell
from webex_bulk.models import ActivationCode, Outcome
from webex_bulk.state import writers
from webex_bulk.state.checkpoint import Checkpoint, read_checkpoint
from webex_bulk.state.journal import read_journal
from webex_bulk.state.persistence import make_converter
from webex_bulk.state.run_dir import ResumeState, RunInfo, open_run
from webex_bulk.state.writers import OutcomeWriter, PhaseDone, write_summary

HEADER = ("entity_type", "email", "phone_number", "_line")  # an input `_` column is dropped
INFO = RunInfo(
    "users.csv", "ef" * 32, "0.1.0", "2030-01-01", {"base_url": "u", "org_id": None}, "r"
)

Queue = asyncio.Queue[Outcome | PhaseDone | None]


def outcome(line: int, status: Status = Status.SUCCESS, email: str = "") -> Outcome:
    """An outcome of a user row with formula-looking and E.164 cells."""
    reason = {Status.REJECTED: Reason.API_REJECTED, Status.PENDING: Reason.RETRIES_EXHAUSTED}
    return Outcome(
        line=line,
        entity_type="user",
        key=f"user:u{line}@example.com",
        status=status,
        cells={
            "entity_type": "user",
            "email": email or f"u{line}@example.com",
            "phone_number": "+14085550100",
        },
        reason=reason.get(status),
        detail="-3 licenses left" if status is not Status.SUCCESS else "",
        action=Action.CREATED if status is Status.SUCCESS else None,
        remote_id=f"id-{line}",
        tracking_id=f"WEBEX_BULK_r_{line}",
    )


def make_writer(
    run_dir: Path,
    *,
    every: int = 100,
    interval: float = 1000.0,
    clock: Callable[[], float] | None = None,
    commits: list[Checkpoint] | None = None,
    resume: ResumeState | None = None,
    on_commit: Callable[[Checkpoint], None] | None = None,
    carried_codes: Sequence[ActivationCode] = (),
) -> OutcomeWriter:
    """A writer on a fresh (or given) run directory; commits are recorded in ``commits``."""
    resume = resume or open_run(run_dir, INFO, fresh=False)
    settings = Settings(checkpoint_every=every, checkpoint_interval=interval)
    return OutcomeWriter(
        run_dir,
        HEADER,
        settings,
        INFO.run_id,
        resume,
        clock=clock or FakeClock(0.0),
        on_commit=on_commit or (None if commits is None else commits.append),
        carried_codes=carried_codes,
    )


async def feed(queue: Queue, *items: Outcome | PhaseDone | None) -> None:
    """Put items and wait until the writer has handled each one."""
    for item in items:
        await queue.put(item)
    await queue.join()


def on_disk(run_dir: Path) -> Checkpoint:
    """The committed checkpoint file."""
    return read_checkpoint(run_dir / "checkpoint.json", make_converter())


def read_rows(path: Path) -> list[dict[str, str]]:
    """An output CSV read back with the csv module."""
    with path.open(newline="", encoding="utf-8-sig") as handle:
        return list(csv.DictReader(handle))


async def test_commits_every_n_outcomes(tmp_path: Path) -> None:
    """With checkpoint_every=3, seven outcomes commit at 3 and 6, and the end commits the 7th."""
    commits: list[Checkpoint] = []
    writer = make_writer(tmp_path, every=3, commits=commits)
    queue: Queue = asyncio.Queue(maxsize=2)
    async with asyncio.TaskGroup() as group:
        group.create_task(writer.run(queue))
        await feed(queue, *(outcome(line) for line in range(2, 9)))
        assert [c.seq for c in commits] == [3, 6]
        await queue.put(None)
    assert [c.seq for c in commits] == [3, 6, 7]
    committed = on_disk(tmp_path)
    assert committed == commits[-1]
    assert committed.offsets["journal"] == (tmp_path / "journal.jsonl").stat().st_size
    assert committed.offsets["success"] == (tmp_path / "success.csv").stat().st_size
    assert writer.counts == {"success": 7, "rejected": 0, "pending": 0}


async def test_commits_by_interval_when_an_outcome_arrives(tmp_path: Path) -> None:
    """An outcome arriving when the oldest uncommitted one is interval seconds old commits both."""
    clock = FakeClock(0.0)
    commits: list[Checkpoint] = []
    writer = make_writer(tmp_path, interval=1000.0, clock=clock, commits=commits)
    queue: Queue = asyncio.Queue(maxsize=2)
    async with asyncio.TaskGroup() as group:
        group.create_task(writer.run(queue))
        await feed(queue, outcome(2))
        clock.now = 999.0
        await feed(queue, outcome(3))
        assert commits == []
        clock.now = 1000.0
        await feed(queue, outcome(4))
        assert [c.seq for c in commits] == [3]
        await queue.put(None)


async def test_idle_writer_commits_after_the_interval(tmp_path: Path) -> None:
    """With no further outcome, the queue wait times out and what was received is committed."""
    committed = asyncio.Event()
    commits: list[Checkpoint] = []

    def record(checkpoint: Checkpoint) -> None:
        commits.append(checkpoint)
        committed.set()

    # The clock is frozen: only the timed wait on the queue can trigger this commit.
    writer = make_writer(tmp_path, interval=0.05, on_commit=record)
    queue: Queue = asyncio.Queue(maxsize=2)
    async with asyncio.TaskGroup() as group:
        group.create_task(writer.run(queue))
        await feed(queue, outcome(2))
        async with asyncio.timeout(10):
            await committed.wait()
        assert [c.seq for c in commits] == [1]
        await queue.put(None)


async def test_phase_done_commits_and_records_the_phase(tmp_path: Path) -> None:
    """PhaseDone commits at once, also with no new outcome, and names the finished phase."""
    commits: list[Checkpoint] = []
    writer = make_writer(tmp_path, commits=commits)
    queue: Queue = asyncio.Queue(maxsize=2)
    async with asyncio.TaskGroup() as group:
        group.create_task(writer.run(queue))
        await feed(queue, outcome(2), PhaseDone("location"))
        await feed(queue, PhaseDone("number"))
        assert [(c.seq, c.phase) for c in commits] == [(1, "location"), (1, "number")]
        assert on_disk(tmp_path).phase == "number"
        await queue.put(None)


async def test_end_commits_and_leaves_three_files_with_headers(tmp_path: Path) -> None:
    """The final None commits; every output CSV exists with its header, even without rows."""
    writer = make_writer(tmp_path)
    queue: Queue = asyncio.Queue(maxsize=2)
    await queue.put(outcome(2, Status.REJECTED))
    await queue.put(None)
    await writer.run(queue)
    expected = ["entity_type", "email", "phone_number", *OUTPUT_COLUMNS]
    for status in Status:
        with (tmp_path / f"{status.value}.csv").open(newline="", encoding="utf-8-sig") as handle:
            assert next(csv.reader(handle)) == expected
    committed = on_disk(tmp_path)
    assert committed.seq == 1
    for status in Status:
        size = (tmp_path / f"{status.value}.csv").stat().st_size
        assert committed.offsets[status.value] == size


async def test_rows_read_back_to_the_outcome(tmp_path: Path) -> None:
    """Each CSV row holds the input cells and the outcome columns; unescaped, they round-trip."""
    writer = make_writer(tmp_path)
    queue: Queue = asyncio.Queue(maxsize=4)
    tricky = outcome(7, Status.PENDING, email='=HYPERLINK("x")\r\nsecond line, "q"')
    for item in (outcome(2), tricky, None):
        await queue.put(item)
    await writer.run(queue)
    (success,) = read_rows(tmp_path / "success.csv")
    assert success == {
        "entity_type": "user",
        "email": "u2@example.com",
        "phone_number": "+14085550100",
        "_line": "2",
        "_key": "user:u2@example.com",
        "_status": "success",
        "_reason": "",
        "_detail": "",
        "_action": "created",
        "_remote_id": "id-2",
        "_tracking_id": "WEBEX_BULK_r_2",
    }
    (pending,) = read_rows(tmp_path / "pending.csv")
    assert pending["email"] == "'" + tricky.cells["email"]
    assert unescape_cell(pending["email"]) == tricky.cells["email"]
    assert pending["_detail"] == "'-3 licenses left"
    assert pending["_reason"] == "retries_exhausted"


async def test_resumed_writer_continues_the_sequence_without_a_second_header(
    tmp_path: Path,
) -> None:
    """After a resume the journal sequence continues and each CSV keeps a single header."""
    queue: Queue = asyncio.Queue(maxsize=8)
    for item in (outcome(2), outcome(3), None):
        await queue.put(item)
    await make_writer(tmp_path).run(queue)
    resume = open_run(tmp_path, INFO, fresh=False)
    for item in (outcome(4), outcome(5), None):
        await queue.put(item)
    await make_writer(tmp_path, resume=resume).run(queue)
    prefix = read_journal(tmp_path / "journal.jsonl", make_converter(), INFO.run_id)
    assert prefix.problem == ""
    assert prefix.lines == [2, 3, 4, 5]
    assert prefix.last_seq == 4
    assert [row["_line"] for row in read_rows(tmp_path / "success.csv")] == ["2", "3", "4", "5"]


async def test_duplicate_outcome_is_written_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A second outcome for the same input line is refused with a warning: one row, once."""
    writer = make_writer(tmp_path)
    queue: Queue = asyncio.Queue(maxsize=4)
    for item in (outcome(2), outcome(2, Status.REJECTED), None):
        await queue.put(item)
    with caplog.at_level(logging.WARNING, logger="webex_bulk"):
        await writer.run(queue)
    assert [row["_line"] for row in read_rows(tmp_path / "success.csv")] == ["2"]
    assert read_rows(tmp_path / "rejected.csv") == []
    assert [r.getMessage() for r in caplog.records] == ["outcome.duplicate"]


# -- failures ----------------------------------------------------------------------------------


class Breakable:
    """Turns an os or file function into one failing with ``errno`` once ``broken`` is set."""

    def __init__(self, real: Callable[..., Any], code: int) -> None:
        self.real = real
        self.code = code
        self.broken = False
        self.failures = 0

    def __call__(self, *args: Any) -> Any:
        if self.broken:
            self.failures += 1
            raise OSError(self.code, os.strerror(self.code))
        return self.real(*args)


async def _run_until_failure(run_dir: Path, breakable: Breakable) -> tuple[Checkpoint, bytes]:
    """Commit two outcomes, break the function, then fail on the next commit."""
    commits: list[Checkpoint] = []
    writer = make_writer(run_dir, every=2, commits=commits)
    queue: Queue = asyncio.Queue(maxsize=8)
    task = asyncio.create_task(writer.run(queue))
    await feed(queue, outcome(2), outcome(3, Status.REJECTED))
    assert [c.seq for c in commits] == [2]
    committed_bytes = (run_dir / "checkpoint.json").read_bytes()
    breakable.broken = True
    for item in (outcome(4), outcome(5, Status.PENDING), None):
        await queue.put(item)
    with pytest.raises(StorageError):
        await task
    return commits[-1], committed_bytes


@pytest.mark.parametrize("code", [errno.EIO, errno.ENOSPC])
async def test_fsync_error_keeps_the_previous_checkpoint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, code: int
) -> None:
    """An fsync failure raises StorageError at once (never retried); the old commit stands."""
    fsync = Breakable(os.fsync, code)
    monkeypatch.setattr(os, "fsync", fsync)
    previous, previous_bytes = await _run_until_failure(tmp_path, fsync)
    assert fsync.failures == 1
    assert (tmp_path / "checkpoint.json").read_bytes() == previous_bytes
    fsync.broken = False
    resume = open_run(tmp_path, INFO, fresh=False)
    assert resume.checkpoint == previous
    assert sorted(resume.done) == [2, 3]


async def test_write_error_keeps_the_previous_checkpoint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ENOSPC while appending rows raises StorageError naming the file; the old commit stands."""
    failing = Breakable(lambda data: None, errno.ENOSPC)

    class FailingFile:
        def __init__(self, handle: Any) -> None:
            self._handle = handle

        def write(self, data: bytes) -> int:
            failing(data)
            return int(self._handle.write(data))

        def __getattr__(self, name: str) -> Any:
            return getattr(self._handle, name)

    monkeypatch.setattr(writers, "open", lambda *a: FailingFile(open(*a)), raising=False)  # noqa: SIM115
    previous, previous_bytes = await _run_until_failure(tmp_path, failing)
    assert (tmp_path / "checkpoint.json").read_bytes() == previous_bytes
    resume = open_run(tmp_path, INFO, fresh=False)
    assert resume.checkpoint == previous
    assert sorted(resume.done) == [2, 3]


@pytest.mark.parametrize("target", ["checkpoint.json.prev", "checkpoint.json"])
async def test_rename_error_keeps_the_previous_checkpoint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, target: str
) -> None:
    """A failing rename of either checkpoint file raises StorageError; the old commit stands."""
    real_replace = os.replace

    def replace(src: Any, dst: Any) -> None:
        if Path(dst).name == target:
            failing(src, dst)
        real_replace(src, dst)

    failing = Breakable(lambda src, dst: None, errno.EIO)
    monkeypatch.setattr(os, "replace", replace)
    previous, previous_bytes = await _run_until_failure(tmp_path, failing)
    assert failing.failures == 1
    assert (tmp_path / "checkpoint.json").read_bytes() == previous_bytes
    failing.broken = False
    resume = open_run(tmp_path, INFO, fresh=False)
    assert resume.checkpoint == previous
    assert sorted(resume.done) == [2, 3]


# -- cancellation ------------------------------------------------------------------------------


async def test_cancellation_during_a_commit_lets_it_finish(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Cancelling the writer mid-commit waits for the commit, then re-raises CancelledError."""
    loop = asyncio.get_running_loop()
    entered = asyncio.Event()
    release = threading.Event()
    real_fsync = os.fsync
    first = [True]

    def slow_fsync(fd: int) -> None:
        if first[0]:
            first[0] = False
            loop.call_soon_threadsafe(entered.set)
            release.wait(timeout=30)
        real_fsync(fd)

    writer = make_writer(tmp_path, every=1)
    monkeypatch.setattr(os, "fsync", slow_fsync)
    queue: Queue = asyncio.Queue(maxsize=2)
    task = asyncio.create_task(writer.run(queue))
    await queue.put(outcome(2))
    await entered.wait()
    task.cancel()
    await asyncio.sleep(0)  # let the cancellation reach the writer while the thread is blocked
    assert not task.done()
    release.set()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert on_disk(tmp_path).seq == 1
    assert on_disk(tmp_path).offsets["journal"] == (tmp_path / "journal.jsonl").stat().st_size
    assert open_run(tmp_path, INFO, fresh=False).notes == ()


async def test_cancellation_while_waiting_commits_what_was_received(tmp_path: Path) -> None:
    """A writer cancelled while idle commits its uncommitted outcomes before re-raising."""
    writer = make_writer(tmp_path)
    queue: Queue = asyncio.Queue(maxsize=4)
    task = asyncio.create_task(writer.run(queue))
    await feed(queue, outcome(2), outcome(3))
    assert on_disk(tmp_path).seq == 0
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert on_disk(tmp_path).seq == 2
    assert sorted(open_run(tmp_path, INFO, fresh=False).done) == [2, 3]


# -- summary -----------------------------------------------------------------------------------


def test_summary_is_written_atomically(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """summary.json holds plain JSON (enums as values); a failed rename keeps the old one."""
    write_summary(tmp_path, {"by_status": {Status.SUCCESS: 3}, "stopped": None, "n": (1, 2)})
    assert json.loads((tmp_path / "summary.json").read_text()) == {
        "by_status": {"success": 3},
        "stopped": None,
        "n": [1, 2],
    }
    broken = Breakable(os.replace, errno.ENOSPC)
    broken.broken = True
    monkeypatch.setattr(os, "replace", broken)
    with pytest.raises(StorageError, match=r"summary\.json"):
        write_summary(tmp_path, {"by_status": {}})
    assert json.loads((tmp_path / "summary.json").read_text())["by_status"] == {"success": 3}
