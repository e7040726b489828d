"""Request bodies built by ``actions/bodies.py`` and ``actions/feature_bodies.py`` validate against
the published OpenAPI schemas (the extract vendored in ``tests/specs/``)."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

import jsonschema  # type: ignore[import-untyped]
import pytest
from vendored_specs import spec

from webex_bulk.actions import bodies, compare, feature_bodies
from webex_bulk.input.normalise import parse_hours
from webex_bulk.models import EntityType, Row


def component(name: str, schema: str) -> dict[str, Any]:
    """A component schema with the file's components beside it, so local refs resolve."""
    components = copy.deepcopy(spec(name)["components"])
    if name == "calling-features-auto-attendant.yml":
        # Upstream defect: keyConfigurations is typed as one object; the API takes a list.
        item = components["schemas"]["KeyConfigurationsObject"]
        components["schemas"]["KeyConfigurationsObject"] = {"type": "array", "items": item}
    return {"$ref": f"#/components/schemas/{schema}", "components": components}


def request_body(name: str, path: str, method: str) -> dict[str, Any]:
    """The inline request-body schema of one operation."""
    document = spec(name)
    operation = document["paths"][path][method]
    schema = operation["requestBody"]["content"]["application/json"]["schema"]
    return {**schema, "components": document["components"]}


def check(schema: dict[str, Any], body: Mapping[str, Any]) -> None:
    """Validate, failing with every error the validator finds."""
    validator = jsonschema.Draft7Validator(schema)
    errors = [f"{list(e.path)}: {e.message}" for e in validator.iter_errors(body)]
    assert not errors, errors


def row(entity_type: EntityType, members: tuple[str, ...] = (), **values: str) -> Row:
    """A normalised row."""
    return Row(2, entity_type, f"{entity_type.value}:x", values, dict(values), members)


LOCATION = row(
    EntityType.LOCATION,
    name="Paris HQ",
    time_zone="Europe/Paris",
    address1="1 Rue de Rivoli",
    address2="Floor 2",
    city="Paris",
    state="IDF",
    postal_code="75001",
    country="FR",
    preferred_language="fr_fr",
    announcement_language="fr_fr",
)
USER = row(
    EntityType.USER,
    email="ada@example.com",
    first_name="Ada",
    last_name="Lovelace",
    extension="1234",
    phone_number="+33142685300",
    title="Countess",
)
FEATURE = row(
    EntityType.HUNT_GROUP,
    ("a@b.c",),
    name="Sales",
    extension="5001",
    phone_number="+33142685301",
    policy="weighted",
    queue_size="12",
)


def test_location_bodies_match_the_specs() -> None:
    """POST /locations, PUT /locations/{id} and POST /telephony/config/locations."""
    check(
        component("webex-device.json", "PostCommonLocationObject"),
        bodies.location_create_body(LOCATION),
    )
    remote = {
        "address": {"address1": "x", "city": "y", "state": "z", "postalCode": "1", "country": "FR"}
    }
    fields = ("time_zone", "city", "preferred_language")
    update = bodies.location_update_body(LOCATION, fields, remote)
    check(component("webex-device.json", "PutCommonLocationObject"), update)
    calling = bodies.location_calling_body(LOCATION, "LOC1")
    check(component("calling-location-call-settings.yml", "PostLocationCallingRequest"), calling)


def test_number_bodies_match_the_specs() -> None:
    """Add numbers (NumbersPost) and activate/deactivate (NumbersRequest)."""
    check(
        component("calling-numbers.yml", "NumbersPost"),
        bodies.numbers_add_body(["+14085550100"], "active"),
    )
    check(
        component("calling-numbers.yml", "NumbersRequest"),
        bodies.numbers_state_body(["+1"], "inactive"),
    )


def test_schedule_bodies_match_the_specs() -> None:
    """Create (PostScheduleObject) and replace events (ModifyScheduleObject)."""
    hours = compare.weekly_hours(parse_hours("mon-fri 08:00-18:00; sat 09:00-13:00"))
    schedules = "calling-location-call-settings-schedules.yml"
    check(component(schedules, "PostScheduleObject"), bodies.schedule_create_body("Office", hours))
    check(
        component(schedules, "ModifyScheduleObject"), bodies.schedule_update_body("Office", hours)
    )


def test_people_bodies_match_the_specs() -> None:
    """POST /people, PUT /people/{id} (from a GET) and PATCH /licenses/users."""
    admin = "webex-admin.json"
    create = bodies.person_create_body(USER, location_id="LOC1", license_id="LIC")
    check(request_body(admin, "/people", "post"), create)
    remote = {
        "id": "P1",
        "emails": ["ada@example.com"],
        "displayName": "Ada",
        "created": "x",
        "phoneNumbers": [{"type": "work", "value": "+1"}, {"type": "mobile", "value": "+2"}],
        "licenses": ["LIC"],
        "type": "person",
        "status": "active",
    }
    update = bodies.person_update_body(remote, USER, ("first_name", "phone_number"))
    check(request_body(admin, "/people/{personId}", "put"), update)
    patch = bodies.license_patch_body("P1", "LIC", location_id="L", extension="1")
    check(component(admin, "PatchUserLicenses"), patch)


def test_workspace_and_device_bodies_match_the_specs() -> None:
    """POST/PUT /workspaces and POST /devices."""
    workspace = row(EntityType.WORKSPACE, display_name="Lobby", extension="2000")
    device_spec = "webex-device.json"
    check(
        component(device_spec, "WorkspaceCreationRequest"),
        bodies.workspace_create_body(workspace, "L"),
    )
    remote = {
        "displayName": "Lobby",
        "capacity": 3,
        "type": "notSet",
        "calling": {"type": "freeCalling"},
    }
    update = bodies.workspace_update_body(workspace, remote, "L")
    check(component(device_spec, "WorkspaceUpdateRequest"), update)
    device = row(EntityType.DEVICE, mac="AABBCCDDEEFF", model="DMS Cisco 8851")
    check(
        request_body(device_spec, "/devices", "post"),
        bodies.device_create_body(device, "person", "P1"),
    )


def test_feature_bodies_match_the_specs() -> None:
    """Hunt group, call queue and auto attendant create and update bodies."""
    hunt = "calling-features-hunt-group.yml"
    check(
        component(hunt, "CreateHuntGroupObject"),
        feature_bodies.hunt_group_create_body(FEATURE, ["P1", "P2"]),
    )
    remote = {
        "callPolicies": {
            "policy": "CIRCULAR",
            "noAnswer": dict(feature_bodies.HUNT_GROUP_NO_ANSWER),
        }
    }
    fields = ("policy", "members", "extension")
    check(
        component(hunt, "ModifyHuntGroupObject"),
        feature_bodies.hunt_group_update_body(FEATURE, remote, fields, ["P1"]),
    )
    queue = "calling-features-call-queue.yml"
    check(
        component(queue, "CreateCallQueueEssentialsObject"),
        feature_bodies.call_queue_create_body(FEATURE, ["P1"]),
    )
    queued = {"queueSettings": {"queueSize": 10, "overflow": dict(feature_bodies.QUEUE_OVERFLOW)}}
    update = feature_bodies.call_queue_update_body(
        FEATURE, queued, ("policy", "queue_size"), ["P1"]
    )
    check(component(queue, "ModifyCallQueueObject"), update)
    attendant = "calling-features-auto-attendant.yml"
    check(
        component(attendant, "PostAutoAttendantObject"),
        feature_bodies.auto_attendant_create_body(FEATURE, "Hours"),
    )
    check(
        component(attendant, "ModifyAutoAttendantObject"),
        feature_bodies.auto_attendant_update_body(FEATURE, "Hours"),
    )


def test_a_broken_body_fails_validation() -> None:
    """The check can fail: a create without its required name is refused."""
    body = feature_bodies.hunt_group_create_body(FEATURE, ["P1"])
    del body["name"]
    with pytest.raises(AssertionError):
        check(component("calling-features-hunt-group.yml", "CreateHuntGroupObject"), body)
