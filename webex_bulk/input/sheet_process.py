"""A workbook's sheet parsed on the machine's other core: a forked child reads the XML and sends
the rows back in batches while the first pass evaluates them.

The batches are what ``SheetCopy`` stores (``marshal``), so the parent writes them to the copy
as they come. Where ``fork`` is not available, or when the child fails in a way that is not the
file's fault, the rows are read in this process instead (from the row the child reached): the
child only ever makes the pass faster. Bottom layer: a child process and a pipe, no clock.
"""

from __future__ import annotations

import itertools
import marshal
import multiprocessing
import signal
import zipfile
from collections.abc import Callable, Generator, Iterator
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from pathlib import Path

from webex_bulk.error_handling import InputFileError
from webex_bulk.input.workbook import Book, ExcelValue, sheet_rows

#: Rows per batch: few messages, little memory.
BATCH = 500
#: A row of a sheet: its number and its cells as text.
SheetRow = tuple[int, list[str]]
#: A batch as the copy stores it: (row number, cells, {cell index: Excel kind} or None).
Batch = list[tuple[int, list[str], dict[int, str] | None]]

# The child's messages: rows (their count, then the batch), the file's error, the end.
_ROWS, _FILE_ERROR, _END = b"R", b"E", b"."


def encoded_batches(rows: Iterator[SheetRow]) -> Iterator[tuple[int, bytes]]:
    """(row count, ``marshal`` bytes) of each batch of ``rows``; Excel values keep their kind."""
    batch: Batch = []
    for line, cells in rows:
        if ExcelValue in map(type, cells):
            kinds = {i: c.kind for i, c in enumerate(cells) if isinstance(c, ExcelValue)}
            batch.append((line, [str(c) for c in cells], kinds))
        else:
            batch.append((line, cells, None))
        if len(batch) == BATCH:
            yield len(batch), marshal.dumps(batch)
            batch = []
    if batch:
        yield len(batch), marshal.dumps(batch)


def decoded_rows(data: bytes) -> Iterator[SheetRow]:
    """The rows of one batch, Excel values marked again."""
    for line, cells, kinds in marshal.loads(data):
        if kinds:
            for index, kind in kinds.items():
                cells[index] = ExcelValue(cells[index], kind)
        yield line, cells


def parsed_batches(
    path: Path, sheet: str, here: Callable[[], Iterator[SheetRow]]
) -> Generator[bytes, None, None]:
    """The ``marshal`` batches of the sheet's rows, parsed in a child process; ``here`` reads
    them in this process when there is no child (no ``fork``), or from where it stopped."""
    started = _start_child(path, sheet)
    if started is None:
        yield from (data for _, data in encoded_batches(here()))
        return
    child, receive = started
    taken = 0
    try:
        while (message := _receive(receive))[:1] == _ROWS:
            taken += int.from_bytes(message[1:5], "little")
            yield message[5:]
        if message[:1] == _FILE_ERROR:
            raise InputFileError(*marshal.loads(message[1:]))
        if message[:1] != _END:  # the child died: read the rest here
            yield from (data for _, data in encoded_batches(itertools.islice(here(), taken, None)))
    finally:
        receive.close()
        if child.is_alive():
            child.kill()
        child.join()


def _start_child(path: Path, sheet: str) -> tuple[BaseProcess, Connection] | None:
    """The child and the end of the pipe it writes to; None where there is no ``fork``, or when
    the system refuses a process or a pipe (limits, a sandbox)."""
    try:
        context = multiprocessing.get_context("fork")
        receive, send = context.Pipe(duplex=False)
    except (ValueError, OSError):
        return None
    child = context.Process(target=_child, args=(path, sheet, send), daemon=True)
    try:
        child.start()
    except OSError:
        receive.close()
        return None
    finally:
        send.close()
    return child, receive


def _receive(receive: Connection) -> bytes:
    try:
        return receive.recv_bytes()
    except (EOFError, OSError):
        return b""


def _child(path: Path, sheet: str, send: Connection) -> None:
    """The child: parse the sheet, send its batches, then the end (or the file's error).

    Anything else ends it without a word: the parent then reads the rest itself, and reports
    whatever it meets as it would without a child.
    """
    try:
        _leave_signals_to_the_parent()
        with zipfile.ZipFile(path) as archive:
            for count, data in encoded_batches(sheet_rows(Book(archive, path), sheet)):
                send.send_bytes(_ROWS + count.to_bytes(4, "little") + data)
        send.send_bytes(_END)
    except InputFileError as error:
        send.send_bytes(_FILE_ERROR + marshal.dumps(error.args))
    except Exception:  # the parent reads the rest and reports it
        pass
    finally:
        send.close()


def _leave_signals_to_the_parent() -> None:
    """Ctrl-C reaches the whole process group: the parent handles it and ends the child. A
    termination signal ends the child at once; the parent's event loop keeps its wake-up pipe.
    (``multiprocessing`` flushes the parent's stdout and stderr before it forks: nothing
    buffered is written twice.)"""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGHUP, signal.SIG_DFL)
    signal.set_wakeup_fd(-1)
