"""Read the input file (a CSV, or one sheet of an .xlsx workbook) in two streaming passes:
``scan`` (file checks, cross-row rules) and ``read_rows`` (every row as a ``Row`` or a pre-API
``Outcome``, in file order). Bottom layer: reads the file it is given; no network, no clock.
"""

from __future__ import annotations

from array import array
from bisect import bisect_left
from collections import Counter
from collections.abc import Collection, Iterator, Mapping
from pathlib import Path

import attrs

from webex_bulk.config import Settings
from webex_bulk.error_handling import InputFileError, Reason
from webex_bulk.input.cross_rows import Collector, CrossRows
from webex_bulk.input.csv_source import entity_type_name, escape_cell, unescape_cell
from webex_bulk.input.line_feed import CUT_MARK
from webex_bulk.input.near_match import closest, did_you_mean
from webex_bulk.input.normalise import DayHours, parse_hours
from webex_bulk.input.regions import Regions, check_default_region
from webex_bulk.input.schema import (
    KNOWN_COLUMNS,
    SCHEMA,
    WHOLE_NUMBER_COLUMNS,
    EntitySpec,
    Problem,
    mask_secrets,
    normalise_row,
)
from webex_bulk.input.sheet_copy import SheetCopy
from webex_bulk.input.source import Source, is_workbook, open_input
from webex_bulk.input.workbook import ExcelValue
from webex_bulk.models import OUT_OF_SCOPE_TYPES, EntityType, Outcome, Row

__all__ = [
    "OUTPUT_COLUMNS",
    "CrossRows",
    "DayHours",
    "InputFile",
    "escape_cell",
    "parse_hours",
    "read_rows",
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
    For a workbook, ``encoding`` is ``xlsx``, ``delimiter`` is empty and ``sheet`` names the
    sheet read.
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
    sheet: str = attrs.field(default="", kw_only=True)
    cross_rows: CrossRows | None = attrs.field(default=None, eq=False, repr=False, kw_only=True)
    #: a workbook's rows as the first pass parsed them, for the later passes
    sheet_copy: SheetCopy | None = attrs.field(default=None, eq=False, repr=False, kw_only=True)
    #: valid user rows per calling license kind and the devices' models, before the cross-row
    #: rules (an upper bound: a duplicate counts)
    license_demand: Mapping[str, int] = attrs.field(factory=dict, eq=False, kw_only=True)
    device_models: frozenset[str] = attrs.field(factory=frozenset, eq=False, kw_only=True)
    #: the lines of the rows rejected or pending before any API call (4 bytes each, in file
    #: order): the later passes evaluate only these and the rows of the types they want
    pre_api_lines: array[int] = attrs.field(factory=lambda: array("I"), eq=False, kw_only=True)

    def ends_early(self, line: int) -> bool:
        """Whether the first pass found the row on ``line`` ends before any API call (pre-API,
        or rejected by a cross-row rule)."""
        if self.cross_rows is not None and self.cross_rows.verdict(line) is not None:
            return True
        at = bisect_left(self.pre_api_lines, line)
        return at < len(self.pre_api_lines) and self.pre_api_lines[at] == line

    @property
    def last_pre_api_line(self) -> int:
        """The last line that ends before any API call (0: none)."""
        verdicts = self.cross_rows.verdicts if self.cross_rows is not None else {}
        return max(self.pre_api_lines[-1] if self.pre_api_lines else 0, *verdicts, 0)


def scan(path: Path, settings: Settings) -> InputFile:
    """Check the file as a whole and run the first pass; raise ``InputFileError`` on a bad file."""
    regions = Regions(check_default_region(settings.default_region))
    copy = SheetCopy() if is_workbook(path) else None
    found = _first_pass(path, settings, regions, copy)
    if regions.needs_second_look():
        # A row with a national number came before its location's row: read it again with
        # every location's country known (rare: templates and exports put locations first).
        found = _first_pass(path, settings, regions.complete(), copy)
    return found


def _first_pass(
    path: Path, settings: Settings, regions: Regions, copy: SheetCopy | None
) -> InputFile:
    collector = Collector()
    counts: Counter[str] = Counter()
    demand: Counter[str] = Counter()
    models: set[str] = set()
    rows = 0
    pre_api = array("I")
    with open_input(path, settings, copy=copy) as source:
        typos = _header_typos(source.header)
        for line, cells, problem in source.records():
            rows += 1
            if rows > settings.max_rows:
                raise InputFileError(
                    str(path),
                    line,
                    f"the file holds more than {settings.max_rows} rows (max_rows)",
                    "split the file, or raise max_rows in the settings",
                )
            item = _evaluate(source, line, cells, problem, settings, regions)
            counts[_type_name(item)] += 1
            if typos:
                _check_typos(source, typos, item)
            if not isinstance(item, Row):
                pre_api.append(line)
                continue
            collector.add(item)
            if item.entity_type is EntityType.LOCATION:
                regions.learn(item.get("name"), item.get("country"))
            elif item.entity_type is EntityType.USER:
                demand[item.get("license", "professional")] += 1
            elif item.entity_type is EntityType.DEVICE and item.get("model"):
                models.add(item.get("model"))
        if rows == 0:
            raise InputFileError(
                str(path), source.line_count, "the file has a header but no rows", "add rows"
            )
        unused = [f"column {typo!r} is not read; did you mean {typos[typo]!r}?" for typo in typos]
        cross_rows = collector.finish(path, regions.known)
        return InputFile(
            path=path,
            encoding=source.encoding,
            delimiter=source.delimiter,
            header=source.header,
            unknown_columns=source.unknown_columns,
            warnings=(*source.warnings, *unused),
            sha256=source.sha256(),
            row_count=rows,
            counts_by_type=dict(counts),
            sheet=getattr(source, "sheet", ""),
            cross_rows=cross_rows,
            sheet_copy=copy,
            license_demand=dict(demand),
            device_models=frozenset(models),
            pre_api_lines=pre_api,
        )


def _header_typos(header: tuple[str, ...]) -> dict[str, str]:
    """Unknown columns that look like a known column the header lacks (``frist_name``)."""
    missing = [name for name in KNOWN_COLUMNS if name not in header]
    found = {}
    for name in header:
        if name not in KNOWN_COLUMNS:
            match = closest(name, missing)
            if match:
                found[name] = match
    return found


def _check_typos(source: Source, typos: Mapping[str, str], item: Row | Outcome) -> None:
    """A value in a misspelt column that the row's type reads stops the file, once, at the top.

    Otherwise every row would be rejected ``missing_field`` (or, for an optional column, the
    value silently dropped).
    """
    type_name = _type_name(item)
    spec = SCHEMA.get(_TYPES[type_name]) if type_name in _TYPES else None
    if spec is None:
        return
    reads = {column.name for column in spec.columns}
    for typo, known in typos.items():
        if known in reads and item.cells.get(typo, "").strip():
            raise InputFileError(
                str(source.path),
                source.header_line,
                f"column {typo!r} is not a column webex-bulk reads (line {item.line} gives it a "
                f"value for a {type_name} row); did you mean {known!r}?",
                f"rename the column {typo} to {known} in the header",
                typo,
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
    outcomes of any type come only when ``include_rejected`` is true. A row of another type is
    normalised again only when the first pass found it ends before any API call.
    """
    if source.cross_rows is None:
        source = scan(source.path, settings)
    cross_rows = source.cross_rows
    assert cross_rows is not None  # scan always sets it
    cross_rows.check_unchanged(source.path)
    regions = Regions(settings.default_region.upper(), cross_rows.regions)
    wanted = None if types is None else frozenset(t.value for t in types)
    with open_input(
        source.path,
        settings,
        encoding=source.encoding,
        delimiter=source.delimiter,
        copy=source.sheet_copy,
    ) as file_in:
        for line, cells, problem in file_in.records():
            unwanted = wanted is not None and file_in.type_of(cells) not in wanted
            if unwanted and not (include_rejected and source.ends_early(line)):
                continue  # neither a wanted Row nor an Outcome: skip the normalisation
            item = _evaluate(file_in, line, cells, problem, settings, regions)
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
    source: Source,
    line: int,
    cells: list[str],
    problem: str,
    settings: Settings,
    regions: Regions,
) -> Row | Outcome:
    """One physical row → a valid ``Row``, or the ``Outcome`` that ends it before any API call."""
    values_of = source.cells_by_column(cells)
    # Secrets stay in the normalised values only: outputs carry the masked cells.
    by_column = mask_secrets(values_of)
    type_name = entity_type_name(values_of.get("entity_type", ""))
    no_key = f"{type_name or 'row'}:line{line}"
    extra = source.extra_cells(cells)
    if extra and not problem:
        problem = f"{len(cells)} cells for {source.width} columns (extra: {extra[:40]!r})"
        if source.delimiter:
            problem += f"; quote cells that contain {source.delimiter!r}"
    if problem:
        return _outcome(line, type_name, no_key, by_column, Reason.MALFORMED_ROW, problem)
    longest = max(map(len, cells), default=0)  # a cheap bound: the row's cells as read
    if longest > settings.max_cell and max(map(len, values_of.values())) > settings.max_cell:
        column, text = next((c, t) for c, t in values_of.items() if len(t) > settings.max_cell)
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
        hint = did_you_mean(type_name, [*_TYPES, *OUT_OF_SCOPE_TYPES])
        detail = f"column entity_type: {type_name!r} is not one of {', '.join(_TYPES)}{hint}"
        return _outcome(line, type_name, no_key, by_column, Reason.UNKNOWN_ENTITY_TYPE, detail)
    spec = SCHEMA[_TYPES[type_name]]
    result = normalise_row(spec, values_of, regions.region_for(by_column))
    problems = list(result.problems)
    if source.encoding == "xlsx" and ExcelValue in map(type, cells):
        problems = _excel_problems(spec, values_of, line, getattr(source, "sheet", ""), problems)
    if problems:
        key = spec.key(result.values) if spec.has_key(result.values) else no_key
        detail = "; ".join(str(problem) for problem in problems)
        return _outcome(line, type_name, key, by_column, problems[0].reason, detail)
    return Row(
        line, spec.entity_type, spec.key(result.values), result.values, by_column, result.members
    )


_TYPES: Mapping[str, EntityType] = {t.value: t for t in EntityType}
_EXCEL_REASONS = {
    "phone_number": Reason.INVALID_PHONE_NUMBER,
    "extension": Reason.INVALID_EXTENSION,
    "mac": Reason.INVALID_MAC,
    "email": Reason.INVALID_EMAIL,
    "time_zone": Reason.INVALID_TIME_ZONE,
}


def _excel_problems(
    spec: EntitySpec, cells: Mapping[str, str], line: int, sheet: str, problems: list[Problem]
) -> list[Problem]:
    """Cells Excel stored as a number, date, boolean or error: refused first, never converted.

    A whole number is fine only in a numeric column (``queue_size``).
    """
    found = []
    for column in spec.columns:
        text = cells.get(column.name)
        if not isinstance(text, ExcelValue):
            continue
        if column.name in WHOLE_NUMBER_COLUMNS and text.kind == "number" and text.isdigit():
            continue
        why = f"sheet {sheet!r} row {line}: {text.problem(column.name)}"
        found.append(
            Problem(_EXCEL_REASONS.get(column.name, Reason.INVALID_VALUE), column.name, why)
        )
    if not found:
        return problems
    refused = {problem.column for problem in found}
    return [*found, *(problem for problem in problems if problem.column not in refused)]


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
