"""The run lock: exclusive use of a run directory through an OS lock plus a renewed lease.

``fcntl.flock`` on ``run.lock`` (the kernel drops it when the holder dies) and, in the file, a
lease (holder id, host, pid, heartbeat, expiry) for shared volumes where flock is not reliable.
"""

from __future__ import annotations

import contextlib
import datetime
import fcntl
import logging
import os
import socket
import threading
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
#: How long a lease stays valid without a heartbeat; the holder renews it every third of that.
LEASE_SECONDS = 120.0
_UNREADABLE_LOCK_GRACE = 10.0  # seconds a lock file may stay empty while its creator writes it
#: The lease is written in place (a rename would leave the OS lock on the old file), padded to
#: one length so that a renewal never leaves a longer record's tail behind.
_RECORD_BYTES = 1024


@attrs.frozen
class LockHolder:
    """What the lock file says about the run that holds the directory (its lease)."""

    pid: int
    host: str
    started: str
    token: str  # the lock id: ``webex-bulk unlock RUN_DIR --lock-id TOKEN``
    process: str = ""  # kept for lock files of earlier versions
    heartbeat: str = ""  # ISO time of the last renewal ('' in lock files of earlier versions)
    expires: str = ""  # ISO time after which a silent holder is presumed dead ('' = never)

    def describe(self) -> str:
        """The holder in words, for error messages."""
        return f"pid {self.pid} on host {self.host} (since {self.started}, lock id {self.token})"

    def expired(self, now: float) -> bool:
        """Whether the lease ran out at ``now`` (seconds since the epoch) without renewal."""
        if not self.expires:
            return False
        try:
            until = datetime.datetime.fromisoformat(self.expires).timestamp()
        except ValueError:
            return True  # a damaged expiry cannot keep a directory locked
        return now > until


class RunLock:
    """Exclusive use of a run directory: ``flock`` on ``run.lock`` and a lease in it.

    A second run gets ``LockError`` naming the holder and its lock id. A holder that died (its
    OS lock is gone and it ran on this host, or its lease expired) is taken over with a warning.
    """

    def __init__(self, run_dir: Path, *, lease_seconds: float = LEASE_SECONDS) -> None:
        self.path = run_dir / LOCK_FILE
        self.notes: list[str] = []
        self._lease = lease_seconds
        self._converter = make_converter()
        self._mine: LockHolder | None = None
        self._fd: int | None = None
        self._write_lock = threading.Lock()
        self._stop_heartbeat = threading.Event()
        self._heartbeat: threading.Thread | None = None
        self._os_locked = True  # False where the file system refuses flock

    def __enter__(self) -> RunLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()

    def acquire(self) -> None:
        """Take the lock or raise ``LockError`` naming the holder and its lock id."""
        with storage(self.path.parent, "create directory"):
            self.path.parent.mkdir(parents=True, exist_ok=True)
        for _ in range(3):  # bounded: each pass wins, fails, or meets a file just replaced
            fd = self._open_locked()
            if fd is None:
                continue
            try:
                self._judge_content()
                self._fd = fd
                self._mine = self._new_holder()
                self._write(self._mine)
            except BaseException:
                self._fd = None
                os.close(fd)
                raise
            self._start_heartbeat()
            return
        raise LockError(str(self.path), "another run starting at the same moment")

    def release(self) -> None:
        """Stop renewing, remove the lock file while still holding it, drop the OS lock."""
        if self._fd is None:
            return
        self._stop_heartbeat.set()
        if self._heartbeat is not None:
            self._heartbeat.join()
        holder = read_lock_holder(self.path.parent)
        ours = holder is not None and self._mine is not None and holder.token == self._mine.token
        with contextlib.suppress(OSError):
            if ours and _same_file(self._fd, self.path):
                self.path.unlink()
        os.close(self._fd)  # closing drops the flock
        self._fd = None
        self._mine = None

    def renew(self) -> None:
        """Push the lease's expiry forward (the heartbeat thread calls this)."""
        if self._mine is None:
            return
        now = time.time()
        self._mine = attrs.evolve(self._mine, heartbeat=_iso(now), expires=_iso(now + self._lease))
        try:
            self._write(self._mine)
        except OSError:
            log.warning("lock.renew_failed", extra={"event_fields": {"path": str(self.path)}})

    # -- acquiring -------------------------------------------------------------------------

    def _open_locked(self) -> int | None:
        """Open ``run.lock`` and flock it; None when the file was replaced meanwhile."""
        if self.path.is_dir():
            self._move_directory_aside()
        with storage(self.path, "open"):
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            holder = read_lock_holder(self.path.parent)
            raise LockError(
                str(self.path), holder.describe() if holder else "a process of this host"
            ) from None
        except OSError:
            # No flock on this file system (some network mounts): the lease alone decides.
            self._os_locked = False
            log.warning("lock.no_flock", extra={"event_fields": {"path": str(self.path)}})
        if not _same_file(fd, self.path):  # released and removed between our open and flock
            os.close(fd)
            return None
        return fd

    def _move_directory_aside(self) -> None:
        """A directory named ``run.lock`` (no run makes one): out of the way once it is old."""
        stale = _stale_reason(None, self.path, time.time())
        if stale is None:
            raise LockError(str(self.path), "a directory of that name, just created")
        aside = self.path.with_name(f"{self.path.name}.stale-{uuid.uuid4().hex[:8]}")
        with contextlib.suppress(FileNotFoundError), storage(self.path, "rename"):
            os.rename(self.path, aside)
        self.notes.append(f"moved a directory {self.path} aside to {aside.name}: {stale}")

    def _judge_content(self) -> None:
        """We hold the OS lock; a lease in the file may still be a live holder elsewhere."""
        try:
            raw = read_record_bytes(self.path)
        except OSError:
            raw = b"?"
        if not raw.strip():
            return  # a file we just created, or one a released lock emptied
        try:
            holder: LockHolder | None = decode_record(self._converter, raw, LockHolder)
        except ValueError:
            holder = None
        stale = _stale_reason(holder, self.path, time.time(), os_locked=self._os_locked)
        if stale is None:
            described = holder.describe() if holder else "unknown"
            if holder is not None and holder.expires:
                described += f", lease until {holder.expires}"
            raise LockError(str(self.path), described)
        note = f"took over a stale lock {self.path}: {stale}"
        self.notes.append(note)
        log.warning("lock.stale", extra={"event_fields": {"path": str(self.path), "why": stale}})

    def _new_holder(self) -> LockHolder:
        now = time.time()
        return LockHolder(
            pid=os.getpid(),
            host=socket.gethostname(),
            started=_iso(now),
            token=uuid.uuid4().hex[:16],
            heartbeat=_iso(now),
            expires=_iso(now + self._lease),
        )

    def _write(self, holder: LockHolder) -> None:
        data = canonical_json(self._converter.unstructure(holder))
        record = data.ljust(_RECORD_BYTES - 1) + b"\n"
        with self._write_lock, storage(self.path, "write"):
            fd = self._fd
            if fd is None:
                return
            os.pwrite(fd, record, 0)
            os.ftruncate(fd, len(record))
            os.fsync(fd)

    def _start_heartbeat(self) -> None:
        self._stop_heartbeat.clear()
        interval = self._lease / 3

        def beat() -> None:
            while not self._stop_heartbeat.wait(interval):
                self.renew()

        self._heartbeat = threading.Thread(target=beat, name="run-lock-heartbeat", daemon=True)
        self._heartbeat.start()


# ---------------------------------------------------------------------------------------------
# Reading the lock (status) and removing it by hand (unlock)


def read_lock_holder(run_dir: Path) -> LockHolder | None:
    """Who holds the run directory's lock, if anyone (reads only; never takes the lock)."""
    try:
        raw = read_record_bytes(run_dir / LOCK_FILE)
        holder: LockHolder = decode_record(make_converter(), raw, LockHolder)
    except (OSError, ValueError):
        return None
    return holder


def lock_state(run_dir: Path) -> tuple[str, LockHolder | None]:
    """``("running" | "stale" | "", holder)``: whether the lock file names a live run.

    Reads only, never flocks (a probe would make a starting run fail for nothing): a holder of
    this host is alive while its pid is; one of another host while its lease is not expired.
    """
    holder = read_lock_holder(run_dir)
    if holder is None:
        return "", None
    if holder.host == socket.gethostname():
        alive = pid_alive(holder.pid) and not holder.expired(time.time())
    else:
        alive = not holder.expired(time.time())
    return ("running" if alive else "stale"), holder


def force_unlock(run_dir: Path, lock_id: str) -> LockHolder:
    """Remove the lock whose id is ``lock_id``; ``LockError`` when another id or a live local run
    holds it. Returns the holder that was removed."""
    path = run_dir / LOCK_FILE
    holder = read_lock_holder(run_dir)
    if holder is None:
        raise LockError(str(path), "nobody: there is no readable lock to remove")
    if holder.token != lock_id:
        raise LockError(
            str(path), f"{holder.describe()}, not lock id {lock_id} — give the id shown"
        )
    with storage(path, "open"):
        fd = os.open(path, os.O_RDWR)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise LockError(
                str(path), f"{holder.describe()}, still running on this host — stop it first"
            ) from None
        except OSError:
            pass  # no flock here: the id is the operator's word that the holder is gone
        with storage(path, "remove"):
            path.unlink()
    finally:
        os.close(fd)
    log.warning("lock.removed", extra={"event_fields": {"path": str(path), "lock_id": lock_id}})
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


def _stale_reason(
    holder: LockHolder | None, path: Path, now: float, *, os_locked: bool = True
) -> str | None:
    """Why a lock file whose OS lock we now hold (``os_locked``; else flock is not available
    there) names no live run (None: it may)."""
    if holder is None:
        try:
            age = now - path.stat().st_mtime
        except OSError:
            return None
        return f"unreadable lock file, {age:.0f} s old" if age > _UNREADABLE_LOCK_GRACE else None
    if holder.host == socket.gethostname():
        if os_locked:
            # Same kernel: a live holder would still hold the flock we were just given.
            return f"{holder.describe()} no longer holds it (the process ended)"
        if not pid_alive(holder.pid):
            return f"{holder.describe()} is no longer running"
    if holder.expired(now):
        return f"{holder.describe()} let its lease expire at {holder.expires}"
    return None  # another host with a live (or no) lease: its processes cannot be seen from here


def _same_file(fd: int, path: Path) -> bool:
    try:
        mine, there = os.fstat(fd), os.stat(path)
    except OSError:
        return False
    return (mine.st_dev, mine.st_ino) == (there.st_dev, there.st_ino)


def _iso(seconds: float) -> str:
    return datetime.datetime.fromtimestamp(seconds, datetime.UTC).isoformat(timespec="seconds")
