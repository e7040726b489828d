"""One sheet of an .xlsx workbook as an input source: its header and its rows as records, with
the surface of ``CsvSource`` so both plug into the same two passes. Bottom layer; no clock.
"""

from __future__ import annotations

import contextlib
import hashlib
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from webex_bulk.error_handling import InputFileError
from webex_bulk.input.csv_source import (
    Record,
    cells_by_name,
    entity_type_name,
    header_name,
    unescape_cell,
    unescaped,
)
from webex_bulk.input.near_match import did_you_mean
from webex_bulk.input.schema import KNOWN_COLUMNS
from webex_bulk.input.sheet_process import parsed_batches
from webex_bulk.input.workbook import Book, ExcelValue, sheet_rows

if TYPE_CHECKING:
    from webex_bulk.input.sheet_copy import SheetCopy


@contextlib.contextmanager
def open_workbook(
    path: Path, sheet: str | None, copy: SheetCopy | None = None
) -> Iterator[XlsxSource]:
    """Open a workbook and read the header of its sheet; the ``XlsxSource`` streams its rows.

    With a ``copy``, the first reading fills it and the later ones read it instead of the XML.
    """
    if copy is not None and copy.complete:
        yield XlsxSource(path, copy.sheet, copy.sheet_names, copy.rows())
        return
    try:
        archive = zipfile.ZipFile(path)
    except OSError as exc:
        raise InputFileError(
            str(path), 1, f"cannot open the file: {exc.strerror}", "check the path"
        ) from None
    except zipfile.BadZipFile:
        raise InputFileError(
            str(path),
            1,
            "the file is not an .xlsx workbook (not a zip archive)",
            "a password-protected workbook cannot be read: remove the password, or save as "
            "'CSV UTF-8' and name the file .csv",
        ) from None
    with archive:
        book = Book(archive, path)
        name = _pick_sheet(book, sheet)
        rows = sheet_rows(book, name)
        if copy is not None:  # the first pass: the XML parsed on the other core, and copied
            batches = parsed_batches(path, name, lambda: sheet_rows(book, name))
            rows = copy.record(batches, name, list(book.sheets))
        yield XlsxSource(path, name, list(book.sheets), rows)


def _pick_sheet(book: Book, wanted: str | None) -> str:
    names = list(book.sheets)
    if not names:
        raise InputFileError(str(book.path), 1, "the workbook has no sheet", "add one")
    if wanted is None:
        return names[0]
    if wanted in book.sheets:
        return wanted
    folded = {name.casefold(): name for name in names}
    if wanted.casefold() in folded:
        return folded[wanted.casefold()]
    raise InputFileError(
        str(book.path),
        1,
        f"the workbook has no sheet {wanted!r}{did_you_mean(wanted, names)} "
        f"(sheets: {', '.join(names)})",
        "pass --sheet with one of the sheet names",
    )


class XlsxSource:
    """One sheet of an open workbook past its header: its columns and a stream of records.

    Offers what ``CsvSource`` offers, so both plug into the same two passes; line numbers are
    the sheet's row numbers.
    """

    encoding = "xlsx"
    delimiter = ""

    def __init__(
        self, path: Path, sheet: str, sheet_names: list[str], rows: Iterator[tuple[int, list[str]]]
    ) -> None:
        self.path = path
        self.sheet = sheet
        self.line_count = 0
        self._rows = self._counted(rows)
        header = self._header()
        self.header_line = self.line_count
        names = [unescape_cell(header_name(cell)) for cell in header]
        while names and not names[-1]:
            names.pop()  # formatted but empty cells right of the header
        self._check_header(names)
        self.width = len(names)
        self.header = tuple(n for n in names if not n.startswith("_"))
        self._indexes = tuple(i for i, n in enumerate(names) if not n.startswith("_"))
        self._type_index = names.index("entity_type")
        self.unknown_columns = tuple(n for n in self.header if n not in KNOWN_COLUMNS)
        warnings = []
        if self.unknown_columns:
            unknown = ", ".join(self.unknown_columns)
            warnings.append(f"unknown columns ignored (carried to the outputs): {unknown}")
        others = [name for name in sheet_names if name != sheet]
        if others:
            warnings.append(
                f"reading sheet {sheet!r}; the workbook also has {', '.join(map(repr, others))} "
                "(pick one with --sheet)"
            )
        self.warnings = tuple(warnings)

    def error(self, problem: str, hint: str, column: str | None = None) -> InputFileError:
        """A file-level error at the current row of the sheet."""
        where = f"{self.path} [sheet {self.sheet}]"
        return InputFileError(where, max(self.line_count, 1), problem, hint, column)

    def _check_header(self, names: list[str]) -> None:
        for position, name in enumerate(names, start=1):
            if not name:
                raise self.error(
                    f"column {position} of the header has no name", "name the column or delete it"
                )
            if names.index(name) + 1 != position:
                raise self.error(
                    f"column {name!r} appears twice once header names are normalised",
                    "remove or rename one of them",
                    name,
                )
        if "entity_type" not in names:
            raise self.error(
                f"no entity_type column in the header (found: {', '.join(names)[:200]})",
                "the first row of the sheet must be the header and name an entity_type column; "
                "pick another sheet with --sheet",
            )

    def _header(self) -> list[str]:
        for _line, cells in self._rows:
            if any(c.strip() for c in cells) and not cells[0].lstrip().startswith("#"):
                return cells
        raise self.error("the sheet has no header row", "add a header row naming the columns")

    def sha256(self) -> str:
        """The SHA-256 of the workbook's bytes and the sheet's name (one run per sheet)."""
        digest = hashlib.sha256()
        with self.path.open("rb") as handle:
            while chunk := handle.read(1 << 20):
                digest.update(chunk)
        digest.update(f"\0sheet:{self.sheet}".encode())
        return digest.hexdigest()

    def records(self) -> Iterator[Record]:
        """Every row after the header: blank rows and ``#`` comment rows are skipped."""
        for line, cells in self._rows:
            if any(map(str.strip, cells)) and not cells[0].lstrip().startswith("#"):
                yield line, cells, ""

    def _counted(self, rows: Iterator[tuple[int, list[str]]]) -> Iterator[tuple[int, list[str]]]:
        for line, cells in rows:
            self.line_count = line
            yield line, cells

    def cells_by_column(self, cells: list[str]) -> dict[str, str]:
        """The row's cells by header name (``_`` columns left out, output escapes undone)."""
        if len(self._indexes) == self.width:  # no "_" column to leave out
            short = self.width - len(cells)
            padded = cells + [""] * short if short > 0 else cells
            found = dict(zip(self.header, padded, strict=False))
            return unescaped(found, cells, verbatim=ExcelValue)
        return cells_by_name(self.header, self._indexes, cells, verbatim=ExcelValue)

    def extra_cells(self, cells: list[str]) -> str:
        """The non-empty cells past the header's width, joined; empty when there are none."""
        if len(cells) <= self.width:
            return ""
        return " | ".join(c for c in cells[self.width :] if c.strip())

    def type_of(self, cells: list[str]) -> str:
        """The normalised entity type of a record, read cheaply."""
        return entity_type_name(cells[self._type_index]) if self._type_index < len(cells) else ""
