"""Device rows in the input: the MAC is optional (the owner then gets an activation code), the
model and owner are not, and a MAC-less row is keyed by its owner and model."""

from __future__ import annotations

from pathlib import Path

from test_data_pipeline import line, reason, rows_of, write

from webex_bulk.error_handling import Reason
from webex_bulk.input.row_references import dependencies
from webex_bulk.models import Row


def device(**cells: str) -> str:
    """A device row in the common header layout."""
    return line(entity_type="device", **cells)


def test_a_device_without_a_mac_is_keyed_by_owner_and_model(tmp_path: Path) -> None:
    """A MAC-less phone of a user and of a workspace are valid rows keyed by (location,) owner
    and model, and depend on their owner's row like a phone with a MAC."""
    path = write(
        tmp_path,
        device(model="DMS Cisco 8851", owner="Ann@Example.com"),
        device(model="Cisco 8845", owner="Lobby", location="San Jose HQ"),
        device(mac="00:a1:b2:c3:d4:e5", model="DMS Cisco 8851", owner="ann@example.com"),
    )
    ann, lobby, by_mac = rows_of(path)
    assert [type(item) for item in (ann, lobby, by_mac)] == [Row] * 3
    assert ann.key == "device:ann@example.com/dms cisco 8851"
    assert lobby.key == "device:san jose hq/lobby/cisco 8845"
    assert by_mac.key == "device:00A1B2C3D4E5"
    assert dependencies(ann) == ("user:ann@example.com",)
    assert dependencies(lobby) == ("workspace:san jose hq/lobby",)


def test_model_and_owner_stay_required_without_a_mac(tmp_path: Path) -> None:
    """Without a MAC a row still needs its model and owner: each missing one is named, with
    the column, and the row is rejected before any API call."""
    path = write(
        tmp_path,
        device(owner="ann@example.com"),
        device(model="DMS Cisco 8851"),
        device(model="DMS Cisco 8851", owner="Lobby"),
    )
    no_model, no_owner, no_location = rows_of(path)
    assert [reason(item) for item in (no_model, no_owner, no_location)] == [
        Reason.MISSING_FIELD
    ] * 3
    details = [item.detail for item in (no_model, no_owner, no_location)]  # type: ignore[union-attr]
    assert ["column model" in details[0], "column owner" in details[1]] == [True, True]
    assert "column location" in details[2]


def test_two_macless_rows_of_one_owner_and_model_are_one_key(tmp_path: Path) -> None:
    """A second MAC-less row of the same owner and model (in another case) has the same key:
    both are rejected as conflicting duplicates rather than asking for two codes; a different
    model is a row of its own."""
    path = write(
        tmp_path,
        device(model="DMS Cisco 8851", owner="ann@example.com"),
        device(model="dms cisco 8851", owner="ANN@example.com"),
        device(model="DMS Cisco 6821", owner="ann@example.com"),
    )
    first, second, other = rows_of(path)
    assert [reason(first), reason(second)] == [Reason.CONFLICTING_DUPLICATE] * 2
    assert isinstance(other, Row)
