"""A worksheet's rows in the shape Excel, LibreOffice and openpyxl write them, read with regular
expressions: several times faster than an XML parser's per-element callbacks.

It reads only what it recognises exactly (unprefixed elements in the main namespace; cells of
shared, inline or formula text, numbers, dates, booleans, errors) and stops at anything else —
a prefix, rich text, a comment, CDATA, a control character — with ``complete`` false: the
expat reader (``workbook.sheet_rows``) then reads the sheet from the row where it stopped.
Bottom layer: bytes in, rows out; no clock.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterator
from typing import IO

#: A cell's text from its type (``t``), its raw value (None: no value) and its style (``s``).
CellText = Callable[[str, "str | None", str], str]

_CHUNK = 1 << 16
#: Bytes read before ``<sheetData>`` (column widths, views…) and per row before giving up.
_PREAMBLE_MAX = 1 << 20
_ROW_MAX = 1 << 20
#: Bytes enough to tell a row's start tag (or the end of the rows) from anything else.
_TAG_START = 16
_MAIN_NAMESPACE = b'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
_DECLARED_ENCODING = re.compile(rb'<\?xml[^>]*encoding="([^"]*)"')

_ATTRIBUTES = rb'((?:\s+[\w:.-]+="[^"<&]*")*)\s*'
# A row's start tag: its number (when ``r`` comes first), other attributes, ``/>`` if empty.
_ROW_START = re.compile(rb'\s*<row(?:\s+r="([^"<&]*)")?' + _ATTRIBUTES + rb"(?:(/>)|>)")
_ROW_OR_END = re.compile(rb"\s*<(?:row[\s/>]|/sheetData>)")
_END = re.compile(rb"\s*</sheetData>")
_CLOSE = b"</worksheet>"
# A row's body is decoded once and read as text. r, s and t in the order every common writer
# puts them; any other attribute in the last group.
_TEXT_ATTRIBUTES = r'((?:\s+[\w:.-]+="[^"<&]*")*)\s*'
_CELL = (
    r'\s*<c(?:\s+r="([A-Z]{1,3})[0-9]*")?(?:\s+s="([0-9]+)")?(?:\s+t="([A-Za-z]+)")?'
    + _TEXT_ATTRIBUTES
    + r"(?:/>|>(?:<f\b[^<>]*(?:/>|>[^<]*</f>))?"
    + r'(?:(<v>)([^<]*)</v>|(<is>)<t(?:\s+xml:space="preserve")?>([^<]*)</t></is>)?</c>)'
)
#: One cell, whole (the first group) and in parts.
_CELL_PARTS = re.compile(f"({_CELL})")
_ATTRIBUTE = re.compile(r'([\w:.-]+)="([^"]*)"')
_ROW_ATTRIBUTE = re.compile(rb'([\w:.-]+)="([^"]*)"')
#: Bytes XML forbids, and the carriage return the parser would normalise: left to the parser.
_CONTROL_BYTES = bytes([*range(0x09), *range(0x0B, 0x20)])
_ENTITY = re.compile(r"&(?:(lt|gt|amp|quot|apos)|#([0-9]+)|#x([0-9a-fA-F]+));")
_BARE_AMPERSAND = re.compile(r"&(?!(?:lt|gt|amp|quot|apos|#[0-9]+|#x[0-9a-fA-F]+);)")
_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"', "apos": "'"}


def _ends_whole(tail: bytes, handle: IO[bytes]) -> bool:
    """Read the part to its end (the zip checks its CRC there): whether the document closes,
    not cut short. The parser reports a damaged part with the row it reached."""
    while chunk := handle.read(_CHUNK):
        tail = tail[-256:] + chunk  # the close tag and any whitespace after it
    return tail.rstrip().endswith(_CLOSE)


def _usual(row: bytes) -> bool:
    """Whether a row's XML holds nothing this reader leaves to the parser: no control byte, no
    namespace declaration."""
    return b"xmlns" not in row and len(row.translate(None, _CONTROL_BYTES)) == len(row)


@functools.cache
def column_of(letters: str) -> int:
    """A column's index from its letters: ``A`` → 0, ``AB`` → 27 (each spelling worked out once:
    the readers ask once per cell)."""
    index = 0
    for letter in letters:
        index = index * 26 + ord(letter) - 64
    return index - 1


class QuickRows:
    """The rows of one sheet part; ``complete`` once ``</sheetData>`` was reached, ``taken``
    counts the rows handed out (the expat reader skips those when it takes over)."""

    def __init__(self, strings: list[str], cell_text: CellText) -> None:
        self._strings = strings
        self._cell_text = cell_text
        self.complete = False
        self.taken = 0

    def rows(self, handle: IO[bytes]) -> Iterator[tuple[int, list[str]]]:
        """(row number, cells as text) until the end of the rows or the first unknown shape."""
        buffer = self._past_preamble(handle)
        if buffer is None:
            return
        line = pos = 0
        while True:
            start = _ROW_START.match(buffer, pos)
            close = -1 if start is None or start.group(3) else buffer.find(b"</row>", start.end())
            if start is not None and (start.group(3) or close >= 0):
                end = close + len(b"</row>") if close >= 0 else start.end()
                body = buffer[start.end() : close] if close >= 0 else b""
                number = start.group(1) or self._attribute(start.group(2), b"r")
                cells = self._cells(body) if _usual(buffer[start.start() : end]) else None
                if cells is None or (number is not None and not number.isdigit()):
                    return
                line = int(number) if number else line + 1
                pos = end
                self.taken += 1
                yield line, cells
                continue
            if _END.match(buffer, pos):
                self.complete = _ends_whole(buffer[pos:], handle)
                return
            rest = len(buffer) - pos
            if rest > _ROW_MAX or (rest > _TAG_START and not _ROW_OR_END.match(buffer, pos)):
                return  # not a row: another shape
            chunk = handle.read(_CHUNK)
            if not chunk:
                return
            buffer = buffer[pos:] + chunk
            pos = 0

    def _past_preamble(self, handle: IO[bytes]) -> bytes | None:
        """The bytes after ``<sheetData>``; None when the sheet is not in the common shape."""
        buffer = b""
        while (at := buffer.find(b"<sheetData>")) < 0:
            chunk = handle.read(_CHUNK)
            if not chunk or len(buffer) > _PREAMBLE_MAX:
                return None
            buffer += chunk
        preamble = buffer[:at]
        declared = _DECLARED_ENCODING.search(preamble)
        if declared and declared.group(1).lower() not in (b"utf-8", b"utf8"):
            return None
        if _MAIN_NAMESPACE not in preamble or b"<!" in preamble:
            return None
        return buffer[at + len(b"<sheetData>") :]

    def _cells(self, body: bytes) -> list[str] | None:
        """A row's cells as text; None for a row this reader does not read."""
        cells: list[str] = []
        if not body:
            return cells
        try:
            xml = body.decode("utf-8")
        except UnicodeDecodeError:
            return None  # the parser refuses it
        found = _CELL_PARTS.findall(xml)
        if sum(len(cell[0]) for cell in found) != len(xml.rstrip()):
            return None  # something between the cells: not the common shape
        strings = self._strings
        for _, letters, style, kind, other, has_value, value, inline, text in found:
            if other:
                letters, style, kind = self._odd_attributes(other, letters, style, kind)
            if letters:
                column = column_of(letters)
                if column > len(cells):
                    cells.extend([""] * (column - len(cells)))
            raw = value if has_value else text if inline else None
            if kind == "s" and raw is not None:
                try:
                    cells.append(strings[int(raw)])
                except (ValueError, IndexError):
                    cells.append("")
                continue
            if raw is not None and "&" in raw:
                raw = _unescaped(raw)
                if raw is None:
                    return None
            if kind == "inlineStr" or kind == "str":
                cells.append(raw or "")
            else:
                cells.append(self._cell_text(kind or "n", raw, style or "0"))
        return cells

    @staticmethod
    def _odd_attributes(other: str, letters: str, style: str, kind: str) -> tuple[str, str, str]:
        """``r``, ``s`` and ``t`` of a cell whose attributes come in another order."""
        found = dict(_ATTRIBUTE.findall(other))
        reference = found.get("r")
        if reference is not None:
            letters = reference.rstrip("0123456789")
        return letters, found.get("s", style), found.get("t", kind)

    @staticmethod
    def _attribute(attributes: bytes, name: bytes) -> bytes | None:
        return dict(_ROW_ATTRIBUTE.findall(attributes)).get(name) if attributes else None


def _unescaped(text: str) -> str | None:
    """``text`` with the five XML entities and character references resolved; None when it
    holds a bare ``&`` or a character XML does not allow (the parser refuses it)."""
    if _BARE_AMPERSAND.search(text):
        return None
    try:
        return _ENTITY.sub(_entity, text)
    except ValueError:
        return None


def _entity(match: re.Match[str]) -> str:
    named, decimal, hexadecimal = match.groups()
    if named:
        return _NAMED[named]
    code = int(decimal) if decimal else int(hexadecimal, 16)
    allowed = 0x20 <= code <= 0xD7FF or 0xE000 <= code <= 0xFFFD or 0x10000 <= code <= 0x10FFFF
    if not (allowed or code in (0x9, 0xA, 0xD)):
        raise ValueError(code)  # a character XML does not allow: the parser says so
    return chr(code)
