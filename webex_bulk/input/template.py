"""The template input file: columns, required ones marked in a ``#`` line, one example per type;
as CSV text, or as an .xlsx workbook with drop-down lists for the enumerated columns.
Bottom layer: writes the file it is given; no clock.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from webex_bulk.input.csv_source import header_name
from webex_bulk.input.examples import EXAMPLES
from webex_bulk.input.near_match import did_you_mean
from webex_bulk.input.schema import KNOWN_COLUMNS, SCHEMA
from webex_bulk.models import EntityType

#: The data rows of the workbook template that carry the drop-down lists.
XLSX_ROWS = 10_000


def entity_type(text: str) -> EntityType:
    """An entity type written as the file may write it (``User``, ``hunt-group``…).

    ``ValueError`` names the known types and the closest one.
    """
    name = header_name(text)
    known = [t.value for t in EntityType]
    if name not in known:
        raise ValueError(f"{text!r} is not one of {', '.join(known)}{did_you_mean(name, known)}")
    return EntityType(name)


def columns(types: Sequence[EntityType]) -> list[str]:
    """The header of a template for these types (every known column for all of them)."""
    if len(types) == 1:
        return ["entity_type", *(column.name for column in SCHEMA[types[0]].columns)]
    return list(KNOWN_COLUMNS)


#: What a row of a type with a fallback key asks for when its key columns are empty.
_WITHOUT_KEY = {EntityType.DEVICE: "without it the owner gets an activation code"}


def required_lines(types: Sequence[EntityType]) -> list[str]:
    """``# required <type>: …`` comment lines (the reader skips them), one per entity type."""
    lines = []
    for kind in types:
        spec = SCHEMA[kind]
        names = [column.name for column in spec.columns if column.required]
        if spec.one_of:
            names.append(" and/or ".join(spec.one_of))
        line = f"# required for {kind.value}: entity_type, {', '.join(names)}"
        if spec.to_create:
            line += f"; to create one not in the tenant: {', '.join(spec.to_create)}"
        if spec.fallback_key:
            line += f"; {', '.join(spec.key_columns)} optional: {_WITHOUT_KEY[kind]}"
        lines.append(line)
    return lines


def rows(types: Sequence[EntityType]) -> list[list[str]]:
    """One example row per type, as cells under ``columns(types)``."""
    header = columns(types)
    found = []
    for kind in types:
        example = {"entity_type": kind.value, **EXAMPLES[kind]}
        found.append([example.get(column, "") for column in header])
    return found


def write_csv(out: TextIO, types: Sequence[EntityType]) -> None:
    """The template as CSV text: the required-column comments, the header, the examples."""
    for line in required_lines(types):
        out.write(f"{line}\n")
    table = csv.writer(out, lineterminator="\n")
    table.writerow(columns(types))
    table.writerows(rows(types))


def choices(types: Sequence[EntityType]) -> dict[str, tuple[str, ...]]:
    """The enumerated columns of the template and their values (``entity_type`` included).

    A column name that is free text for another type of the template (``state`` is a
    location's state as well as a number's) gets no list.
    """
    found: dict[str, tuple[str, ...]] = {"entity_type": tuple(t.value for t in EntityType)}
    free = set()
    for kind in types:
        for column in SCHEMA[kind].columns:
            if column.choices:
                found[column.name] = column.choices
            else:
                free.add(column.name)
    return {name: values for name, values in found.items() if name not in free}


def write_xlsx(path: Path, types: Sequence[EntityType]) -> None:
    """The template as a one-sheet workbook: comments, a bold header, examples; every column
    formatted as Text (so Excel keeps ``0101`` and ``+1…`` as typed) and drop-down lists for
    the enumerated columns."""
    from openpyxl import Workbook  # only this command needs it: keep the reader's start fast
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    book = Workbook()
    sheet = book.active
    assert sheet is not None  # a new workbook has one sheet
    sheet.title = "webex-bulk"
    for line in required_lines(types):
        sheet.append([line])
    header = columns(types)
    sheet.append(header)
    header_row = sheet.max_row
    for cell in sheet[header_row]:
        cell.font = Font(bold=True)
    for example in rows(types):
        sheet.append(example)
    first, last = header_row + 1, header_row + XLSX_ROWS
    lists = choices(types)
    for index, name in enumerate(header, start=1):
        letter = get_column_letter(index)
        sheet.column_dimensions[letter].number_format = "@"
        sheet.column_dimensions[letter].width = max(12, len(name) + 2)
        if name in lists:
            validation = DataValidation(
                type="list",
                formula1=f'"{",".join(lists[name])}"',
                allow_blank=True,
                showErrorMessage=True,
                errorTitle=name,
                error=f"{name}: one of {', '.join(lists[name])}",
            )
            validation.add(f"{letter}{first}:{letter}{last}")
            sheet.add_data_validation(validation)
    sheet.freeze_panes = f"A{first}"
    book.save(path)
