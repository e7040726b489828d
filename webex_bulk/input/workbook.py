"""The parts of an .xlsx workbook (a zip of XML): sheets, shared strings, date styles, and a
sheet's rows streamed with expat, every cell as text. Cells Excel stored as a number, date,
boolean or error are marked (``ExcelValue``), never converted. Bottom layer; no clock.
"""

from __future__ import annotations

import datetime
import posixpath
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO
from xml.etree.ElementTree import Element, iterparse
from xml.parsers import expat

from webex_bulk.error_handling import InputFileError
from webex_bulk.input.sheet_scan import QuickRows, column_of

_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_RELS = "{http://schemas.openxmlformats.org/package/2006/relationships}"
_DOC_RELS = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_TEXT, _RUN = f"{_MAIN}t", f"{_MAIN}r"
# Names as expat reports them with namespace_separator=" " (the sheet's rows).
_SPACED = "http://schemas.openxmlformats.org/spreadsheetml/2006/main "
_ROW, _CELL, _VALUE = f"{_SPACED}row", f"{_SPACED}c", f"{_SPACED}v"
_TEXT_SPACED, _PHONETIC = f"{_SPACED}t", f"{_SPACED}rPh"
#: Built-in number formats that show a date or a time (ECMA-376 §18.8.30, plus the CJK ones).
_DATE_FORMATS = frozenset({*range(14, 23), *range(27, 37), *range(45, 48), *range(50, 59)})
#: A custom format code shows a date when it holds d, m, y, h or s outside quotes and brackets.
_FORMAT_NOISE = re.compile(r'"[^"]*"|\[[^\]]*\]|\\.|_.|\*.')
_DATE_CODE = re.compile(r"[dmyhs]", re.IGNORECASE)
_TEXT_HINT = "format the column as Text in Excel and type the value again"


class ExcelValue(str):
    """The text of a cell that Excel stored as a number, date, boolean or error, not as text.

    ``kind`` names what Excel stored; the pipeline rejects the row rather than guess the text.
    """

    kind: str

    def __new__(cls, text: str, kind: str) -> ExcelValue:
        value = super().__new__(cls, text)
        value.kind = kind
        return value

    def problem(self, column: str) -> str:
        """Why the cell is refused and how to fix it, for the column it is in."""
        if self.kind == "number" and column == "phone_number":
            what = f"Excel stored the phone number as the number {self} (the + and leading zeros "
            what += "are lost, large ones shown as 4.08E+09)"
        elif self.kind == "number":
            what = f"Excel stored {self} as a number (leading zeros would be lost)"
        elif self.kind == "date":
            what = f"Excel turned the cell into a date or time ({self})"
        elif self.kind == "boolean":
            what = f"Excel stored the cell as the logical value {self}"
        else:
            what = f"the cell holds the Excel error {self}"
        return f"{what}; {_TEXT_HINT}"


def _number_text(raw: str) -> str:
    """A stored number as a person would read it: whole numbers without ``.0``."""
    try:
        number = float(raw)
    except ValueError:
        return raw
    if number.is_integer() and abs(number) < 1e15:
        return str(int(number))
    return repr(number)


def _date_text(raw: str, date1904: bool) -> str:
    """An Excel date serial shown as an ISO date or time, for the message only."""
    try:
        serial = float(raw)
        epoch = datetime.datetime(1904, 1, 1) if date1904 else datetime.datetime(1899, 12, 30)
        moment = epoch + datetime.timedelta(days=serial)
    except (ValueError, OverflowError):
        return raw
    if serial < 1:
        return moment.time().isoformat(timespec="minutes")
    return moment.date().isoformat() if moment.time() == datetime.time() else moment.isoformat()


class Book:
    """The parts of the workbook the rows need: sheet names and targets, strings, date styles."""

    def __init__(self, archive: zipfile.ZipFile, path: Path) -> None:
        self.archive = archive
        self.path = path
        workbook = self._tree("xl/workbook.xml")
        rels = self._tree("xl/_rels/workbook.xml.rels")
        targets = {
            rel.get("Id"): rel.get("Target", "") for rel in rels.iter(f"{_RELS}Relationship")
        }
        self.sheets: dict[str, str] = {}
        for sheet in workbook.iter(f"{_MAIN}sheet"):
            target = targets.get(sheet.get(f"{_DOC_RELS}id"), "")
            self.sheets[sheet.get("name", "")] = _part_name(target)
        props = workbook.find(f"{_MAIN}workbookPr")
        self.date1904 = props is not None and props.get("date1904") in ("1", "true")
        by_type = {rel.get("Type", "").rsplit("/", 1)[-1]: rel.get("Target", "") for rel in rels}
        self.strings = self._shared_strings(_part_name(by_type.get("sharedStrings", "")))
        self.date_styles = self._date_styles(_part_name(by_type.get("styles", "")))

    def _tree(self, name: str) -> Element:
        with self.open(name) as handle:
            root: Element | None = None
            for _event, element in iterparse(handle):
                root = element
            assert root is not None  # iterparse of a non-empty document ends with its root
            return root

    def open(self, name: str) -> IO[bytes]:
        """A part of the zip; a missing part means the file is not a workbook Excel saved."""
        try:
            return self.archive.open(name)
        except KeyError:
            raise InputFileError(
                str(self.path),
                1,
                f"the workbook has no part {name!r}: it is damaged or not an Excel workbook",
                "open it in Excel and save it again as .xlsx (Excel Workbook)",
            ) from None

    def _shared_strings(self, name: str) -> list[str]:
        # Excel stores each distinct text once; the table is held (its size follows the number
        # of distinct texts, not of rows read so far).
        if not name or name not in self.archive.namelist():
            return []
        strings: list[str] = []
        with self.archive.open(name) as handle:
            for _event, element in iterparse(handle):
                if element.tag == f"{_MAIN}si":
                    strings.append(_inline_text(element))
                    element.clear()
        return strings

    def _date_styles(self, name: str) -> frozenset[int]:
        if not name or name not in self.archive.namelist():
            return frozenset()
        styles = self._tree(name)
        custom = {
            int(fmt.get("numFmtId", "0")): fmt.get("formatCode", "")
            for fmt in styles.iter(f"{_MAIN}numFmt")
        }
        cell_formats = styles.find(f"{_MAIN}cellXfs")
        found = set()
        for index, xf in enumerate(cell_formats if cell_formats is not None else ()):
            number_format = int(xf.get("numFmtId", "0"))
            if _is_date_format(number_format, custom.get(number_format)):
                found.add(index)
        return frozenset(found)


def _is_date_format(number_format: int, code: str | None) -> bool:
    """Whether a number format shows a date or time (built-in id, or a custom code)."""
    if code is None:
        return number_format in _DATE_FORMATS
    return bool(_DATE_CODE.search(_FORMAT_NOISE.sub("", code.split(";")[0])))


def _part_name(target: str) -> str:
    """A relationship target as a zip member name (relative to ``xl/``, or absolute)."""
    if not target:
        return ""
    if target.startswith("/"):
        return target.lstrip("/")
    return posixpath.normpath(posixpath.join("xl", target))


def _inline_text(element: Element) -> str:
    """The text of an ``<si>`` or ``<is>``: its ``t``, or its runs' ``t`` (no phonetic hints)."""
    direct = element.find(_TEXT)
    if direct is not None:
        return direct.text or ""
    return "".join(run.findtext(_TEXT) or "" for run in element.iter(_RUN))


_DIGITS = "0123456789"


def _column_index(reference: str) -> int:
    """``A`` → 0, ``AB`` → 27 (from a cell reference such as ``AB12``)."""
    return column_of(reference.rstrip(_DIGITS))


def sheet_rows(book: Book, sheet: str) -> Iterator[tuple[int, list[str]]]:
    """(row number, cells as text) for every ``<row>`` of the sheet, streamed.

    ``sheet_scan.QuickRows`` reads a sheet of the common shape; from the first row it does not
    recognise, expat reads the sheet again and hands out the rows from there.
    """
    texts = CellTexts(book.strings, book.date_styles, book.date1904)
    quick = QuickRows(book.strings, texts.text)
    with book.open(book.sheets[sheet]) as handle:
        yield from quick.rows(handle)
    if quick.complete:
        return
    for index, row in enumerate(_parsed_rows(book, sheet, texts)):
        if index >= quick.taken:
            yield row


def _parsed_rows(book: Book, sheet: str, texts: CellTexts) -> Iterator[tuple[int, list[str]]]:
    """Every row of the sheet, parsed with expat."""
    rows = _RowParser(texts)
    line = 0
    with book.open(book.sheets[sheet]) as handle:
        try:
            while chunk := handle.read(1 << 16):
                rows.parser.Parse(chunk, False)
                for line, cells in rows.take():
                    yield line, cells
            rows.parser.Parse(b"", True)
        except expat.ExpatError as exc:
            raise InputFileError(
                f"{book.path} [sheet {sheet}]",
                max(line, 1),
                f"the sheet's XML is damaged ({exc})",
                "open it in Excel and save it again",
            ) from None
    yield from rows.take()


class CellTexts:
    """A cell's text from its type, raw value and style: shared strings looked up, inline text
    kept; a value Excel did not store as text is marked (``ExcelValue``), never converted."""

    def __init__(self, strings: list[str], date_styles: frozenset[int], date1904: bool) -> None:
        self._strings = strings
        self._date_styles = {str(style) for style in date_styles}
        self._date1904 = date1904

    def text(self, kind: str, raw: str | None, style: str) -> str:
        """The text of a cell of type ``kind`` (``t``; ``n`` when absent), value ``raw`` (None:
        no value) and style ``style`` (``s``; ``0`` when absent)."""
        if kind == "s":
            try:
                return self._strings[int(raw or "")]
            except (ValueError, IndexError):
                return ""
        if kind in ("inlineStr", "str"):
            return raw or ""
        if raw is None:
            return ""
        if kind == "b":
            return ExcelValue("TRUE" if raw == "1" else "FALSE", "boolean")
        if kind == "e":
            return ExcelValue(raw, "error")
        if kind == "d":
            return ExcelValue(raw, "date")
        if style in self._date_styles:
            return ExcelValue(_date_text(raw, self._date1904), "date")
        return ExcelValue(_number_text(raw), "number")


class _RowParser:
    """An expat handler that turns ``<row>`` elements into (row number, cells as text).

    Expat callbacks build no element tree, so memory stays flat however long the sheet is.
    The handlers run once per XML element: they are kept short on purpose.
    """

    def __init__(self, texts: CellTexts) -> None:
        self._texts = texts
        self._done: list[tuple[int, list[str]]] = []
        self._line = 0
        self._cells: list[str] = []
        self._text: list[str] = []
        self._keep = self._phonetic = False
        self._attrs: dict[str, str] = {}
        self._value: str | None = None
        self.parser = expat.ParserCreate(namespace_separator=" ")
        self.parser.buffer_text = True
        self.parser.StartElementHandler = self._start
        self.parser.EndElementHandler = self._end
        self.parser.CharacterDataHandler = self._data

    def take(self) -> list[tuple[int, list[str]]]:
        """The rows completed since the last call."""
        done, self._done = self._done, []
        return done

    def _start(self, name: str, attrs: dict[str, str]) -> None:
        if name == _CELL:
            self._attrs = attrs
            self._value = None
        elif name == _VALUE or (name == _TEXT_SPACED and not self._phonetic):
            self._keep = True
            self._text = []
        elif name == _ROW:
            number = attrs.get("r")
            self._line = int(number) if number and number.isdigit() else self._line + 1
            self._cells = []
        elif name == _PHONETIC:
            self._phonetic = True

    def _end(self, name: str) -> None:
        if name == _VALUE:
            self._value = "".join(self._text)
            self._keep = False
        elif name == _CELL:
            cells = self._cells
            attrs = self._attrs
            reference = attrs.get("r")
            if reference:
                column = _column_index(reference)
                if column > len(cells):
                    cells.extend([""] * (column - len(cells)))
            cells.append(self._texts.text(attrs.get("t", "n"), self._value, attrs.get("s", "0")))
        elif name == _TEXT_SPACED and self._keep:
            self._value = (self._value or "") + "".join(self._text)
            self._keep = False
        elif name == _ROW:
            self._done.append((self._line, self._cells))
        elif name == _PHONETIC:
            self._phonetic = False

    def _data(self, text: str) -> None:
        if self._keep:
            self._text.append(text)
