"""Pure builders and semantic comparisons of ``action_helpers`` (no event loop, no network)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from webex_bulk.actions import bodies, compare, feature_bodies
from webex_bulk.config import Settings
from webex_bulk.input.normalise import parse_hours
from webex_bulk.models import EntityType, Row


def changed(row: Row, **values: str) -> Row:
    """A copy of ``row`` with some column values replaced."""
    return Row(row.line, row.entity_type, row.key, {**row.values, **values}, row.cells, row.members)


def make_row(entity_type: EntityType, members: tuple[str, ...] = (), **values: str) -> Row:
    """A normalised row of ``entity_type`` with the given column values."""
    return Row(
        line=2,
        entity_type=entity_type,
        key=f"{entity_type.value}:test",
        values=values,
        cells=dict(values),
        members=members,
    )


LOCATION = make_row(
    EntityType.LOCATION,
    name="Paris HQ",
    time_zone="Europe/Paris",
    address1="1 Rue de Rivoli",
    city="Paris",
    state="IDF",
    postal_code="75001",
    country="FR",
    preferred_language="fr_fr",
    announcement_language="fr_fr",
)
REMOTE_LOCATION: dict[str, Any] = {
    "id": "LOC1",
    "name": "paris  hq",
    "timeZone": "Europe/Paris",
    "preferredLanguage": "fr_FR",
    "announcementLanguage": "fr-fr",
    "address": {
        "address1": "1 Rue de Rivoli",
        "address2": "Floor 3",
        "city": "Paris",
        "state": "IDF",
        "postalCode": "75001",
        "country": "fr",
    },
}


# -- canonical values and matching ----------------------------------------------------------


def test_canonical_text_is_nfc_and_collapses_whitespace() -> None:
    """Decomposed accents compose and runs of whitespace collapse to one space."""
    assert compare.canonical_text("  Cafe\u0301   Bar\t") == "Café Bar"
    assert compare.fold("CAFE\u0301") == compare.fold("café")
    assert compare.canonical_text(None) == ""


def test_canonical_e164_parses_national_and_spaced_numbers() -> None:
    """National numbers get the region's prefix; text that is no number compares as itself."""
    assert compare.canonical_e164("+1 408 555 0100") == "+14085550100"
    assert compare.canonical_e164("(408) 555-0100", "US") == "+14085550100"
    assert compare.canonical_e164("01 42 68 53 00", "FR") == "+33142685300"
    assert compare.canonical_e164("not a number") == "notanumber"
    assert compare.canonical_e164("") == ""


def test_canonical_mac_drops_separators() -> None:
    """A MAC in any separator style compares as 12 upper-case hex digits."""
    assert compare.canonical_mac("aa:bb:cc-dd.ee ff") == "AABBCCDDEEFF"


def test_exact_matches_ignore_case_and_substrings() -> None:
    """A contains-filter result is narrowed to exact (case-folded) name matches."""
    items = [{"name": "Paris"}, {"name": "Paris HQ"}, {"name": "paris"}, {"name": "New Paris"}]
    assert compare.exact_matches(items, "name", "PARIS") == [{"name": "Paris"}, {"name": "paris"}]
    assert compare.exact_matches(items, "name", "Lyon") == []


def test_same_location_reads_both_shapes() -> None:
    """Items carry their location as ``locationId`` or ``location.id``."""
    assert compare.same_location({"locationId": "L1"}, "L1")
    assert compare.same_location({"location": {"id": "L1"}}, "L1")
    assert not compare.same_location({"locationId": "L2"}, "L1")
    assert not compare.same_location({}, "")


@pytest.mark.parametrize(("org_id", "expected"), [(None, {}), ("ORG", {"orgId": "ORG"})])
def test_org_id_goes_to_query_or_body_only_when_set(
    org_id: str | None, expected: dict[str, str]
) -> None:
    """``orgId`` is added (to the query or the body) only for a partner's target org."""
    settings = Settings(org_id=org_id)
    assert bodies.org_query(settings, {"max": 10}) == {"max": 10, **expected}
    assert bodies.org_body(settings, {"emails": ["a@b.c"]}) == {"emails": ["a@b.c"], **expected}


# -- locations ------------------------------------------------------------------------------


def test_location_bodies_carry_every_required_field() -> None:
    """Create and enable-calling bodies hold name, zone, languages and the address."""
    body = bodies.location_create_body(LOCATION)
    assert body["address"] == {
        "address1": "1 Rue de Rivoli",
        "city": "Paris",
        "state": "IDF",
        "postalCode": "75001",
        "country": "FR",
    }
    assert body["announcementLanguage"] == "fr_fr"
    calling = bodies.location_calling_body(LOCATION, "LOC1", "Paris HQ")
    assert calling["id"] == "LOC1"
    assert calling["name"] == "Paris HQ"


def test_location_diff_is_semantic() -> None:
    """Case of the country and language spelling do not differ; an empty cell is not managed."""
    assert compare.location_diff(LOCATION, REMOTE_LOCATION).differing == ()
    moved = changed(LOCATION, city="Lyon", time_zone="UTC")
    assert compare.location_diff(moved, REMOTE_LOCATION).differing == ("time_zone", "city")


def test_location_update_body_sends_the_whole_address() -> None:
    """A changed address column sends the address object with the remote's other values kept."""
    moved = changed(LOCATION, city="Lyon")
    body = bodies.location_update_body(moved, ("city",), REMOTE_LOCATION)
    assert body == {"address": {**REMOTE_LOCATION["address"], "city": "Lyon", "country": "FR"}}
    assert bodies.location_update_body(moved, ("announcement_language",), REMOTE_LOCATION) == {}
    assert bodies.location_calling_update_body(moved) == {"announcementLanguage": "fr_fr"}


# -- numbers --------------------------------------------------------------------------------


def test_numbers_bodies() -> None:
    """Add carries the state; activate/deactivate carries the action."""
    assert bodies.numbers_add_body(["+14085550100"], "inactive") == {
        "phoneNumbers": ["+14085550100"],
        "state": "INACTIVE",
    }
    assert bodies.numbers_state_body(["+1"], "active")["action"] == "ACTIVATE"
    assert bodies.numbers_state_body(["+1"], "inactive")["action"] == "DEACTIVATE"
    assert compare.number_state({"state": "INACTIVE"}) == "inactive"
    assert compare.number_state({}) == "active"


def test_per_number_errors_reads_bare_and_wrapped_lists() -> None:
    """Per-number errors come as a bare list or under ``errors``; other bodies give none."""
    bare = [{"number": "+1 408 555 0100", "errorCode": 8363, "errorMessage": "in use"}]
    assert compare.per_number_errors(bare) == {"+14085550100": "in use (error code 8363)"}
    wrapped = {"errors": [{"number": "+14085550101", "description": "bad"}]}
    assert compare.per_number_errors(wrapped) == {"+14085550101": "bad"}
    standard = {"message": "x", "errors": [{"description": "y", "errorCode": 1}]}
    assert compare.per_number_errors(standard) == {}
    assert compare.per_number_errors(None) == {}


# -- schedules ------------------------------------------------------------------------------


def test_schedule_events_group_days_by_span() -> None:
    """Days with the same span form one weekly event starting on its first weekday."""
    hours = compare.weekly_hours(parse_hours("mon-fri 08:00-18:00; sat 09:00-13:00"))
    events = bodies.schedule_events(hours)
    assert [event["name"] for event in events] == ["0800-1800", "0900-1300"]
    weekday = events[0]
    assert weekday["startDate"] == weekday["endDate"] == "2024-01-01"  # a Monday
    assert weekday["recurrence"]["recurWeekly"] == {
        "monday": True,
        "tuesday": True,
        "wednesday": True,
        "thursday": True,
        "friday": True,
        "saturday": False,
        "sunday": False,
    }
    assert events[1]["startDate"] == "2024-01-06"  # the Saturday of that week


def test_schedule_round_trip_compares_equal() -> None:
    """The events we write read back as the same weekly hours."""
    hours = compare.weekly_hours(parse_hours("mon,wed 08:00-12:00,13:00-17:00; sun 10:00-11:00"))
    body = bodies.schedule_create_body("Office", hours)
    assert body["type"] == "businessHours"
    assert compare.remote_weekly_hours(body["events"]) == hours
    update = bodies.schedule_update_body("Office", hours)
    assert all(event["newName"] == event["name"] for event in update["events"])


def test_remote_hours_merge_touching_spans_and_ignore_other_events() -> None:
    """Touching remote spans merge like the CSV's; yearly events are not weekly hours."""
    events = [
        {
            "name": "a",
            "startTime": "08:00",
            "endTime": "12:00",
            "recurrence": {"recurWeekly": {"monday": True}},
        },
        {
            "name": "b",
            "startTime": "12:00",
            "endTime": "18:00",
            "recurrence": {"recurWeekly": {"monday": True}},
        },
        {"name": "xmas", "recurrence": {"recurYearlyByDate": {"dayOfMonth": 25}}},
    ]
    assert compare.remote_weekly_hours(events) == compare.weekly_hours(
        parse_hours("mon 08:00-18:00")
    )
    assert compare.remote_weekly_hours(None) == frozenset()


# -- people ---------------------------------------------------------------------------------

USER = make_row(
    EntityType.USER,
    email="ada@example.com",
    first_name="Ada",
    last_name="Lovelace",
    location="Paris HQ",
    extension="1234",
    phone_number="+33142685300",
    license="professional",
    department="R&D",
)
PERSON: Mapping[str, object] = {
    "id": "P1",
    "emails": ["ada@example.com"],
    "firstName": "Ada",
    "lastName": "Lovelace",
    "nickName": "Ada",
    "displayName": "Ada  Lovelace",
    "extension": "1234",
    "locationId": "LOC1",
    "phoneNumbers": [
        {"type": "work", "value": "+33 1 42 68 53 00", "primary": True},
        {"type": "work_extension", "value": "81234"},
        {"type": "mobile", "value": "+33600000000"},
    ],
    "licenses": ["LIC-CALL", "LIC-MSG"],
    "department": "R&D",
    "title": "Countess",
    "created": "2024-01-01T00:00:00.000Z",
    "lastModified": "2024-01-01T00:00:00.000Z",
    "sipAddresses": [{"type": "cloud-calling", "value": "ada@x"}],
    "status": "active",
    "type": "person",
    "loginEnabled": True,
    "invitePending": False,
    "timezone": "Europe/Paris",
    "lastActivity": "2024-01-01T00:00:00.000Z",
}


def test_person_create_body() -> None:
    """A calling user in one call: emails, names, license, location, extension, work number."""
    body = bodies.person_create_body(USER, location_id="LOC1", license_id="LIC")
    assert body == {
        "emails": ["ada@example.com"],
        "firstName": "Ada",
        "lastName": "Lovelace",
        "displayName": "Ada Lovelace",
        "licenses": ["LIC"],
        "locationId": "LOC1",
        "extension": "1234",
        "phoneNumbers": [{"type": "work", "value": "+33142685300"}],
        "department": "R&D",
    }


def test_person_diff_is_semantic() -> None:
    """Collapsed names and a spaced E.164 number do not differ; an unmanaged title does not."""
    assert compare.person_diff(USER, PERSON).differing == ()
    edited = changed(USER, last_name="King", extension="999", title="Dr")
    expected = ("last_name", "display_name", "title", "extension")  # display name follows
    assert compare.person_diff(edited, PERSON).differing == expected
    renumbered = changed(USER, phone_number="+33142685301")
    assert compare.person_diff(renumbered, PERSON).differing == ("phone_number",)


def test_person_update_body_is_a_full_replace_of_the_get() -> None:
    """Read-only fields go, only differing fields change, licenses and the rest stay."""
    edited = changed(USER, last_name="King")
    body = bodies.person_update_body(PERSON, edited, ("last_name", "display_name"))
    for key in bodies.PERSON_READ_ONLY:
        assert key not in body
    assert body["lastName"] == "King"
    assert body["displayName"] == "Ada King"
    assert body["licenses"] == ["LIC-CALL", "LIC-MSG"]
    assert body["title"] == "Countess"
    assert body["extension"] == "1234"
    assert body["phoneNumbers"] == [{"type": "work", "value": "+33 1 42 68 53 00"}]


def test_person_update_body_replaces_the_work_number() -> None:
    """A differing number replaces the work entry; a person without numbers sends none."""
    body = bodies.person_update_body(PERSON, USER, ("phone_number",))
    assert body["phoneNumbers"] == [{"type": "work", "value": "+33142685300"}]
    bare = {k: v for k, v in PERSON.items() if k != "phoneNumbers"}
    assert "phoneNumbers" not in bodies.person_update_body(bare, USER, ("last_name",))


def test_license_patch_body_and_partial_answer() -> None:
    """The PATCH adds with calling properties (no separate remove); a 206 is diffed."""
    body = bodies.license_patch_body("P1", "NEW", location_id="LOC1", extension="1234")
    assert body == {
        "personId": "P1",
        "licenses": [
            {
                "id": "NEW",
                "operation": "add",
                "properties": {"locationId": "LOC1", "extension": "1234"},
            },
        ],
    }
    assert compare.unassigned_licenses(["NEW"], {"licenses": ["MSG"]}) == ("NEW",)
    assert compare.unassigned_licenses(["NEW"], {"licenses": ["NEW"]}) == ()
    assert compare.unassigned_licenses(["NEW"], None) == ("NEW",)


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("Webex Calling - Professional", "professional"),
        ("Webex Calling - Basic", "basic"),
        ("Webex Calling - Workspaces", "workspace"),
        ("Messaging", ""),
        ("Calling something else", ""),
    ],
)
def test_license_kind(name: str, kind: str) -> None:
    """Calling licenses are told apart by their Webex names."""
    assert compare.license_kind(name) == kind


# -- workspaces -----------------------------------------------------------------------------

WORKSPACE = make_row(
    EntityType.WORKSPACE, display_name="Lobby", location="Paris HQ", extension="2000"
)


def test_workspace_create_body() -> None:
    """Webex Calling with location and line; desk phones supported."""
    body = bodies.workspace_create_body(WORKSPACE, "LOC1")
    assert body == {
        "displayName": "Lobby",
        "locationId": "LOC1",
        "supportedDevices": "phones",
        "calling": {
            "type": "webexCalling",
            "webexCalling": {"locationId": "LOC1", "extension": "2000"},
        },
    }


def test_workspace_diff_and_update_body() -> None:
    """A free-calling workspace differs; the PUT keeps what it would clear and the number."""
    free = {"id": "W1", "displayName": "Lobby", "calling": {"type": "freeCalling"}, "capacity": 4}
    assert compare.workspace_diff(WORKSPACE, free).differing == ("extension",)
    calling = {
        "calling": {
            "type": "webexCalling",
            "webexCalling": {"extension": "2000", "phoneNumber": "+33142685399"},
        }
    }
    assert compare.workspace_diff(WORKSPACE, calling).differing == ()
    body = bodies.workspace_update_body(WORKSPACE, {**free, **calling}, "LOC1")
    assert body["capacity"] == 4
    assert body["calling"]["webexCalling"] == {
        "locationId": "LOC1",
        "extension": "2000",
        "phoneNumber": "+33142685399",
    }


def test_workspace_update_body_leaves_out_an_unchanged_calling() -> None:
    """Without a calling change the PUT carries no ``calling`` (Webex keeps it, and refuses even
    an unchanged one on a workspace with devices), yet still carries back what it would clear."""
    remote = {"id": "W1", "displayName": "Lobby", "capacity": 4, "calling": {"type": "freeCalling"}}
    body = bodies.workspace_update_body(WORKSPACE, remote, "LOC1", calling=False)
    assert body == {"displayName": "Lobby", "capacity": 4}


# -- hunt groups, call queues, auto attendants ----------------------------------------------

HUNT_GROUP = make_row(
    EntityType.HUNT_GROUP,
    ("ada@example.com", "Lobby"),
    name="Sales",
    location="Paris HQ",
    extension="5001",
    policy="weighted",
)


def test_weighted_agents_sum_to_100() -> None:
    """Weighted policy spreads 100 over the agents; other policies send ids only."""
    weighted = feature_bodies.agents_body(["a", "b", "c"], "weighted")
    assert [agent["weight"] for agent in weighted] == ["34", "33", "33"]
    assert feature_bodies.agents_body(["a"], "circular") == [{"id": "a"}]


def test_hunt_group_bodies() -> None:
    """Create: policy upper-case with the no-answer defaults; update carries noAnswer back."""
    body = feature_bodies.hunt_group_create_body(HUNT_GROUP, ["P1", "W1"])
    assert body["callPolicies"]["policy"] == "WEIGHTED"
    assert body["enabled"] is True
    assert body["extension"] == "5001"
    remote = {
        "callPolicies": {
            "policy": "CIRCULAR",
            "noAnswer": {"nextAgentRings": 3, "systemMaxNumberOfRings": 20},
        }
    }
    update = feature_bodies.hunt_group_update_body(HUNT_GROUP, remote, ("policy",), ["P1"])
    assert update["callPolicies"]["policy"] == "WEIGHTED"
    assert update["callPolicies"]["noAnswer"] == {"nextAgentRings": 3}
    assert update["agents"] == [{"id": "P1", "weight": "100"}]


def test_call_queue_bodies() -> None:
    """Create: queue size and routing type; update always carries queueSettings back."""
    queue = make_row(EntityType.CALL_QUEUE, name="Help", extension="6001", queue_size="25")
    body = feature_bodies.call_queue_create_body(queue, ["P1"])
    assert body["queueSettings"]["queueSize"] == 25
    assert body["callPolicies"]["routingType"] == "PRIORITY_BASED"
    remote = {
        "queueSettings": {"queueSize": 10, "overflow": {"action": "X", "greeting": "DEFAULT"}}
    }
    update = feature_bodies.call_queue_update_body(queue, remote, ("queue_size",), ["P1"])
    assert update["queueSettings"] == {
        "queueSize": 25,
        "overflow": {"action": "X", "greeting": "DEFAULT"},
    }
    assert "agents" not in update


def test_auto_attendant_bodies() -> None:
    """Create names the schedule and has the minimal menus; update sends number and schedule."""
    row = make_row(EntityType.AUTO_ATTENDANT, name="Main", extension="7000")
    body = feature_bodies.auto_attendant_create_body(row, "Office Hours")
    assert body["businessSchedule"] == "Office Hours"
    assert body["afterHoursMenu"]["keyConfigurations"] == [{"key": "0", "action": "EXIT"}]
    assert body["businessHoursMenu"] is not body["afterHoursMenu"]
    assert feature_bodies.auto_attendant_update_body(row, "Hours") == {
        "extension": "7000",
        "businessSchedule": "Hours",
    }


def test_feature_diff_compares_members_as_sets() -> None:
    """Member order does not matter; a missing member, policy or schedule does."""
    remote = {
        "extension": "5001",
        "callPolicies": {"policy": "WEIGHTED"},
        "agents": [{"id": "W1"}, {"id": "P1"}],
    }
    assert compare.feature_diff(HUNT_GROUP, remote, agent_ids=["P1", "W1"]).differing == ()
    assert compare.feature_diff(HUNT_GROUP, remote, agent_ids=["P1"]).differing == ("members",)
    circular = {**remote, "callPolicies": {"policy": "CIRCULAR"}}
    assert compare.feature_diff(HUNT_GROUP, circular, agent_ids=["P1", "W1"]).differing == (
        "policy",
    )
    aa = {"extension": "7000", "businessSchedule": "office hours"}
    row = make_row(EntityType.AUTO_ATTENDANT, name="Main", extension="7000")
    assert compare.feature_diff(row, aa, schedule_name="Office Hours").differing == ()
    assert compare.feature_diff(row, aa, schedule_name="Other").differing == ("business_schedule",)
    queue = make_row(EntityType.CALL_QUEUE, name="Q", extension="1", queue_size="10")
    sized = {"extension": "1", "queueSettings": {"queueSize": 12}, "callPolicies": {}}
    assert compare.feature_diff(queue, sized, agent_ids=[]).differing == ("policy", "queue_size")


# -- devices --------------------------------------------------------------------------------


def test_device_helpers() -> None:
    """Body with one owner key; owner read back; model matched by name or display name."""
    row = make_row(EntityType.DEVICE, mac="AABBCCDDEEFF", model="cisco 8851", owner="a@b.c")
    body = bodies.device_create_body(row, "workspace", "W1", model="DMS Cisco 8851")
    assert body == {"mac": "AABBCCDDEEFF", "model": "DMS Cisco 8851", "workspaceId": "W1"}
    assert compare.device_owner({"personId": "P1"}) == ("person", "P1")
    assert compare.device_owner({"workspaceId": "W1"}) == ("workspace", "W1")
    assert compare.device_owner({}) == ("", "")
    models = [{"model": "DMS Cisco 8851", "displayName": "Cisco 8851"}]
    assert compare.supported_model(models, "cisco 8851") == "DMS Cisco 8851"
    assert compare.supported_model(models, "dms cisco 8851") == "DMS Cisco 8851"
    assert compare.supported_model(models, "Polycom VVX") == ""
