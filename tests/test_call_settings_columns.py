"""The calling-settings columns without a network: cell normalisation, bad cells rejected with
their line and column, the comparison, and PUT bodies that match the published schemas and
converge (what a PUT writes, the next read compares as equal)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jsonschema
import pytest
from hypothesis import given
from hypothesis import strategies as st
from vendored_specs import request_schema

from webex_bulk.actions import settings_bodies
from webex_bulk.config import Settings
from webex_bulk.error_handling import Reason
from webex_bulk.input import SETTINGS_GROUPS, read_rows, scan
from webex_bulk.input import call_settings as columns
from webex_bulk.input.normalise import CellError
from webex_bulk.models import EntityType, Outcome, Row
from webex_bulk.simulator.call_settings import DEFAULTS, merged

HEADER = "entity_type,email,first_name,last_name,display_name,location,extension"


def settings_row(**values: str) -> Row:
    """A user row holding only settings values (already normalised)."""
    return Row(2, EntityType.USER, "user:a@example.com", values, values)


@pytest.mark.parametrize(
    ("normaliser", "text", "expected"),
    [
        (columns.switch, "On", "on"),
        (columns.switch, "no", "off"),
        (columns.rings, "05", "5"),
        (columns.email_copy, "OFF", "off"),
        (columns.email_copy, "Ann@Example.com", "ann@example.com"),
        (columns.destination, "2001", "2001"),
        (columns.destination, "(408) 555-0100", "+14085550100"),
        (columns.destination, "+1 408 555 0100", "+14085550100"),
        (columns.destination, "Off", "off"),
        (columns.caller_id, "Direct Line", "direct_line"),
        (columns.caller_id, "location-number", "location_number"),
        (columns.caller_id, "+1 408 555 0100", "+14085550100"),
    ],
)
def test_settings_cells_normalise(normaliser: Any, text: str, expected: str) -> None:
    """Each settings cell is read case-insensitively into its one canonical spelling."""
    assert normaliser(text, "US") == expected
    assert normaliser(expected, "US") == expected


@pytest.mark.parametrize(
    ("normaliser", "text", "words"),
    [
        (columns.switch, "maybe", "is not on or off"),
        (columns.rings, "1", "2 to 20"),
        (columns.rings, "21", "2 to 20"),
        (columns.email_copy, "ann@", "not a valid e-mail"),
        (columns.destination, "+1 408 555", "or off to turn forwarding off"),
        (columns.destination, "1", "or off to turn forwarding off"),
        (columns.caller_id, "mine", "is not direct_line, location_number or a phone number"),
        (columns.not_for_workspaces, "on", "leave the cell empty on workspace rows"),
    ],
)
def test_bad_settings_cells_say_what_to_write(normaliser: Any, text: str, words: str) -> None:
    """A bad settings cell raises a ``CellError`` whose text says what the cell may hold."""
    with pytest.raises(CellError) as raised:
        normaliser(text, "US")
    assert words in str(raised.value)


@given(st.text(alphabet="0123456789+() -", max_size=16))
def test_destination_normalising_twice_is_once(text: str) -> None:
    """A forwarding destination normalised again is unchanged."""
    try:
        once = columns.destination(text, "US")
    except CellError:
        return
    assert columns.destination(once, "US") == once


def test_bad_settings_cells_reject_the_row_naming_line_and_column(tmp_path: Path) -> None:
    """A bad settings cell rejects its row before any API call, naming the line and column;
    a voicemail cell on a workspace row is refused rather than ignored."""
    path = tmp_path / "in.csv"
    path.write_text(
        f"{HEADER},voicemail,forward_busy\n"
        "user,a@example.com,A,Lee,,HQ,1001,maybe,\n"
        "user,b@example.com,B,Lee,,HQ,1002,,+1 408 555\n"
        "workspace,,,,Lobby,HQ,1003,on,\n"
        "user,c@example.com,C,Lee,,HQ,1004,on,off\n",
        encoding="utf-8",
    )
    settings = Settings()
    items = {item.line: item for item in read_rows(scan(path, settings), settings)}
    expected = {
        2: (Reason.INVALID_VALUE, "voicemail"),
        3: (Reason.INVALID_PHONE_NUMBER, "forward_busy"),
        4: (Reason.INVALID_VALUE, "voicemail"),
    }
    for line, (reason, column) in expected.items():
        outcome = items[line]
        assert isinstance(outcome, Outcome)
        assert outcome.reason is reason
        assert outcome.detail.startswith(f"column {column}: ")
    valid = items[5]
    assert isinstance(valid, Row)
    assert (valid.get("voicemail"), valid.get("forward_busy")) == ("on", "off")


def test_only_filled_columns_are_compared() -> None:
    """Empty cells are not managed; filled ones differ from the defaults when they differ."""
    row = settings_row(forward_busy="2001", call_waiting="on")
    assert settings_bodies.differing("callForwarding", row, DEFAULTS["callForwarding"]) == [
        "forward_busy"
    ]
    assert settings_bodies.differing("callWaiting", row, DEFAULTS["callWaiting"]) == []
    assert settings_bodies.differing("voicemail", row, DEFAULTS["voicemail"]) == []


def test_a_destination_compares_in_the_cell_spelling() -> None:
    """A remote ``+1…`` or dialled-digits destination equals the cell's spelling of it."""
    remote = {"callForwarding": {"always": {"enabled": True, "destination": "+14085550100"}}}
    row = settings_row(forward_always="+14085550100")
    assert settings_bodies.differing("callForwarding", row, remote) == []
    assert settings_bodies.destination_cell("14085550100") == "+14085550100"
    assert settings_bodies.destination_cell("2001") == "2001"


SETTINGS_VALUES = {
    "voicemail": st.sampled_from(["on", "off"]),
    "voicemail_rings": st.integers(2, 15).map(str),
    "voicemail_email_copy": st.sampled_from(["off", "ann@example.com"]),
    "forward_always": st.sampled_from(["off", "2001", "+14085550100"]),
    "forward_busy": st.sampled_from(["off", "2002"]),
    "forward_no_answer": st.sampled_from(["off", "+14085550101"]),
    "do_not_disturb": st.sampled_from(["on", "off"]),
    "call_waiting": st.sampled_from(["on", "off"]),
    "caller_id": st.sampled_from(["direct_line", "location_number", "+14085550102"]),
}


@given(st.fixed_dictionaries({}, optional=SETTINGS_VALUES))
def test_a_put_body_converges(values: dict[str, str]) -> None:
    """What a PUT body writes over the defaults, the comparison then finds equal: a re-run
    sends no write."""
    row = settings_row(**values)
    for group in SETTINGS_GROUPS:
        remote = dict(DEFAULTS[group])
        if group == "callerId":
            remote["types"] = ["DIRECT_LINE", "LOCATION_NUMBER", "CUSTOM"]
        after = merged(remote, settings_bodies.put_body(group, row, remote))
        assert settings_bodies.differing(group, row, after) == []


@pytest.mark.parametrize(
    ("owner", "group"),
    [
        *(("/people/{personId}", group) for group in SETTINGS_GROUPS),
        *(("/workspaces/{workspaceId}", group) for group in columns.WORKSPACE_GROUPS),
    ],
)
def test_put_bodies_match_the_published_schemas(owner: str, group: str) -> None:
    """Every PUT body the actions send validates against its documented request schema, with
    the fields it requires."""
    values = {
        "voicemail": "on",
        "voicemail_rings": "4",
        "voicemail_email_copy": "ann@example.com",
        "forward_always": "2001",
        "forward_busy": "off",
        "do_not_disturb": "on",
        "call_waiting": "off",
        "caller_id": "+14085550102",
    }
    body = settings_bodies.put_body(group, settings_row(**values), DEFAULTS[group])
    schema = request_schema("put", f"{owner}/features/{group}")
    jsonschema.validate(body, schema, cls=jsonschema.Draft7Validator)
    assert set(schema.get("required", ())) <= body.keys()
