"""Read the input CSV in two streaming passes: ``scan`` (file checks, cross-row rules) and
``read_rows`` (every row as a ``Row`` or a pre-API ``Outcome``, in file order).
Bottom layer: reads the file it is given; no network, no clock.
"""

from __future__ import annotations

import hashlib
from array import array
from collections import Counter
from collections.abc import Collection, Iterator, Mapping
from pathlib import Path

import attrs

from webex_bulk.config import Settings
from webex_bulk.error_handling import InputFileError, Reason
from webex_bulk.input.csv_source import (
    CsvSource,
    escape_cell,
    header_name,
    open_source,
    unescape_cell,
)
from webex_bulk.input.line_feed import CUT_MARK
from webex_bulk.input.normalise import DayHours, parse_hours
from webex_bulk.input.schema import SCHEMA, normalise_row
from webex_bulk.models import OUT_OF_SCOPE_TYPES, EntityType, Outcome, Row

__all__ = [
    "OUTPUT_COLUMNS",
    "DayHours",
    "InputFile",
    "dependencies",
    "escape_cell",
    "parse_hours",
    "read_rows",
    "reference_key",
    "scan",
    "unescape_cell",
]

#: Columns the outputs add after the input columns; the reader ignores every ``_`` column.
OUTPUT_COLUMNS = (
    "_line",
    "_key",
    "_status",
    "_reason",
    "_detail",
    "_action",
    "_remote_id",
    "_tracking_id",
)


@attrs.frozen
class InputFile:
    """What the first pass learned about an input file; ``read_rows`` reads it again from this.

    ``header`` is the normalised header without the ``_`` output columns. ``cross_rows`` holds
    the verdicts of the cross-row rules (only for the rows they reject) and is not compared.
    """

    path: Path
    encoding: str
    delimiter: str
    header: tuple[str, ...]
    unknown_columns: tuple[str, ...]
    warnings: tuple[str, ...]
    sha256: str
    row_count: int
    counts_by_type: Mapping[str, int]
    cross_rows: CrossRows | None = attrs.field(default=None, eq=False, repr=False, kw_only=True)


def scan(path: Path, settings: Settings) -> InputFile:
    """Check the file as a whole and run the first pass; raise ``InputFileError`` on a bad file."""
    collector = _Collector()
    counts: Counter[str] = Counter()
    rows = 0
    with open_source(path, settings.encoding, settings.delimiter, settings.max_cell) as source:
        for line, cells, problem in source.records():
            rows += 1
            if rows > settings.max_rows:
                raise InputFileError(
                    str(path),
                    line,
                    f"the file holds more than {settings.max_rows} rows (max_rows)",
                    "split the file, or raise max_rows in the settings",
                )
            item = _evaluate(source, line, cells, problem, settings)
            counts[_type_name(item)] += 1
            if isinstance(item, Row):
                collector.add(item)
        if rows == 0:
            raise InputFileError(
                str(path), source.line_count, "the file has a header but no rows", "add rows"
            )
        return InputFile(
            path=path,
            encoding=source.encoding,
            delimiter=source.delimiter,
            header=source.header,
            unknown_columns=source.unknown_columns,
            warnings=source.warnings,
            sha256=source.sha256(),
            row_count=rows,
            counts_by_type=dict(counts),
            cross_rows=collector.finish(path),
        )


def read_rows(
    source: InputFile,
    settings: Settings,
    *,
    types: Collection[EntityType] | None = None,
    include_rejected: bool = True,
) -> Iterator[Row | Outcome]:
    """The second pass: every row as a ``Row`` or a rejected/pending ``Outcome``, in file order.

    ``types`` keeps only the ``Row``s of those entity types (``()``: none); rejected and pending
    outcomes of any type come only when ``include_rejected`` is true.
    """
    cross_rows = source.cross_rows or scan(source.path, settings).cross_rows
    assert cross_rows is not None  # scan always sets it
    cross_rows.check_unchanged(source.path)
    wanted = None if types is None else frozenset(t.value for t in types)
    with open_source(source.path, source.encoding, source.delimiter, settings.max_cell) as csv_in:
        for line, cells, problem in csv_in.records():
            if not include_rejected and wanted is not None and csv_in.type_of(cells) not in wanted:
                continue  # neither a wanted Row nor a wanted Outcome: skip the normalisation
            item = _evaluate(csv_in, line, cells, problem, settings)
            if isinstance(item, Row):
                verdict = cross_rows.verdict(item.line)
                if verdict is None:
                    if wanted is None or item.entity_type.value in wanted:
                        yield item
                    continue
                item = _failed(item, *verdict)
            if include_rejected:
                yield item


def _type_name(item: Row | Outcome) -> str:
    return item.entity_type.value if isinstance(item, Row) else item.entity_type


def _evaluate(
    source: CsvSource, line: int, cells: list[str], problem: str, settings: Settings
) -> Row | Outcome:
    """One physical row → a valid ``Row``, or the ``Outcome`` that ends it before any API call."""
    by_column = source.cells_by_column(cells)
    type_name = header_name(by_column.get("entity_type", ""))
    no_key = f"{type_name or 'row'}:line{line}"
    extra = source.extra_cells(cells)
    if extra and not problem:
        problem = (
            f"{len(cells)} cells for {source.width} columns (extra: {extra[:40]!r}); "
            f"quote cells that contain {source.delimiter!r}"
        )
    if problem:
        return _outcome(line, type_name, no_key, by_column, Reason.MALFORMED_ROW, problem)
    if max(map(len, by_column.values()), default=0) > settings.max_cell:
        column, text = next((c, t) for c, t in by_column.items() if len(t) > settings.max_cell)
        size = f"{len(text)}" if not text.endswith(CUT_MARK) else f"more than {settings.max_cell}"
        detail = f"column {column}: {size} characters; at most {settings.max_cell}"
        return _outcome(line, type_name, no_key, by_column, Reason.FIELD_TOO_LONG, detail)
    if not type_name:
        detail = "column entity_type: a value is required"
        return _outcome(line, type_name, no_key, by_column, Reason.MISSING_FIELD, detail)
    if type_name in OUT_OF_SCOPE_TYPES:
        detail = f"not automated: {OUT_OF_SCOPE_TYPES[type_name]}"
        return _outcome(line, type_name, no_key, by_column, Reason.OUT_OF_SCOPE, detail)
    if type_name not in _TYPES:
        detail = f"column entity_type: {type_name!r} is not one of {', '.join(_TYPES)}"
        return _outcome(line, type_name, no_key, by_column, Reason.UNKNOWN_ENTITY_TYPE, detail)
    spec = SCHEMA[_TYPES[type_name]]
    result = normalise_row(spec, by_column, settings.default_region)
    if result.problems:
        key = spec.key(result.values) if set(spec.key_columns) <= result.values.keys() else no_key
        detail = "; ".join(str(problem) for problem in result.problems)
        return _outcome(line, type_name, key, by_column, result.problems[0].reason, detail)
    return Row(
        line, spec.entity_type, spec.key(result.values), result.values, by_column, result.members
    )


_TYPES: Mapping[str, EntityType] = {t.value: t for t in EntityType}


def _outcome(
    line: int, type_name: str, key: str, cells: Mapping[str, str], reason: Reason, detail: str
) -> Outcome:
    return Outcome(
        line=line,
        entity_type=type_name,
        key=key,
        status=reason.status,
        cells=cells,
        reason=reason,
        detail=detail,
    )


def _failed(row: Row, reason: Reason, other: int) -> Outcome:
    """The outcome of a row that a cross-row rule rejects, with a sentence naming the other line."""
    if reason is Reason.DUPLICATE_ROW:
        detail = f"same as line {other}"
    elif reason is Reason.CONFLICTING_DUPLICATE:
        detail = f"{row.key} also appears on line {other} with different values; keep one row"
    elif reason is Reason.NUMBER_CONFLICT:
        detail = (
            f"phone number {row.get('phone_number')} is also given to another owner on line "
            f"{other}; give each number to one owner"
        )
    else:
        detail = (
            f"extension {row.get('extension')} in location {row.get('location')} is also given "
            f"to another owner on line {other}; give each extension to one owner"
        )
    return Outcome.failed(row, reason, detail)


def dependencies(row: Row) -> tuple[str, ...]:
    """The keys of the rows this row needs first: location, number, members, schedule, owner."""
    location = row.get("location").casefold()
    if row.entity_type is EntityType.LOCATION:
        return ()
    if row.entity_type is EntityType.DEVICE:
        return (reference_key(row.get("owner"), row.get("location")),)
    found = [f"location:{location}"]
    if row.get("phone_number") and row.entity_type is not EntityType.NUMBER:
        found.append(f"number:{row.get('phone_number')}")
    found.extend(reference_key(member, row.get("location")) for member in row.members)
    if row.entity_type is EntityType.AUTO_ATTENDANT:
        found.append(f"schedule:{location}/{row.get('business_schedule').casefold()}")
    return tuple(dict.fromkeys(found))


def reference_key(member: str, location: str) -> str:
    """The row key a member or device owner names: a user by e-mail, else a workspace of
    ``location``."""
    if "@" in member:
        return f"user:{member.lower()}"
    return f"workspace:{location.casefold()}/{member.casefold()}"


# -- cross-row rules ---------------------------------------------------------------------------

#: Entity types that own a phone number or an extension (a ``number`` row only adds one).
_OWNERS = frozenset(
    {
        EntityType.USER,
        EntityType.WORKSPACE,
        EntityType.HUNT_GROUP,
        EntityType.CALL_QUEUE,
        EntityType.AUTO_ATTENDANT,
    }
)
_KEY, _NUMBER, _EXTENSION = 0, 1, 2
_LOW32 = 0xFFFF_FFFF
_BUCKETS = 256


def _hash(text: str, size: int) -> int:
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=size).digest(), "little")


def _content_hash(row: Row) -> int:
    values = "\x1f".join(f"{k}\x1e{v}" for k, v in sorted(row.values.items()))
    return _hash(f"{values}\x1d{';'.join(row.members)}", 4)


@attrs.frozen
class CrossRows:
    """The verdicts of the cross-row rules, only for the rows they reject, and the file's stamp."""

    verdicts: Mapping[int, tuple[Reason, int]]  # line → (reason, another line involved)
    size: int
    mtime_ns: int

    def verdict(self, line: int) -> tuple[Reason, int] | None:
        """The cross-row rejection of the row on ``line``, if any."""
        return self.verdicts.get(line)

    def check_unchanged(self, path: Path) -> None:
        """Refuse to read a file that changed since ``scan``: its verdicts would not fit it."""
        stat = path.stat()
        if (stat.st_size, stat.st_mtime_ns) != (self.size, self.mtime_ns):
            raise InputFileError(
                str(path), 1, "the file changed while it was being read", "run the command again"
            )


class _Collector:
    """The first pass's memory: 16 bytes per key, number and extension-in-location.

    Each entry is a 64-bit hash of what must be unique (its kind in the low 2 bits) and
    ``line << 32 | tag`` (tag: a 32-bit hash of the content, or of the owner's key), appended to
    one of 256 flat arrays by the hash's top byte. ``finish`` finds the repeats one array at a
    time, so a dict never holds more than a 256th of the file: a dict of ints would cost ~8×.
    """

    def __init__(self) -> None:
        self._buckets = [array("Q") for _ in range(_BUCKETS)]

    def add(self, row: Row) -> None:
        """Remember what the cross-row rules need of one valid row."""
        self._put(_KEY, f"k{row.key}", row.line, _content_hash(row))
        if row.entity_type in _OWNERS:
            owner = _hash(row.key, 4)
            if row.get("phone_number"):
                self._put(_NUMBER, f"n{row.get('phone_number')}", row.line, owner)
            if row.get("extension"):
                place = f"x{row.get('location').casefold()}/{row.get('extension')}"
                self._put(_EXTENSION, place, row.line, owner)

    def _put(self, kind: int, text: str, line: int, tag: int) -> None:
        key = _hash(text, 8) & ~3 | kind
        bucket = self._buckets[key >> 56]
        bucket.append(key)
        bucket.append(line << 32 | tag)

    def _groups(self) -> tuple[list[list[tuple[int, int]]], ...]:
        """The entries that share a hash, per kind, each group in file order."""
        found: tuple[list[list[tuple[int, int]]], ...] = ([], [], [])
        for index, bucket in enumerate(self._buckets):
            first: dict[int, int] = {}
            repeated: dict[int, list[tuple[int, int]]] = {}
            for position in range(0, len(bucket), 2):
                key, value = bucket[position], bucket[position + 1]
                stored = first.setdefault(key, value)
                if stored != value:  # values differ by their line: the key was seen before
                    group = repeated.setdefault(key, [(stored >> 32, stored & _LOW32)])
                    group.append((value >> 32, value & _LOW32))
            for key, group in repeated.items():
                found[key & 3].append(group)
            self._buckets[index] = array("Q")  # release as we go
        return found

    def finish(self, path: Path) -> CrossRows:
        """Resolve the groups into verdicts; the entries are released on the way."""
        keys, numbers, extensions = self._groups()
        verdicts: dict[int, tuple[Reason, int]] = {}
        for group in keys:
            _key_verdicts(group, verdicts)
        for group in numbers:
            _owner_verdicts(group, Reason.NUMBER_CONFLICT, verdicts)
        for group in extensions:
            _owner_verdicts(group, Reason.EXTENSION_CONFLICT, verdicts)
        stat = path.stat()
        return CrossRows(verdicts, stat.st_size, stat.st_mtime_ns)


def _key_verdicts(group: list[tuple[int, int]], verdicts: dict[int, tuple[Reason, int]]) -> None:
    """Rows with one key: identical → later ones ``duplicate_row``; else all conflicting."""
    first_line, first_content = group[0]
    if all(content == first_content for _, content in group):
        for line, _ in group[1:]:
            verdicts[line] = (Reason.DUPLICATE_ROW, first_line)
        return
    for line, _ in group:
        verdicts[line] = (
            Reason.CONFLICTING_DUPLICATE,
            group[1][0] if line == first_line else first_line,
        )


def _owner_verdicts(
    group: list[tuple[int, int]], reason: Reason, verdicts: dict[int, tuple[Reason, int]]
) -> None:
    """One number (or extension) given to two owners or more → every such row rejected."""
    if len({owner for _, owner in group}) < 2:
        return
    for line, owner in group:
        other = next(other_line for other_line, tag in group if tag != owner)
        verdicts.setdefault(line, (reason, other))
