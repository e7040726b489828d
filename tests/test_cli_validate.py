"""``webex-bulk validate`` and ``template`` through click: report, output files, exit codes."""

from __future__ import annotations

import csv
import json
import os
import re
from collections import Counter
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from webex_bulk import __version__
from webex_bulk.cli.commands import main
from webex_bulk.config import Settings
from webex_bulk.input.data_pipeline import OUTPUT_COLUMNS, read_rows, scan
from webex_bulk.models import EntityType, Row

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "tenant.csv"
HEADER = "entity_type,email,first_name,last_name,location,extension,phone_number,title"


def invoke(*args: str, env: dict[str, str] | None = None) -> Result:
    """Run the CLI in-process without the caller's WEBEX_BULK_* variables."""
    clean: dict[str, str | None] = {k: None for k in os.environ if k.startswith("WEBEX_BULK_")}
    clean.update(env or {})
    return CliRunner().invoke(main, list(args), env=clean, catch_exceptions=False)


def read_csv(path: Path) -> list[dict[str, str]]:
    """The rows of an output CSV as dicts."""
    with path.open(newline="", encoding="utf-8-sig") as handle:
        return list(csv.DictReader(handle))


def write(tmp_path: Path, *lines: str, header: str = HEADER) -> Path:
    """An input file."""
    path = tmp_path / "in.csv"
    path.write_text("\n".join([header, *lines]) + "\n", encoding="utf-8")
    return path


def test_example_tenant_reports_types_and_reasons(tmp_path: Path) -> None:
    """The example tenant validates with exit 3, rows per type and reasons with their lines."""
    result = invoke("validate", str(EXAMPLE), "--out", str(tmp_path))
    assert result.exit_code == 3, result.output
    out = result.stdout
    assert "user" in out
    assert "hunt_group" in out
    for reason in (
        "invalid_email",
        "invalid_phone_number",
        "invalid_extension",
        "invalid_mac",
        "invalid_time_zone",
        "missing_field",
        "unknown_entity_type",
        "duplicate_row",
        "number_conflict",
        "out_of_scope",
    ):
        assert reason in out
    rejected = read_csv(tmp_path / "rejected.csv")
    pending = read_csv(tmp_path / "pending.csv")
    assert {row["_reason"] for row in pending} == {"out_of_scope"}
    assert len(rejected) >= 8
    assert all(row["_status"] == "rejected" and row["_line"].isdigit() for row in rejected)
    assert f"line {rejected[0]['_line']}" in out or f"lines {rejected[0]['_line']}" in out


def test_a_post_ldap_row_without_names_is_valid(tmp_path: Path) -> None:
    """A user row of e-mail, location and extension only passes validate (exit 0): whether
    the person must be created is the tenant's to say, not the file's."""
    header = "entity_type,email,location,extension"
    path = write(tmp_path, "user,dir1@corp.example,HQ,7001", header=header)
    result = invoke("validate", str(path))
    assert result.exit_code == 0, result.output
    assert re.search(r"^user\s+1\s+1\s+0\s+0$", result.stdout, re.MULTILINE), result.stdout


def test_example_tenant_shape() -> None:
    """The example holds 3 locations, 2 schedules, 5 workspaces, 5+ devices, 2 out-of-scope."""
    with EXAMPLE.open(encoding="utf-8") as handle:
        rows = [r for r in csv.reader(handle) if r and not r[0].startswith("#")]
    types = [r[0] for r in rows[1:]]
    assert types.count("location") >= 3
    assert types.count("number") >= 20
    assert types.count("schedule") == 2
    assert types.count("user") >= 40
    assert types.count("workspace") >= 5
    assert types.count("hunt_group") == 2
    assert types.count("call_queue") == 1
    assert types.count("auto_attendant") == 1
    assert types.count("device") >= 5


def test_counts_per_type_and_status_match_every_row_read() -> None:
    """validate's counts (valid rows counted by the first pass, outcomes by the second) are the
    statuses a full read of the example gives row by row."""
    settings = Settings()
    expected: dict[str, Counter[str]] = {}
    for item in read_rows(scan(EXAMPLE, settings), settings):
        name = item.entity_type.value if isinstance(item, Row) else item.entity_type or "(blank)"
        status = "valid" if isinstance(item, Row) else item.status.value
        expected.setdefault(name, Counter())[status] += 1
    result = invoke("validate", str(EXAMPLE), "--output", "json")
    counts = json.loads(result.stdout)["counts"]["by_entity_type"]
    assert counts == {name: dict(c) for name, c in expected.items()}


def test_output_files_have_input_columns_then_output_columns(tmp_path: Path) -> None:
    """rejected.csv starts with a BOM like a run's, then the input header and the '_' columns."""
    path = write(tmp_path, "user,bad,Ana,Lee,HQ,1001,,Agent")
    invoke("validate", str(path), "--out", str(tmp_path / "out"))
    for name in ("rejected.csv", "pending.csv"):
        assert (tmp_path / "out" / name).read_bytes().startswith(b"\xef\xbb\xbfentity_type,")
    with (tmp_path / "out" / "rejected.csv").open(newline="", encoding="utf-8-sig") as handle:
        header = next(csv.reader(handle))
    assert header == [*HEADER.split(","), *OUTPUT_COLUMNS]


def test_rejected_csv_is_a_valid_input(tmp_path: Path) -> None:
    """The rejected rows read back as input: fixed or not, every row is there again."""
    invoke("validate", str(EXAMPLE), "--out", str(tmp_path / "first"))
    rejected = tmp_path / "first" / "rejected.csv"
    result = invoke("validate", str(rejected), "--out", str(tmp_path / "second"))
    assert result.exit_code == 3
    total_line = next(x for x in result.stdout.splitlines() if x.startswith("total"))
    assert int(total_line.split()[1]) == len(read_csv(rejected))
    again = read_csv(tmp_path / "second" / "rejected.csv")
    assert {row["email"] for row in again} < {row["email"] for row in read_csv(rejected)}


def test_formula_cells_are_escaped_but_e164_is_not(tmp_path: Path) -> None:
    """Cells that would run as formulas get a leading quote; +E.164 numbers stay as they are."""
    path = write(tmp_path, "user,bad,=HYPERLINK(1),Lee,HQ,1001,+14085550100,@SUM(A1)")
    invoke("validate", str(path), "--out", str(tmp_path))
    (row,) = read_csv(tmp_path / "rejected.csv")
    assert row["first_name"] == "'=HYPERLINK(1)"
    assert row["title"] == "'@SUM(A1)"
    assert row["phone_number"] == "+14085550100"


def test_all_valid_file_exits_0(tmp_path: Path) -> None:
    """The template output validates with exit 0 and no rejection section."""
    template = invoke("template")
    assert template.exit_code == 0
    path = tmp_path / "template.csv"
    path.write_text(template.stdout, encoding="utf-8")
    result = invoke("validate", str(path))
    assert result.exit_code == 0, result.output
    assert "rejected (" not in result.stdout


def test_template_for_one_type(tmp_path: Path) -> None:
    """template --entity-type Device (any case, as in the file) prints the required columns,
    that type's header and one valid example."""
    result = invoke("template", "--entity-type", "Device")
    lines = result.stdout.splitlines()
    assert lines[0] == (
        "# required for device: entity_type, model, owner; mac optional: without it the owner "
        "gets an activation code"
    )
    assert lines[1] == "entity_type,mac,model,owner,location"
    assert lines[2].startswith("device,")
    assert len(lines) == 3


def test_template_marks_required_columns_of_every_type() -> None:
    """The full template has one # line per entity type naming its required columns."""
    comments = [line for line in invoke("template").stdout.splitlines() if line.startswith("#")]
    assert len(comments) == len(EntityType)
    assert (
        "# required for user: entity_type, email, location, extension and/or phone_number; "
        "to create one not in the tenant: first_name, last_name"
    ) in comments


def test_template_unknown_type_suggests_the_closest() -> None:
    """A misspelt --entity-type is a usage error that names the closest type."""
    result = invoke("template", "--entity-type", "hunt-grop")
    assert result.exit_code == 64
    assert "did you mean 'hunt_group'?" in result.output


def test_xlsx_template_has_one_sheet_header_and_drop_down_lists(tmp_path: Path) -> None:
    """template --format xlsx writes one sheet with the header and lists for enum columns; it
    validates."""
    from openpyxl import load_workbook

    path = tmp_path / "template.xlsx"
    assert invoke("template", "--format", "xlsx", "--out", str(path)).exit_code == 0
    book = load_workbook(path)
    assert len(book.sheetnames) == 1
    sheet = book.active
    assert sheet is not None
    header = [cell.value for cell in sheet[len(EntityType) + 1]]  # under one # line per type
    assert header[0] == "entity_type"
    lists = {
        header[cell_range.min_col - 1]: validation.formula1
        for validation in sheet.data_validations.dataValidation
        for cell_range in validation.sqref.ranges
    }
    switches = {"voicemail", "do_not_disturb", "call_waiting"}
    assert set(lists) == {"entity_type", "policy", "license", "recall", *switches}
    assert {lists[name] for name in switches} == {'"on,off"'}
    assert "hunt_group" in lists["entity_type"]
    assert lists["license"] == '"professional,basic"'
    assert invoke("validate", str(path)).exit_code == 0


def test_xlsx_template_needs_out() -> None:
    """A workbook is not printed: --format xlsx without --out is a usage error."""
    result = invoke("template", "--format", "xlsx")
    assert result.exit_code == 64
    assert "--out" in result.output


def test_validate_without_out_prints_the_first_rejections_with_reasons(tmp_path: Path) -> None:
    """Without --out the report lists the first rejected rows with their reason and detail."""
    path = write(
        tmp_path,
        "user,bad-email,Ana,Lee,HQ,1001,,",
        "usr,b@example.com,Ben,Lee,HQ,1002,,",
    )
    out = invoke("validate", str(path)).stdout
    assert "first 2 of 2:" in out
    assert "line 2  invalid_email  column email: 'bad-email' is not a valid e-mail" in out
    assert "line 3  unknown_entity_type  " in out
    assert "did you mean 'user'?" in out


def test_header_typo_is_one_file_level_error(tmp_path: Path) -> None:
    """A misspelt required column stops the file once, naming it and the suggestion."""
    header = HEADER.replace("first_name", "frist_name")
    lines = [f"user,u{n}@example.com,Ana,Lee,HQ,{1000 + n},," for n in range(150)]
    path = write(tmp_path, *lines, header=header)
    result = invoke("validate", str(path))
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith(f"{path}:1: column frist_name: ")
    assert "did you mean 'first_name'?" in result.stderr
    assert "missing_field" not in result.output


def test_unused_near_miss_column_is_a_warning_with_the_suggestion(tmp_path: Path) -> None:
    """A near-miss column that no row of a type reading it fills is only a warning."""
    path = write(tmp_path, "user,a@example.com,Ana,Lee,HQ,1001,,,", header=HEADER + ",deparment")
    result = invoke("validate", str(path))
    assert result.exit_code == 0
    assert "column 'deparment' is not read; did you mean 'department'?" in result.stdout


def test_workbook_with_encoding_flag_exits_1_with_one_line(tmp_path: Path) -> None:
    """--encoding with an .xlsx file is refused in one line, without a traceback."""
    path = tmp_path / "in.xlsx"
    assert invoke("template", "--format", "xlsx", "--out", str(path)).exit_code == 0
    result = invoke("validate", str(path), "--encoding", "cp1252")
    assert result.exit_code == 1
    assert "--encoding applies to CSV files only" in result.stderr
    assert "Traceback" not in result.output


def test_unknown_default_region_exits_1(tmp_path: Path) -> None:
    """--default-region XX is refused (exit 1) instead of being accepted silently."""
    path = write(tmp_path, "user,a@example.com,Ana,Lee,HQ,1001,,")
    result = invoke("validate", str(path), "--default-region", "XX")
    assert result.exit_code == 1
    assert "ISO 3166" in result.stderr


def test_file_level_error_exits_1_with_file_and_line(tmp_path: Path) -> None:
    """A bad file prints FILE:LINE: problem — hint on stderr, exit 1, no traceback."""
    path = tmp_path / "in.csv"
    path.write_bytes(f"{HEADER}\nuser,a@example.com,Jos\xe9,Lee,HQ,1001,,\n".encode("latin-1"))
    result = invoke("validate", str(path))
    assert result.exit_code == 1
    assert result.stderr.startswith(f"{path}:2: column first_name: ")
    assert "--encoding cp1252" in result.stderr
    assert "Traceback" not in result.output


def test_encoding_flag_reads_cp1252(tmp_path: Path) -> None:
    """--encoding cp1252 reads an Excel export."""
    path = tmp_path / "in.csv"
    path.write_bytes(f"{HEADER}\nuser,a@example.com,Jos\xe9,Lee,HQ,1001,,\n".encode("latin-1"))
    assert invoke("validate", str(path), "--encoding", "cp1252").exit_code == 0


def test_delimiter_flag_accepts_tab(tmp_path: Path) -> None:
    """--delimiter tab reads a tab-separated file even when sniffing would be fooled."""
    path = write(
        tmp_path,
        "user\ta@example.com\tAna\tLee\tHQ, Floor 1\t1001\t\t",
        header=HEADER.replace(",", "\t"),
    )
    assert invoke("validate", str(path), "--delimiter", "tab").exit_code == 0


def test_default_region_reads_national_numbers(tmp_path: Path) -> None:
    """--default-region GB reads a London number written in national format."""
    path = write(tmp_path, "user,a@example.com,Ana,Lee,London,3001,020 7946 0100,")
    assert invoke("validate", str(path)).exit_code == 3
    assert invoke("validate", str(path), "--default-region", "GB").exit_code == 0


def test_config_file_supplies_settings(tmp_path: Path) -> None:
    """--config TOML settings apply when no flag overrides them."""
    path = write(tmp_path, "user,a@example.com,Ana,Lee,London,3001,020 7946 0100,")
    config = tmp_path / "settings.toml"
    config.write_text('default_region = "GB"\n', encoding="utf-8")
    assert invoke("validate", str(path), "--config", str(config)).exit_code == 0
    flag_wins = invoke("validate", str(path), "--config", str(config), "--default-region", "US")
    assert flag_wins.exit_code == 3


def test_bad_setting_exits_1_naming_its_source(tmp_path: Path) -> None:
    """An out-of-range environment setting stops with exit 1 and names the variable."""
    path = write(tmp_path, "user,a@example.com,Ana,Lee,HQ,1001,,")
    result = invoke("validate", str(path), env={"WEBEX_BULK_MAX_CELL": "3"})
    assert result.exit_code == 1
    assert "WEBEX_BULK_MAX_CELL" in result.stderr
    assert "Traceback" not in result.output


def test_missing_file_is_a_usage_error(tmp_path: Path) -> None:
    """A path that does not exist is a usage error (exit 64, EX_USAGE), not plan's 2."""
    result = invoke("validate", str(tmp_path / "nope.csv"))
    assert result.exit_code == 64
    assert "nope.csv" in result.stderr


def test_version() -> None:
    """--version prints the package version."""
    result = invoke("--version")
    assert result.exit_code == 0
    assert __version__ in result.stdout


@pytest.mark.parametrize("command", ["validate", "template"])
def test_commands_have_help(command: str) -> None:
    """Each command explains itself with --help."""
    result = invoke(command, "--help")
    assert result.exit_code == 0
    assert "Usage:" in result.stdout
