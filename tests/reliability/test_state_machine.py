"""Model-based test of the run directory: a Hypothesis state machine drives the real writer and
loader (``OutcomeWriter``, ``open_run``) through start / process k rows / commit / crash (at any
step of a commit) / corrupt the tail / resume / finish, and checks each resume against a model
of the journal: which entries are on disk, which are intact, what each checkpoint covers.

The model's rule for a resume is the design's: the current checkpoint when it is readable and
the journal is intact up to it; else ``.prev`` on the same terms; else a rebuild that keeps
every intact entry whose CSV row is on disk. Nothing else may be kept and nothing less.
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import os
import random
import shutil
import tempfile
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs
import pytest
from hypothesis import HealthCheck, Phase, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    precondition,
    rule,
    run_state_machine_as_test,
)

from reliability.conftest import scale
from webex_bulk.config import Settings
from webex_bulk.error_handling import Action, Reason, Status
from webex_bulk.models import Outcome
from webex_bulk.state.checkpoint import CHECKPOINT_FILE, PREVIOUS_FILE
from webex_bulk.state.journal import JOURNAL_FILE, encode_entry, new_journal_entry
from webex_bulk.state.persistence import make_converter
from webex_bulk.state.run_dir import ResumeState, RunInfo, open_run
from webex_bulk.state.writers import OutcomeWriter, PhaseDone

#: Full size runs for minutes; the small one stays within the default timeout.
pytestmark = pytest.mark.timeout(scale(120, 1200))
HEADER = ("entity_type", "name", "note")
POOL = range(2, 400)  # input lines
EVERY = 5  # checkpoint_every
INFO = RunInfo(
    input_path="tenant.csv",
    input_sha256="cd" * 32,
    version="0.1.0",
    started="2030-01-01T00:00:00+00:00",
    fingerprint={"base_url": "https://webexapis.com/v1", "org_id": None},
    run_id="model-run",
)
#: Where a crash can cut a commit, in the order of the commit protocol.
CRASH_STEPS = ("before_append", "mid_append", "before_fsync", "before_rename", "after_rename")
DAMAGES = ("truncate", "flip", "garbage", "foreign", "zero_checkpoint", "zero_prev", "zero_both")


class Crash(Exception):
    """The process died here (raised inside the writer's commit thread)."""


@attrs.define
class Seams:
    """Which crash step the next commit hits ('' = none)."""

    armed: str = ""


SEAMS = Seams()
STATS: Counter[str] = Counter()  # resumes by the state they used; crashes by step


def outcome(line: int) -> Outcome:
    """The outcome of an input line: status cycles, cells need CSV quoting."""
    status = (Status.SUCCESS, Status.REJECTED, Status.PENDING)[line % 3]
    reason = {Status.REJECTED: Reason.INVALID_VALUE, Status.PENDING: Reason.OUT_OF_SCOPE}
    return Outcome(
        line=line,
        entity_type="user",
        key=f"user:u{line}@example.com",
        status=status,
        cells={"entity_type": "user", "name": f"=u{line}", "note": 'a, "b"\nc'},
        reason=reason.get(status),
        detail="é ›",  # non-ASCII: escaped in the journal
        action=Action.CREATED if status is Status.SUCCESS else None,
        remote_id=f"id-{line}" if status is Status.SUCCESS else "",
    )


def foreign_line(seq: int) -> bytes:
    """A well-formed, sealed journal line of another run (a stale file, a copied directory)."""
    converter = make_converter()
    return encode_entry(converter, new_journal_entry(converter, seq, "another-run", outcome(3)))


class _CsvHandle:
    """A CSV handle of the writer whose ``write`` is the ``mid_append`` crash step (the journal
    is appended first, so the journal then holds entries whose rows never reached the CSVs)."""

    def __init__(self, handle: Any) -> None:
        self._handle = handle

    def write(self, data: bytes) -> int:
        """Write through unless the crash is armed here."""
        if SEAMS.armed == "mid_append":
            raise Crash("mid_append")
        return int(self._handle.write(data))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._handle, name)


@contextlib.contextmanager
def seams() -> Iterator[None]:
    """Wrap the commit's steps with the armed crash; fsync itself is skipped (this model is
    about which bytes and names a crash leaves, a power cut is what the corrupt rule does)."""
    write_batch = OutcomeWriter._write_batch
    handle = OutcomeWriter._handle
    fsync, replace = os.fsync, os.replace

    def write_batch_or_crash(self: OutcomeWriter, batch: Any, checkpoint: Any) -> None:
        if SEAMS.armed == "before_append":
            raise Crash("before_append")
        write_batch(self, batch, checkpoint)

    def handle_or_csv(self: OutcomeWriter, path: Path) -> Any:
        opened = handle(self, path)
        return opened if path.name == JOURNAL_FILE else _CsvHandle(opened)

    def fsync_or_crash(fd: int) -> None:
        if SEAMS.armed == "before_fsync":
            raise Crash("before_fsync")

    def replace_or_crash(src: Any, dst: Any) -> None:
        last = Path(dst).name == CHECKPOINT_FILE
        if last and SEAMS.armed == "before_rename":
            raise Crash("before_rename")
        replace(src, dst)
        if last and SEAMS.armed == "after_rename":
            raise Crash("after_rename")

    OutcomeWriter._write_batch = write_batch_or_crash  # type: ignore[method-assign]
    OutcomeWriter._handle = handle_or_csv  # type: ignore[method-assign]
    os.fsync, os.replace = fsync_or_crash, replace_or_crash
    try:
        yield
    finally:
        OutcomeWriter._write_batch = write_batch  # type: ignore[method-assign]
        OutcomeWriter._handle = handle  # type: ignore[method-assign]
        os.fsync, os.replace = fsync, replace
        SEAMS.armed = ""


@attrs.define
class Model:
    """What the disk holds, in entries of the journal (input line, status), in file order."""

    disk: list[tuple[int, str]] = attrs.Factory(list)  # entries written to the journal
    intact: int = 0  # leading entries of ``disk`` still intact
    csv: int = 0  # leading entries whose CSV row is on disk
    committed: int = 0  # entries the current checkpoint covers
    previous: int = 0  # entries ``.prev`` covers
    checkpoint_ok: bool = True
    previous_ok: bool = True
    pending: list[tuple[int, str]] = attrs.Factory(list)  # received, not yet committed

    def kept(self) -> int:
        """Entries a resume keeps, by the design's rule."""
        return self.rule()[1]

    def rule(self) -> tuple[str, int]:
        """Which committed state a resume uses, and how many entries it keeps."""
        if self.checkpoint_ok and self.intact >= self.committed:
            return "checkpoint", self.committed
        if self.previous_ok and self.intact >= self.previous:
            return ".prev", self.previous
        return "rebuild", min(self.intact, self.csv)

    def commit(self) -> None:
        """A whole commit: the pending entries are on disk, the checkpoint covers them."""
        self.disk += self.pending
        self.pending = []
        self.intact = self.csv = len(self.disk)
        self.previous, self.committed = self.committed, len(self.disk)


class RunDirectoryMachine(RuleBasedStateMachine):
    """The writer and loader of one run directory, against ``Model``."""

    def __init__(self) -> None:
        super().__init__()
        self.dir = Path(tempfile.mkdtemp(prefix="model-run-"))
        self.model = Model()
        self.loop: asyncio.AbstractEventLoop | None = None
        self.queue: asyncio.Queue[Outcome | PhaseDone | None] | None = None
        self.task: asyncio.Task[None] | None = None
        self.phases = 0
        self.flipped: set[int] = set()
        self.trace: list[str] = []  # what happened, for the failure message

    # -- sessions -------------------------------------------------------------------------

    def _open(self) -> None:
        self.trace.append("open")
        resume = open_run(self.dir, INFO, fresh=False)
        self._check_resume(resume)
        self.loop = asyncio.new_event_loop()
        settings_ = Settings(checkpoint_every=EVERY, checkpoint_interval=3600.0)
        writer = OutcomeWriter(self.dir, HEADER, settings_, INFO.run_id, resume, clock=lambda: 0.0)
        self.queue = asyncio.Queue()
        self.task = self.loop.create_task(writer.run(self.queue))

    def _close(self) -> None:
        assert self.loop is not None
        self.loop.run_until_complete(self.loop.shutdown_default_executor())
        self.loop.close()
        self.loop = self.queue = self.task = None

    def _send(self, item: Outcome | PhaseDone | None) -> None:
        assert self.loop is not None
        assert self.queue is not None
        self.queue.put_nowait(item)
        self.loop.run_until_complete(self.queue.join())

    @property
    def running(self) -> bool:
        """A writer session is open."""
        return self.task is not None

    def _check_resume(self, resume: ResumeState) -> None:
        source, kept = self.model.rule()
        label = f"{source}{'-dropping' if kept < len(self.model.disk) else ''}"
        if source == "rebuild" and self.model.csv < self.model.intact:
            label += "-rows-missing"
        event(label)
        STATS[label] += 1
        want = dict(self.model.disk[:kept])
        got = {line: row.status.value for line, row in resume.done.items()}
        assert got == want, (
            f"kept {len(got)} entries, the model keeps {kept} ({source}); {self.model}; "
            f"notes {resume.notes}; steps: {'; '.join(self.trace)}"
        )
        assert resume.checkpoint is not None
        assert resume.checkpoint.seq == kept, "the next journal line would leave a sequence gap"
        if len(self.model.disk) > kept or not self.model.checkpoint_ok:
            assert resume.notes, f"dropped without a note; steps: {'; '.join(self.trace)}"
        assert _csv_rows(self.dir) == want
        self.model = Model(
            disk=self.model.disk[:kept], intact=kept, csv=kept, committed=kept, previous=kept
        )
        self.flipped.clear()

    # -- rules ----------------------------------------------------------------------------

    @initialize()
    def start(self) -> None:
        """A new run directory."""
        self._open()

    @precondition(lambda self: self.running)
    @rule(k=st.integers(1, 7))
    def process(self, k: int) -> None:
        """k more rows end; the writer commits every ``EVERY`` outcomes."""
        done = {line for line, _ in [*self.model.disk, *self.model.pending]}
        fresh = [line for line in POOL if line not in done][:k]
        self.trace.append(f"process {fresh}")
        for line in fresh:
            self._send(outcome(line))
            self.model.pending.append((line, outcome(line).status.value))
            if len(self.model.pending) >= EVERY:
                self.model.commit()

    @precondition(lambda self: self.running)
    @rule()
    def commit(self) -> None:
        """A phase ends: commit now."""
        self.phases += 1
        self._send(PhaseDone(f"phase-{self.phases}"))
        self.trace.append("commit")
        self.model.commit()

    @precondition(lambda self: self.running)
    @rule(rnd=st.randoms(use_true_random=False), data=st.data())
    def crash(self, rnd: random.Random, data: st.DataObject) -> None:
        """A few more rows end (not enough for a commit), then the process dies during the next
        commit at a random step; a power cut may also damage the tail. (Uniform draws: the
        telling combinations are rare under Hypothesis's bias toward simple values.)"""
        step = rnd.choice(CRASH_STEPS)
        damage, more = (rnd.choice(("none", *DAMAGES)) for _ in range(2))
        self.process(min(rnd.randrange(EVERY), EVERY - 1 - len(self.model.pending)))
        assert self.loop is not None
        assert self.queue is not None
        assert self.task is not None
        if step == "mid_append" and not self.model.pending:
            step = "before_append"  # a commit without rows appends nothing to cut in half
        STATS[f"crash-{step}{'-pending' if self.model.pending else ''}"] += 1
        self.phases += 1
        self.trace.append(f"crash {step} (+{damage}, {more})")
        SEAMS.armed = step
        try:
            self.queue.put_nowait(PhaseDone(f"phase-{self.phases}"))
            try:
                self.loop.run_until_complete(self.task)
            except Crash:
                pass
            else:
                raise AssertionError("the armed crash did not happen")
        finally:
            SEAMS.armed = ""
        self._close()
        model = self.model
        if step in ("mid_append", "before_fsync", "before_rename", "after_rename"):
            model.disk += model.pending  # appended (page cache outlives the process)
        if step in ("before_fsync", "before_rename", "after_rename"):
            model.csv = len(model.disk)
        model.intact = len(model.disk)
        if step == "before_rename":
            model.previous = model.committed  # .prev was rewritten with the current commit
        if step == "after_rename":
            model.previous, model.committed = model.committed, len(model.disk)
        model.pending = []
        self._damage(damage, data)
        self._damage(more, data)

    @precondition(lambda self: not self.running)
    @rule(damage=st.sampled_from(DAMAGES), data=st.data())
    def corrupt_tail(self, damage: str, data: st.DataObject) -> None:
        """What a power cut or a bad disk does to the tail of the run directory."""
        self._damage(damage, data)

    def _damage(self, damage: str, data: st.DataObject) -> None:
        self.trace.append(f"damage {damage}")
        journal = self.dir / JOURNAL_FILE
        raw = journal.read_bytes() if journal.exists() else b""
        ends = _line_ends(raw)
        tail = ends[-4] if len(ends) >= 4 else 0
        if damage == "truncate" and raw:
            offset = data.draw(st.integers(tail, len(raw)), label="offset")
            journal.write_bytes(raw[:offset])
            self.trace.append(f"cut at {offset} of {len(raw)}")
            self.model.intact = min(self.model.intact, sum(1 for end in ends if end <= offset))
            # Entries whose every byte is gone are no longer on disk at all.
            starts = [0, *ends]
            left = sum(1 for start in starts[: len(self.model.disk)] if start < offset)
            self.model.disk = self.model.disk[:left]
        elif damage == "flip" and raw:
            offset = data.draw(st.integers(tail, len(raw) - 1), label="offset")
            if offset in self.flipped:
                return  # a second flip of one byte would restore it; the model is simpler
            self.flipped.add(offset)
            flipped = bytearray(raw)
            flipped[offset] ^= 0x01  # changes a value or breaks the syntax, never neither
            journal.write_bytes(bytes(flipped))
            self.trace.append(f"flipped {offset} of {len(raw)}")
            entry = sum(1 for end in ends if end <= offset)
            self.model.intact = min(self.model.intact, entry)
        elif damage == "garbage":
            # Not starting with a line end: that could complete a line cut before its end.
            junk = data.draw(st.binary(min_size=1, max_size=40), label="junk")
            junk = junk.lstrip(b"\n") or b"x"
            with journal.open("ab") as handle:
                handle.write(junk)
        elif damage == "foreign":
            with journal.open("ab") as handle:
                handle.write(foreign_line(len(self.model.disk) + 1))
        elif damage == "zero_checkpoint":
            (self.dir / CHECKPOINT_FILE).write_bytes(b"")
            self.model.checkpoint_ok = False
        elif damage == "zero_prev":
            (self.dir / PREVIOUS_FILE).write_bytes(b"")
            self.model.previous_ok = False
        elif damage == "zero_both":  # only a rebuild from the journal and the CSVs is left
            (self.dir / CHECKPOINT_FILE).write_bytes(b"")
            (self.dir / PREVIOUS_FILE).write_bytes(b"")
            self.model.checkpoint_ok = self.model.previous_ok = False

    @precondition(lambda self: not self.running)
    @rule()
    def resume(self) -> None:
        """Run the same command again: open_run must keep exactly what the model keeps."""
        self._open()

    @precondition(lambda self: self.running)
    @rule()
    def finish(self) -> None:
        """The end of the file: the final commit, then a resume finds every row done."""
        assert self.loop is not None
        assert self.task is not None
        self._send(None)
        self.loop.run_until_complete(self.task)
        self.model.commit()
        self._close()
        self._open()

    def teardown(self) -> None:
        """Close the session (as a crash would: no commit) and remove the directory."""
        if self.running:
            assert self.task is not None
            assert self.loop is not None
            SEAMS.armed = "before_append"
            try:
                self.queue.put_nowait(PhaseDone("teardown"))  # type: ignore[union-attr]
                with contextlib.suppress(Crash):
                    self.loop.run_until_complete(self.task)
            finally:
                SEAMS.armed = ""
            self._close()
        shutil.rmtree(self.dir, ignore_errors=True)


def _line_ends(raw: bytes) -> list[int]:
    """Offset just after each complete line."""
    ends, offset = [], 0
    for line in raw.splitlines(keepends=True):
        offset += len(line)
        if line.endswith(b"\n"):
            ends.append(offset)
    return ends


def _csv_rows(run_dir: Path) -> dict[int, str]:
    """Input line → status of every row in the three CSVs; each line at most once."""
    rows: dict[int, str] = {}
    for status in Status:
        path = run_dir / f"{status.value}.csv"
        if not path.exists() or not path.stat().st_size:
            continue
        with path.open(newline="", encoding="utf-8-sig") as handle:
            for row in csv.DictReader(handle):
                line = int(row["_line"])
                assert line not in rows, f"input line {line} twice in the CSVs"
                assert row["_status"] == status.value
                rows[line] = status.value
    return rows


def test_run_directory_matches_the_journal_model(figures: Any) -> None:
    """Any sequence of rows, commits, crashes at any commit step, tail damage and resumes
    leaves exactly the entries the model keeps, each row once in the right CSV."""
    examples = scale(60, 1000)
    with seams():
        run_state_machine_as_test(
            RunDirectoryMachine,
            settings=settings(
                max_examples=examples,
                stateful_step_count=30,
                deadline=None,
                suppress_health_check=[HealthCheck.too_slow],
                database=None,
                # No shrinking: a failing sequence of ≤ 30 steps reads well as it is, and
                # shrinking a file-system state machine takes minutes.
                phases=[Phase.explicit, Phase.generate],
            ),
        )
    figures(examples=examples, steps_per_example=30, events=dict(STATS))
