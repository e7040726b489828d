"""Run ``webex-bulk`` in this process and die abruptly at the k-th occurrence of one crash point.

    python tests/reliability/crash_runner.py --point before_fsync --at 2 [--note FILE] -- run …

The product has no test hooks: the seam of each point (the client's send and response read, the
writer's append, ``os.fsync``, ``os.replace``, the directory fsync, recovery) is wrapped here, and
the process ends with ``os._exit(137)`` — no ``finally``, no flush, no atexit, like a power cut
of the process — or, for ``kill_after_committed``, with a real SIGKILL sent to itself. With
``--errno EIO`` (or ``ENOSPC``…) the point raises that ``OSError`` instead: a failing disk.
A point never reached leaves the run to finish normally (the caller sees its usual exit code).
"""

from __future__ import annotations

import argparse
import contextvars
import errno
import json
import os
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp

from webex_bulk.cli import commands as cli
from webex_bulk.error_handling import Status
from webex_bulk.http import client as request_path
from webex_bulk.state import run_dir as state_store
from webex_bulk.state.writers import OutcomeWriter

#: The exit status of a simulated crash (what a shell shows for a process killed by SIGKILL).
CRASH_EXIT = 137
WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})

#: Points in the window where the tenant changed and the journal has not, in protocol order.
POINTS = (
    "before_send",  # a write is about to be sent
    "after_commit_before_read",  # the simulator committed a write; its answer is not read
    "before_append",  # outcomes were answered; the writer has not appended them
    "before_fsync",  # the journal was appended (page cache), not fsynced
    "before_rename",  # journal and CSVs fsynced; checkpoint temp written, not renamed
    "before_dir_fsync",  # checkpoint renamed; the directory not fsynced
    "recovery",  # inside open_run of a resumed run (truncation and re-commit)
)
#: ``journal_write``: the journal append of a batch with success rows (for ``--errno``).
ALL_POINTS = (*POINTS, "journal_write", "kill_after_committed")


class Trigger:
    """Counts occurrences of the chosen point and crashes at the ``at``-th one."""

    def __init__(
        self, point: str, at: int, note: Path | None, total: int | None, error: int | None
    ) -> None:
        self.point = point
        self.at = at
        self.note = note
        self.total = total
        self.error = error
        self.run_dir: Path | None = None
        self.count = 0
        self.recovering = False
        self.success_batch = False  # the writer thread is committing a batch with success rows
        self.last_replace = ""

    def hit(self, point: str, details: dict[str, Any] | None = None) -> None:
        """One occurrence of ``point``; the ``at``-th occurrence of ours ends the process, or
        raises the chosen ``OSError``."""
        if point != self.point:
            return
        self.count += 1
        if self.count != self.at:
            return
        if self.note is not None:
            record = {"point": point, "at": self.at, **(details or {})}
            if self.run_dir is not None:
                checkpoint = self.run_dir / state_store.CHECKPOINT_FILE
                record["checkpoint"] = checkpoint.read_text() if checkpoint.exists() else None
            self.note.write_text(json.dumps(record))
        if self.error is not None:
            raise OSError(self.error, os.strerror(self.error))
        os._exit(CRASH_EXIT)


_BODY: contextvars.ContextVar[Any] = contextvars.ContextVar("body", default=None)


def _is_row_write(method: str, path: str) -> bool:
    return method in WRITES and not path.endswith("/access_token")


def patch_client(trigger: Trigger) -> None:
    """Wrap the request path's one exchange and aiohttp's response read."""
    exchange = request_path.exchange
    read = aiohttp.ClientResponse.read

    async def exchange_then_maybe_crash(
        session: aiohttp.ClientSession, method: str, url: Any, headers: Any, **kwargs: Any
    ) -> Any:
        json = kwargs.get("json")
        if _is_row_write(method, url.path):
            trigger.hit("before_send", {"method": method, "path": url.path, "body": json})
        _BODY.set({"method": method, "path": url.path, "body": json})
        return await exchange(session, method, url, headers, **kwargs)

    async def read_or_crash(self: aiohttp.ClientResponse) -> bytes:
        if _is_row_write(self.method, self.url.path) and 200 <= self.status < 300:
            trigger.hit("after_commit_before_read", _BODY.get())
        return await read(self)

    request_path.exchange = exchange_then_maybe_crash  # the name client.py calls
    aiohttp.ClientResponse.read = read_or_crash  # type: ignore[method-assign]


def patch_writer(trigger: Trigger) -> None:
    """Wrap the writer's batch commit, ``os.fsync``, ``os.replace`` and the directory fsync."""
    write_batch = OutcomeWriter._write_batch
    handle = OutcomeWriter._handle
    fsync = os.fsync
    replace = os.replace
    fsync_dir = state_store.fsync_dir

    def write_batch_or_crash(self: OutcomeWriter, batch: Any, checkpoint: Any) -> None:
        # Only commits that carry a success row open the window this suite is about.
        trigger.success_batch = bool(batch.rows[Status.SUCCESS])
        trigger.run_dir = self._run_dir
        try:
            if trigger.success_batch:
                trigger.hit("before_append")
            write_batch(self, batch, checkpoint)
        finally:
            trigger.success_batch = False

    def fsync_or_crash(fd: int) -> None:
        if trigger.recovering:
            trigger.hit("recovery")
        elif trigger.success_batch and _names(fd, state_store.JOURNAL_FILE):
            trigger.hit("before_fsync")
        fsync(fd)

    def replace_or_crash(src: Any, dst: Any, **kwargs: Any) -> None:
        name = Path(dst).name
        if trigger.recovering:
            trigger.hit("recovery")
        elif trigger.success_batch and name == state_store.CHECKPOINT_FILE:
            trigger.hit("before_rename")
        replace(src, dst, **kwargs)
        trigger.last_replace = name

    def fsync_dir_or_crash(directory: Path) -> None:
        if trigger.success_batch and trigger.last_replace == state_store.CHECKPOINT_FILE:
            trigger.hit("before_dir_fsync")
        fsync_dir(directory)

    def handle_or_failing(self: OutcomeWriter, path: Path) -> Any:
        opened = handle(self, path)
        return _FailingWrites(opened, trigger) if path.name == state_store.JOURNAL_FILE else opened

    OutcomeWriter._write_batch = write_batch_or_crash  # type: ignore[method-assign]
    OutcomeWriter._handle = handle_or_failing  # type: ignore[method-assign]
    os.fsync = fsync_or_crash
    os.replace = replace_or_crash
    _replace_everywhere(fsync_dir, fsync_dir_or_crash)


class _FailingWrites:
    """The writer's journal handle, with ``write`` as a crash or failure point."""

    def __init__(self, handle: Any, trigger: Trigger) -> None:
        self._handle = handle
        self._trigger = trigger

    def write(self, data: bytes) -> int:
        """Write through, unless this is the chosen occurrence."""
        if self._trigger.success_batch:
            self._trigger.hit("journal_write")
        return int(self._handle.write(data))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._handle, name)


def _replace_everywhere(original: Any, wrapper: Any) -> None:
    """Point every loaded ``webex_bulk`` module's reference to ``original`` at ``wrapper`` (the
    function is imported by name into the modules that call it)."""
    for name, module in list(sys.modules.items()):
        if name.startswith("webex_bulk") and module is not None:
            for attribute, value in list(vars(module).items()):
                if value is original:
                    setattr(module, attribute, wrapper)


def _names(fd: int, name: str) -> bool:
    try:
        return os.readlink(f"/proc/self/fd/{fd}").endswith("/" + name)
    except OSError:
        return False


def patch_recovery(trigger: Trigger) -> None:
    """Mark the time spent inside ``open_run`` (the executor's reference to it)."""
    open_run: Callable[..., Any] = state_store.open_run

    def open_run_marked(*args: Any, **kwargs: Any) -> Any:
        trigger.recovering = True
        try:
            return open_run(*args, **kwargs)
        finally:
            trigger.recovering = False

    _replace_everywhere(open_run, open_run_marked)


def patch_kill_after_committed(trigger: Trigger) -> None:
    """SIGKILL this process right after the first commit that reaches ``at`` outcomes (and
    stays below ``total``, so the kill always lands mid-run)."""
    committed_to = OutcomeWriter._committed_to

    def committed_then_kill(self: OutcomeWriter, checkpoint: Any) -> None:
        committed_to(self, checkpoint)
        done = sum(checkpoint.counts.values())
        if done >= trigger.at and (trigger.total is None or done < trigger.total):
            if trigger.note is not None:
                trigger.note.write_text(json.dumps({"point": trigger.point, "committed": done}))
            os.kill(os.getpid(), signal.SIGKILL)

    OutcomeWriter._committed_to = committed_then_kill  # type: ignore[method-assign]


def main(argv: list[str]) -> None:
    """Parse ``--point``, ``--at``, ``--note``, ``--total``; patch; run the CLI with the rest."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--point", choices=ALL_POINTS, required=True)
    parser.add_argument(
        "--at", type=int, required=True, help="crash at this occurrence (1 = first)"
    )
    parser.add_argument("--note", type=Path, default=None, help="write what was in flight here")
    parser.add_argument("--total", type=int, default=None, help="rows of the file")
    parser.add_argument("--errno", default=None, help="raise this OSError (EIO, ENOSPC…)")
    args, rest = parser.parse_known_args(argv)
    if rest[:1] == ["--"]:
        rest = rest[1:]
    error = getattr(errno, args.errno) if args.errno else None
    trigger = Trigger(args.point, args.at, args.note, args.total, error)
    if args.point == "kill_after_committed":
        patch_kill_after_committed(trigger)
    else:
        patch_client(trigger)
        patch_writer(trigger)
        patch_recovery(trigger)
    sys.argv = ["webex-bulk", *rest]
    cli.main()


if __name__ == "__main__":
    main(sys.argv[1:])
