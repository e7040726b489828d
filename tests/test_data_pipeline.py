"""data_pipeline: rows, keys, values, pre-API reason codes, cross-row rules and the two passes."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from webex_bulk.config import Settings
from webex_bulk.error_handling import InputFileError, Reason, Status
from webex_bulk.input.data_pipeline import (
    DayHours,
    InputFile,
    escape_cell,
    parse_hours,
    read_rows,
    scan,
    unescape_cell,
)
from webex_bulk.input.examples import EXAMPLES
from webex_bulk.input.row_references import dependencies
from webex_bulk.input.schema import KNOWN_COLUMNS, SCHEMA
from webex_bulk.models import EntityType, Outcome, Row

HEADER = ",".join(KNOWN_COLUMNS)
LOCATION = (
    "location,San Jose HQ,,,,,,,,,,,,,,,,CA,America/Los_Angeles,170 West Tasman Drive,,San Jose,"
    "95134,US,,,,,"
)


def line(**cells: str) -> str:
    """One CSV line in the HEADER layout (no quoting: test values hold no comma)."""
    return ",".join(cells.get(column, "") for column in KNOWN_COLUMNS)


def user(email: str, ext: str = "", **more: str) -> str:
    """A user row at San Jose HQ."""
    cells = {
        "entity_type": "user",
        "email": email,
        "first_name": "Ana",
        "last_name": "Lee",
        "location": "San Jose HQ",
        "extension": ext,
    }
    return line(**{**cells, **more})


def write(tmp_path: Path, *lines: str, header: str = HEADER, name: str = "in.csv") -> Path:
    """Write an input file: the header, then the lines."""
    path = tmp_path / name
    path.write_text("\n".join([header, *lines]) + "\n", encoding="utf-8")
    return path


def rows_of(path: Path, settings: Settings | None = None) -> list[Row | Outcome]:
    """Scan the file and read every row back."""
    settings = settings or Settings()
    return list(read_rows(scan(path, settings), settings))


def by_line(items: list[Row | Outcome]) -> dict[int, Row | Outcome]:
    """Rows and outcomes by their physical line."""
    return {item.line: item for item in items}


def reason(item: Row | Outcome) -> Reason | None:
    """The reason of an outcome; None for a valid row."""
    return item.reason if isinstance(item, Outcome) else None


def example_file(tmp_path: Path) -> Path:
    """The template's example rows: one valid row of every entity type."""
    lines = [line(entity_type=t.value, **EXAMPLES[t]) for t in EntityType]
    return write(tmp_path, *lines)


# -- valid rows: keys and values --------------------------------------------------------------


def test_every_example_row_is_valid_with_the_agreed_keys(tmp_path: Path) -> None:
    """Each entity type's example row is a Row whose key has the agreed shape."""
    items = rows_of(example_file(tmp_path))
    assert all(isinstance(item, Row) for item in items)
    assert [item.key for item in items] == [
        "location:san jose hq",
        "number:+14085550100",
        "schedule:san jose hq/office hours",
        "user:alice.jones@example.com",
        "workspace:san jose hq/lobby phone",
        "hunt_group:san jose hq/sales",
        "call_queue:san jose hq/support",
        "auto_attendant:san jose hq/main menu",
        "device:00A1B2C3D4E5",
        "call_park_extension:san jose hq/park 1",
        "call_park:san jose hq/sales park",
        "call_pickup:san jose hq/sales pickup",
        "paging_group:san jose hq/all staff paging",
        "voicemail_group:san jose hq/sales voicemail",
        "virtual_line:san jose hq/front desk line",
    ]


def test_values_use_the_agreed_column_names_and_defaults(tmp_path: Path) -> None:
    """Values hold normalised cells and the documented defaults; members live apart."""
    path = write(
        tmp_path,
        LOCATION,
        line(entity_type="number", phone_number="(408) 555-0100", location="san jose hq"),
        line(
            entity_type="schedule", name="Hours", location="San Jose HQ", hours="Mon-Fri 8:00-17:00"
        ),
        user("Ana.Lee@Example.com", "1001"),
        line(
            entity_type="Call Queue",
            name="Support",
            location="San Jose HQ",
            extension="2002",
            members="Ana.Lee@example.com; Lobby",
            policy="UNIFORM",
        ),
        line(
            entity_type="device",
            mac="00:a1:b2:c3:d4:e5",
            model="DMS Cisco 8851",
            owner="Lobby",
            location="San Jose HQ",
        ),
    )
    location, number, schedule, person, queue, device = (
        item for item in rows_of(path) if isinstance(item, Row)
    )
    assert location.values["country"] == "US"
    assert location.values["preferred_language"] == "en_us"
    assert location.values["announcement_language"] == "en_us"
    assert "address2" not in location.values
    assert number.values == {
        "phone_number": "+14085550100",
        "location": "san jose hq",
        "state": "active",
    }
    assert schedule.values["hours"] == "mon-fri 08:00-17:00"
    assert person.values["email"] == "ana.lee@example.com"
    assert person.values["display_name"] == "Ana Lee"
    assert person.values["license"] == "professional"
    assert queue.entity_type is EntityType.CALL_QUEUE
    assert queue.values["policy"] == "uniform"
    assert queue.values["queue_size"] == "10"
    assert "members" not in queue.values
    assert queue.members == ("ana.lee@example.com", "Lobby")
    assert device.values["mac"] == "00A1B2C3D4E5"
    assert device.key == "device:00A1B2C3D4E5"


def test_cells_are_carried_unchanged_by_header_name(tmp_path: Path) -> None:
    """Row.cells keeps the original text of every column, unknown columns included."""
    path = write(
        tmp_path, user(" Ana.Lee@Example.com ", "1001") + ",note", header=HEADER + ",Notes"
    )
    (row,) = rows_of(path)
    assert row.cells["email"] == " Ana.Lee@Example.com "
    assert row.cells["notes"] == "note"


def test_a_user_row_without_names_is_valid_and_names_nothing(tmp_path: Path) -> None:
    """Post-LDAP: a user row with e-mail, location and extension only is valid, and no display
    name is made up from a missing name (the directory's stays)."""
    nameless = user("dir1@corp.example", "7001", first_name="", last_name="")
    first_only = user("dir2@corp.example", "7002", last_name="")
    items = rows_of(write(tmp_path, nameless, first_only))
    assert all(isinstance(item, Row) for item in items)
    assert [sorted(item.values) for item in items if isinstance(item, Row)] == [
        ["email", "extension", "license", "location"],
        ["email", "extension", "first_name", "license", "location"],
    ]


def test_display_name_given_wins_over_the_default(tmp_path: Path) -> None:
    """An explicit display_name is kept (normalised) instead of 'first last'."""
    (row,) = rows_of(write(tmp_path, user("a@example.com", "1001", display_name=" Ana  L. ")))
    assert isinstance(row, Row)
    assert row.values["display_name"] == "Ana L."


# -- pre-API reason codes, one by one ---------------------------------------------------------


@pytest.mark.parametrize(
    ("bad_line", "expected", "column"),
    [
        (user("ana@", "1001"), Reason.INVALID_EMAIL, "email"),
        (
            user("a@example.com", "1001", phone_number="+1 408 555"),
            Reason.INVALID_PHONE_NUMBER,
            "phone_number",
        ),
        (user("a@example.com", "10a1"), Reason.INVALID_EXTENSION, "extension"),
        (user("a@example.com", "1001", license="platinum"), Reason.INVALID_VALUE, "license"),
        (
            line(entity_type="virtual_line", location="X", first_name="Ana", extension="5000"),
            Reason.MISSING_FIELD,
            "last_name",
        ),
        (user("a@example.com", ""), Reason.MISSING_FIELD, "extension"),
        (
            line(
                entity_type="device",
                mac="00:11:22:33:44:GG",
                model="DMS Cisco 8851",
                owner="a@example.com",
            ),
            Reason.INVALID_MAC,
            "mac",
        ),
        (
            line(entity_type="device", mac="001122334455", model="DMS Cisco 8851", owner="Lobby"),
            Reason.MISSING_FIELD,
            "location",
        ),
        (
            LOCATION.replace("America/Los_Angeles", "Pacific Time"),
            Reason.INVALID_TIME_ZONE,
            "time_zone",
        ),
        (LOCATION.replace(",US,", ",UK,"), Reason.INVALID_VALUE, "country"),
        (
            line(entity_type="schedule", name="H", location="X", hours="mon 18:00-08:00"),
            Reason.INVALID_VALUE,
            "hours",
        ),
        (
            line(
                entity_type="hunt_group", name="HG", location="X", extension="5001", policy="random"
            ),
            Reason.INVALID_VALUE,
            "policy",
        ),
        (
            line(
                entity_type="call_queue", name="Q", location="X", extension="5001", queue_size="0"
            ),
            Reason.INVALID_VALUE,
            "queue_size",
        ),
        (
            line(entity_type="auto_attendant", name="AA", location="X", extension="5000"),
            Reason.MISSING_FIELD,
            "business_schedule",
        ),
        (
            line(entity_type="number", phone_number="+14085550100", location="X", state="spare"),
            Reason.INVALID_VALUE,
            "state",
        ),
        (line(entity_type="", name="x"), Reason.MISSING_FIELD, "entity_type"),
        (line(entity_type="usr", email="a@example.com"), Reason.UNKNOWN_ENTITY_TYPE, "entity_type"),
    ],
)
def test_row_reasons_name_the_column(
    tmp_path: Path, bad_line: str, expected: Reason, column: str
) -> None:
    """A bad cell rejects its row with the reason code and a detail naming the column."""
    (item,) = rows_of(write(tmp_path, bad_line))
    assert isinstance(item, Outcome)
    assert item.status is Status.REJECTED
    assert item.reason is expected
    assert f"column {column}" in item.detail


def test_every_problem_of_a_row_is_listed(tmp_path: Path) -> None:
    """The detail lists every bad cell; the reason is the first one's."""
    (item,) = rows_of(write(tmp_path, user("ana@", "1a", license="gold")))
    assert isinstance(item, Outcome)
    assert item.reason is Reason.INVALID_EMAIL
    assert "column extension" in item.detail
    assert "column license" in item.detail
    assert item.key == "user:line2"


def test_rejected_row_keeps_its_natural_key_when_it_has_one(tmp_path: Path) -> None:
    """A row whose key columns are valid keeps the natural key even when rejected."""
    (item,) = rows_of(write(tmp_path, user("Ana@Example.com", "1a")))
    assert item.key == "user:ana@example.com"


def test_out_of_scope_row_is_pending_with_the_manual_step(tmp_path: Path) -> None:
    """A recognised manual type ends pending/out_of_scope with what a person must do."""
    (item,) = rows_of(write(tmp_path, line(entity_type="Route Group", name="Group 1")))
    assert isinstance(item, Outcome)
    assert item.status is Status.PENDING
    assert item.reason is Reason.OUT_OF_SCOPE
    assert item.key == "route_group:line2"
    assert "Control Hub" in item.detail


def test_unknown_type_key_and_detail(tmp_path: Path) -> None:
    """Unknown types get the <type>:line<N> key and the list of known types."""
    (item,) = rows_of(write(tmp_path, line(entity_type="Conference Room")))
    assert isinstance(item, Outcome)
    assert item.key == "conference_room:line2"
    assert "location, number" in item.detail


def test_more_cells_than_the_header_is_malformed(tmp_path: Path) -> None:
    """A row with extra non-empty cells is malformed_row; extra empty cells are tolerated."""
    path = write(
        tmp_path, user("a@example.com", "1001") + ",x", user("b@example.com", "1002") + ",,"
    )
    first, second = rows_of(path)
    assert reason(first) is Reason.MALFORMED_ROW
    assert isinstance(second, Row)


def test_missing_trailing_cells_are_empty(tmp_path: Path) -> None:
    """A short row reads its missing trailing cells as empty."""
    (row,) = rows_of(write(tmp_path, "user,,,a@example.com,Ana,Lee,San Jose HQ,1001"))
    assert isinstance(row, Row)
    assert row.cells["owner"] == ""


def test_cell_longer_than_max_cell_is_field_too_long(tmp_path: Path) -> None:
    """A cell over max_cell characters rejects the row with field_too_long naming the column."""
    path = write(tmp_path, user("a@example.com", "1001", title="x" * 100))
    (item,) = rows_of(path, Settings(max_cell=64))
    assert reason(item) is Reason.FIELD_TOO_LONG
    assert isinstance(item, Outcome)
    assert "column title" in item.detail


# -- cross-row rules --------------------------------------------------------------------------


def test_identical_duplicates_reject_the_later_rows(tmp_path: Path) -> None:
    """Rows equal after normalisation: the first stays, later ones are duplicate_row."""
    path = write(
        tmp_path,
        user("a@example.com", "1001"),
        user("A@Example.com ", "1001", first_name=" Ana"),
        user("a@example.com", "1001"),
    )
    first, second, third = rows_of(path)
    assert isinstance(first, Row)
    assert reason(second) is Reason.DUPLICATE_ROW
    assert reason(third) is Reason.DUPLICATE_ROW
    assert isinstance(third, Outcome)
    assert third.detail == "same as line 2"


def test_conflicting_duplicates_reject_every_row_of_the_key(tmp_path: Path) -> None:
    """Same key, different content: every row with that key is conflicting_duplicate."""
    path = write(
        tmp_path,
        user("a@example.com", "1001"),
        user("a@example.com", "1001"),
        user("a@example.com", "1001", title="Boss"),
        user("b@example.com", "1002"),
    )
    items = rows_of(path)
    assert [reason(item) for item in items] == [Reason.CONFLICTING_DUPLICATE] * 3 + [None]
    assert "line 3" in items[0].detail  # type: ignore[union-attr]


def test_number_given_to_two_owners_rejects_both(tmp_path: Path) -> None:
    """The same number on two owners: both number_conflict; the number row itself is fine."""
    path = write(
        tmp_path,
        line(entity_type="number", phone_number="+14085550100", location="San Jose HQ"),
        user("a@example.com", "1001", phone_number="+1 408 555 0100"),
        line(
            entity_type="workspace",
            display_name="Lobby",
            location="San Jose HQ",
            phone_number="(408) 555-0100",
        ),
    )
    number, first, second = rows_of(path)
    assert isinstance(number, Row)
    assert reason(first) is Reason.NUMBER_CONFLICT
    assert reason(second) is Reason.NUMBER_CONFLICT
    assert "line 4" in first.detail  # type: ignore[union-attr]
    assert "line 3" in second.detail  # type: ignore[union-attr]


def test_extension_conflict_is_per_location(tmp_path: Path) -> None:
    """An extension twice in one location rejects both; in another location it is fine."""
    path = write(
        tmp_path,
        user("a@example.com", "1001"),
        user("b@example.com", "1001", location="san jose hq"),
        user("c@example.com", "1001", location="London"),
    )
    first, second, third = rows_of(path)
    assert reason(first) is Reason.EXTENSION_CONFLICT
    assert reason(second) is Reason.EXTENSION_CONFLICT
    assert isinstance(third, Row)


def test_duplicate_rows_of_one_owner_are_no_number_conflict(tmp_path: Path) -> None:
    """An exact duplicate of an owner is duplicate_row, and the original keeps its number."""
    path = write(
        tmp_path,
        user("a@example.com", "1001", phone_number="+14085550100"),
        user("a@example.com", "1001", phone_number="+14085550100"),
    )
    first, second = rows_of(path)
    assert isinstance(first, Row)
    assert reason(second) is Reason.DUPLICATE_ROW


def test_row_rejected_on_its_own_does_not_take_part_in_cross_row_rules(tmp_path: Path) -> None:
    """A row already rejected for a bad cell neither duplicates nor conflicts with another."""
    path = write(
        tmp_path,
        user("a@example.com", "1001", license="gold"),
        user("a@example.com", "1001"),
    )
    first, second = rows_of(path)
    assert reason(first) is Reason.INVALID_VALUE
    assert isinstance(second, Row)


def test_references_not_in_the_file_are_left_to_the_engine(tmp_path: Path) -> None:
    """A user of a location that the file does not create is a valid Row (it may exist)."""
    (row,) = rows_of(write(tmp_path, user("a@example.com", "1001", location="Somewhere Else")))
    assert isinstance(row, Row)


# -- the two passes ---------------------------------------------------------------------------


def test_scan_reports_the_file(tmp_path: Path) -> None:
    """scan returns the header, counts per type, row count and the file's sha256."""
    path = example_file(tmp_path)
    source = scan(path, Settings())
    assert source.header == KNOWN_COLUMNS
    assert source.row_count == len(EntityType)
    assert source.counts_by_type == {t.value: 1 for t in EntityType}
    assert source.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert source.delimiter == ","
    assert source.warnings == ()


def test_rows_in_equal_rows_out_in_file_order(tmp_path: Path) -> None:
    """Every row comes out exactly once, valid or not, in the order of the file."""
    path = write(
        tmp_path,
        LOCATION,
        "# a comment",
        "",
        user("a@example.com", "1001"),
        user("bad", "1002"),
        line(entity_type="trunk", name="T"),
        user("a@example.com", "1001"),
    )
    items = rows_of(path)
    assert [item.line for item in items] == [2, 5, 6, 7, 8]
    assert scan(path, Settings()).row_count == 5


def test_types_filter_rows_and_include_rejected_filters_outcomes(tmp_path: Path) -> None:
    """types keeps Rows of those types; outcomes come only with include_rejected."""
    path = write(
        tmp_path,
        LOCATION,
        user("a@example.com", "1001"),
        user("bad", "1002"),
        line(entity_type="trunk", name="T"),
        user("a@example.com", "1001"),
    )
    settings = Settings()
    source = scan(path, settings)
    users = list(read_rows(source, settings, types=[EntityType.USER]))
    assert [(item.line, type(item).__name__) for item in users] == [
        (3, "Row"),
        (4, "Outcome"),
        (5, "Outcome"),
        (6, "Outcome"),
    ]
    only_rows = list(read_rows(source, settings, types=[EntityType.USER], include_rejected=False))
    assert [item.line for item in only_rows] == [3]
    outcomes = list(read_rows(source, settings, types=()))
    assert all(isinstance(item, Outcome) for item in outcomes)
    assert [item.line for item in outcomes] == [4, 5, 6]


def test_read_rows_without_scan_state_scans_itself(tmp_path: Path) -> None:
    """An InputFile built by hand (no cross-row state) still gets the cross-row verdicts."""
    path = write(tmp_path, user("a@example.com", "1001"), user("a@example.com", "1001"))
    scanned = scan(path, Settings())
    bare = InputFile(
        path=scanned.path,
        encoding=scanned.encoding,
        delimiter=scanned.delimiter,
        header=scanned.header,
        unknown_columns=(),
        warnings=(),
        sha256=scanned.sha256,
        row_count=2,
        counts_by_type=scanned.counts_by_type,
    )
    assert bare == scanned
    assert [reason(item) for item in read_rows(bare, Settings())] == [None, Reason.DUPLICATE_ROW]


def test_a_file_changed_after_scan_is_refused(tmp_path: Path) -> None:
    """read_rows refuses a file that changed since scan: the verdicts would not fit."""
    path = write(tmp_path, user("a@example.com", "1001"))
    source = scan(path, Settings())
    path.write_text(path.read_text() + user("b@example.com", "1002") + "\n")
    os.utime(path, ns=(1, 1))
    with pytest.raises(InputFileError, match="changed"):
        list(read_rows(source, Settings()))


def test_outputs_read_back_as_input(tmp_path: Path) -> None:
    """An output CSV reads as input: '_' columns ignored, formula escapes undone."""
    header = HEADER + ",_line,_key,_status,_reason,_detail,_action,_remote_id,_tracking_id"
    fixed = user("a@example.com", "1001", title="'=Chief") + ",7,user:x,rejected,invalid,'-x,,,"
    path = write(tmp_path, fixed, header=header, name="rejected.csv")
    source = scan(path, Settings())
    assert "_line" not in source.header
    (row,) = read_rows(source, Settings())
    assert isinstance(row, Row)
    assert row.values["title"] == "=Chief"
    assert row.cells["title"] == "=Chief"
    assert "_detail" not in row.cells


def test_line_numbers_are_physical_after_a_multiline_cell(tmp_path: Path) -> None:
    """A quoted cell with a line break takes two lines; the next row keeps its physical line."""
    path = write(
        tmp_path,
        LOCATION.replace("170 West Tasman Drive,", '"170 West Tasman Drive\nBuilding 1",'),
        user("a@example.com", "1001"),
    )
    location, person = rows_of(path)
    assert (location.line, person.line) == (2, 4)
    assert location.values["address1"] == "170 West Tasman Drive Building 1"  # type: ignore[union-attr]


# -- dependencies and hours -------------------------------------------------------------------


def _row(entity_type: EntityType, members: tuple[str, ...] = (), **values: str) -> Row:
    spec = SCHEMA[entity_type]
    return Row(1, entity_type, spec.key(values), values, {}, members)


def test_dependencies_of_each_type() -> None:
    """Each row depends on its location, number, members, schedule or owner, by key."""
    loc = {"location": "San Jose HQ"}
    assert dependencies(_row(EntityType.LOCATION, name="San Jose HQ")) == ()
    number = _row(EntityType.NUMBER, phone_number="+14085550100", **loc)
    assert dependencies(number) == ("location:san jose hq",)
    person = _row(EntityType.USER, email="a@example.com", phone_number="+14085550100", **loc)
    assert dependencies(person) == ("location:san jose hq", "number:+14085550100")
    group = _row(EntityType.HUNT_GROUP, ("a@example.com", "Lobby Phone"), name="Sales", **loc)
    assert dependencies(group) == (
        "location:san jose hq",
        "user:a@example.com",
        "workspace:san jose hq/lobby phone",
        "virtual_line:san jose hq/lobby phone",
    )
    park = _row(
        EntityType.CALL_PARK,
        ("Lobby Phone",),
        name="Park",
        recall_hunt_group="Sales",
        park_extensions="P1;P2",
        **loc,
    )
    assert dependencies(park) == (
        "location:san jose hq",
        "workspace:san jose hq/lobby phone",
        "virtual_line:san jose hq/lobby phone",
        "hunt_group:san jose hq/sales",
        "call_park_extension:san jose hq/p1",
        "call_park_extension:san jose hq/p2",
    )
    paging = _row(
        EntityType.PAGING_GROUP, name="Page", originators="a@example.com", targets="Desk", **loc
    )
    assert dependencies(paging) == (
        "location:san jose hq",
        "user:a@example.com",
        "workspace:san jose hq/desk",
        "virtual_line:san jose hq/desk",
    )
    menu = _row(EntityType.AUTO_ATTENDANT, name="Menu", business_schedule="Office Hours", **loc)
    assert dependencies(menu) == ("location:san jose hq", "schedule:san jose hq/office hours")
    phone = _row(EntityType.DEVICE, mac="001122334455", owner="a@example.com")
    assert dependencies(phone) == ("user:a@example.com",)
    desk = _row(EntityType.DEVICE, mac="001122334455", owner="Lobby Phone", **loc)
    assert dependencies(desk) == ("workspace:san jose hq/lobby phone",)


def test_parse_hours_is_public_in_data_pipeline() -> None:
    """Builders read schedule hours through data_pipeline.parse_hours."""
    assert parse_hours("sat 09:00-13:00") == (DayHours("sat", "09:00", "13:00"),)


def test_known_columns_cover_the_schema() -> None:
    """The template's column order lists every column of every entity type, once."""
    columns = {"entity_type"} | {c.name for spec in SCHEMA.values() for c in spec.columns}
    assert set(KNOWN_COLUMNS) == columns
    assert len(KNOWN_COLUMNS) == len(set(KNOWN_COLUMNS))


# -- formula escape and arbitrary files -------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "escaped"),
    [
        ("=SUM(A1)", "'=SUM(A1)"),
        ("+1 408", "'+1 408"),
        ("-5", "'-5"),
        ("@cmd", "'@cmd"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("+14085550100", "+14085550100"),
        ("'=x", "''=x"),
        ("it's", "it's"),
        ("", ""),
        ("Ana", "Ana"),
    ],
)
def test_escape_cell(text: str, escaped: str) -> None:
    """Formula starts get a leading quote; E.164 numbers and plain text stay as they are."""
    assert escape_cell(text) == escaped
    assert unescape_cell(escaped) == text


@given(st.text(max_size=30))
def test_escape_then_unescape_is_identity(text: str) -> None:
    """Unescaping an escaped cell gives back the original text, whatever it is."""
    escaped = escape_cell(text)
    assert unescape_cell(escaped) == text
    assert not escaped or escaped[0] not in "=-@\t\r" or escaped[0] == "'"


_CELLS = st.sampled_from(
    ["", "a@example.com", "A@EXAMPLE.COM", "bad@", "1001", "12a", "+14085550100", "x" * 40, "HQ"]
)
_TYPES = st.sampled_from(["user", "User", "workspace", "trunk", "usr", "", "# note"])


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(_TYPES, _CELLS, _CELLS, _CELLS), min_size=1, max_size=25))
def test_any_well_formed_file_accounts_for_every_row(
    tmp_path_factory: pytest.TempPathFactory, rows: list[tuple[str, str, str, str]]
) -> None:
    """Whatever the cells, every non-comment row comes out exactly once, in file order."""
    header = "entity_type,email,display_name,extension"
    lines = [",".join(row) for row in rows]
    expected = [n + 2 for n, row in enumerate(rows) if any(row) and not row[0].startswith("#")]
    path = write(tmp_path_factory.mktemp("any"), *lines, header=header)
    if not expected:
        with pytest.raises(InputFileError):
            scan(path, Settings(max_cell=32))
        return
    items = list(read_rows(scan(path, Settings(max_cell=32)), Settings(max_cell=32)))
    assert [item.line for item in items] == expected
    for item in items:
        assert isinstance(item, Row) or item.reason is not None


def test_long_output_columns_do_not_count_against_max_cell(tmp_path: Path) -> None:
    """A long '_detail' of an output file is ignored, like every '_' column."""
    header = HEADER + ",_detail"
    path = write(tmp_path, user("a@example.com", "1001") + "," + "d" * 100, header=header)
    (row,) = rows_of(path, Settings(max_cell=64))
    assert isinstance(row, Row)
