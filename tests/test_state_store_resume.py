"""open_run on damaged run directories: longest valid prefix, truncation, each row once."""

from __future__ import annotations

import asyncio
import csv
import json
import os
from collections.abc import Sequence
from pathlib import Path

import attrs
import pytest

from webex_bulk.config import Settings
from webex_bulk.error_handling import Action, Reason, StateError, Status
from webex_bulk.models import Outcome
from webex_bulk.state.journal import encode_entry, new_journal_entry
from webex_bulk.state.persistence import make_converter
from webex_bulk.state.run_dir import ResumeState, RunInfo, open_run
from webex_bulk.state.writers import OutcomeWriter

HEADER = ("entity_type", "name", "note")
INFO = RunInfo(
    input_path="tenant.csv",
    input_sha256="ab" * 32,
    version="0.1.0",
    started="2030-01-01T00:00:00+00:00",
    fingerprint={"base_url": "https://webexapis.com/v1", "org_id": None},
    run_id="run-1",
)
LINES = list(range(2, 14))  # twelve rows; commits after 4, 8 and 12 outcomes


def outcome(line: int) -> Outcome:
    """A row outcome whose status cycles through all three states; cells need CSV quoting."""
    status = (Status.SUCCESS, Status.REJECTED, Status.PENDING)[line % 3]
    reason = {Status.REJECTED: Reason.INVALID_VALUE, Status.PENDING: Reason.OUT_OF_SCOPE}
    return Outcome(
        line=line,
        entity_type="user",
        key=f"user:u{line}@example.com",
        status=status,
        cells={"entity_type": "user", "name": f"=name {line}", "note": 'multi\r\nline, "q"'},
        reason=reason.get(status),
        detail="detail, with comma",
        action=Action.CREATED if status is Status.SUCCESS else None,
    )


def write(run_dir: Path, resume: ResumeState, lines: Sequence[int], every: int = 4) -> None:
    """Run the writer over these rows' outcomes to the end."""

    async def main() -> None:
        settings = Settings(checkpoint_every=every, checkpoint_interval=3600.0)
        writer = OutcomeWriter(run_dir, HEADER, settings, INFO.run_id, resume, clock=lambda: 0.0)
        queue: asyncio.Queue[Outcome | None] = asyncio.Queue(maxsize=4)

        async def produce() -> None:
            for line in lines:
                await queue.put(outcome(line))
            await queue.put(None)

        await asyncio.gather(writer.run(queue), produce())  # type: ignore[arg-type]

    asyncio.run(main())


def build(run_dir: Path, lines: Sequence[int] = LINES) -> dict[str, bytes]:
    """A finished run directory; returns a snapshot of its files."""
    write(run_dir, open_run(run_dir, INFO, fresh=False), lines)
    return snapshot(run_dir)


def snapshot(run_dir: Path) -> dict[str, bytes]:
    """Every file of the run directory by name."""
    return {p.name: p.read_bytes() for p in run_dir.iterdir() if p.is_file()}


def restore(run_dir: Path, files: dict[str, bytes], *, without: Sequence[str] = ()) -> None:
    """Put the run directory back to a snapshot, leaving out some files."""
    for path in run_dir.iterdir():
        if path.is_file():
            path.unlink()
    for name, data in files.items():
        if name not in without:
            (run_dir / name).write_bytes(data)


def entry_ends(journal: bytes) -> list[int]:
    """Byte offset after each journal line."""
    ends, offset = [], 0
    for line in journal.splitlines(keepends=True):
        offset += len(line)
        ends.append(offset)
    return ends


def near_every_offset(start: int, stop: int, boundaries: Sequence[int]) -> list[int]:
    """Every third offset in [start, stop), plus each line boundary and its neighbours."""
    near = {b + d for b in boundaries for d in (-2, -1, 0, 1)}
    return sorted({*range(start, stop, 3), *(o for o in near if start <= o < stop)})


def csv_lines(run_dir: Path) -> dict[Status, list[int]]:
    """The input lines in each output CSV, read back with the csv module."""
    found: dict[Status, list[int]] = {}
    for status in Status:
        path = run_dir / f"{status.value}.csv"
        rows = []
        if path.exists():
            with path.open(newline="", encoding="utf-8-sig") as handle:
                rows = list(csv.DictReader(handle))
        assert all(row["_status"] == status.value for row in rows)
        found[status] = [int(row["_line"]) for row in rows]
    return found


def assert_consistent(run_dir: Path, resume: ResumeState) -> None:
    """Every done row is in exactly one CSV, the right one, once; no other row is."""
    found = csv_lines(run_dir)
    every = [line for lines in found.values() for line in lines]
    assert sorted(every) == sorted(resume.done)
    for status, lines in found.items():
        assert all(resume.done[line].status == status for line in lines)


CHECKPOINTS = ("checkpoint.json", "checkpoint.json.prev")


@pytest.fixture
def no_fsync(monkeypatch: pytest.MonkeyPatch) -> None:
    """Skip fsync in loops that test parsing, not durability (keeps them fast on real disks)."""
    monkeypatch.setattr(os, "fsync", lambda fd: None)


def test_new_run_starts_empty(tmp_path: Path) -> None:
    """A new directory gets run.json and an empty committed checkpoint, and nothing is done."""
    resume = open_run(tmp_path / "run", INFO, fresh=False)
    assert resume.done == {}
    assert resume.notes == ()
    assert resume.run_info == INFO
    assert resume.checkpoint is not None
    assert resume.checkpoint.seq == 0
    assert json.loads((tmp_path / "run" / "run.json").read_text())["run_id"] == "run-1"


def test_clean_resume_keeps_everything(tmp_path: Path) -> None:
    """Resuming a finished run changes no file and reports every row as done, silently."""
    run_dir = tmp_path / "run"
    before = build(run_dir)
    resume = open_run(run_dir, attrs.evolve(INFO, run_id="new-id"), fresh=False)
    assert resume.notes == ()
    assert sorted(resume.done) == LINES
    assert resume.run_info is not None
    assert resume.run_info.run_id == "run-1"  # the directory's run id stays
    after = snapshot(run_dir)
    for name in ("journal.jsonl", "success.csv", "rejected.csv", "pending.csv"):
        assert after[name] == before[name]
    assert_consistent(run_dir, resume)


@pytest.mark.parametrize("keep_checkpoints", [False, True])
def test_torn_journal_tail_keeps_the_longest_valid_prefix(
    tmp_path: Path, keep_checkpoints: bool, no_fsync: None
) -> None:
    """A journal cut at any byte of its last records loses only those; CSVs follow suit."""
    run_dir = tmp_path / "run"
    files = build(run_dir)
    journal = files["journal.jsonl"]
    ends = entry_ends(journal)
    for cut in near_every_offset(ends[-4], len(journal), ends):
        restore(run_dir, files, without=() if keep_checkpoints else CHECKPOINTS)
        (run_dir / "journal.jsonl").write_bytes(journal[:cut])
        resume = open_run(run_dir, INFO, fresh=False)
        # With checkpoints the newest names a longer journal, so the .prev (8 rows) is used.
        kept = 8 if keep_checkpoints else sum(1 for end in ends if end <= cut)
        assert sorted(resume.done) == LINES[:kept], cut
        assert (run_dir / "journal.jsonl").stat().st_size == ends[kept - 1]
        assert resume.notes
        assert_consistent(run_dir, resume)


def test_bit_flips_in_the_journal_tail_drop_from_the_damaged_entry(
    tmp_path: Path, no_fsync: None
) -> None:
    """Any single flipped bit in the last two entries ends the valid prefix before that entry."""
    run_dir = tmp_path / "run"
    files = build(run_dir)
    journal = files["journal.jsonl"]
    ends = entry_ends(journal)
    for position in range(ends[-3], len(journal), 4):
        for bit in (0, 4, 7):
            damaged = bytearray(journal)
            damaged[position] ^= 1 << bit
            restore(run_dir, files, without=CHECKPOINTS)
            (run_dir / "journal.jsonl").write_bytes(bytes(damaged))
            resume = open_run(run_dir, INFO, fresh=False)
            hit = next(index for index, end in enumerate(ends) if position < end)
            assert sorted(resume.done) == LINES[:hit], (position, bit)
            assert any("journal.jsonl: dropped" in note for note in resume.notes)
            assert_consistent(run_dir, resume)


def test_line_of_another_run_ends_the_prefix(tmp_path: Path) -> None:
    """A well-formed line sealed by another run id is not ours: it and what follows are dropped."""
    run_dir = tmp_path / "run"
    files = build(run_dir)
    converter = make_converter()
    lines = files["journal.jsonl"].splitlines(keepends=True)
    foreign = encode_entry(converter, new_journal_entry(converter, 11, "intruder", outcome(12)))
    lines[10] = foreign
    restore(run_dir, files, without=CHECKPOINTS)
    (run_dir / "journal.jsonl").write_bytes(b"".join(lines))
    resume = open_run(run_dir, INFO, fresh=False)
    assert sorted(resume.done) == LINES[:10]
    assert any("another run (intruder)" in note for note in resume.notes)
    assert_consistent(run_dir, resume)


def test_sequence_gap_ends_the_prefix(tmp_path: Path) -> None:
    """A missing journal line is a gap in the sequence numbers: the prefix stops before it."""
    run_dir = tmp_path / "run"
    files = build(run_dir)
    lines = files["journal.jsonl"].splitlines(keepends=True)
    del lines[5]
    restore(run_dir, files, without=CHECKPOINTS)
    (run_dir / "journal.jsonl").write_bytes(b"".join(lines))
    resume = open_run(run_dir, INFO, fresh=False)
    assert sorted(resume.done) == LINES[:5]
    assert any("sequence gap" in note for note in resume.notes)
    assert_consistent(run_dir, resume)


def test_zero_length_checkpoint_falls_back_to_prev(tmp_path: Path) -> None:
    """An empty checkpoint.json is skipped with a note; the .prev commit (8 rows) is used."""
    run_dir = tmp_path / "run"
    build(run_dir)
    (run_dir / "checkpoint.json").write_bytes(b"")
    resume = open_run(run_dir, INFO, fresh=False)
    assert sorted(resume.done) == LINES[:8]
    assert any("checkpoint.json not used: empty file" in note for note in resume.notes)
    assert any("dropped" in note and "after the last commit" in note for note in resume.notes)
    assert_consistent(run_dir, resume)
    assert open_run(run_dir, INFO, fresh=False).notes == ()  # the repair was committed


def test_unusable_checkpoints_rebuild_from_journal_and_csvs(tmp_path: Path) -> None:
    """With both checkpoints garbage, the state is rebuilt from the intact journal and CSVs."""
    run_dir = tmp_path / "run"
    build(run_dir)
    (run_dir / "checkpoint.json").write_bytes(b"{not json")
    (run_dir / "checkpoint.json.prev").write_bytes(b'{"run_id": 5}')
    resume = open_run(run_dir, INFO, fresh=False)
    assert sorted(resume.done) == LINES
    assert any("rebuilt" in note for note in resume.notes)
    assert_consistent(run_dir, resume)


def test_stale_temp_files_are_removed_with_a_note(tmp_path: Path) -> None:
    """Temp files of an interrupted atomic write are garbage: removed, said, never read."""
    run_dir = tmp_path / "run"
    build(run_dir)
    (run_dir / "checkpoint.json.tmp").write_bytes(b'{"half')
    (run_dir / "summary.json.tmp").write_bytes(b"")
    resume = open_run(run_dir, INFO, fresh=False)
    assert sorted(resume.done) == LINES
    assert not (run_dir / "checkpoint.json.tmp").exists()
    assert not (run_dir / "summary.json.tmp").exists()
    assert sum("interrupted write" in note for note in resume.notes) == 2


def test_uncommitted_rows_are_cut_and_written_once_on_resume(tmp_path: Path) -> None:
    """Rows appended after the last commit are truncated; the resumed run writes each row once."""
    run_dir = tmp_path / "run"
    build(run_dir, LINES[:4])
    committed = snapshot(run_dir)
    write(run_dir, open_run(run_dir, INFO, fresh=False), LINES[4:9])  # a crash loses its commit:
    for name in CHECKPOINTS:
        (run_dir / name).write_bytes(committed[name])
    resume = open_run(run_dir, INFO, fresh=False)
    assert sorted(resume.done) == LINES[:4]
    assert any("journal.jsonl: dropped" in note for note in resume.notes)
    assert_consistent(run_dir, resume)
    write(run_dir, resume, LINES[4:])
    final = open_run(run_dir, INFO, fresh=False)
    assert sorted(final.done) == LINES
    assert final.notes == ()
    assert_consistent(run_dir, final)


def test_rebuild_drops_journal_entries_whose_row_is_missing(tmp_path: Path) -> None:
    """A journal entry whose CSV row never reached the disk is dropped (with what follows)."""
    run_dir = tmp_path / "run"
    files = build(run_dir)
    success = files["success.csv"]
    last_row = success.rstrip(b"\r\n").rfind(b"\r\n") + 2
    restore(run_dir, files, without=CHECKPOINTS)
    (run_dir / "success.csv").write_bytes(success[:last_row])
    resume = open_run(run_dir, INFO, fresh=False)
    missing = max(line for line in LINES if outcome(line).status is Status.SUCCESS)
    assert sorted(resume.done) == [line for line in LINES if line < missing]
    assert any(f"from input line {missing} on" in note for note in resume.notes)
    assert_consistent(run_dir, resume)


def test_rebuild_survives_a_csv_torn_anywhere_in_its_last_row(
    tmp_path: Path, no_fsync: None
) -> None:
    """A CSV cut at any byte of its last (multi-line, quoted) row never crashes the loader."""
    run_dir = tmp_path / "run"
    files = build(run_dir)
    pending = files["pending.csv"]
    start = pending.rstrip(b"\r\n").rfind(b'\r\nuser,"') + 2
    row_ends = [i + 1 for i in range(start, len(pending)) if pending[i : i + 1] == b"\n"]
    for cut in near_every_offset(start, len(pending), row_ends):
        restore(run_dir, files, without=CHECKPOINTS)
        (run_dir / "pending.csv").write_bytes(pending[:cut])
        resume = open_run(run_dir, INFO, fresh=False)
        assert len(resume.done) < len(LINES), cut
        assert_consistent(run_dir, resume)


def test_csv_shorter_than_its_commit_uses_the_previous_checkpoint(tmp_path: Path) -> None:
    """A CSV that lost committed bytes invalidates that checkpoint; the .prev one still fits."""
    run_dir = tmp_path / "run"
    files = build(run_dir)
    (run_dir / "rejected.csv").write_bytes(files["rejected.csv"][:-1])
    resume = open_run(run_dir, INFO, fresh=False)
    assert sorted(resume.done) == LINES[:8]
    assert any("rejected.csv is shorter" in note for note in resume.notes)
    assert_consistent(run_dir, resume)


def test_changed_tenant_refuses_to_resume(tmp_path: Path) -> None:
    """Another base URL or org id refuses the resume, names both and points at --fresh."""
    run_dir = tmp_path / "run"
    build(run_dir, LINES[:2])
    other = attrs.evolve(INFO, fingerprint={"base_url": "https://other.example/v1", "org_id": "o"})
    with pytest.raises(StateError) as caught:
        open_run(run_dir, other, fresh=False)
    message = str(caught.value)
    assert "https://webexapis.com/v1" in message
    assert "https://other.example/v1" in message
    assert "--fresh" in message


def test_other_input_file_refuses_to_resume(tmp_path: Path) -> None:
    """A run directory of another input file (other sha256) is refused."""
    run_dir = tmp_path / "run"
    build(run_dir, LINES[:2])
    with pytest.raises(StateError, match="another input file"):
        open_run(run_dir, attrs.evolve(INFO, input_sha256="cd" * 32), fresh=False)


def test_fresh_sets_the_old_run_aside(tmp_path: Path) -> None:
    """fresh=True moves the previous run's files to archive/<run id> and starts empty."""
    run_dir = tmp_path / "run"
    before = build(run_dir, LINES[:3])
    other = attrs.evolve(INFO, run_id="run-2", fingerprint={"base_url": "x", "org_id": None})
    resume = open_run(run_dir, other, fresh=True)
    assert resume.done == {}
    assert resume.run_info == other
    archived = run_dir / "archive" / "run-1"
    assert (archived / "journal.jsonl").read_bytes() == before["journal.jsonl"]
    assert not (run_dir / "journal.jsonl").exists()
    assert any(str(archived) in note for note in resume.notes)


def test_missing_run_json_with_outcomes_is_refused(tmp_path: Path) -> None:
    """Outcomes without run.json cannot be attributed to a run: StateError with --fresh advice."""
    run_dir = tmp_path / "run"
    build(run_dir, LINES[:2])
    (run_dir / "run.json").unlink()
    with pytest.raises(StateError, match="--fresh"):
        open_run(run_dir, INFO, fresh=False)


def test_damaged_run_json_is_refused(tmp_path: Path) -> None:
    """An unreadable run.json is a clear StateError, not a traceback."""
    run_dir = tmp_path / "run"
    build(run_dir, LINES[:2])
    (run_dir / "run.json").write_bytes(b"\x00\x01")
    with pytest.raises(StateError, match=r"run\.json cannot be read"):
        open_run(run_dir, INFO, fresh=False)


def test_version_change_is_noted(tmp_path: Path) -> None:
    """Resuming with another tool version works and says so."""
    run_dir = tmp_path / "run"
    build(run_dir, LINES[:2])
    resume = open_run(run_dir, attrs.evolve(INFO, version="9.9.9"), fresh=False)
    assert any("9.9.9" in note for note in resume.notes)
