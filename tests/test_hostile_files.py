"""Hostile input files: each ends as a clear file-level error before any row, or as per-row
rejections with every row accounted for (rows in = rows out)."""

from __future__ import annotations

from pathlib import Path

import pytest

from webex_bulk.config import Settings
from webex_bulk.error_handling import ConfigError, InputFileError, Reason
from webex_bulk.input.data_pipeline import read_rows, scan
from webex_bulk.models import Outcome, Row

HEADER = "entity_type,email,first_name,last_name,location,extension,title"


def user(n: int, **more: str) -> str:
    """A valid user line, unique by n."""
    cells = {
        "email": f"user{n}@example.com",
        "first_name": "Ana",
        "last_name": "Lee",
        "location": "San Jose HQ",
        "extension": f"{1000 + n}",
        "title": "Agent",
    }
    cells.update(more)
    return "user," + ",".join(cells.values())


def build(tmp_path: Path, data: bytes, name: str = "hostile.csv") -> Path:
    """Write raw bytes as an input file."""
    path = tmp_path / name
    path.write_bytes(data)
    return path


def text_file(tmp_path: Path, lines: list[str], newline: str = "\n") -> Path:
    """Write lines as UTF-8 with the given line ending."""
    return build(tmp_path, (newline.join(lines) + newline).encode("utf-8"))


def all_items(path: Path, settings: Settings | None = None) -> list[Row | Outcome]:
    """Scan and read every row back; rows in must equal rows out."""
    settings = settings or Settings()
    source = scan(path, settings)
    items = list(read_rows(source, settings))
    assert len(items) == source.row_count
    assert len({item.line for item in items}) == len(items)
    return items


def file_error(path: Path, settings: Settings | None = None) -> InputFileError:
    """The file-level error scan raises (before any row is handed out)."""
    with pytest.raises(InputFileError) as caught:
        scan(path, settings or Settings())
    error = caught.value
    assert str(error).startswith(f"{path}:{error.line}: ")
    assert " — " in str(error)
    return error


def test_utf8_bom_is_read(tmp_path: Path) -> None:
    """A UTF-8 BOM does not end up in the first header name."""
    path = build(tmp_path, b"\xef\xbb\xbf" + f"{HEADER}\n{user(1)}\n".encode())
    (row,) = all_items(path)
    assert isinstance(row, Row)


def test_cp1252_needs_the_encoding_flag(tmp_path: Path) -> None:
    """An Excel cp1252 export fails clearly without --encoding and reads with it."""
    lines = [HEADER, user(1), user(2, last_name="Müller"), user(3)]
    path = build(tmp_path, ("\r\n".join(lines) + "\r\n").encode("cp1252"))
    error = file_error(path)
    assert error.line == 3
    assert error.column == "last_name"
    assert "--encoding cp1252" in error.hint
    items = all_items(path, Settings(encoding="cp1252"))
    assert items[1].cells["last_name"] == "Müller"


def test_semicolon_delimiter_is_sniffed(tmp_path: Path) -> None:
    """A ';'-delimited file (European Excel) is read without flags."""
    path = text_file(tmp_path, [HEADER.replace(",", ";"), user(1).replace(",", ";")])
    assert scan(path, Settings()).delimiter == ";"
    (row,) = all_items(path)
    assert isinstance(row, Row)


@pytest.mark.parametrize("delimiter", ["\t", "|"])
def test_tab_and_pipe_delimiters_are_sniffed(tmp_path: Path, delimiter: str) -> None:
    """Tab- and pipe-delimited files are read without flags."""
    path = text_file(tmp_path, [HEADER.replace(",", delimiter), user(1).replace(",", delimiter)])
    (row,) = all_items(path)
    assert isinstance(row, Row)


def test_delimiter_setting_overrides_the_sniffer(tmp_path: Path) -> None:
    """With delimiter ';' a comma file is one column: no entity_type column, a clear error."""
    path = text_file(tmp_path, [HEADER, user(1)])
    error = file_error(path, Settings(delimiter=";"))
    assert "entity_type" in error.problem


def test_mixed_line_endings_keep_physical_line_numbers(tmp_path: Path) -> None:
    """CRLF, LF and a lone CR all end a line; line numbers stay physical."""
    data = f"{HEADER}\r\n{user(1)}\n{user(2)}\r{user(3)}\r\n\n{user(4, email='bad')}\n"
    items = all_items(build(tmp_path, data.encode()))
    assert [item.line for item in items] == [2, 3, 4, 6]
    assert items[-1].reason is Reason.INVALID_EMAIL  # type: ignore[union-attr]


def test_unbalanced_quote_in_a_large_file_is_found_at_its_line(tmp_path: Path) -> None:
    """A quote opened mid-file and never closed is reported at its line, not swallowed."""
    lines = [HEADER] + [user(n) for n in range(10_000)]
    lines[5_001] = user(5_000, title='"Senior Agent')
    error = file_error(text_file(tmp_path, lines))
    assert error.line == 5_002
    assert "quote" in error.problem


def test_unbalanced_quote_closed_by_a_later_quote_is_found(tmp_path: Path) -> None:
    """A quote that a later quoted cell 'closes' is still reported at the line it opened."""
    lines = [HEADER, user(1, title='"Agent'), user(2), user(3, title='"Lead, Sales"'), user(4)]
    error = file_error(text_file(tmp_path, lines))
    assert error.line == 2


def test_unbalanced_quote_on_the_last_line_is_found(tmp_path: Path) -> None:
    """A quote still open at the end of the file is reported at its line."""
    error = file_error(text_file(tmp_path, [HEADER, user(1), user(2, title='"Agent')]))
    assert error.line == 3


def test_quoted_cell_that_swallowed_rows_is_found(tmp_path: Path) -> None:
    """A multi-line cell holding text that looks like rows is an unclosed quote."""
    lines = [HEADER, user(1, title='"Agent'), user(2), user(3, title='Lead"'), user(4)]
    error = file_error(text_file(tmp_path, lines))
    assert error.line == 2


def test_a_stray_quote_on_one_line_rejects_only_that_row(tmp_path: Path) -> None:
    """Text after a closing quote inside one line makes that row malformed, nothing else."""
    lines = [HEADER, user(1), user(2, title='"Senior" Agent'), user(3)]
    items = all_items(text_file(tmp_path, lines))
    assert [getattr(item, "reason", None) for item in items] == [None, Reason.MALFORMED_ROW, None]


def test_legit_multiline_cell_is_fine(tmp_path: Path) -> None:
    """A quoted cell with a line break and no row-like text is one cell."""
    lines = [HEADER, user(1, title='"Senior\nAgent"'), user(2)]
    items = all_items(text_file(tmp_path, lines))
    assert [item.line for item in items] == [2, 4]
    assert isinstance(items[0], Row)
    assert items[0].values["title"] == "Senior Agent"


def test_duplicate_header_is_an_error(tmp_path: Path) -> None:
    """Two columns that normalise to one name stop the file, naming the column."""
    error = file_error(text_file(tmp_path, [HEADER + ",First Name", user(1) + ",Ana"]))
    assert error.line == 1
    assert error.column == "first_name"


def test_blank_header_is_an_error(tmp_path: Path) -> None:
    """A header cell with no name stops the file, naming its position."""
    error = file_error(text_file(tmp_path, [HEADER.replace(",title", ", "), user(1)]))
    assert error.column == "7"


def test_missing_entity_type_column_is_an_error(tmp_path: Path) -> None:
    """A header without entity_type stops the file."""
    error = file_error(text_file(tmp_path, ["type,email", "user,a@example.com"]))
    assert "entity_type" in error.problem


def test_ragged_rows_become_row_rejections(tmp_path: Path) -> None:
    """Short rows read empty cells; long rows are malformed; every row is accounted for."""
    lines = [HEADER, user(1), "user,a@example.com,Ana", user(3) + ",extra,more", user(4)]
    items = all_items(text_file(tmp_path, lines))
    reasons = [getattr(item, "reason", None) for item in items]
    assert reasons == [None, Reason.MISSING_FIELD, Reason.MALFORMED_ROW, None]


def test_nul_byte_is_an_error_with_its_line(tmp_path: Path) -> None:
    """A NUL byte stops the file at its line and column."""
    data = f"{HEADER}\n{user(1)}\n{user(2)}\n".encode().replace(b"user2@", b"user\x002@")
    error = file_error(build(tmp_path, data))
    assert (error.line, error.column) == (3, "email")
    assert "NUL" in error.problem


def test_utf16_file_is_an_error(tmp_path: Path) -> None:
    """A UTF-16 file (Excel 'Unicode Text') is named as such."""
    error = file_error(build(tmp_path, f"{HEADER}\n{user(1)}\n".encode("utf-16")))
    assert "UTF-16" in error.problem


def test_a_200kb_cell_rejects_its_row_only(tmp_path: Path) -> None:
    """A 200 KB cell is field_too_long for its row; the other rows are fine."""
    lines = [HEADER, user(1), user(2, title="x" * 200_000), user(3)]
    items = all_items(text_file(tmp_path, lines))
    assert [getattr(item, "reason", None) for item in items] == [None, Reason.FIELD_TOO_LONG, None]


def test_empty_file_is_an_error(tmp_path: Path) -> None:
    """An empty file stops with 'empty'."""
    assert "empty" in file_error(build(tmp_path, b"")).problem


def test_header_only_file_is_an_error(tmp_path: Path) -> None:
    """A header with no rows stops with 'no rows'."""
    assert "no rows" in file_error(text_file(tmp_path, [HEADER])).problem


def test_comments_only_file_is_an_error(tmp_path: Path) -> None:
    """A file of comments and blank lines has no header line."""
    assert "no header" in file_error(text_file(tmp_path, ["# hello", "", "# bye"])).problem


def test_comment_lines_are_not_rows(tmp_path: Path) -> None:
    """'#' lines before the header and between rows are skipped; blank lines too."""
    lines = ["# exported 2024-05-01", HEADER, "# users", user(1), "  # indented", ",,,,,,", user(2)]
    items = all_items(text_file(tmp_path, lines))
    assert [item.line for item in items] == [4, 7]


def test_too_many_rows_is_an_error(tmp_path: Path) -> None:
    """More rows than max_rows stops at the first row too many."""
    error = file_error(
        text_file(tmp_path, [HEADER, user(1), user(2), user(3)]), Settings(max_rows=2)
    )
    assert error.line == 4


def test_unknown_encoding_is_a_config_error(tmp_path: Path) -> None:
    """An encoding name Python does not know is a setting error."""
    with pytest.raises(ConfigError, match="unknown encoding"):
        scan(text_file(tmp_path, [HEADER, user(1)]), Settings(encoding="klingon"))


def test_non_ascii_compatible_encoding_is_refused(tmp_path: Path) -> None:
    """UTF-16 as --encoding is refused with the advice to save as CSV UTF-8."""
    with pytest.raises(ConfigError, match="CSV UTF-8"):
        scan(text_file(tmp_path, [HEADER, user(1)]), Settings(encoding="utf-16"))


def test_unknown_columns_are_one_warning(tmp_path: Path) -> None:
    """Unknown columns produce one warning and stay in the cells."""
    path = text_file(tmp_path, [HEADER + ",Cost Center,Notes", user(1) + ",42,hi"])
    source = scan(path, Settings())
    assert source.unknown_columns == ("cost_center", "notes")
    assert len(source.warnings) == 1
    (row,) = read_rows(source, Settings())
    assert row.cells["cost_center"] == "42"
