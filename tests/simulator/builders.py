"""Request bodies and small steps that build a tenant through the API, shared by the tests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from webex_bulk.simulator import SimConfig

from .conftest import Api

ADDRESS = {
    "address1": "1 Main Street",
    "city": "Springfield",
    "state": "IL",
    "postalCode": "62701",
    "country": "US",
}
PROFESSIONAL = "Webex Calling - Professional"


def location_body(name: str) -> dict[str, Any]:
    """A complete create-location body."""
    return {
        "name": name,
        "timeZone": "America/Chicago",
        "preferredLanguage": "en_us",
        "announcementLanguage": "en_us",
        "address": dict(ADDRESS),
    }


async def make_location(api: Api, name: str = "HQ", *, calling: bool = True) -> str:
    """Create a location (calling-enabled by default) and return its id."""
    created = await api.post("/locations", location_body(name))
    assert created.status == 201, created.body
    if calling:
        enabled = await api.post(
            "/telephony/config/locations", {"id": created.body["id"], **location_body(name)}
        )
        assert enabled.status == 201, enabled.body
    return str(created.body["id"])


async def add_numbers(api: Api, location_id: str, *numbers: str) -> None:
    """Add numbers to a location's inventory."""
    answer = await api.post(
        f"/telephony/config/locations/{location_id}/numbers", {"phoneNumbers": list(numbers)}
    )
    assert answer.status == 201, answer.body


async def license_id(api: Api, name: str = PROFESSIONAL) -> str:
    """The id of a license by name."""
    answer = await api.get("/licenses")
    return next(str(item["id"]) for item in answer.body["items"] if item["name"] == name)


def user_body(
    email: str, location_id: str, calling_license: str, *, extension: str = "", number: str = ""
) -> dict[str, Any]:
    """A create-person body for a calling user."""
    body: dict[str, Any] = {
        "emails": [email],
        "firstName": email.split("@")[0].title(),
        "lastName": "Tester",
        "licenses": [calling_license],
        "locationId": location_id,
    }
    if extension:
        body["extension"] = extension
    if number:
        body["phoneNumbers"] = [{"type": "work", "value": number}]
    return body


async def make_user(
    api: Api, email: str, location_id: str, *, extension: str = "", number: str = ""
) -> dict[str, Any]:
    """Create a calling user with a Professional license and return the person."""
    body = user_body(email, location_id, await license_id(api), extension=extension, number=number)
    answer = await api.post("/people?callingData=true", body)
    assert answer.status == 200, answer.body
    return dict(answer.body)


def schedule_body(name: str, schedule_type: str = "businessHours") -> dict[str, Any]:
    """A create-schedule body with one weekday event."""
    return {
        "type": schedule_type,
        "name": name,
        "events": [
            {
                "name": "weekdays",
                "startDate": "2024-01-01",
                "endDate": "2024-01-01",
                "startTime": "08:00",
                "endTime": "18:00",
                "recurrence": {"recurForEver": True, "recurWeekly": {"monday": True}},
            }
        ],
    }


def hunt_group_body(name: str, extension: str, agents: list[str]) -> dict[str, Any]:
    """A minimal create-hunt-group body."""
    return {
        "name": name,
        "extension": extension,
        "enabled": True,
        "callPolicies": {
            "policy": "CIRCULAR",
            "noAnswer": {
                "nextAgentEnabled": True,
                "nextAgentRings": 5,
                "forwardEnabled": False,
                "numberOfRings": 15,
                "destinationVoicemailEnabled": False,
            },
        },
        "agents": [{"id": agent} for agent in agents],
    }


def queue_body(name: str, extension: str, agents: list[str], size: int = 10) -> dict[str, Any]:
    """A minimal create-call-queue body."""
    return {
        "name": name,
        "extension": extension,
        "callPolicies": {
            "routingType": "PRIORITY_BASED",
            "policy": "CIRCULAR",
            "callBounce": {"callBounceEnabled": True, "callBounceMaxRings": 8},
            "distinctiveRing": {"enabled": True, "ringPattern": "NORMAL"},
        },
        "queueSettings": {
            "queueSize": size,
            "overflow": {"action": "PERFORM_BUSY_TREATMENT", "greeting": "DEFAULT"},
        },
        "agents": [{"id": agent} for agent in agents],
    }


def menu() -> dict[str, Any]:
    """A minimal auto attendant menu."""
    return {
        "greeting": "DEFAULT",
        "extensionEnabled": True,
        "keyConfigurations": [{"key": "0", "action": "EXIT"}],
    }


def auto_attendant_body(name: str, extension: str, schedule: str) -> dict[str, Any]:
    """A minimal create-auto-attendant body."""
    return {
        "name": name,
        "extension": extension,
        "businessSchedule": schedule,
        "businessHoursMenu": menu(),
        "afterHoursMenu": menu(),
    }


def tenant_config(directory: Path, tenant: dict[str, Any], **knobs: Any) -> SimConfig:
    """A config whose starting tenant is ``tenant``, written to a file in ``directory``."""
    path = directory / "tenant.json"
    path.write_text(json.dumps(tenant), encoding="utf-8")
    return SimConfig(tenant_file=str(path), **knobs)


SCARCE_LICENSES = [
    {"name": "Webex Calling - Professional", "code": "BCSTD", "total": 1},
    {"name": "Webex Calling - Basic", "code": "BCBASIC", "total": 0},
    {"name": "Webex Calling - Workspaces", "code": "BCWS", "total": 1},
    {"name": "Messaging", "code": "MS", "total": 10},
]


async def make_workspace(api: Api, name: str, location_id: str, *, extension: str) -> str:
    """Create a Webex Calling workspace with an extension and return its id."""
    body = {
        "displayName": name,
        "locationId": location_id,
        "calling": {"type": "webexCalling", "webexCalling": {"extension": extension}},
    }
    answer = await api.post("/workspaces", body)
    assert answer.status == 201, answer.body
    return str(answer.body["id"])


async def make_virtual_line(
    api: Api, location_id: str, *, extension: str = "", number: str = "", last: str = "Line"
) -> str:
    """Create a virtual line (first name from the extension) and return its id."""
    body: dict[str, Any] = {
        "firstName": f"Line{extension or number[-4:]}",
        "lastName": last,
        "locationId": location_id,
    }
    if extension:
        body["extension"] = extension
    if number:
        body["phoneNumber"] = number
    answer = await api.post("/telephony/config/virtualLines", body)
    assert answer.status == 201, answer.body
    return str(answer.body["id"])


def voicemail_group_body(name: str, extension: str, passcode: str) -> dict[str, Any]:
    """A create-voicemail-group body with every field the spec requires."""
    return {
        "name": name,
        "extension": extension,
        "passcode": passcode,
        "languageCode": "en_us",
        "messageStorage": {"storageType": "INTERNAL"},
        "notifications": {"enabled": True, "destination": "support@example.com"},
        "faxMessage": {"enabled": False},
        "transferToNumber": {"enabled": False},
        "emailCopyOfMessage": {"enabled": False},
    }
