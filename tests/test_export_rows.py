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
        workspaces={"W1": ("L1", "Lobby"), "W2": ("L2", "Reception")},
        virtual_lines={"V1": ("L1", "Night Line"), "V2": ("L1", "Lobby"), "V3": ("L2", "Desk")},
        workspace_names={("L1", "lobby"), ("L2", "reception")},
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
    """No calling license, no location with calling, or no line → None."""
    for fields in (
        {"licenses": ["LM"]},
        {"locationId": "L9"},
        {"extension": "", "phoneNumbers": []},
    ):
        assert rows.user_row(person(**fields), names()) is None, fields


def test_a_user_without_names_is_written_with_empty_names() -> None:
    """A person without names (the directory's business) is still a calling user to export:
    its row leaves the names empty, which run reads as "leave them as they are"."""
    cells = rows.user_row(person(firstName="", lastName=""), names())
    assert cells is not None
    assert (cells["first_name"], cells["last_name"]) == ("", "")


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
    """Members by e-mail, workspace or virtual line name in remote order; policy, queue size."""
    details = {
        "name": "Sales",
        "locationId": "L1",
        "extension": "5001",
        "agents": [{"id": "W1"}, {"id": "P1"}, {"id": "V1"}],
        "callPolicies": {"policy": "SIMULTANEOUS"},
        "queueSettings": {"queueSize": 25},
        "businessSchedule": "Office",
    }
    group = rows.hunt_group_row(details, names())
    assert group is not None
    assert (group["members"], group["policy"]) == (
        "Lobby;ann@example.com;Night Line",
        "simultaneous",
    )
    queue = rows.call_queue_row(details, names())
    assert queue is not None
    assert queue["queue_size"] == "25"
    assert_canonical(EntityType.CALL_QUEUE, queue)
    attendant = rows.auto_attendant_row(details, names())
    assert attendant is not None
    assert attendant["business_schedule"] == "Office"
    assert rows.hunt_group_row({**details, "extension": ""}, names()) is None


def test_a_feature_with_a_member_the_file_cannot_name_is_left_out() -> None:
    """Unknown, of another location, or a virtual line named like a workspace of the location:
    ``run`` would not find the member again, so the whole feature is left out, not cut."""
    details = {"name": "Sales", "locationId": "L1", "extension": "5001"}
    for agent in ("X", "W2", "V3", "V2"):
        agents = [{"id": "P1"}, {"id": agent}]
        assert rows.hunt_group_row({**details, "agents": agents}, names()) is None, agent
        assert rows.call_pickup_row({**details, "agents": agents}, names()) is None, agent


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


def test_a_virtual_line_carries_its_names_and_line() -> None:
    """Display name, both names, ``number.extension`` and ``number.external`` as E.164."""
    item = {
        "id": "V1",
        "firstName": "Night",
        "lastName": "Line",
        "displayName": "Night  Line",
        "number": {"external": "+1 408 555 0199", "extension": "5101", "primary": True},
        "location": {"id": "L1", "name": "HQ"},
    }
    cells = rows.virtual_line_row(item, names())
    assert cells == {
        "display_name": "Night Line",
        "location": "HQ",
        "first_name": "Night",
        "last_name": "Line",
        "extension": "5101",
        "phone_number": "+14085550199",
    }
    assert_canonical(EntityType.VIRTUAL_LINE, cells)
    assert rows.virtual_line_row({**item, "number": {"primary": True}}, names()) is None
    assert rows.virtual_line_row({**item, "location": {"id": "L9"}}, names()) is None


def test_call_park_extensions_and_call_parks_name_what_they_hold() -> None:
    """An extension as listed; a park's members, recall option, hunt group and extensions."""
    extension = {"name": "Park 1", "extension": "5201", "locationId": "L1"}
    cells = rows.call_park_extension_row(extension, names())
    assert cells == {"name": "Park 1", "location": "HQ", "extension": "5201"}
    assert_canonical(EntityType.CALL_PARK_EXTENSION, cells)
    park = {
        "name": "Sales Park",
        "locationId": "L1",
        "agents": [{"id": "P1", "type": "PEOPLE"}, {"id": "V1", "type": "VIRTUAL_LINE"}],
        "recall": {
            "option": "ALERT_PARKING_USER_FIRST_THEN_HUNT_GROUP",
            "huntGroupId": "H1",
            "huntGroupName": "Sales",
        },
        "callParkExtensions": [{"id": "E1", "name": "Park 1"}, {"id": "E2", "name": "Park 2"}],
    }
    cells = rows.call_park_row(park, names())
    assert cells == {
        "name": "Sales Park",
        "location": "HQ",
        "members": "ann@example.com;Night Line",
        "recall": "parking_user_first_then_hunt_group",
        "recall_hunt_group": "Sales",
        "park_extensions": "Park 1;Park 2",
    }
    assert_canonical(EntityType.CALL_PARK, cells)
    nameless = {**park, "recall": {"option": "ALERT_HUNT_GROUP_ONLY", "huntGroupId": "H1"}}
    assert rows.call_park_row(nameless, names()) is None  # the hunt group cannot be named
    unknown = {**park, "recall": {"option": "ALERT_SOMEONE_ELSE"}}
    assert rows.call_park_row(unknown, names()) is None


def test_pickups_and_paging_groups_name_their_members() -> None:
    """A pickup's members; a paging group's line, originators and targets."""
    pickup = {"name": "Pickup", "locationId": "L1", "agents": [{"id": "W1"}, {"id": "V1"}]}
    cells = rows.call_pickup_row(pickup, names())
    assert cells == {"name": "Pickup", "location": "HQ", "members": "Lobby;Night Line"}
    paging = {
        "name": "All Staff",
        "locationId": "L1",
        "extension": "5301",
        "originators": [{"id": "P1"}],
        "targets": [{"id": "W1"}, {"id": "V1"}],
    }
    cells = rows.paging_group_row(paging, names())
    assert cells == {
        "name": "All Staff",
        "location": "HQ",
        "extension": "5301",
        "phone_number": "",
        "originators": "ann@example.com",
        "targets": "Lobby;Night Line",
    }
    assert_canonical(EntityType.PAGING_GROUP, cells)
    assert rows.paging_group_row({**paging, "targets": [{"id": "X"}]}, names()) is None


def test_a_voicemail_group_is_written_without_its_passcode() -> None:
    """The extension the GET types as a number becomes text, the notification e-mail lower
    case, and the passcode cell is empty (the API never answers it)."""
    group = {
        "name": "Sales Voicemail",
        "locationId": "L1",
        "extension": 5401,
        "phoneNumber": "+1 408 555 0140",
        "notifications": {"enabled": True, "destination": "Sales.VM@Example.com"},
    }
    cells = rows.voicemail_group_row(group, names())
    assert cells == {
        "name": "Sales Voicemail",
        "location": "HQ",
        "extension": "5401",
        "phone_number": "+14085550140",
        "passcode": "",
        "notification_email": "sales.vm@example.com",
    }
    assert_canonical(EntityType.VOICEMAIL_GROUP, cells)
    silent = {**group, "notifications": {"enabled": False, "destination": "old@example.com"}}
    quiet = rows.voicemail_group_row(silent, names())
    assert quiet is not None
    assert quiet["notification_email"] == ""
