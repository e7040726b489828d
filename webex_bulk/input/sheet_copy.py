"""A private copy of one sheet's rows, written while the first pass parses the workbook and
read by the later passes (``read_rows``, once per phase of a run): the XML is parsed once.

Bottom layer: a temporary file, removed when the copy is dropped or the process exits.
"""

from __future__ import annotations

import os
import tempfile
import weakref
from collections.abc import Iterator
from pathlib import Path

from webex_bulk.input.sheet_process import SheetRow, decoded_rows


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

    def record(self, batches: Iterator[bytes], sheet: str, names: list[str]) -> Iterator[SheetRow]:
        """The rows of ``batches`` (``sheet_process``), copied as they pass; the copy is
        complete once they all went by."""
        self.complete = False
        with self.path.open("wb") as out:
            for data in batches:
                # One read of known size per batch: marshal.load on a file reads in small pieces.
                out.write(len(data).to_bytes(4, "little"))
                out.write(data)
                yield from decoded_rows(data)
        self.sheet, self.sheet_names, self.complete = sheet, names, True

    def rows(self) -> Iterator[SheetRow]:
        """The rows as the first pass saw them (numbers and dates still marked)."""
        with self.path.open("rb") as source:
            while size := int.from_bytes(source.read(4), "little"):
                yield from decoded_rows(source.read(size))

    def remove(self) -> None:
        """Delete the file now."""
        self._remove()
