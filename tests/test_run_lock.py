"""The run lock against real processes: kill -9 of a holder, leases of other hosts, unlock."""

from __future__ import annotations

import datetime
import errno
import fcntl
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import attrs
import pytest
from click.testing import CliRunner

from webex_bulk.cli.commands import main
from webex_bulk.error_handling import LockError
from webex_bulk.state import RunLock, read_status
from webex_bulk.state.lock import LOCK_FILE, LockHolder, read_lock_holder
from webex_bulk.state.persistence import canonical_json, make_converter

_HOLDER = """
import sys
from pathlib import Path
from webex_bulk.state import RunLock
lock = RunLock(Path(sys.argv[1]))
lock.acquire()
print("held", flush=True)
sys.stdin.read()
"""


@pytest.fixture
def holder_process(tmp_path: Path) -> Iterator[subprocess.Popen[str]]:
    """A separate process that holds ``tmp_path``'s lock until its stdin closes."""
    process = subprocess.Popen(
        [sys.executable, "-c", _HOLDER, str(tmp_path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    assert process.stdout.readline() == "held\n"  # blocks until the lock is taken, no sleep
    try:
        yield process
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=30)
        for stream in (process.stdin, process.stdout):
            if stream is not None:
                stream.close()


def _iso(delta_seconds: float) -> str:
    now = datetime.datetime.now(datetime.UTC)
    return (now + datetime.timedelta(seconds=delta_seconds)).isoformat(timespec="seconds")


def _write_foreign_lock(run_dir: Path, *, expires_in: float) -> LockHolder:
    """Write ``run.lock`` as a run in another container (another hostname) would."""
    holder = LockHolder(
        pid=1,
        host="cron-pod-7f9c",
        started=_iso(-3600),
        token="0123456789abcdef",
        heartbeat=_iso(expires_in - 120),
        expires=_iso(expires_in),
    )
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / LOCK_FILE).write_bytes(canonical_json(make_converter().unstructure(holder)))
    return holder


def test_a_live_holder_refuses_a_second_run_with_its_lock_id(
    tmp_path: Path, holder_process: subprocess.Popen[str]
) -> None:
    """A live holder on this host refuses a second run; the message names pid, host and lock id."""
    holder = read_lock_holder(tmp_path)
    assert holder is not None
    with pytest.raises(LockError) as caught, RunLock(tmp_path):
        pass
    message = str(caught.value)
    assert f"pid {holder_process.pid}" in message
    assert socket.gethostname() in message
    assert holder.token in message
    assert read_status_lock(tmp_path) == "running"


def test_a_holder_killed_with_sigkill_is_taken_over(
    tmp_path: Path, holder_process: subprocess.Popen[str]
) -> None:
    """After kill -9 of the holder the kernel drops its OS lock: the next run takes over."""
    os.kill(holder_process.pid, signal.SIGKILL)
    holder_process.wait(timeout=30)
    assert (tmp_path / LOCK_FILE).exists()
    assert read_status_lock(tmp_path) == "stale"
    with RunLock(tmp_path) as lock:
        assert any("no longer holds it" in note for note in lock.notes)
    assert not (tmp_path / LOCK_FILE).exists()


def test_an_expired_lease_of_another_host_is_taken_over(tmp_path: Path) -> None:
    """A lock written by another host whose lease expired is stale and taken over."""
    old = _write_foreign_lock(tmp_path, expires_in=-60)
    assert read_status_lock(tmp_path) == "stale"
    with RunLock(tmp_path) as lock:
        assert any("lease expire" in note and old.host in note for note in lock.notes)
        mine = read_lock_holder(tmp_path)
        assert mine is not None
        assert mine.host == socket.gethostname()
        assert mine.expires > mine.heartbeat


def test_a_live_lease_of_another_host_is_respected(tmp_path: Path) -> None:
    """A lock of another host whose lease runs is respected: LockError naming host and lock id."""
    old = _write_foreign_lock(tmp_path, expires_in=600)
    with pytest.raises(LockError, match=old.token), RunLock(tmp_path):
        pass
    assert read_status_lock(tmp_path) == "running"


def test_renewal_keeps_the_lock_id_and_extends_the_lease(tmp_path: Path) -> None:
    """A renewal rewrites the lease in place: same lock id, valid a lease's length from now."""
    with RunLock(tmp_path, lease_seconds=600) as lock:
        first = read_lock_holder(tmp_path)
        lock.renew()
        second = read_lock_holder(tmp_path)
        assert (tmp_path / LOCK_FILE).stat().st_size == 1024  # one fixed-size record
    assert first is not None
    assert second is not None
    assert second.token == first.token
    assert not second.expired(time.time() + 500)
    assert second.expired(time.time() + 700)


def test_unlock_needs_the_lock_id_and_removes_the_lock(tmp_path: Path) -> None:
    """``unlock`` refuses a wrong id (exit 1) and removes the lock given the id shown."""
    old = _write_foreign_lock(tmp_path, expires_in=600)
    runner = CliRunner()
    wrong = runner.invoke(main, ["unlock", str(tmp_path), "--lock-id", "nope"])
    assert wrong.exit_code == 1
    assert old.token in wrong.output
    assert (tmp_path / LOCK_FILE).exists()
    right = runner.invoke(main, ["unlock", str(tmp_path), "--lock-id", old.token])
    assert right.exit_code == 0, right.output
    assert not (tmp_path / LOCK_FILE).exists()


def test_unlock_refuses_a_lock_held_on_this_host(
    tmp_path: Path, holder_process: subprocess.Popen[str]
) -> None:
    """``unlock`` with the right id still refuses while a process of this host holds the lock."""
    holder = read_lock_holder(tmp_path)
    assert holder is not None
    result = CliRunner().invoke(main, ["unlock", str(tmp_path), "--lock-id", holder.token])
    assert result.exit_code == 1
    assert "still running" in result.output
    assert (tmp_path / LOCK_FILE).exists()


def read_status_lock(run_dir: Path) -> str | None:
    """The ``lock`` field of ``status`` (a minimal run.json makes the directory a run)."""
    (run_dir / "run.json").write_text("{}")
    lock: str | None = read_status(run_dir)["lock"]
    return lock


def test_without_flock_the_pid_and_the_lease_decide(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Where the file system refuses flock, a live pid of this host is respected, a dead one not."""

    def no_flock(fd: int, operation: int) -> None:
        raise OSError(errno.ENOLCK, "No locks available")

    monkeypatch.setattr(fcntl, "flock", no_flock)
    live = attrs.evolve(
        _write_foreign_lock(tmp_path, expires_in=600), host=socket.gethostname(), pid=os.getppid()
    )
    (tmp_path / LOCK_FILE).write_bytes(canonical_json(make_converter().unstructure(live)))
    with pytest.raises(LockError, match=live.token), RunLock(tmp_path):
        pass
    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        check=True,
        capture_output=True,
        text=True,
    )
    dead = attrs.evolve(live, pid=int(gone.stdout))
    (tmp_path / LOCK_FILE).write_bytes(canonical_json(make_converter().unstructure(dead)))
    with RunLock(tmp_path) as lock:
        assert any("no longer running" in note for note in lock.notes)
