"""Reading .xlsx workbooks: the CSV's rows and outcomes, mangled cells refused, wrong flags."""

from __future__ import annotations

import csv
import datetime
from collections.abc import Sequence
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook
from support import raw_workbook

from webex_bulk.config import Settings
from webex_bulk.error_handling import InputFileError, Reason
from webex_bulk.input.data_pipeline import read_rows, scan
from webex_bulk.input.schema import KNOWN_COLUMNS
from webex_bulk.models import Outcome, Row

LOCATION = {
    "entity_type": "location",
    "name": "HQ",
    "time_zone": "America/Los_Angeles",
    "address1": "1 Main St",
    "city": "San Jose",
    "state": "CA",
    "postal_code": "95134",
    "country": "US",
}


def user(email: str, **more: object) -> dict[str, object]:
    """A user row at HQ."""
    cells: dict[str, object] = {
        "entity_type": "user",
        "email": email,
        "first_name": "Ana",
        "last_name": "Lee",
        "location": "HQ",
        "extension": "1001",
    }
    return {**cells, **more}


def workbook(
    path: Path,
    rows: Sequence[dict[str, object] | Sequence[object]],
    *,
    sheet: str = "Tenant",
    formats: dict[str, str] | None = None,
    write_only: bool = False,
) -> Path:
    """Write a workbook: the header (every known column), then the rows (dicts or raw lists)."""
    book = Workbook(write_only=write_only)
    table = book.create_sheet(sheet) if write_only else book.active
    assert table is not None
    table.title = sheet
    table.append(list(KNOWN_COLUMNS))
    for row in rows:
        table.append([row.get(c) for c in KNOWN_COLUMNS] if isinstance(row, dict) else list(row))
    if formats and not write_only:
        for column, number_format in formats.items():
            index = KNOWN_COLUMNS.index(column)
            for cells in table.iter_rows(min_row=2):
                cells[index].number_format = number_format
    book.save(path)
    return path


def items(path: Path, settings: Settings | None = None) -> list[Row | Outcome]:
    """Both passes over a file."""
    settings = settings or Settings()
    return list(read_rows(scan(path, settings), settings))


def rejected(item: Row | Outcome) -> Outcome:
    """The item, which must be a rejection."""
    assert isinstance(item, Outcome), item
    return item


@pytest.mark.parametrize("write_only", [False, True])
def test_workbook_gives_the_same_rows_as_the_csv(tmp_path: Path, write_only: bool) -> None:
    """A workbook (shared or inline strings) yields the CSV's rows, keys and reasons, by row."""
    rows: list[dict[str, object]] = [
        LOCATION,
        user("ana@example.com"),
        user("bad-email", extension="1002"),
        {"entity_type": "trunk", "name": "T1", "location": "HQ"},
        user("ana@example.com"),
    ]
    book = workbook(tmp_path / "in.xlsx", rows, write_only=write_only)
    text = tmp_path / "in.csv"
    with text.open("w", newline="", encoding="utf-8") as handle:
        table = csv.writer(handle)
        table.writerow(KNOWN_COLUMNS)
        table.writerows([[str(r.get(c) or "") for c in KNOWN_COLUMNS] for r in rows])

    def shape(item: Row | Outcome) -> tuple[object, ...]:
        if isinstance(item, Row):
            return (item.line, item.key, dict(item.values))
        return (item.line, item.key, item.reason, item.detail, dict(item.cells))

    assert [shape(i) for i in items(book)] == [shape(i) for i in items(text)]


def test_line_numbers_are_sheet_rows_past_blank_and_comment_rows(tmp_path: Path) -> None:
    """Blank rows and # comment rows are skipped; a row keeps its sheet row number."""
    path = workbook(tmp_path / "in.xlsx", [["# a note"], [], LOCATION])
    book = load_workbook(path)
    sheet = book.active
    assert sheet is not None
    for column, value in user("ana@example.com").items():
        sheet.cell(row=9, column=KNOWN_COLUMNS.index(column) + 1, value=value)
    book.save(path)
    found = items(path)
    assert [item.line for item in found] == [4, 9]
    assert isinstance(found[1], Row)
    assert found[1].key == "user:ana@example.com"


@pytest.mark.parametrize(
    ("column", "value", "number_format", "reason", "said"),
    [
        ("extension", 1001, "General", Reason.INVALID_EXTENSION, "Excel stored 1001 as a number"),
        (
            "phone_number",
            14085550100.0,
            "0.00E+00",
            Reason.INVALID_PHONE_NUMBER,
            "stored the phone number as the number 14085550100",
        ),
        ("title", datetime.datetime(2024, 3, 1), "yyyy-mm-dd", Reason.INVALID_VALUE, "2024-03-01"),
        ("department", True, "General", Reason.INVALID_VALUE, "logical value TRUE"),
    ],
)
def test_cells_excel_mangled_are_rejected_naming_sheet_row_column(
    tmp_path: Path,
    column: str,
    value: object,
    number_format: str,
    reason: Reason,
    said: str,
) -> None:
    """A number, date or boolean where text belongs rejects the row; the value is not converted."""
    path = workbook(
        tmp_path / "in.xlsx",
        [LOCATION, user("ana@example.com", **{column: value})],
        formats={column: number_format},
    )
    outcome = rejected(items(path)[1])
    assert outcome.reason is reason
    assert outcome.detail.startswith(f"column {column}: sheet 'Tenant' row 3: ")
    assert said in outcome.detail
    assert "format the column as Text" in outcome.detail


def test_date_style_from_a_custom_format_is_recognised(tmp_path: Path) -> None:
    """A number shown through a custom date format (d/m/yy h:mm) is refused as a date."""
    path = workbook(
        tmp_path / "in.xlsx",
        [LOCATION, user("ana@example.com", title=45000.5)],
        formats={"title": "d/m/yy h:mm"},
    )
    assert "Excel turned the cell into a date or time (2023-03-15T12:00:00)" in (
        rejected(items(path)[1]).detail
    )


def test_whole_number_queue_size_is_accepted(tmp_path: Path) -> None:
    """queue_size is the one column where a number cell is the natural spelling."""
    queue = {
        "entity_type": "call_queue",
        "name": "Support",
        "location": "HQ",
        "extension": "2002",
        "queue_size": 25,
    }
    found = items(workbook(tmp_path / "in.xlsx", [LOCATION, queue]))[1]
    assert isinstance(found, Row)
    assert found.values["queue_size"] == "25"


def test_sheet_is_picked_by_name_and_others_are_named(tmp_path: Path) -> None:
    """--sheet reads that sheet; without it the first is read and a warning names the rest."""
    path = workbook(tmp_path / "in.xlsx", [LOCATION])
    book = load_workbook(path)
    other = book.create_sheet("Users")
    other.append(list(KNOWN_COLUMNS))
    other.append([user("ana@example.com").get(c) for c in KNOWN_COLUMNS])
    book.save(path)
    first = scan(path, Settings())
    assert first.sheet == "Tenant"
    assert any("'Users'" in warning for warning in first.warnings)
    second = Settings(sheet="users")
    assert [i.key for i in items(path, second)] == ["user:ana@example.com"]
    assert scan(path, second).sha256 != first.sha256  # one run directory per sheet


def test_unknown_sheet_names_the_sheets_and_the_closest(tmp_path: Path) -> None:
    """A --sheet that does not exist stops the file, listing the sheets and a near match."""
    path = workbook(tmp_path / "in.xlsx", [LOCATION])
    with pytest.raises(InputFileError) as caught:
        scan(path, Settings(sheet="Tenat"))
    assert "did you mean 'Tenant'?" in str(caught.value)
    assert "--sheet" in str(caught.value)


@pytest.mark.parametrize(
    ("settings", "said"),
    [
        (Settings(encoding="cp1252"), "--encoding applies to CSV files only"),
        (Settings(delimiter=";"), "--delimiter applies to CSV files only"),
    ],
)
def test_csv_flags_with_a_workbook_are_refused(
    tmp_path: Path, settings: Settings, said: str
) -> None:
    """--encoding or --delimiter given with a workbook stop the file with what to drop."""
    path = workbook(tmp_path / "in.xlsx", [LOCATION])
    with pytest.raises(InputFileError, match=said):
        scan(path, settings)


def test_sheet_flag_with_a_csv_is_refused(tmp_path: Path) -> None:
    """--sheet given with a CSV says it applies to workbooks only."""
    path = tmp_path / "in.csv"
    path.write_text("entity_type,name\nlocation,HQ\n", encoding="utf-8")
    with pytest.raises(InputFileError, match=r"--sheet applies to \.xlsx workbooks only"):
        scan(path, Settings(sheet="Tenant"))


@pytest.mark.parametrize(
    ("name", "content", "said"),
    [
        ("in.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "Excel 97–2003 workbook (.xls)"),
        ("in.ods", b"PK\x03\x04", "OpenDocument spreadsheet"),
        ("in.csv", b"PK\x03\x04rest", "zip archive (an .xlsx workbook?), not a CSV"),
        ("in.csv", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1rest", "not a CSV"),
        ("in.xlsx", b"entity_type,name\n", "not an .xlsx workbook"),
    ],
)
def test_other_spreadsheet_files_get_one_clear_line(
    tmp_path: Path, name: str, content: bytes, said: str
) -> None:
    """Formats that cannot be read, or a workbook under a CSV name, stop with what to do."""
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(InputFileError) as caught:
        scan(path, Settings())
    assert said in str(caught.value)
    assert "\n" not in str(caught.value)


def test_damaged_sheet_xml_is_a_file_error(tmp_path: Path) -> None:
    """A workbook whose sheet XML is cut short stops with the row reached, not a traceback."""
    import zipfile

    good = workbook(tmp_path / "good.xlsx", [LOCATION, user("ana@example.com")])
    bad = tmp_path / "bad.xlsx"
    with zipfile.ZipFile(good) as source, zipfile.ZipFile(bad, "w") as target:
        for member in source.namelist():
            data = source.read(member)
            if member == "xl/worksheets/sheet1.xml":
                data = data[: len(data) - 40]
            target.writestr(member, data)
    with pytest.raises(InputFileError, match="damaged"):
        scan(bad, Settings())


def excel_style_workbook(path: Path, rows: list[list[tuple[str, str, str]]]) -> Path:
    """A workbook laid out as Excel saves it: shared strings (one with rich-text runs and a
    phonetic hint), a style table with a custom date format, ``r`` references with gaps.

    Each cell is (reference, type, value); type ``s`` takes the text itself (it goes to the
    shared string table), ``n`` a number, ``d`` a number shown with the date style.
    """
    strings: list[str] = []
    xml_rows = []
    for number, cells in enumerate(rows, start=1):
        xml_cells = []
        for reference, kind, value in cells:
            if kind == "s":
                strings.append(value)
                body = f'<c r="{reference}{number}" t="s"><v>{len(strings) - 1}</v></c>'
            elif kind == "d":
                body = f'<c r="{reference}{number}" s="1"><v>{value}</v></c>'
            else:
                body = f'<c r="{reference}{number}"><v>{value}</v></c>'
            xml_cells.append(body)
        xml_rows.append(f'<row r="{number}">{"".join(xml_cells)}</row>')
    shared = []
    for text in strings:
        if text == "Lee":  # rich text: two runs, and a phonetic hint that is not part of it
            shared.append("<si><r><t>L</t></r><r><rPr/><t>ee</t></r><rPh><t>リー</t></rPh></si>")
        else:
            shared.append(f"<si><t>{text.replace('&', '&amp;')}</t></si>")
    return raw_workbook(path, f"<sheetData>{''.join(xml_rows)}</sheetData>", "".join(shared))


def test_excel_layout_shared_strings_rich_text_gaps_and_custom_date_style(tmp_path: Path) -> None:
    """Shared strings (rich text without its phonetic hint), a skipped column and a custom date
    format are read as Excel shows them."""
    header = [
        ("A", "s", "entity_type"),
        ("B", "s", "email"),
        ("C", "s", "first_name"),
        ("D", "s", "last_name"),
        ("E", "s", "location"),
        ("F", "s", "extension"),
        ("G", "s", "department"),
        ("H", "s", "title"),
    ]
    good = [
        ("A", "s", "user"),
        ("B", "s", "ana@example.com"),
        ("C", "s", "Ana & Jo"),
        ("D", "s", "Lee"),
        ("E", "s", "HQ"),
        ("F", "s", "0101"),
    ]
    dated = [*good[:1], ("B", "s", "bo@example.com"), *good[2:5], ("F", "n", "1002")]
    dated.append(("H", "d", "45352"))
    path = excel_style_workbook(tmp_path / "users.xlsx", [header, good, dated])
    source = scan(path, Settings())
    assert source.sheet == "Users"
    first, second = list(read_rows(source, Settings()))
    assert isinstance(first, Row)
    assert (first.get("first_name"), first.get("last_name")) == ("Ana & Jo", "Lee")
    assert first.get("extension") == "0101"
    outcome = rejected(second)
    assert outcome.reason is Reason.INVALID_EXTENSION
    assert "column title: sheet 'Users' row 3: Excel turned the cell into a date" in outcome.detail
    assert "(2024-03-01)" in outcome.detail
