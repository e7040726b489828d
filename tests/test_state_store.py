"""Persisted records, atomic writes, the run lock and the read-only status of a run directory."""

from __future__ import annotations

import errno
import json
import os
import socket
import subprocess
import sys
import tempfile
import zlib
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from webex_bulk.error_handling import Action, LockError, Reason, StateError, Status, StorageError
from webex_bulk.models import Outcome
from webex_bulk.state.checkpoint import (
    OFFSET_KEYS,
    Checkpoint,
    empty_checkpoint,
    encode_checkpoint,
    read_checkpoint,
    write_checkpoint,
)
from webex_bulk.state.journal import decode_entry, encode_entry, new_journal_entry
from webex_bulk.state.lock import LockHolder, RunLock, read_lock_holder
from webex_bulk.state.persistence import canonical_json, make_converter, write_atomic
from webex_bulk.state.run_dir import RunInfo, default_run_dir, open_run, read_status

text = st.text(max_size=40)
counts = st.integers(min_value=0, max_value=2**40)


@st.composite
def outcomes(draw: st.DrawFn) -> Outcome:
    """Any outcome a worker could produce."""
    status = draw(st.sampled_from(Status))
    reason = None if status is Status.SUCCESS else draw(st.sampled_from(Reason))
    action = draw(st.sampled_from(Action)) if status is Status.SUCCESS else None
    return Outcome(
        line=draw(st.integers(min_value=1, max_value=10**7)),
        entity_type=draw(text),
        key=draw(text),
        status=status,
        cells={},
        reason=reason,
        detail=draw(st.text(max_size=200)),
        action=action,
        remote_id=draw(text),
        tracking_id=draw(text),
    )


checkpoints = st.builds(
    Checkpoint,
    run_id=text,
    seq=counts,
    offsets=st.fixed_dictionaries(dict.fromkeys(OFFSET_KEYS, counts)),
    counts=st.dictionaries(text, counts, max_size=4),
    phase=text,
)
json_leaf = st.none() | st.booleans() | st.integers(-(2**53), 2**53) | text
run_infos = st.builds(
    RunInfo,
    input_path=text,
    input_sha256=text,
    version=text,
    started=text,
    fingerprint=st.dictionaries(text, json_leaf, max_size=4),
    run_id=text,
)
holders = st.builds(LockHolder, pid=counts, host=text, started=text, token=text)


@given(outcomes(), st.integers(min_value=1, max_value=2**40), text)
def test_journal_entry_round_trips(outcome: Outcome, seq: int, run_id: str) -> None:
    """A sealed journal entry decodes back to the same record, on one ASCII line."""
    converter = make_converter()
    entry = new_journal_entry(converter, seq, run_id, outcome)
    raw = encode_entry(converter, entry)
    assert raw.count(b"\n") == 1
    assert raw.endswith(b"\n")
    assert raw.isascii()
    assert decode_entry(converter, raw) == entry


@given(checkpoints)
def test_checkpoint_round_trips(checkpoint: Checkpoint) -> None:
    """A checkpoint written by encode_checkpoint reads back equal."""
    converter = make_converter()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "checkpoint.json"
        path.write_bytes(encode_checkpoint(converter, checkpoint))
        assert read_checkpoint(path, converter) == checkpoint


@given(run_infos)
def test_run_info_round_trips(info: RunInfo) -> None:
    """run.json content structures back to the same RunInfo."""
    converter = make_converter()
    data = json.dumps(converter.unstructure(info))
    assert converter.structure(json.loads(data), RunInfo) == info


@given(holders)
def test_lock_holder_round_trips(holder: LockHolder) -> None:
    """The lock file's record structures back to the same LockHolder."""
    converter = make_converter()
    data = json.dumps(converter.unstructure(holder))
    assert converter.structure(json.loads(data), LockHolder) == holder


def test_decode_refuses_a_changed_byte() -> None:
    """A journal line whose content changed after sealing fails its CRC."""
    converter = make_converter()
    entry = new_journal_entry(converter, 1, "run", _outcome(2))
    raw = encode_entry(converter, entry).replace(b"user:2@", b"user:3@")
    with pytest.raises(ValueError, match="CRC"):
        decode_entry(converter, raw)


def test_decode_refuses_a_wrong_type_even_with_a_good_crc() -> None:
    """A line with a text sequence number is refused although its CRC was recomputed."""
    converter = make_converter()
    fields = converter.unstructure(new_journal_entry(converter, 1, "run", _outcome(2)))
    del fields["crc"]
    fields["seq"] = "1"
    fields["crc"] = _crc(fields)
    with pytest.raises(ValueError, match="bad record"):
        decode_entry(converter, canonical_json(fields) + b"\n")


def test_decode_refuses_a_torn_line() -> None:
    """A line without its line end is torn, whatever it contains."""
    converter = make_converter()
    raw = encode_entry(converter, new_journal_entry(converter, 1, "run", _outcome(2)))
    with pytest.raises(ValueError, match="torn"):
        decode_entry(converter, raw[:-1])


def test_default_run_dir_is_stem_and_short_hash(tmp_path: Path) -> None:
    """The run directory is named after the input stem and the first 12 hex of its sha256."""
    run_dir = default_run_dir(Path("/data/tenant users.csv"), "0123456789abcdef" * 4, tmp_path)
    assert run_dir == tmp_path / "tenant users-0123456789ab"


def test_write_atomic_failed_rename_keeps_the_old_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A rename that fails with EIO raises StorageError, keeps the old content, leaves no temp."""
    target = tmp_path / "checkpoint.json"
    target.write_bytes(b"old")

    def broken_replace(src: Any, dst: Any) -> None:
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(StorageError, match="rename") as caught:
        write_atomic(target, b"new")
    assert caught.value.path == str(target)
    assert target.read_bytes() == b"old"
    assert not (tmp_path / "checkpoint.json.tmp").exists()


def test_write_checkpoint_keeps_the_previous_one(tmp_path: Path) -> None:
    """After a commit, checkpoint.json holds the new state and .prev the one it replaced."""
    converter = make_converter()
    first = empty_checkpoint("run")
    second = Checkpoint("run", 3, dict(first.offsets, journal=99), first.counts, "location")
    write_checkpoint(tmp_path, converter, second, previous=first)
    assert read_checkpoint(tmp_path / "checkpoint.json", converter) == second
    assert read_checkpoint(tmp_path / "checkpoint.json.prev", converter) == first


# -- the lock ----------------------------------------------------------------------------------


def _write_lock(run_dir: Path, pid: int, host: str | None = None) -> None:
    run_dir.mkdir(parents=True, exist_ok=True)
    holder = LockHolder(pid, host or socket.gethostname(), "2030-01-01T00:00:00+00:00", "other")
    data = canonical_json(make_converter().unstructure(holder))
    (run_dir / "run.lock").write_bytes(data)


def _dead_pid() -> int:
    child = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        check=True,
        capture_output=True,
        text=True,
    )
    return int(child.stdout)


def test_stale_lock_of_a_dead_process_is_taken_over(tmp_path: Path) -> None:
    """A lock naming a dead pid of this host is taken over with a note, and released after."""
    dead = _dead_pid()
    _write_lock(tmp_path, dead)
    with RunLock(tmp_path) as lock:
        holder = read_lock_holder(tmp_path)
        assert holder is not None
        assert holder.pid == os.getpid()
        assert any(f"pid {dead}" in note for note in lock.notes)
    assert not (tmp_path / "run.lock").exists()
    assert [p.name for p in tmp_path.iterdir()] == []


def test_lock_naming_our_own_pid_is_stale(tmp_path: Path) -> None:
    """A lock with our pid but another process id was left by a restarted container: taken over."""
    _write_lock(tmp_path, os.getpid())
    with RunLock(tmp_path) as lock:
        assert lock.notes


def test_second_lock_in_the_same_process_is_refused(tmp_path: Path) -> None:
    """Two runs of one process on one directory conflict too: the second gets LockError."""
    with RunLock(tmp_path), pytest.raises(LockError, match=f"pid {os.getpid()}"):
        RunLock(tmp_path).acquire()
    assert not (tmp_path / "run.lock").exists()


def test_fresh_unreadable_lock_is_respected_and_old_one_taken_over(tmp_path: Path) -> None:
    """A damaged lock file of no OS lock holder: refused while young, taken over when old."""
    (tmp_path / "run.lock").write_bytes(b"{not json")
    with pytest.raises(LockError), RunLock(tmp_path):
        pass
    os.utime(tmp_path / "run.lock", (0, 0))
    with RunLock(tmp_path) as lock:
        assert "unreadable" in lock.notes[0]


def test_release_leaves_a_lock_that_is_not_ours(tmp_path: Path) -> None:
    """Releasing never removes a lock file another run wrote meanwhile."""
    lock = RunLock(tmp_path)
    lock.acquire()
    _write_lock(tmp_path, os.getppid())
    lock.release()
    assert (tmp_path / "run.lock").exists()


# -- status ------------------------------------------------------------------------------------


def test_status_reads_a_running_directory_without_the_lock(tmp_path: Path) -> None:
    """Status works while another live process holds the lock, and names it."""
    info = RunInfo("in.csv", "ab" * 32, "0.1.0", "2030", {"base_url": "u", "org_id": None}, "r1")
    open_run(tmp_path, info, fresh=False)
    _write_lock(tmp_path, os.getppid())
    (tmp_path / "summary.json").write_text('{"by_status": {"success": 1}}')
    status = read_status(tmp_path)
    assert status["running"] is True
    assert f"pid {os.getppid()}" in status["holder"]
    assert status["run"]["run_id"] == "r1"
    assert status["counts"] == {"success": 0, "rejected": 0, "pending": 0}
    assert status["summary"] == {"by_status": {"success": 1}}
    assert (tmp_path / "run.lock").read_bytes().count(b'"token":"other"') == 1


def test_status_falls_back_to_prev_and_says_so(tmp_path: Path) -> None:
    """A zero-length checkpoint makes status read the .prev one, with a note."""
    info = RunInfo("in.csv", "ab" * 32, "0.1.0", "2030", {}, "r1")
    open_run(tmp_path, info, fresh=False)
    (tmp_path / "checkpoint.json").write_bytes(b"")
    status = read_status(tmp_path)
    assert status["checkpoint"] == "checkpoint.json.prev"
    assert any("checkpoint.json unreadable" in note for note in status["notes"])
    assert status["running"] is False


def test_status_of_a_directory_without_a_run_is_a_clear_error(tmp_path: Path) -> None:
    """Status of a folder that holds no run raises StateError naming the folder."""
    with pytest.raises(StateError, match=str(tmp_path)):
        read_status(tmp_path)


def _outcome(line: int) -> Outcome:
    return Outcome(
        line, "user", f"user:{line}@example.com", Status.SUCCESS, {}, None, "", Action.CREATED
    )


def _crc(fields: dict[str, Any]) -> int:
    return zlib.crc32(canonical_json(fields))
