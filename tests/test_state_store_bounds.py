"""Bounded reading of state files: too big, too deep, not flat, another scope — each is damage
the loader handles like garbage (or a clear ``StateError``), never a ``RecursionError``."""

from __future__ import annotations

import os
import time
from pathlib import Path

import attrs
import pytest
from test_state_store_resume import INFO, LINES, build, snapshot

from webex_bulk.error_handling import StateError, StorageError
from webex_bulk.state.journal import MAX_LINE_BYTES, read_journal
from webex_bulk.state.lock import LOCK_FILE, RunLock, read_lock_holder
from webex_bulk.state.persistence import (
    MAX_RECORD_BYTES,
    MAX_RECORD_DEPTH,
    load_json,
    make_converter,
)
from webex_bulk.state.run_dir import default_run_dir, open_run, read_status

DEEP = b"[" * 100_000


def test_load_json_refuses_a_document_nested_past_the_depth_bound() -> None:
    """Nesting one level past the bound is refused before parsing; at the bound it parses."""
    at_bound = b"[" * MAX_RECORD_DEPTH + b"]" * MAX_RECORD_DEPTH
    assert load_json(at_bound) is not None
    with pytest.raises(ValueError, match="nested deeper"):
        load_json(b"[" + at_bound + b"]")
    with pytest.raises(ValueError, match="nested deeper"):
        load_json(DEEP)


def test_load_json_ignores_brackets_inside_strings() -> None:
    """Brackets inside a string (escaped quotes included) do not count as nesting."""
    text = b'{"a": "' + b'[\\"{' * 50 + b'"}'
    assert load_json(text) == {"a": '["{' * 50}


def test_load_json_refuses_a_document_past_the_size_bound() -> None:
    """A record larger than ``MAX_RECORD_BYTES`` is refused even if it is valid JSON."""
    with pytest.raises(ValueError, match="larger than"):
        load_json(b"{}" + b" " * MAX_RECORD_BYTES)


@pytest.mark.parametrize("content", [DEEP, b"{}" + b" " * (2 * MAX_RECORD_BYTES)])
def test_a_deep_or_huge_checkpoint_falls_back_to_prev(content: bytes, tmp_path: Path) -> None:
    """``checkpoint.json`` nested too deep or too big: ``.prev`` (the commit before) is used."""
    run_dir = tmp_path / "run"
    build(run_dir)
    (run_dir / "checkpoint.json").write_bytes(content)
    resume = open_run(run_dir, INFO, fresh=False)
    assert sorted(resume.done) == LINES[:8]
    assert any(note.startswith("checkpoint.json not used") for note in resume.notes)


def test_both_checkpoints_deep_rebuild_from_the_journal(tmp_path: Path) -> None:
    """Both checkpoints nested too deep: the state is rebuilt; every row is still done."""
    run_dir = tmp_path / "run"
    build(run_dir)
    for name in ("checkpoint.json", "checkpoint.json.prev"):
        (run_dir / name).write_bytes(DEEP)
    resume = open_run(run_dir, INFO, fresh=False)
    assert sorted(resume.done) == LINES
    assert any("rebuilt" in note for note in resume.notes)


def test_a_deep_run_json_is_a_state_error_and_status_still_reads(tmp_path: Path) -> None:
    """``run.json`` nested too deep: resume refuses with ``--fresh`` advice; status reads."""
    run_dir = tmp_path / "run"
    build(run_dir)
    (run_dir / "run.json").write_bytes(DEEP)
    with pytest.raises(StateError, match="nested deeper"):
        open_run(run_dir, INFO, fresh=False)
    status = read_status(run_dir)
    assert status["run"] is None
    assert any("nested deeper" in note for note in status["notes"])


def test_a_deep_summary_is_a_status_note(tmp_path: Path) -> None:
    """``summary.json`` nested too deep: status says so instead of failing to print it."""
    run_dir = tmp_path / "run"
    build(run_dir)
    (run_dir / "summary.json").write_bytes(DEEP)
    status = read_status(run_dir)
    assert status["summary"] is None
    assert any(note.startswith("summary.json unreadable") for note in status["notes"])


def test_a_journal_line_of_nested_brackets_ends_the_valid_prefix(tmp_path: Path) -> None:
    """A journal line of 100k ``[`` is "not JSON": the prefix before it is kept."""
    run_dir = tmp_path / "run"
    files = build(run_dir)
    lines = files["journal.jsonl"].splitlines(keepends=True)
    (run_dir / "journal.jsonl").write_bytes(b"".join([*lines[:5], DEEP + b"\n", *lines[6:]]))
    prefix = read_journal(run_dir / "journal.jsonl", make_converter(), INFO.run_id)
    assert prefix.lines == LINES[:5]
    assert prefix.problem == "line 6: not JSON"


def test_a_journal_line_with_a_nested_value_is_not_a_flat_record(tmp_path: Path) -> None:
    """A journal line whose field holds a list is refused before its CRC is computed."""
    path = tmp_path / "journal.jsonl"
    path.write_bytes(b'{"crc": 1, "detail": [[[1]]]}\n')
    prefix = read_journal(path, make_converter(), INFO.run_id)
    assert prefix.problem == "line 1: not a flat record"


def test_a_journal_line_past_the_bound_is_not_read_whole(tmp_path: Path) -> None:
    """A line longer than ``MAX_LINE_BYTES`` ends the prefix; the note counts the whole rest."""
    run_dir = tmp_path / "run"
    files = build(run_dir)
    huge = b"x" * (MAX_LINE_BYTES + 10)
    (run_dir / "journal.jsonl").write_bytes(files["journal.jsonl"] + huge)
    prefix = read_journal(run_dir / "journal.jsonl", make_converter(), INFO.run_id)
    assert prefix.lines == LINES
    assert "longer than" in prefix.problem
    assert prefix.size == len(files["journal.jsonl"]) + len(huge)


def test_committed_csv_rows_overwritten_in_place_are_found(tmp_path: Path) -> None:
    """Garbage over a committed CSV row (same length): the rebuild keeps the rows before it."""
    run_dir = tmp_path / "run"
    files = build(run_dir)
    data = files["success.csv"]
    middle = len(data) // 2
    (run_dir / "success.csv").write_bytes(data[:middle] + b"#" * 20 + data[middle + 20 :])
    resume = open_run(run_dir, INFO, fresh=False)
    assert set(resume.done) < set(LINES)
    assert any("does not hold the journal's success rows" in note for note in resume.notes)
    assert resume.checkpoint is not None
    assert resume.checkpoint.offsets["success"] < len(data)


def test_an_old_unreadable_lock_of_any_shape_is_taken_over(tmp_path: Path) -> None:
    """A lock file nested too deep, older than its grace: stale, taken over, status reads."""
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    (run_dir / LOCK_FILE).write_bytes(DEEP)
    old = time.time() - 60
    os.utime(run_dir / LOCK_FILE, (old, old))
    assert read_lock_holder(run_dir) is None
    with RunLock(run_dir) as lock:
        assert any("unreadable lock file" in note for note in lock.notes)
    assert not (run_dir / LOCK_FILE).exists()


def test_an_old_lock_directory_is_moved_aside(tmp_path: Path) -> None:
    """A directory named ``run.lock``, older than the grace: moved aside, the lock taken."""
    run_dir = tmp_path / "run"
    (run_dir / LOCK_FILE).mkdir(parents=True)
    old = time.time() - 60
    os.utime(run_dir / LOCK_FILE, (old, old))
    with RunLock(run_dir):
        assert (run_dir / LOCK_FILE).is_file()
    assert [p.name.startswith(f"{LOCK_FILE}.stale-") for p in run_dir.iterdir()] == [True]


def test_a_directory_for_run_json_names_the_fix(tmp_path: Path) -> None:
    """``run.json`` replaced by a directory: ``StorageError`` saying to move it or --fresh."""
    run_dir = tmp_path / "run"
    build(run_dir)
    (run_dir / "run.json").unlink()
    (run_dir / "run.json").mkdir()
    with pytest.raises(StorageError, match="a directory stands where a file belongs"):
        open_run(run_dir, INFO, fresh=False)


def test_a_run_of_another_scope_is_refused_with_both_scopes_named(tmp_path: Path) -> None:
    """A canary's directory resumed by the full run: ``StateError`` naming both scopes."""
    run_dir = tmp_path / "run"
    canary = attrs.evolve(INFO, scope="limit-20")
    open_run(run_dir, canary, fresh=False)
    before = snapshot(run_dir)
    with pytest.raises(StateError) as caught:
        open_run(run_dir, INFO, fresh=False)
    assert "the subset limit-20" in str(caught.value)
    assert "the whole file" in str(caught.value)
    assert snapshot(run_dir) == before


def test_a_run_json_without_scope_is_a_whole_file_run(tmp_path: Path) -> None:
    """``run.json`` written before the scope existed resumes as a whole-file run."""
    run_dir = tmp_path / "run"
    build(run_dir)
    text = (run_dir / "run.json").read_text()
    (run_dir / "run.json").write_text(text.replace(',\n  "scope": ""', ""))
    assert "scope" not in (run_dir / "run.json").read_text()
    assert sorted(open_run(run_dir, INFO, fresh=False).done) == LINES


def test_default_run_dir_of_a_subset_has_its_scope_appended(tmp_path: Path) -> None:
    """A subset's default directory is the whole file's name plus ``-<scope>``."""
    whole = default_run_dir(Path("tenant.csv"), "0123456789ab" + "0" * 52, tmp_path)
    canary = default_run_dir(Path("tenant.csv"), "0123456789ab" + "0" * 52, tmp_path, "limit-20")
    assert whole.name == "tenant-0123456789ab"
    assert canary.name == "tenant-0123456789ab-limit-20"
