"""Torn and corrupt state, end to end: the run directory is damaged the ways a crash, a bad disk
or an operator can damage it — journal cut at many offsets of its last records, bits flipped in
its tail, stale temp files, a zero-length checkpoint, a journal line of another run — and the
next ``webex-bulk run`` never crashes, keeps exactly the committed, intact prefix, says what it
dropped, and ends with I1–I5. A failing disk (EIO, ENOSPC on write, fsync or rename) stops a run
with exit 1 and the previous checkpoint intact, and the run after it finishes cleanly.

The loader's unit tests (``tests/test_state_store_resume.py``) cover each damage against the
state store alone; here the resumed run talks to a simulator whose tenant already holds what the
lost rows made, so every dropped row must be adopted by lookup, never created twice.
"""

from __future__ import annotations

import json
import random
import shutil
import signal
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import attrs
import pytest

from reliability import invariants
from reliability.conftest import FULL, scale
from reliability.engine_process import (
    adopted,
    check_all,
    child_log,
    reset,
    run_child,
    run_in_process,
    sim_config,
)
from reliability.mixed_file import write_mixed_file
from webex_bulk.simulator import SimulatorProcess, simulator_process
from webex_bulk.state.checkpoint import CHECKPOINT_FILE, PREVIOUS_FILE
from webex_bulk.state.journal import JOURNAL_FILE
from webex_bulk.state.run_dir import EVENTS_FILE

#: Full size runs for minutes; the small one stays within the default timeout.
pytestmark = pytest.mark.timeout(scale(120, 1200))
ROWS = scale(100, 400)
SEED = 5
TAIL_RECORDS = 3
Damage = Callable[[Path], None]


@attrs.frozen
class World:
    """A finished run (``golden``) on a simulator process whose tenant it provisioned, and a
    second run's journal (another run id) to borrow foreign lines from."""

    sim: SimulatorProcess
    input_path: Path
    root: Path
    golden: Path
    baseline: dict[str, Any]
    foreign: list[bytes]

    @property
    def journal(self) -> list[bytes]:
        """The golden journal, line by line (line ends kept)."""
        return (self.golden / JOURNAL_FILE).read_bytes().splitlines(keepends=True)

    def commit(self, name: str) -> tuple[int, int]:
        """``(seq, journal offset)`` of a golden checkpoint file."""
        data = json.loads((self.golden / name).read_text())
        return int(data["seq"]), int(data["offsets"]["journal"])


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """One simulator process; the file provisioned once; a second, fresh run of it."""
    root = tmp_path_factory.mktemp("torn-state")
    input_path = write_mixed_file(root / "tenant.csv", ROWS, seed=SEED)
    with simulator_process(sim_config(SEED)) as sim:
        baseline = reset(sim)
        golden = run_in_process(sim, input_path, root / "golden").run_dir
        other = run_in_process(sim, input_path, root / "other").run_dir
        foreign = (other / JOURNAL_FILE).read_bytes().splitlines(keepends=True)
        yield World(sim, input_path, root, golden, baseline, foreign)


def copy_golden(world: World, name: str) -> Path:
    """A fresh copy of the finished run directory."""
    target = world.root / name
    shutil.copytree(world.golden, target, ignore=shutil.ignore_patterns("run.lock"))
    return target


def resume_notes(run_dir: Path) -> list[str]:
    """What the resumed run said it discarded (its ``resume.note`` log events)."""
    notes = []
    for line in (run_dir / EVENTS_FILE).read_text().splitlines():
        event = json.loads(line)
        if event.get("event") == "resume.note":
            notes.append(str(event.get("note")))
    return notes


def success_lines(entries: list[bytes]) -> set[int]:
    """Input lines of the journal entries that are successes."""
    decoded = (json.loads(entry) for entry in entries)
    return {entry["line"] for entry in decoded if entry["status"] == "success"}


def resume_damaged(world: World, name: str, damage: Damage, kept: int) -> Path:
    """Damage a copy of the finished run, resume it, and check I1–I5; exactly the journal
    entries after the first ``kept`` must have run again (their successes adopted) — all of
    them when the damage left the complete pass intact, as the run is then the next pass."""
    run_dir = copy_golden(world, name)
    damage(run_dir)
    if kept == len(world.journal):
        # Nothing committed was lost, so the pass is still complete: the same command starts
        # the next pass, which looks every row up again (state_store.md, states of a run).
        kept = 0
    before = world.sim.side("counts")
    result = run_in_process(world.sim, world.input_path, run_dir)
    after = world.sim.side("counts")
    assert result.exit_code == 3
    invariants.check_i1(run_dir, world.input_path)
    invariants.check_i2(world.sim.side("creates"))
    invariants.check_i3(world.sim.side("state"), run_dir, baseline=world.baseline)
    invariants.check_i4(run_dir, world.golden)
    # The tenant already held everything: the resume (a further run) writes nothing (I5).
    invariants.check_i5(before, after)
    if kept == 0:
        assert (run_dir / "archive").is_dir(), "a complete pass was not set aside"
    again = {outcome.line for outcome in adopted(run_dir)}
    assert again == success_lines(world.journal[kept:]), f"kept {kept} entries expected"
    if kept < len(world.journal):
        assert resume_notes(run_dir), "the loader dropped entries without saying so"
    return run_dir


def expected_kept(world: World, intact_lines: int, intact_bytes: int) -> int:
    """What the design keeps when the journal is intact up to ``intact_bytes`` (the first
    ``intact_lines`` entries): the ``.prev`` commit when it lies within, else (no checkpoint
    fits) a rebuild keeps every intact entry."""
    seq, offset = world.commit(PREVIOUS_FILE)
    return seq if offset <= intact_bytes else intact_lines


def tail_offsets(world: World, count: int) -> list[int]:
    """Offsets inside the journal's last records: every 3rd byte and each line boundary ±1 at
    full size, ``count`` seeded ones when small."""
    journal = world.journal
    size = sum(map(len, journal))
    start = size - sum(map(len, journal[-TAIL_RECORDS:]))
    if FULL:
        ends = [size - sum(map(len, journal[-k:])) for k in range(1, TAIL_RECORDS + 1)]
        near = {end + d for end in ends for d in (-1, 0, 1)}
        return sorted({*range(start, size, 3), *(o for o in near if start <= o < size)})
    rng = random.Random(f"{SEED}:offsets")
    return sorted(rng.sample(range(start, size), count))


def cut_at(offset: int) -> Damage:
    """Truncate the journal at ``offset``."""

    def damage(run_dir: Path) -> None:
        with (run_dir / JOURNAL_FILE).open("r+b") as handle:
            handle.truncate(offset)

    return damage


def test_journal_cut_anywhere_in_its_last_records_resumes_cleanly(
    world: World, figures: Any
) -> None:
    """A journal cut at any byte of its last records: the committed intact prefix is kept, each
    later row runs again and is adopted by lookup; I1–I5 hold."""
    journal = world.journal
    ends = [sum(map(len, journal[: k + 1])) for k in range(len(journal))]
    offsets = tail_offsets(world, scale(5, 0))
    adopted_rows = 0
    for offset in offsets:
        intact = sum(1 for end in ends if end <= offset)
        kept = expected_kept(world, intact, offset)
        run_dir = resume_damaged(world, f"cut-{offset}", cut_at(offset), kept)
        adopted_rows += len(adopted(run_dir))
    figures(offsets=len(offsets), rows=ROWS, adopted=adopted_rows, duplicates=0)


def flip_positions(world: World, count: int) -> list[tuple[int, int]]:
    """``(byte offset, bit)`` pairs in the last records whose flip changes the entry's value
    (a flip of a ``\\u`` escape's hex letter case changes bytes but not the value)."""
    journal = world.journal
    size = sum(map(len, journal))
    start = size - sum(map(len, journal[-TAIL_RECORDS:]))
    rng = random.Random(f"{SEED}:flips")
    data = b"".join(journal)
    chosen: list[tuple[int, int]] = []
    while len(chosen) < count:  # bounded: almost every flip changes the value
        offset, bit = rng.randrange(start, size), rng.randrange(8)
        flipped = bytearray(data)
        flipped[offset] ^= 1 << bit
        if _same_values(data, bytes(flipped)):
            continue
        chosen.append((offset, bit))
    return chosen


def _same_values(original: bytes, flipped: bytes) -> bool:
    try:
        return [json.loads(line) for line in flipped.splitlines()] == [
            json.loads(line) for line in original.splitlines()
        ]
    except ValueError:
        return False


def test_bit_flips_in_the_journal_tail_end_the_prefix_before_them(
    world: World, figures: Any
) -> None:
    """A flipped bit in one of the last records ends the valid prefix there (or the .prev commit
    is used when it lies before the damage); every later row is adopted; I1–I5 hold."""
    journal = world.journal
    starts = [sum(map(len, journal[:k])) for k in range(len(journal))]
    flips = flip_positions(world, scale(4, 60))
    figures(flips=len(flips), rows=ROWS, duplicates=0)
    for offset, bit in flips:
        line = max(k for k, start in enumerate(starts) if start <= offset)

        def damage(run_dir: Path, offset: int = offset, bit: int = bit) -> None:
            path = run_dir / JOURNAL_FILE
            data = bytearray(path.read_bytes())
            data[offset] ^= 1 << bit
            path.write_bytes(bytes(data))

        kept = expected_kept(world, line, starts[line])
        resume_damaged(world, f"flip-{offset}-{bit}", damage, kept)


def stale_temp_files(run_dir: Path) -> None:
    """Temp files of interrupted atomic writes, holding garbage."""
    (run_dir / (CHECKPOINT_FILE + ".tmp")).write_bytes(b'{"run_id": "torn')
    (run_dir / "summary.json.tmp").write_bytes(b"")


def zero_length_checkpoint(run_dir: Path) -> None:
    """``checkpoint.json`` emptied (a file system that lost the data of a rename's target)."""
    (run_dir / CHECKPOINT_FILE).write_bytes(b"")


def foreign_line_appended(world: World) -> Damage:
    """A valid, sealed journal line of another run, appended after the last commit."""

    def damage(run_dir: Path) -> None:
        with (run_dir / JOURNAL_FILE).open("ab") as handle:
            handle.write(world.foreign[-1])

    return damage


def foreign_line_instead_of_the_last(world: World) -> Damage:
    """The last journal line replaced by another run's line for the same input row."""

    def damage(run_dir: Path) -> None:
        path = run_dir / JOURNAL_FILE
        lines = path.read_bytes().splitlines(keepends=True)
        row = json.loads(lines[-1])["line"]
        swap = next(line for line in world.foreign if json.loads(line)["line"] == row)
        path.write_bytes(b"".join([*lines[:-1], swap]))

    return damage


def no_checkpoint_and_a_torn_line(run_dir: Path) -> None:
    """Both checkpoints empty and the last journal line cut in half: only a rebuild is left."""
    (run_dir / CHECKPOINT_FILE).write_bytes(b"")
    (run_dir / PREVIOUS_FILE).write_bytes(b"")
    path = run_dir / JOURNAL_FILE
    data = path.read_bytes()
    last = data.rstrip(b"\n").rfind(b"\n") + 1
    path.write_bytes(data[: last + (len(data) - last) // 2])


NAMED: list[tuple[str, Callable[[World], Damage], Callable[[World], int], str]] = [
    ("stale-temp", lambda w: stale_temp_files, lambda w: len(w.journal), "removed"),
    (
        "zero-checkpoint",
        lambda w: zero_length_checkpoint,
        lambda w: w.commit(PREVIOUS_FILE)[0],
        "checkpoint.json not used",
    ),
    ("foreign-appended", foreign_line_appended, lambda w: len(w.journal), "after the last commit"),
    (
        "foreign-last",
        foreign_line_instead_of_the_last,
        lambda w: w.commit(PREVIOUS_FILE)[0],
        "",
    ),
    (
        "rebuild",
        lambda w: no_checkpoint_and_a_torn_line,
        lambda w: len(w.journal) - 1,
        "no usable checkpoint",
    ),
]


@pytest.mark.parametrize(("name", "make", "kept", "said"), NAMED, ids=[case[0] for case in NAMED])
def test_named_damage_is_repaired_with_a_note_and_resumes(
    world: World,
    name: str,
    make: Callable[[World], Damage],
    kept: Callable[[World], int],
    said: str,
    figures: Any,
) -> None:
    """Each kind of damage is repaired on resume with a note saying what was dropped; I1–I5."""
    run_dir = resume_damaged(world, name, make(world), kept(world))
    notes = resume_notes(run_dir)
    assert notes, "damage repaired silently"
    assert any(said in note for note in notes), notes
    figures(damage=name, kept=kept(world), of=len(world.journal), notes=len(notes))


MID_RUN = ["cut-tail+zero-checkpoint", "foreign+stale-temp"]
if FULL:
    MID_RUN += ["flip-tail", "rebuild"]


def mid_run_damage(name: str, run_dir: Path, world: World) -> None:
    """Damage a run directory that a kill left half done."""
    journal = run_dir / JOURNAL_FILE
    data = journal.read_bytes()
    last = data.rstrip(b"\n").rfind(b"\n") + 1
    if name == "cut-tail+zero-checkpoint":
        journal.write_bytes(data[: last + 7])
        zero_length_checkpoint(run_dir)
    elif name == "foreign+stale-temp":
        with journal.open("ab") as handle:
            handle.write(world.foreign[0])
        stale_temp_files(run_dir)
    elif name == "flip-tail":
        flipped = bytearray(data)
        flipped[last + 5] ^= 0x10
        journal.write_bytes(bytes(flipped))
    else:
        no_checkpoint_and_a_torn_line(run_dir)


@pytest.fixture(scope="module")
def scratch() -> Iterator[SimulatorProcess]:
    """A second simulator process for tests that start from an empty tenant (the golden tenant
    of ``world`` stays provisioned)."""
    with simulator_process(sim_config(SEED)) as sim:
        yield sim


@pytest.mark.parametrize("name", MID_RUN)
def test_damage_after_a_kill_mid_run_then_resume_finishes_the_file(
    world: World, scratch: SimulatorProcess, name: str, figures: Any
) -> None:
    """Killed half way, then damaged: the resume finishes the file with I1–I5 and adopts."""
    baseline = reset(scratch)
    run_dir = world.root / f"mid-{name}"
    status = run_child(
        scratch, world.input_path, run_dir, point="kill_after_committed", at=ROWS // 2
    )
    assert status == -signal.SIGKILL, child_log(run_dir)
    mid_run_damage(name, run_dir, world)
    result = run_in_process(scratch, world.input_path, run_dir)
    assert result.exit_code == 3
    assert resume_notes(run_dir)
    checked = check_all(scratch, world.input_path, run_dir, world.golden, baseline)
    figures(damage=name, adopted=len(adopted(run_dir)), **checked)


DISK_ERRORS = [("journal_write", "ENOSPC"), ("before_fsync", "EIO"), ("before_rename", "EIO")]
if FULL:
    DISK_ERRORS += [
        ("journal_write", "EIO"),
        ("before_fsync", "ENOSPC"),
        ("before_rename", "ENOSPC"),
    ]
OPERATION = {"journal_write": "write", "before_fsync": "fsync", "before_rename": "rename"}


@pytest.mark.parametrize(("point", "error"), DISK_ERRORS)
def test_a_failing_disk_stops_the_run_and_keeps_the_previous_checkpoint(
    world: World, scratch: SimulatorProcess, point: str, error: str, figures: Any
) -> None:
    """EIO/ENOSPC on the journal write, its fsync or the checkpoint rename: exit 1, the message
    names the operation, checkpoint.json is the previous commit; the next run finishes (I1–I5)."""
    baseline = reset(scratch)
    run_dir = world.root / f"disk-{point}-{error}"
    note = world.root / f"disk-{point}-{error}.json"
    status = run_child(
        scratch, world.input_path, run_dir, point=point, at=2, note=note, error=error
    )
    assert status == 1, child_log(run_dir)
    assert f"{OPERATION[point]} of " in child_log(run_dir)
    previous = json.loads(note.read_text())["checkpoint"]
    assert previous is not None
    assert (run_dir / CHECKPOINT_FILE).read_text() == previous
    result = run_in_process(scratch, world.input_path, run_dir)
    assert result.exit_code == 3
    checked = check_all(scratch, world.input_path, run_dir, world.golden, baseline)
    figures(point=point, errno=error, exit=status, **checked)
