"""Physical lines of the input file: decoding, line ends, the per-line byte bound, the file hash.

Hands decoded lines to the csv reader; a line past its bound comes cut and marked, its rest
hashed and skipped, never held. Bottom layer: reads the file it is given; no network, no clock.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from webex_bulk.error_handling import InputFileError

#: A record may run over this many physical lines (a quoted cell with line breaks) at most.
MAX_RECORD_LINES = 50
#: The longest physical line kept before the header is known (comments, the header itself).
MAX_HEADER_BYTES = 1 << 20
#: Ends a cell cut at read time: a cell past ``max_cell`` characters, or the last cell of a
#: physical line past its byte cap. Such a row is rejected; the outputs show the cut cell.
CUT_MARK = "…[cut]"
QUOTE_HINT = 'close the quote, or write a quote inside a quoted cell as two quotes ("")'
_SKIP_CHUNK = 1 << 16  # bytes read at a time while skipping the rest of a cut line
_UTF16_BOMS = (codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)


class LineFeed:
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
        #: Bytes of a physical line kept; ``CsvSource`` sets it from the header's width.
        self.line_cap = MAX_HEADER_BYTES
        self.max_cell = 1 << 62
        self.cut = False  # the last line read was longer than ``line_cap``: only its start kept
        self._skipped_quotes = 0  # quote characters in the part of the last cut line skipped

    def _physical_lines(self, handle: BinaryIO) -> Iterator[tuple[bytes, bool]]:
        """Lines ending in LF, CRLF or a lone CR (old Mac exports), with their line ends.

        A line longer than ``line_cap`` comes as its first ``line_cap`` bytes and ``True``: the
        rest is read and hashed in chunks, never held, so one hostile line cannot fill memory.
        """
        readline, update = handle.readline, self.digest.update
        carry = b""
        while True:
            cap = self.line_cap
            raw = readline(max(1, cap + 1 - len(carry)) if carry else cap + 1)
            if not raw:
                break
            update(raw)
            if carry:
                raw, carry = carry + raw, b""
            if raw.endswith(b"\n") or len(raw) <= cap:
                end = len(raw) - (2 if raw.endswith(b"\r\n") else 1)
                if raw.find(b"\r", 0, end) == -1:
                    yield raw, False
                else:
                    yield from ((part, False) for part in raw.splitlines(keepends=True))
                continue
            if b"\r" in raw:  # lone CRs end lines here: keep the unfinished last one for later
                *parts, carry = raw.splitlines(keepends=True)
                yield from ((part, False) for part in parts)
                if parts:
                    continue
            self._skip_rest(handle)  # before the yield: the quote count must be complete
            yield raw[:cap], True
        if carry:
            yield carry, False

    def _skip_rest(self, handle: BinaryIO) -> None:
        """Read (and hash) the rest of a cut line up to its line end, keeping nothing but the
        number of quote characters (whether a quoted cell runs on past the line end)."""
        self._skipped_quotes = 0
        while chunk := handle.readline(_SKIP_CHUNK):
            self.digest.update(chunk)
            self._skipped_quotes += chunk.count(b'"')
            if b"\r" in chunk.rstrip(b"\r\n"):
                raise InputFileError(
                    str(self.path),
                    self.count + 1,  # the line being skipped: every line before it was read
                    f"the line is longer than {self.line_cap} bytes and the file ends its "
                    "lines with a lone CR",
                    "save the file as 'CSV UTF-8' (LF or CRLF line ends) and run again",
                )
            if chunk.endswith(b"\n"):
                return

    def __iter__(self) -> LineFeed:
        return self

    def __next__(self) -> str:
        raw, self.cut = next(self._raw)
        self.count += 1
        if self.count == 1 and raw.startswith(_UTF16_BOMS):
            raise self.error(
                "the file is UTF-16 or UTF-32 (Excel 'Unicode Text')",
                "save it as 'CSV UTF-8' and run again",
            )
        try:
            # A cut line may end inside a character: the incremental decoder holds those bytes.
            text = self._decode(raw, True) if not self.cut else self._decoder().decode(raw)
        except UnicodeDecodeError as exc:
            raise self._decode_error(raw, exc) from None
        if self.cut and self.columns:
            # A quote still open at the line end swallows the next lines into a cell already
            # too long: the same verdict as a multi-line record past ``record_limit``.
            if self.count > self.record_start or (text.count('"') + self._skipped_quotes) % 2:
                raise self.unclosed_quote()
            text = self._cut_record(text)
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

    def _decoder(self) -> codecs.IncrementalDecoder:
        return codecs.getincrementaldecoder(self.encoding)()

    def _cut_record(self, text: str) -> str:
        """The start of a cut line as one well-formed CSV line: its cells, each at most
        ``max_cell`` characters, the last one marked as cut (a quote it opened is closed)."""
        cells = next(csv.reader([text], delimiter=self.delimiter, strict=False), [""])
        cells = [cell[: self.max_cell] for cell in cells]
        cells[-1] += CUT_MARK
        line = io.StringIO()
        csv.writer(line, delimiter=self.delimiter, lineterminator="\n").writerow(cells)
        return line.getvalue()

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
            QUOTE_HINT,
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
