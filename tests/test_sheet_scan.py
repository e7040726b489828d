"""The quick sheet reader (regular expressions) reads every sheet exactly as the XML parser does:
its own shapes itself, any other shape by handing over to expat from the row it reached."""

from __future__ import annotations

import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support import raw_workbook

from webex_bulk.error_handling import InputFileError
from webex_bulk.input.sheet_scan import QuickRows
from webex_bulk.input.workbook import Book, CellTexts, sheet_rows
from webex_bulk.input.workbook import _parsed_rows as parsed_rows

SHARED = ["entity_type", "user", "R&D <team>", "Zoë", ""]
SHARED_XML = "".join(f"<si><t>{escape(text)}</t></si>" for text in SHARED)

# Text a cell may hold: printable text, XML's special characters, a tab, non-ASCII.
TEXT = st.text(
    alphabet=st.sampled_from([*"ab Z09+-.@", "&", "<", ">", '"', "'", "\t", "é", "漢", "😀"]),
    max_size=12,
)


def _letters(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


@st.composite
def usual_cell(draw: st.DrawFn, reference: str) -> str:
    """One cell in a shape Excel, LibreOffice or openpyxl writes."""
    ref = f' r="{reference}"' if draw(st.booleans()) else ""
    shape = draw(st.sampled_from(["shared", "inline", "number", "date", "bool", "error", "str"]))
    if shape == "shared":
        index = draw(st.integers(min_value=0, max_value=len(SHARED)))  # one past the table too
        return f'<c{ref} s="0" t="s"><v>{index}</v></c>'
    if shape == "inline":
        space = ' xml:space="preserve"' if draw(st.booleans()) else ""
        text = escape(draw(TEXT)) + draw(st.sampled_from(["", "&#233;t&#xE9;", "&#10;&quot;"]))
        return f'<c{ref} t="inlineStr"><is><t{space}>{text}</t></is></c>'
    if shape == "number":
        value = draw(st.sampled_from(["4085550100", "12.5", "1E+20", "-3", ""]))
        return f"<c{ref}><v>{value}</v></c>" if value else f'<c{ref} s="1"/>'
    if shape == "date":
        return f'<c{ref} s="1"><v>{draw(st.sampled_from(["45000", "0.5", "45000.25"]))}</v></c>'
    if shape == "bool":
        return f'<c{ref} t="b"><v>{draw(st.sampled_from(["0", "1"]))}</v></c>'
    if shape == "error":
        return f'<c t="e"{ref}><v>#N/A</v></c>'  # t before r: another attribute order
    formula = escape('A1&"x"', {'"': "&quot;"})
    return f'<c{ref} t="str"><f>{formula}</f><v>{escape(draw(TEXT))}</v></c>'


#: Row bodies the quick reader leaves to the parser (it must then hand over, rows intact).
UNUSUAL_CELLS = [
    '<c r="A{n}" t="inlineStr"><is><r><t>ri</t></r><r><t>ch</t></r></is></c>',
    '<c r="A{n}" t="inlineStr"><is><t>line\r\nend</t></is></c>',
    '<c r="A{n}" t="inlineStr"><is><t><![CDATA[a<b]]></t></is></c>',
    '<!-- a comment --><c r="A{n}"><v>1</v></c>',
    '<c r="A{n}" t="inlineStr"><is><t>ruby</t><rPh sb="0" eb="1"><t>x</t></rPh></is></c>',
]


@st.composite
def sheet(draw: st.DrawFn, *, unusual: bool) -> tuple[str, bool]:
    """``<sheetData>`` of a few rows; with ``unusual``, one row of another shape somewhere."""
    rows = []
    count = draw(st.integers(min_value=1, max_value=6))
    odd_row = draw(st.integers(min_value=0, max_value=count - 1)) if unusual else -1
    number = 0
    for index in range(count):
        number += draw(st.integers(min_value=1, max_value=3))
        ref = f' r="{number}"' if draw(st.booleans()) or index == 0 else ""
        attrs = ref + (' spans="1:4" x14ac:dyDescent="0.25"' if draw(st.booleans()) else "")
        if index == odd_row:
            cell = draw(st.sampled_from(UNUSUAL_CELLS)).format(n=number)
            rows.append(f"<row{attrs}>{cell}</row>")
            continue
        columns = sorted(draw(st.sets(st.integers(min_value=0, max_value=30), max_size=5)))
        cells = "".join(draw(usual_cell(f"{_letters(c)}{number}")) for c in columns)
        rows.append(f"<row{attrs}/>" if not cells else f"<row{attrs}>{cells}</row>")
    return f"<sheetData>{''.join(rows)}</sheetData>", unusual


def both_readers(path: Path) -> tuple[list[tuple[int, list[str]]], list[tuple[int, list[str]]]]:
    """The sheet's rows as ``sheet_rows`` reads them, and as expat alone does (values and the
    kind of each Excel value)."""
    with zipfile.ZipFile(path) as archive:
        book = Book(archive, path)
        texts = CellTexts(book.strings, book.date_styles, book.date1904)
        read = [(n, _marked(cells)) for n, cells in sheet_rows(book, "Users")]
        parsed = [(n, _marked(cells)) for n, cells in parsed_rows(book, "Users", texts)]
    return read, parsed


def _marked(cells: list[str]) -> list[str]:
    return [f"{getattr(cell, 'kind', 'text')}:{cell}" for cell in cells]


def quick_reads_it_all(path: Path) -> bool:
    """Whether the quick reader alone reached the end of the rows."""
    with zipfile.ZipFile(path) as archive:
        book = Book(archive, path)
        quick = QuickRows(book.strings, CellTexts(book.strings, frozenset(), False).text)
        with book.open(book.sheets["Users"]) as handle:
            for _row in quick.rows(handle):
                pass
        return quick.complete


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=sheet(unusual=False))
def test_usual_sheets_are_read_quickly_and_exactly(tmp_path: Path, data: tuple[str, bool]) -> None:
    """A sheet of the common shapes is read by the quick reader alone, cell for cell as expat
    reads it (shared and inline text, entities and character references, numbers, dates,
    booleans, errors, formulas, gaps, rows and cells without a reference)."""
    path = raw_workbook(tmp_path / "usual.xlsx", data[0], SHARED_XML)
    read, parsed = both_readers(path)
    assert read == parsed
    assert quick_reads_it_all(path)


@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=sheet(unusual=True))
def test_another_shape_hands_over_to_the_parser_with_no_row_lost(
    tmp_path: Path, data: tuple[str, bool]
) -> None:
    """A row of a shape the quick reader does not read (rich text, a carriage return, CDATA, a
    comment, a phonetic hint) hands the sheet to expat from that row:
    every row comes out once, as expat reads it."""
    path = raw_workbook(tmp_path / "unusual.xlsx", data[0], SHARED_XML)
    read, parsed = both_readers(path)
    assert read == parsed
    assert not quick_reads_it_all(path)


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(lambda xml: xml[: xml.index(b"</sheetData>") - 9], id="cut-in-a-row"),
        pytest.param(lambda xml: xml[:-30], id="cut-after-the-rows"),
        pytest.param(lambda xml: xml.replace(b"<v>1</v>", b"<v>1&bogus;</v>"), id="bad-entity"),
        pytest.param(lambda xml: xml.replace(b"<v>1</v>", b"<v>\x01</v>"), id="control-char"),
        pytest.param(lambda xml: xml.replace(b"entity", b"\xff\xfe"), id="not-utf8"),
    ],
)
def test_a_damaged_sheet_is_the_parsers_error_with_the_row_reached(
    tmp_path: Path, damage: object
) -> None:
    """Damage the quick reader meets (a part cut short, a bad entity, a control character,
    bytes that are not UTF-8) is reported by the parser as a damaged sheet, not read past."""
    rows = "".join(
        f'<row r="{n}"><c r="A{n}" t="inlineStr"><is><t>entity{n}</t></is></c>'
        f'<c r="B{n}"><v>1</v></c></row>'
        for n in range(1, 4)
    )
    good = raw_workbook(tmp_path / "good.xlsx", f"<sheetData>{rows}</sheetData>")
    bad = tmp_path / "bad.xlsx"
    with zipfile.ZipFile(good) as source, zipfile.ZipFile(bad, "w") as target:
        for member in source.namelist():
            data = source.read(member)
            if member == "xl/worksheets/sheet1.xml":
                data = damage(data)  # type: ignore[operator]
            target.writestr(member, data)
    with zipfile.ZipFile(bad) as archive, pytest.raises(InputFileError, match="damaged"):
        list(sheet_rows(Book(archive, bad), "Users"))


def test_a_prefixed_sheet_is_left_to_the_parser(tmp_path: Path) -> None:
    """A sheet whose elements carry a namespace prefix (``x:row``) is not the common shape: the
    parser reads it, with the same rows."""
    main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    rows = '<x:row r="1"><x:c r="A1" t="inlineStr"><x:is><x:t>user</x:t></x:is></x:c></x:row>'
    path = raw_workbook(
        tmp_path / "prefixed.xlsx", f'<x:sheetData xmlns:x="{main}">{rows}</x:sheetData>'
    )
    read, parsed = both_readers(path)
    assert read == parsed == [(1, ["text:user"])]
    assert not quick_reads_it_all(path)
