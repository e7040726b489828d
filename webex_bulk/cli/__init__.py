"""The ``webex-bulk`` command line: thin click commands and their reports.

``main`` is the process entry point: it imports the commands inside its own guard (a Ctrl-C
while they load ends with 130, not a traceback) and keeps a closed stdout from changing the code.
"""

from __future__ import annotations

import io
import os
import sys

__all__ = ["main"]

#: The exit code of a run interrupted by Ctrl-C (128 + SIGINT), as in ``commands.ExitCode``.
_EXIT_SIGINT = 130


def main() -> None:
    """Run the command line; ``webex-bulk = webex_bulk.cli:main``."""
    try:
        _keep_stdout_writable()
        from webex_bulk.cli.commands import main as commands  # inside the guard

        commands()
    except KeyboardInterrupt:
        # Only reachable before click runs (imports) or after it: inside, _Group maps it to 130.
        sys.stderr.write("webex-bulk: interrupted\n")
        sys.exit(_EXIT_SIGINT)


class _PipeOrNothing(io.RawIOBase):
    """stdout's file descriptor until its reader goes away (EPIPE); from then on, nothing.

    A reader that closes early (``webex-bulk run … | head -c1``) must not turn a finished run's
    exit code into 1: the outputs and ``summary.json`` are in the run directory anyway.
    """

    def __init__(self, fd: int) -> None:
        super().__init__()
        self._fd = fd
        self.broken = False

    def writable(self) -> bool:
        """A write-only stream."""
        return True

    def isatty(self) -> bool:
        """Whether stdout is a terminal."""
        return os.isatty(self._fd)

    def fileno(self) -> int:
        """The underlying descriptor (``isatty`` and the progress display ask for it)."""
        return self._fd

    def write(self, data: bytes | bytearray | memoryview) -> int:  # type: ignore[override]
        """Write to the descriptor; once the reader is gone, drop the bytes quietly."""
        size = len(data)
        if not self.broken:
            try:
                view = memoryview(data)
                while view:  # bounded: each pass writes at least one byte or raises
                    view = view[os.write(self._fd, view) :]
            except BrokenPipeError:
                self.broken = True
        return size


def _keep_stdout_writable() -> None:
    """Give ``sys.stdout`` a raw layer that turns EPIPE into silence (same encoding, buffering)."""
    stdout = sys.stdout
    try:
        fd = stdout.fileno()
    except (AttributeError, OSError, ValueError):
        return  # not a real file (an embedding host, a test runner's capture): leave it alone
    raw = _PipeOrNothing(fd)
    sys.stdout = io.TextIOWrapper(
        io.BufferedWriter(raw),
        encoding=stdout.encoding,
        errors=stdout.errors,
        line_buffering=bool(getattr(stdout, "line_buffering", False)),
        write_through=False,
    )
