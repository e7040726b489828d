"""Which reader an input file needs: a CSV, or one sheet of an .xlsx workbook.

Refuses, with one clear line, the spreadsheet formats it cannot read (.xls, .ods, .xlsb,
.numbers) and flags that do not fit the file (``--encoding`` for a workbook, ``--sheet`` for a
CSV). Bottom layer: reads the first bytes of the file; no clock.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

from webex_bulk.config import SPECS, Settings
from webex_bulk.error_handling import InputFileError
from webex_bulk.input.csv_source import CsvSource, open_source
from webex_bulk.input.sheet_copy import SheetCopy
from webex_bulk.input.xlsx_source import XlsxSource, open_workbook

#: Either reader: both offer header, records, cells_by_column, extra_cells, type_of, sha256.
Source = CsvSource | XlsxSource

WORKBOOK_SUFFIXES = frozenset({".xlsx", ".xlsm"})
_SAVE_AS = "save it as .xlsx (Excel Workbook) or as 'CSV UTF-8'"
_UNREADABLE = {
    ".xls": "an Excel 97–2003 workbook (.xls) cannot be read",
    ".xlsb": "an Excel binary workbook (.xlsb) cannot be read",
    ".ods": "an OpenDocument spreadsheet (.ods) cannot be read",
    ".numbers": "an Apple Numbers file cannot be read",
}
_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = bytes.fromhex("D0CF11E0A1B11AE1")


def is_workbook(path: Path) -> bool:
    """Whether the file is read as an .xlsx workbook (by its name)."""
    return path.suffix.lower() in WORKBOOK_SUFFIXES


@contextlib.contextmanager
def open_input(
    path: Path,
    settings: Settings,
    *,
    encoding: str | None = None,
    delimiter: str | None = None,
    copy: SheetCopy | None = None,
) -> Iterator[Source]:
    """Open a CSV file or a workbook's sheet, checked against the flags that were given.

    ``encoding`` and ``delimiter`` override the settings (the second pass reuses what the first
    one found); a workbook's sheet is read from ``copy`` once the first pass filled it.
    """
    suffix = path.suffix.lower()
    if suffix in _UNREADABLE:
        raise InputFileError(str(path), 1, _UNREADABLE[suffix], _SAVE_AS)
    if suffix in WORKBOOK_SUFFIXES:
        _check_workbook_flags(path, settings)
        with open_workbook(path, settings.sheet, copy) as workbook:
            yield workbook
        return
    if settings.sheet is not None:
        raise InputFileError(
            str(path),
            1,
            "--sheet applies to .xlsx workbooks only, and this file is read as a CSV",
            "drop --sheet, or give the workbook itself (a file ending in .xlsx)",
        )
    _check_not_a_workbook(path)
    with open_source(
        path, encoding or settings.encoding, delimiter or settings.delimiter, settings.max_cell
    ) as csv_in:
        yield csv_in


def _check_workbook_flags(path: Path, settings: Settings) -> None:
    wrong = []
    if settings.encoding != SPECS["encoding"].default:
        wrong.append("--encoding")
    if settings.delimiter:
        wrong.append("--delimiter")
    if wrong:
        raise InputFileError(
            str(path),
            1,
            f"{' and '.join(wrong)} {'apply' if len(wrong) > 1 else 'applies'} to CSV files "
            "only; a workbook stores its text as Unicode cells",
            f"drop {' and '.join(wrong)} (pick the sheet with --sheet NAME)",
        )


def _check_not_a_workbook(path: Path) -> None:
    """A workbook under a CSV name would be read as bytes: name what it is instead."""
    try:
        with path.open("rb") as handle:
            start = handle.read(8)
    except OSError:
        return  # the CSV reader reports the file that cannot be opened
    if start.startswith(_ZIP_MAGIC):
        raise InputFileError(
            str(path),
            1,
            "the file is a zip archive (an .xlsx workbook?), not a CSV",
            "give a workbook a name ending in .xlsx, or save it as 'CSV UTF-8'",
        )
    if start == _OLE_MAGIC:
        raise InputFileError(
            str(path),
            1,
            "the file is an Excel 97–2003 (.xls) or password-protected workbook, not a CSV",
            _SAVE_AS,
        )
