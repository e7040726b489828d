"""The physical CSV file: encoding, delimiter, header, line numbers and quotes that never close.

Turns the bytes of a file into ``(line, cells, problem)`` records, or raises ``InputFileError``
naming the line. Bottom layer: reads the file it is given; no network, no clock.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import hashlib
import re
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from webex_bulk.error_handling import ConfigError, InputFileError
from webex_bulk.input.schema import KNOWN_COLUMNS
from webex_bulk.models import OUT_OF_SCOPE_TYPES, EntityType

#: A record may run over this many physical lines (a quoted cell with line breaks) at most.
MAX_RECORD_LINES = 50
DELIMITERS = (",", ";", "\t", "|")
_TYPE_NAMES = frozenset({*(t.value for t in EntityType), *OUT_OF_SCOPE_TYPES})
_HEADER_SEPARATORS = re.compile(r"[\s\-]+")
_UTF16_BOMS = (codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
_QUOTE_HINT = 'close the quote, or write a quote inside a quoted cell as two quotes ("")'

# A cell may be as long as its line; the guard on multi-line records bounds quoted cells.
csv.field_size_limit(max(csv.field_size_limit(), 2**31 - 1))

#: One record: its first physical line, its cells, and a problem that makes it malformed.
Record = tuple[int, list[str], str]


def header_name(text: str) -> str:
    """A normalised column or entity-type name: trimmed, lower case, spaces and ``-`` → ``_``."""
    return _HEADER_SEPARATORS.sub("_", text.replace("\ufeff", "").strip().lower())


_FORMULA_START = frozenset("=+-@\t\r")
_E164_SHAPE = re.compile(r"\+[1-9][0-9]{6,14}")  # E.164: at most 15 digits, 7 at the least


def escape_cell(text: str) -> str:
    """Guard an output cell against formula injection: prefix ``'`` to ``= + - @ \\t \\r``.

    Valid E.164 numbers stay as they are. A cell that already starts with ``'`` followed by one
    of those (or by ``'``) gets one more ``'``, so that ``unescape_cell`` restores any text.
    """
    if not text:
        return text
    first = text[0]
    if first in _FORMULA_START:
        return text if first == "+" and _E164_SHAPE.fullmatch(text) else "'" + text
    if first == "'" and len(text) > 1 and (text[1] in _FORMULA_START or text[1] == "'"):
        return "'" + text
    return text


def unescape_cell(text: str) -> str:
    """Undo ``escape_cell``: drop a leading ``'`` that precedes ``= + - @ \\t \\r`` or ``'``."""
    if len(text) > 1 and text[0] == "'" and (text[1] in _FORMULA_START or text[1] == "'"):
        return text[1:]
    return text


def check_encoding(encoding: str) -> str:
    """The codec name of an ASCII-compatible encoding; raise ``ConfigError`` for any other."""
    try:
        name = codecs.lookup(encoding).name
    except LookupError:
        raise ConfigError("encoding", "the settings", f"unknown encoding {encoding!r}") from None
    sample = 'entity_type,;|\t"#\r\n'
    if name != "utf-8-sig" and sample.encode(name, errors="replace") != sample.encode("ascii"):
        raise ConfigError(
            "encoding",
            "the settings",
            f"{encoding!r} is not supported; save the file as CSV UTF-8 (or use cp1252, latin-1…)",
        )
    return name


class _LineFeed:
    """Decoded physical lines for the csv reader: counts them, hashes the bytes, guards quotes."""

    def __init__(self, handle: BinaryIO, path: Path, encoding: str) -> None:
        self.path = path
        self.encoding = encoding
        self.count = 0
        self.record_start = 1
        self.last_text = ""
        self.delimiter = ","
        self.columns: tuple[str, ...] = ()
        self.digest = hashlib.sha256()
        self._raw = self._physical_lines(handle)
        self._decode = codecs.getincrementaldecoder(encoding)().decode
        self._record_chars = 0
        self.record_limit = 1 << 62

    def _physical_lines(self, handle: BinaryIO) -> Iterator[bytes]:
        """Lines ending in LF, CRLF or a lone CR (old Mac exports), with their line ends."""
        for raw in handle:
            self.digest.update(raw)
            end = len(raw) - (2 if raw.endswith(b"\r\n") else 1)
            if raw.find(b"\r", 0, end) == -1:
                yield raw
            else:
                yield from raw.splitlines(keepends=True)

    def __iter__(self) -> _LineFeed:
        return self

    def __next__(self) -> str:
        raw = next(self._raw)
        self.count += 1
        if self.count == 1 and raw.startswith(_UTF16_BOMS):
            raise self.error(
                "the file is UTF-16 or UTF-32 (Excel 'Unicode Text')",
                "save it as 'CSV UTF-8' and run again",
            )
        try:
            text = self._decode(raw, True)
        except UnicodeDecodeError as exc:
            raise self._decode_error(raw, exc) from None
        if "\x00" in text:
            where = self._column_at(text[: text.index("\x00")])
            raise self.error(
                "the line holds a NUL byte (\\0)",
                "the file may be UTF-16 or not a CSV; save it as 'CSV UTF-8'",
                where,
            )
        if self.count > self.record_start:
            self._record_chars += len(text)
            if self.count - self.record_start >= MAX_RECORD_LINES or (
                self._record_chars > self.record_limit
            ):
                raise self.unclosed_quote()
        self.last_text = text
        return text

    def start_record(self) -> None:
        """The next line read starts a new record."""
        self.record_start = self.count + 1
        self._record_chars = 0

    def error(self, problem: str, hint: str, column: str | None = None) -> InputFileError:
        """A file-level error at the current line."""
        return InputFileError(str(self.path), self.count, problem, hint, column)

    def unclosed_quote(self) -> InputFileError:
        """The error for a quote opened at the start of the current record and never closed."""
        return InputFileError(
            str(self.path),
            self.record_start,
            "a quote opened on this line is not closed: the lines after it would be read as "
            "one cell",
            _QUOTE_HINT,
        )

    def _decode_error(self, raw: bytes, exc: UnicodeDecodeError) -> InputFileError:
        before = raw[: exc.start].decode(self.encoding, errors="replace")
        bad = raw[exc.start : exc.end].hex(" ").upper()
        if self.encoding.startswith("utf-8"):
            hint = "the file may come from Excel: run again with --encoding cp1252"
        else:
            hint = "the file is not in this encoding either: check --encoding, or save as CSV UTF-8"
        return self.error(
            f"byte(s) {bad} at character {len(before) + 1} are not valid {self.encoding}",
            hint,
            self._column_at(before),
        )

    def _column_at(self, before: str) -> str | None:
        index = before.count(self.delimiter)
        if index < len(self.columns):
            return self.columns[index]
        return str(index + 1) if self.columns else None


@contextlib.contextmanager
def open_source(
    path: Path, encoding: str, delimiter: str | None, max_cell: int
) -> Iterator[CsvSource]:
    """Open an input file and read its header; the ``CsvSource`` then streams its records."""
    codec = check_encoding(encoding)
    try:
        handle = path.open("rb")
    except OSError as exc:
        raise InputFileError(
            str(path), 1, f"cannot open the file: {exc.strerror}", "check the path"
        ) from None
    with handle:
        yield CsvSource(_LineFeed(handle, path, codec), delimiter, max_cell)


class CsvSource:
    """An open input file past its header: the layout of its columns and a stream of records."""

    def __init__(self, feed: _LineFeed, delimiter: str | None, max_cell: int) -> None:
        self._feed = feed
        self.path = feed.path
        self.encoding = feed.encoding
        header_text = _header_text(feed)
        self.header_line = feed.count
        self.delimiter = delimiter or sniff_delimiter(header_text)
        # Output files escape header cells too (a column named "@memo" is written "'@memo");
        # undo that here, as for every other cell, so a re-submitted file keeps its columns.
        cells = next(csv.reader([header_text], delimiter=self.delimiter))
        names = [unescape_cell(header_name(n)) for n in cells]
        self._check_header(names)
        self.width = len(names)
        self.header = tuple(n for n in names if not n.startswith("_"))
        self._indexes = tuple(i for i, n in enumerate(names) if not n.startswith("_"))
        self._plain = len(self._indexes) == len(names)  # no "_" column to leave out
        self._type_index = names.index("entity_type")
        self.unknown_columns = tuple(n for n in self.header if n not in KNOWN_COLUMNS)
        unknown = ", ".join(self.unknown_columns)
        self.warnings = (
            (f"unknown columns ignored (carried to the outputs): {unknown}",) if unknown else ()
        )
        feed.delimiter, feed.columns = self.delimiter, tuple(names)
        feed.record_limit = max_cell * (self.width + 1)
        self._max_cell = max_cell

    def _check_header(self, names: list[str]) -> None:
        for position, name in enumerate(names, start=1):
            if not name:
                raise self._feed.error(
                    f"column {position} of the header has no name",
                    "name the column or delete it (a delimiter at the end of the header line "
                    "makes an empty column)",
                    str(position),
                )
            if names.index(name) + 1 != position:
                raise self._feed.error(
                    f"column {name!r} appears twice (columns {names.index(name) + 1} and "
                    f"{position}) once header names are normalised",
                    "remove or rename one of them",
                    name,
                )
        if "entity_type" not in names:
            raise self._feed.error(
                f"no entity_type column in the header (found: {', '.join(names)[:200]})",
                "the first line must be the header and name an entity_type column; if the "
                "file uses another delimiter, pass --delimiter",
            )

    @property
    def line_count(self) -> int:
        """Physical lines read so far."""
        return self._feed.count

    def sha256(self) -> str:
        """The SHA-256 of the file's bytes; complete once ``records`` has run to the end."""
        return self._feed.digest.hexdigest()

    def records(self) -> Iterator[Record]:
        """Every row after the header: blank lines and ``#`` comment lines are skipped."""
        feed = self._feed
        reader = csv.reader(feed, delimiter=self.delimiter, strict=True)
        while True:
            feed.start_record()
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                cells, problem = self._unreadable(exc)
            else:
                problem = ""
                if feed.count > feed.record_start:
                    self._check_multiline(cells)
            if any(map(str.strip, cells)) and not cells[0].lstrip().startswith("#"):
                yield feed.record_start, cells, problem

    def _unreadable(self, exc: csv.Error) -> tuple[list[str], str]:
        """A stray quote on one line makes that row malformed; across lines it is fatal."""
        feed = self._feed
        if feed.count > feed.record_start or "end of data" in str(exc):
            raise feed.unclosed_quote()
        cells = next(csv.reader([feed.last_text], delimiter=self.delimiter))
        return cells, f"a quote is followed by text inside a cell ({exc}); {_QUOTE_HINT}"

    def _check_multiline(self, cells: list[str]) -> None:
        """A quoted cell with line breaks is fine, unless it swallowed what looks like rows."""
        for text in cells:
            if "\n" not in text and "\r" not in text:
                continue
            if len(text) > self._max_cell or any(
                self._looks_like_record(part) for part in text.splitlines()[1:]
            ):
                raise self._feed.unclosed_quote()

    def _looks_like_record(self, text: str) -> bool:
        if self.delimiter not in text:
            return False
        first = header_name(text.split(self.delimiter, 1)[0].strip('"'))
        return first in _TYPE_NAMES or text.count(self.delimiter) >= max(2, (self.width - 1) // 2)

    def cells_by_column(self, cells: list[str]) -> dict[str, str]:
        """The row's cells by header name (``_`` columns left out, output escapes undone)."""
        if self._plain and len(cells) >= self.width:
            found = dict(zip(self.header, cells, strict=False))  # extra cells: see extra_cells
        else:
            size = len(cells)
            found = {
                name: cells[index] if index < size else ""
                for name, index in zip(self.header, self._indexes, strict=True)
            }
        if "'" in "".join(cells):  # rare: only then look for escaped cells one by one
            for name, text in found.items():
                if text.startswith("'"):
                    found[name] = unescape_cell(text)
        return found

    def extra_cells(self, cells: list[str]) -> str:
        """The non-empty cells past the header's width, joined; empty when there are none."""
        return self.delimiter.join(c for c in cells[self.width :] if c.strip())

    def type_of(self, cells: list[str]) -> str:
        """The normalised entity type of a record, read cheaply."""
        size = len(cells)
        return header_name(cells[self._type_index]) if self._type_index < size else ""


def _header_text(feed: _LineFeed) -> str:
    """The first line that is neither blank nor a ``#`` comment."""
    for text in feed:
        if text.strip() and not text.lstrip().lstrip('"').startswith("#"):
            return text
    if feed.count == 0:
        raise InputFileError(str(feed.path), 1, "the file is empty", "add a header line and rows")
    raise feed.error("the file has no header line", "add a header line naming the columns")


def sniff_delimiter(header_text: str) -> str:
    """The delimiter of a header line: the most frequent of ``, ; tab |`` (``,`` on a tie)."""
    counts = [(header_text.count(d), -i, d) for i, d in enumerate(DELIMITERS)]
    best = max(counts)
    return best[2] if best[0] else ","
