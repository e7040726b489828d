"""A workbook's first pass parses the sheet in a forked child: the rows, the file's errors and
the copy are the same as when it is read in this process, whatever becomes of the child."""

from __future__ import annotations

import multiprocessing
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest
from support import raw_workbook

from webex_bulk.error_handling import InputFileError
from webex_bulk.input import sheet_process
from webex_bulk.input.sheet_copy import SheetCopy
from webex_bulk.input.workbook import Book, sheet_rows

ROWS = 23


def sheet(tmp_path: Path, *, bad: bool = False) -> Path:
    """A workbook of ``ROWS`` rows: text, a number, a date; ``bad`` damages the last row."""
    rows = "".join(
        f'<row r="{n}"><c r="A{n}" t="inlineStr"><is><t>user {n}</t></is></c>'
        f'<c r="C{n}"><v>{n}</v></c><c r="D{n}" s="1"><v>45000</v></c></row>'
        for n in range(1, ROWS + 1)
    )
    if bad:
        rows = rows.replace(f"<v>{ROWS}</v>", f"<v>{ROWS}&bogus;</v>")
    return raw_workbook(tmp_path / "book.xlsx", f"<sheetData>{rows}</sheetData>")


def marked(rows: Any) -> list[tuple[int, list[str]]]:
    """Rows with each Excel value's kind spelt out, for comparison."""
    return [(n, [f"{getattr(c, 'kind', 'text')}:{c}" for c in cells]) for n, cells in rows]


def read(path: Path) -> tuple[list[tuple[int, list[str]]], list[tuple[int, list[str]]]]:
    """The rows as the first pass gets them (child, copy written), and as the copy holds them."""
    copy = SheetCopy()
    with zipfile.ZipFile(path) as archive:
        book = Book(archive, path)
        batches = sheet_process.parsed_batches(path, "Users", lambda: sheet_rows(book, "Users"))
        first = marked(copy.record(batches, "Users", ["Users"]))
    return first, marked(copy.rows())


def in_this_process(path: Path) -> list[tuple[int, list[str]]]:
    """The rows read without any child."""
    with zipfile.ZipFile(path) as archive:
        return marked(sheet_rows(Book(archive, path), "Users"))


@pytest.fixture(autouse=True)
def small_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    """Batches of 5 rows, so that a sheet of 23 rows takes several."""
    monkeypatch.setattr(sheet_process, "BATCH", 5)


def test_the_child_hands_over_every_row_and_the_copy_holds_them(tmp_path: Path) -> None:
    """The rows from the child, in order with their Excel kinds, are the rows read here, and
    the copy the later passes read holds the same."""
    path = sheet(tmp_path)
    first, copied = read(path)
    assert first == copied == in_this_process(path)
    assert len(first) == ROWS


def test_without_fork_the_rows_are_read_here(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Where fork is not available, the same rows come from this process."""

    def no_fork(method: str) -> Any:
        raise ValueError(method)

    monkeypatch.setattr(multiprocessing, "get_context", no_fork)
    path = sheet(tmp_path)
    assert read(path)[0] == in_this_process(path)


def test_a_refused_child_leaves_the_rows_to_this_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A system that refuses the process (a limit, a sandbox): the same rows, read here."""
    context = multiprocessing.get_context("fork")

    class Refused(context.Process):  # type: ignore[name-defined,misc]
        def start(self) -> None:
            raise OSError(11, "Resource temporarily unavailable")

    monkeypatch.setattr(context, "Process", Refused)
    monkeypatch.setattr(multiprocessing, "get_context", lambda _method: context)
    path = sheet(tmp_path)
    assert read(path)[0] == in_this_process(path)


def test_a_child_that_dies_halfway_is_taken_over_from_its_last_row(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A child that ends after two batches without a word: this process reads the rest, from
    the first row the child did not send, and no row is lost or doubled."""

    def dies(path: Path, name: str, send: Any) -> None:
        with zipfile.ZipFile(path) as archive:
            batches = sheet_process.encoded_batches(sheet_rows(Book(archive, path), name))
            for _ in range(2):
                count, data = next(batches)
                send.send_bytes(sheet_process._ROWS + count.to_bytes(4, "little") + data)
        send.close()

    monkeypatch.setattr(sheet_process, "_child", dies)
    path = sheet(tmp_path)
    assert read(path)[0] == in_this_process(path)


def test_the_files_damage_found_by_the_child_is_the_same_error(tmp_path: Path) -> None:
    """A damaged sheet stops the pass with the error the parser gives in this process."""
    path = sheet(tmp_path, bad=True)
    with pytest.raises(InputFileError) as here:
        in_this_process(path)
    with pytest.raises(InputFileError) as there:
        read(path)
    assert str(there.value) == str(here.value)
    assert "damaged" in str(there.value)


def test_a_pass_given_up_early_ends_the_child(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Closing the first pass after one row (a file error, Ctrl-C) leaves no child running."""
    started: list[Any] = []
    context = multiprocessing.get_context("fork")

    class Watched(context.Process):  # type: ignore[name-defined,misc]
        def start(self) -> None:
            started.append(self)
            super().start()

    monkeypatch.setattr(context, "Process", Watched)
    monkeypatch.setattr(multiprocessing, "get_context", lambda _method: context)
    path = sheet(tmp_path)
    with zipfile.ZipFile(path) as archive:
        book = Book(archive, path)
        batches = sheet_process.parsed_batches(path, "Users", lambda: sheet_rows(book, "Users"))
        next(batches)
        batches.close()
    assert len(started) == 1
    assert not started[0].is_alive()
    assert started[0].exitcode is not None


def test_output_not_yet_written_is_written_once(tmp_path: Path) -> None:
    """Text the command had buffered for stdout when the child started is written once, by the
    command, not a second time when the child exits."""
    path = sheet(tmp_path)
    code = (
        "import sys\n"
        "from pathlib import Path\n"
        "from webex_bulk.input.sheet_process import parsed_batches\n"
        "sys.stdout.write('buffered before the child\\n')\n"
        f"list(parsed_batches(Path({str(path)!r}), 'Users', lambda: iter(())))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout == "buffered before the child\n"
