"""The CSV layer of the input file: delimiter, header, records, and quotes that never close.

Turns the lines of ``line_feed`` into ``(line, cells, problem)`` records, or raises
``InputFileError`` naming the line. Bottom layer: reads the file it is given; no network, no clock.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import functools
import re
from collections.abc import Iterator, Sequence
from pathlib import Path

from webex_bulk.error_handling import ConfigError, InputFileError
from webex_bulk.input.line_feed import CUT_MARK, MAX_HEADER_BYTES, QUOTE_HINT, LineFeed
from webex_bulk.input.schema import KNOWN_COLUMNS
from webex_bulk.models import OUT_OF_SCOPE_TYPES, EntityType

DELIMITERS = (",", ";", "\t", "|")
_TYPE_NAMES = frozenset({*(t.value for t in EntityType), *OUT_OF_SCOPE_TYPES})
_HEADER_SEPARATORS = re.compile(r"[\s\-]+")

# A cell may be as long as its line; the guard on multi-line records bounds quoted cells.
csv.field_size_limit(max(csv.field_size_limit(), 2**31 - 1))

#: One record: its first physical line, its cells, and a problem that makes it malformed.
Record = tuple[int, list[str], str]


def header_name(text: str) -> str:
    """A normalised column or entity-type name: trimmed, lower case, spaces and ``-`` → ``_``."""
    return _HEADER_SEPARATORS.sub("_", text.replace("\ufeff", "").strip().lower())


#: ``header_name`` of an entity-type cell: a file spells a handful of types, on every row.
entity_type_name = functools.lru_cache(maxsize=256)(header_name)


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


def cells_by_name(
    header: Sequence[str],
    indexes: Sequence[int],
    cells: list[str],
    *,
    verbatim: type[str] | None = None,
) -> dict[str, str]:
    """The cells at ``indexes`` by header name ("" past the row's end), output escapes undone;
    with ``verbatim``, cells of that type (values that were never text) are kept as read."""
    size = len(cells)
    found = {
        name: cells[index] if index < size else ""
        for name, index in zip(header, indexes, strict=True)
    }
    return unescaped(found, cells, verbatim=verbatim)


def unescaped(
    found: dict[str, str], cells: list[str], *, verbatim: type[str] | None = None
) -> dict[str, str]:
    """``found`` (the row ``cells`` by name) with output escapes undone by ``unescape_cell``, on
    every cell but those of type ``verbatim``."""
    if "'" in "".join(cells):  # rare: only then look for escaped cells one by one
        for name, text in found.items():
            if text.startswith("'") and (verbatim is None or not isinstance(text, verbatim)):
                found[name] = unescape_cell(text)
    return found


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
        yield CsvSource(LineFeed(handle, path, codec), delimiter, max_cell)


class CsvSource:
    """An open input file past its header: the layout of its columns and a stream of records."""

    def __init__(self, feed: LineFeed, delimiter: str | None, max_cell: int) -> None:
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
        self._check_header(names, max_cell)
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
        # Bytes of the longest valid line: every cell full, quoted, each character doubled
        # (a quote) and 4 bytes long. A longer line must hold a cell too long or too many cells.
        feed.line_cap = (2 * max_cell + 3) * 4 * (self.width + 1)
        feed.max_cell = max_cell
        self._max_cell = max_cell

    def _check_header(self, names: list[str], max_cell: int) -> None:
        for position, name in enumerate(names, start=1):
            if len(name) > max_cell:
                raise self._feed.error(
                    f"column {position} of the header is {len(name)} characters long; "
                    f"at most {max_cell}",
                    "the first line must be the header: short column names",
                    str(position),
                )
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
                # Only a record longer than max_cell can hold a cell that is (the cheap test first).
                long_record = len(feed.last_text) > self._max_cell or feed.count > feed.record_start
                if long_record and max(map(len, cells)) > self._max_cell:
                    cells = [
                        self._cut(cell) for cell in cells
                    ]  # the row is rejected: keep its start
                yield feed.record_start, cells, problem

    def _cut(self, cell: str) -> str:
        return cell if len(cell) <= self._max_cell else cell[: self._max_cell] + CUT_MARK

    def _unreadable(self, exc: csv.Error) -> tuple[list[str], str]:
        """A stray quote on one line makes that row malformed; across lines it is fatal."""
        feed = self._feed
        if feed.count > feed.record_start or "end of data" in str(exc):
            raise feed.unclosed_quote()
        cells = next(csv.reader([feed.last_text], delimiter=self.delimiter))
        return cells, f"a quote is followed by text inside a cell ({exc}); {QUOTE_HINT}"

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
            return unescaped(found, cells)
        return cells_by_name(self.header, self._indexes, cells)

    def extra_cells(self, cells: list[str]) -> str:
        """The non-empty cells past the header's width, joined; empty when there are none."""
        if len(cells) <= self.width:
            return ""
        return self.delimiter.join(c for c in cells[self.width :] if c.strip())

    def type_of(self, cells: list[str]) -> str:
        """The normalised entity type of a record, read cheaply."""
        size = len(cells)
        return entity_type_name(cells[self._type_index]) if self._type_index < size else ""


def _header_text(feed: LineFeed) -> str:
    """The first line that is neither blank nor a ``#`` comment."""
    for text in feed:
        if text.strip() and not text.lstrip().lstrip('"').startswith("#"):
            if feed.cut:
                raise feed.error(
                    f"the header line is longer than {MAX_HEADER_BYTES} bytes",
                    "the first line must be the header: short column names, one line",
                )
            return text
    if feed.count == 0:
        raise InputFileError(str(feed.path), 1, "the file is empty", "add a header line and rows")
    raise feed.error("the file has no header line", "add a header line naming the columns")


def sniff_delimiter(header_text: str) -> str:
    """The delimiter of a header line: the most frequent of ``, ; tab |`` (``,`` on a tie)."""
    counts = [(header_text.count(d), -i, d) for i, d in enumerate(DELIMITERS)]
    best = max(counts)
    return best[2] if best[0] else ","
