"""The run lock: exclusive use of a run directory through an O_EXCL lock file.

Detects and takes over stale locks (a dead process of this host, an earlier process with our pid,
an old unreadable file); reads the holder for ``status``. Never touches the other run files.
"""

from __future__ import annotations

import contextlib
import datetime
import logging
import os
import socket
import time
import uuid
from pathlib import Path

import attrs

from webex_bulk.error_handling import LockError
from webex_bulk.state.persistence import (
    canonical_json,
    decode_record,
    make_converter,
    read_record_bytes,
    storage,
)

log = logging.getLogger("webex_bulk.state.lock")

LOCK_FILE = "run.lock"
_UNREADABLE_LOCK_GRACE = 10.0  # seconds a lock file may stay empty while its creator writes it
# Tells this process from an earlier one that had the same pid (pid 1 in a restarted container).
_PROCESS_ID = uuid.uuid4().hex


@attrs.frozen
class LockHolder:
    """What the lock file says about the run that holds the directory."""

    pid: int
    host: str
    started: str
    token: str  # this lock instance
    process: str = ""  # this process instance (``_PROCESS_ID``)

    def describe(self) -> str:
        """The holder in words, for error messages."""
        return f"pid {self.pid} on host {self.host} (since {self.started})"


class RunLock:
    """Exclusive use of a run directory: an O_EXCL lock file holding pid, host and start time.

    A second run gets ``LockError`` naming the holder. A lock left by a dead process of this host
    (or by an earlier process that had our pid, as in a restarted container) is taken over.
    """

    def __init__(self, run_dir: Path) -> None:
        self.path = run_dir / LOCK_FILE
        self.notes: list[str] = []
        self._converter = make_converter()
        self._mine: LockHolder | None = None

    def __enter__(self) -> RunLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()

    def acquire(self) -> None:
        """Take the lock or raise ``LockError`` naming the holder."""
        with storage(self.path.parent, "create directory"):
            self.path.parent.mkdir(parents=True, exist_ok=True)
        me = LockHolder(
            pid=os.getpid(),
            host=socket.gethostname(),
            started=datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
            token=uuid.uuid4().hex,
            process=_PROCESS_ID,
        )
        data = canonical_json(self._converter.unstructure(me)) + b"\n"
        for _ in range(3):  # bounded: each pass either wins, fails, or clears one stale lock
            if self._create(data):
                self._mine = me
                return
            raw, holder = self._read()
            if raw is None:
                continue  # released between our create and our read: try again
            stale = _stale_reason(holder, me, self.path)
            if stale is None:
                raise LockError(str(self.path), holder.describe() if holder else "unknown")
            if self._take_over(raw):
                note = f"took over a stale lock {self.path}: {stale}"
                self.notes.append(note)
                log.warning("lock.stale", extra={"event_fields": {"path": str(self.path)}})
        raise LockError(str(self.path), "another run starting at the same moment")

    def release(self) -> None:
        """Remove the lock file if it is still ours."""
        if self._mine is None:
            return
        _, holder = self._read()
        if holder is not None and holder.token == self._mine.token:
            with contextlib.suppress(OSError):
                self.path.unlink()
        self._mine = None

    def _create(self, data: bytes) -> bool:
        with storage(self.path, "create"):
            try:
                fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            except FileExistsError:
                return False
            try:
                os.write(fd, data)
                os.fsync(fd)
            finally:
                os.close(fd)
        return True

    def _read(self) -> tuple[bytes | None, LockHolder | None]:
        try:
            raw = read_record_bytes(self.path)
        except FileNotFoundError:
            return None, None
        except OSError:
            return b"", None
        try:
            holder: LockHolder = decode_record(self._converter, raw, LockHolder)
        except ValueError:
            return raw, None
        return raw, holder

    def _take_over(self, raw: bytes) -> bool:
        """Move the stale lock aside; put it back if it changed meanwhile (another run won)."""
        aside = self.path.with_name(f"{self.path.name}.stale-{uuid.uuid4().hex[:8]}")
        try:
            os.rename(self.path, aside)
        except FileNotFoundError:
            return False
        try:
            moved = read_record_bytes(aside)
        except OSError:
            moved = b""  # as unreadable as when it was judged stale (a directory, say)
        if moved != raw:
            with contextlib.suppress(FileExistsError):
                os.link(aside, self.path)
        with contextlib.suppress(OSError):  # a directory stays aside, out of the way
            aside.unlink()
        return moved == raw


def read_lock_holder(run_dir: Path) -> LockHolder | None:
    """Who holds the run directory's lock, if anyone (reads only; never takes the lock)."""
    try:
        raw = read_record_bytes(run_dir / LOCK_FILE)
        holder: LockHolder = decode_record(make_converter(), raw, LockHolder)
    except (OSError, ValueError):
        return None
    return holder


def pid_alive(pid: int) -> bool:
    """Whether a process with this pid exists on this host."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # exists but belongs to someone else (EPERM), or unknowable: assume alive
    return True


def _stale_reason(holder: LockHolder | None, me: LockHolder, path: Path) -> str | None:
    if holder is None:
        try:
            age = time.time() - path.stat().st_mtime
        except OSError:
            return None
        return f"unreadable lock file, {age:.0f} s old" if age > _UNREADABLE_LOCK_GRACE else None
    if holder.host != me.host:
        return None  # another host: its processes cannot be checked from here
    if holder.pid == me.pid:
        if holder.process == me.process:
            return None  # this very process holds it: a second run in one process is refused too
        return f"it names our pid {me.pid} but an earlier process (a restarted container)"
    if not pid_alive(holder.pid):
        return f"{holder.describe()} is no longer running"
    return None
