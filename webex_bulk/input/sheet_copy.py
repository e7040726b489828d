"""A private copy of one sheet's rows, written while the first pass parses the workbook and
read by the later passes (``read_rows``, once per phase of a run): the XML is parsed once.

Bottom layer: a temporary file, removed when the copy is dropped or the process exits.
"""

from __future__ import annotations

import marshal
import os
import tempfile
import weakref
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from webex_bulk.input.workbook import ExcelValue

#: Rows per record of the copy: few reads, little memory.
BATCH = 500
#: A row of a sheet: its number and its cells as text.
SheetRow = tuple[int, list[str]]


class SheetCopy:
    """The rows of one sheet in a temporary file (``marshal``: fast, and never shared)."""

    def __init__(self) -> None:
        handle, name = tempfile.mkstemp(prefix="webex-bulk-sheet-", suffix=".rows")
        os.close(handle)
        self.path = Path(name)
        self.complete = False
        self.sheet = ""
        self.sheet_names: list[str] = []
        self._remove = weakref.finalize(self, self.path.unlink, missing_ok=True)

    def record(self, rows: Iterator[SheetRow], sheet: str, names: list[str]) -> Iterator[SheetRow]:
        """Pass ``rows`` through, copying them; the copy is complete once they all went by."""
        self.complete = False
        batch: list[tuple[int, list[str], dict[int, str] | None]] = []
        with self.path.open("wb") as out:
            for line, cells in rows:
                if ExcelValue in map(type, cells):
                    kinds = {i: c.kind for i, c in enumerate(cells) if isinstance(c, ExcelValue)}
                    batch.append((line, [str(c) for c in cells], kinds))
                else:
                    batch.append((line, cells, None))
                if len(batch) == BATCH:
                    _write(out, batch)
                    batch = []
                yield line, cells
            _write(out, batch)
        self.sheet, self.sheet_names, self.complete = sheet, names, True

    def rows(self) -> Iterator[SheetRow]:
        """The rows as the first pass saw them (numbers and dates still marked)."""
        with self.path.open("rb") as source:
            while size := int.from_bytes(source.read(4), "little"):
                for line, cells, kinds in marshal.loads(source.read(size)):
                    if kinds:
                        for index, kind in kinds.items():
                            cells[index] = ExcelValue(cells[index], kind)
                    yield line, cells

    def remove(self) -> None:
        """Delete the file now."""
        self._remove()


def _write(out: BinaryIO, batch: list[tuple[int, list[str], dict[int, str] | None]]) -> None:
    # One read of known size per batch: marshal.load on a file reads in many small pieces.
    data = marshal.dumps(batch)
    out.write(len(data).to_bytes(4, "little"))
    out.write(data)
