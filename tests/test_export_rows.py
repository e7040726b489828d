"""The export's converters: a remote object → the row ``run`` reads, or None when webex-bulk does
not provision it. Every row written is already in the input's canonical form."""

from __future__ import annotations

from typing import Any

from webex_bulk.actions import export_rows as rows
from webex_bulk.actions.export_rows import Cells, ExportNames
from webex_bulk.input.schema import SCHEMA
from webex_bulk.models import EntityType

MODELS = [{"model": "DMS Cisco 8851", "displayName": "Cisco 8851"}]


def names() -> ExportNames:
    """The maps of a small tenant: two calling locations, a user, a workspace, two licenses."""
    return ExportNames(
        region="US",
        locations={"L1": "HQ", "L2": "London"},
        people={"P1": "ann@example.com"},
        workspaces={"W1": ("L1", "Lobby")},
        lines={"W1": {"extension": "1901", "phoneNumber": "+14085550109"}},
        license_kinds={"LP": "professional", "LB": "basic"},
        models=MODELS,
    )


def assert_canonical(entity_type: EntityType, cells: Cells | None) -> None:
    """Normalising the row's cells changes nothing: ``run`` reads exactly what was written."""
    assert cells is not None
    columns = {column.name: column for column in SCHEMA[entity_type].columns}
    for name, value in cells.items():
        if value and name != "members":
            assert columns[name].normalise(value, "US") == value, name


def test_a_calling_location_becomes_its_row_and_one_without_calling_none() -> None:
    """Address, time zone and languages are written canonically; no calling → left out."""
    item: dict[str, Any] = {
        "id": "L1",
        "name": " HQ ",
        "timeZone": "America/Chicago",
        "preferredLanguage": "en_US",
        "announcementLanguage": "en-us",
        "address": {
            "address1": "1 Main St",
            "city": "Springfield",
            "state": "IL",
            "postalCode": "62701",
            "country": "us",
        },
    }
    cells = rows.location_row(item, names())
    assert cells is not None
    assert (cells["name"], cells["country"], cells["preferred_language"]) == ("HQ", "US", "en_us")
    assert cells["address2"] == ""
    assert_canonical(EntityType.LOCATION, cells)
    assert rows.location_row({**item, "id": "L9"}, names()) is None


def test_a_number_names_its_location_and_state() -> None:
    """E.164, the location's name, the state in lower case; in no calling location → None."""
    item = {"phoneNumber": "+1 408 555 0100", "state": "INACTIVE", "location": {"id": "L1"}}
    assert rows.number_row(item, names()) == {
        "phone_number": "+14085550100",
        "location": "HQ",
        "state": "inactive",
    }
    assert rows.number_row({**item, "location": {"id": "L9"}}, names()) is None


def test_a_schedule_is_written_in_the_canonical_hours() -> None:
    """Weekly events become grouped canonical hours; an all-day event cannot be written."""

    def event(days: list[str], start: str, end: str, **extra: Any) -> dict[str, Any]:
        weekly = dict.fromkeys(days, True)
        return {"startTime": start, "endTime": end, "recurrence": {"recurWeekly": weekly}, **extra}

    weekdays = ["monday", "tuesday", "wednesday", "thursday", "friday"]
    item = {
        "name": "Office",
        "locationId": "L1",
        "events": [
            event(weekdays, "08:00", "12:00"),
            event(weekdays, "12:00", "18:00"),
            event(["saturday"], "09:00", "13:00"),
        ],
    }
    cells = rows.schedule_row(item, names())
    assert cells == {
        "name": "Office",
        "location": "HQ",
        "hours": "mon-fri 08:00-18:00; sat 09:00-13:00",
    }
    assert_canonical(EntityType.SCHEDULE, cells)
    all_day = {**item, "events": [event(["sunday"], "", "", allDayEnabled=True)]}
    assert rows.schedule_row(all_day, names()) is None


def person(**fields: Any) -> dict[str, Any]:
    """A calling user as ``GET /people?callingData=true`` lists it."""
    return {
        "id": "P1",
        "emails": ["Ann@Example.com"],
        "firstName": "Ann",
        "lastName": "Lee",
        "displayName": "Ann Lee",
        "locationId": "L1",
        "extension": "1001",
        "phoneNumbers": [{"type": "work", "value": "+1 408-555-0101"}],
        "licenses": ["LM", "LB"],
        "department": "=SUM(A1)",
        **fields,
    }


def test_a_calling_user_carries_license_kind_line_and_names() -> None:
    """The calling license's kind, the work number as E.164; other text as it is."""
    cells = rows.user_row(person(), names())
    assert cells is not None
    assert cells["email"] == "ann@example.com"
    assert (cells["license"], cells["phone_number"]) == ("basic", "+14085550101")
    assert cells["department"] == "=SUM(A1)"  # escaping is the writer's job
    assert_canonical(EntityType.USER, cells)


def test_people_that_run_would_not_leave_alone_are_left_out() -> None:
    """No calling license, no location with calling, no line, or no name → None."""
    for fields in (
        {"licenses": ["LM"]},
        {"locationId": "L9"},
        {"extension": "", "phoneNumbers": []},
        {"firstName": ""},
    ):
        assert rows.user_row(person(**fields), names()) is None, fields


def test_a_workspace_takes_its_line_from_the_numbers_map() -> None:
    """Only a Webex Calling workspace with a line is written."""
    item = {
        "id": "W1",
        "displayName": "Lobby",
        "locationId": "L1",
        "calling": {"type": "webexCalling"},
    }
    cells = rows.workspace_row(item, names())
    assert cells == {
        "display_name": "Lobby",
        "location": "HQ",
        "extension": "1901",
        "phone_number": "+14085550109",
    }
    assert rows.workspace_row({**item, "calling": {"type": "freeCalling"}}, names()) is None
    assert rows.workspace_row({**item, "id": "W2"}, names()) is None


def test_features_name_their_members_policy_queue_size_and_schedule() -> None:
    """Members by e-mail or workspace name in remote order; an unknown member is left out."""
    details = {
        "name": "Sales",
        "locationId": "L1",
        "extension": "5001",
        "agents": [{"id": "W1"}, {"id": "P1"}, {"id": "X"}],
        "callPolicies": {"policy": "SIMULTANEOUS"},
        "queueSettings": {"queueSize": 25},
        "businessSchedule": "Office",
    }
    group = rows.hunt_group_row(details, names())
    assert group is not None
    assert (group["members"], group["policy"]) == ("Lobby;ann@example.com", "simultaneous")
    queue = rows.call_queue_row(details, names())
    assert queue is not None
    assert queue["queue_size"] == "25"
    assert_canonical(EntityType.CALL_QUEUE, queue)
    attendant = rows.auto_attendant_row(details, names())
    assert attendant is not None
    assert attendant["business_schedule"] == "Office"
    assert rows.hunt_group_row({**details, "extension": ""}, names()) is None


def test_a_device_names_its_owner_and_the_supported_model() -> None:
    """A user's device by e-mail; a workspace's with its location; an unknown owner → None."""
    device = {"mac": "00:1b:54:a1:01:01", "product": "Cisco 8851", "personId": "P1"}
    assert rows.device_row(device, names()) == {
        "mac": "001B54A10101",
        "model": "DMS Cisco 8851",
        "owner": "ann@example.com",
    }
    placed = {"mac": "001B54A10102", "product": "Cisco 8851", "workspaceId": "W1"}
    assert rows.device_row(placed, names()) == {
        "mac": "001B54A10102",
        "model": "DMS Cisco 8851",
        "owner": "Lobby",
        "location": "HQ",
    }
    assert rows.device_row({**device, "personId": "P9"}, names()) is None
