"""A calling user's or workspace's own call settings (voicemail, call forwarding, do not disturb,
call waiting, caller id): the defaults of a newly calling-enabled owner, the checks of a PUT body,
and how a body merges into what is stored. No HTTP here."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from webex_bulk.simulator.errors import Code, bad_request
from webex_bulk.simulator.lines import E164
from webex_bulk.simulator.records import Line, Location

VOICEMAIL = "voicemail"
FORWARDING = "callForwarding"
DO_NOT_DISTURB = "doNotDisturb"
CALL_WAITING = "callWaiting"
CALLER_ID = "callerId"
PERSON_SETTINGS = (VOICEMAIL, FORWARDING, DO_NOT_DISTURB, CALL_WAITING, CALLER_ID)
#: What ``/workspaces/{id}/features/`` serves (the spec's workspace call settings).
WORKSPACE_SETTINGS = (FORWARDING, CALL_WAITING, CALLER_ID)
CALLER_ID_TYPES = ("DIRECT_LINE", "LOCATION_NUMBER", "CUSTOM")
NAME_POLICIES = ("DIRECT_LINE", "LOCATION", "OTHER")
RINGS = (2, 20)

DEFAULTS: Mapping[str, Mapping[str, Any]] = {
    VOICEMAIL: {
        "enabled": True,
        "sendAllCalls": {"enabled": False},
        "sendBusyCalls": {"enabled": True, "greeting": "DEFAULT", "greetingUploaded": False},
        "sendUnansweredCalls": {
            "enabled": True,
            "greeting": "DEFAULT",
            "greetingUploaded": False,
            "numberOfRings": 3,
            "systemMaxNumberOfRings": 15,
        },
        "notifications": {"enabled": False},
        "transferToNumber": {"enabled": False},
        "emailCopyOfMessage": {"enabled": False, "emailId": ""},
        "messageStorage": {"mwiEnabled": True, "storageType": "INTERNAL", "externalEmail": ""},
        "faxMessage": {"enabled": False},
    },
    FORWARDING: {
        "callForwarding": {
            "always": {
                "enabled": False,
                "ringReminderEnabled": False,
                "destinationVoicemailEnabled": False,
            },
            "busy": {"enabled": False, "destinationVoicemailEnabled": False},
            "noAnswer": {
                "enabled": False,
                "numberOfRings": 3,
                "systemMaxNumberOfRings": 20,
                "destinationVoicemailEnabled": False,
            },
        },
        "businessContinuity": {"enabled": False, "destinationVoicemailEnabled": False},
    },
    DO_NOT_DISTURB: {"enabled": False, "ringSplashEnabled": False, "webexGoOverrideEnabled": False},
    CALL_WAITING: {"enabled": True},
    CALLER_ID: {
        "blockInForwardCallsEnabled": False,
        "externalCallerIdNamePolicy": "DIRECT_LINE",
    },
}


def merged(stored: Mapping[str, Any], body: Mapping[str, Any]) -> dict[str, Any]:
    """``stored`` with the body's fields over it; nested objects merge key by key."""
    result = copy.deepcopy(dict(stored))
    for key, value in body.items():
        if isinstance(value, Mapping) and isinstance(result.get(key), Mapping):
            result[key] = merged(result[key], value)
        else:
            result[key] = copy.deepcopy(value)
    return result


#: The fields the published schemas require in a PUT body: ``(setting, workspace)`` → the
#: required fields of the body and of its nested objects (a dotted path names a nested object,
#: checked when the body carries it).
REQUIRED: Mapping[tuple[str, bool], Mapping[str, tuple[str, ...]]] = {
    (VOICEMAIL, False): {"": ("notifications", "transferToNumber")},
    (DO_NOT_DISTURB, False): {"": ("webexGoOverrideEnabled",)},
    (CALL_WAITING, False): {"": ("enabled",)},
    (CALLER_ID, False): {"": ("selected",)},
    (CALLER_ID, True): {"": ("selected",)},
    (FORWARDING, False): {"callForwarding.always": ("enabled",)},
    (FORWARDING, True): {
        "": ("callForwarding", "businessContinuity"),
        "callForwarding": ("always",),
        "callForwarding.always": ("enabled", "ringReminderEnabled", "destinationVoicemailEnabled"),
        "callForwarding.busy": ("enabled", "destinationVoicemailEnabled"),
        "businessContinuity": ("enabled", "destinationVoicemailEnabled"),
    },
}


def check_required(name: str, body: Mapping[str, Any], *, workspace: bool = False) -> None:
    """400 for a PUT body without a field the spec marks required (person and workspace
    bodies differ: a workspace's forwarding PUT carries every rule)."""
    for where, fields in REQUIRED.get((name, workspace), {}).items():
        section: Any = body
        for key in where.split(".") if where else ():
            section = section.get(key) if isinstance(section, Mapping) else None
        if not isinstance(section, Mapping):
            continue
        for field in fields:
            if field not in section:
                raise _missing(f"{where}.{field}" if where else field)


def check(name: str, body: Mapping[str, Any], line: Line, location: Location) -> None:
    """400 for a body Webex refuses: a forward or notification without its destination, rings
    out of range, an unknown caller id choice or one the owner's line cannot give."""
    if name == VOICEMAIL:
        _check_voicemail(body)
    elif name == FORWARDING:
        forwarding = body.get("callForwarding") or {}
        for rule in ("always", "busy", "noAnswer"):
            _check_forward(f"callForwarding.{rule}", forwarding.get(rule))
        _check_forward("businessContinuity", body.get("businessContinuity"))
        _check_rings("callForwarding.noAnswer", (forwarding.get("noAnswer") or {}))
    elif name in (DO_NOT_DISTURB, CALL_WAITING):
        for key in ("enabled", "ringSplashEnabled", "webexGoOverrideEnabled"):
            if key in body and not isinstance(body[key], bool):
                raise bad_request(
                    f"{key} must be true or false.", Code.INVALID_VALUE, telephony=True
                )
    elif name == CALLER_ID:
        _check_caller_id(body, line, location)


def caller_id(
    stored: Mapping[str, Any],
    line: Line,
    location: Location,
    names: tuple[str, str],
    *,
    workspace: bool = False,
) -> dict[str, Any]:
    """The caller id answer: what the owner's line and location offer, and what is chosen (a
    workspace's answer also names it, and always carries both numbers, "" when absent)."""
    types = [kind for kind, ok in _offered(line, location).items() if ok]
    body: dict[str, Any] = {
        "types": types,
        "selected": "DIRECT_LINE" if line.number else "LOCATION_NUMBER",
        "tollFreeLocationNumber": False,
        "firstName": names[0],
        "lastName": names[1],
        "locationExternalCallerIdName": location.name,
        **stored,
    }
    if line.number or workspace:
        body["directNumber"] = line.number
    if line.extension:
        body["extensionNumber"] = line.extension
    if location.main_number or workspace:
        body["locationNumber"] = location.main_number
    if workspace:
        body["displayName"] = names[0]
        body["displayDetail"] = line.number or line.extension
    return body


def _offered(line: Line, location: Location) -> dict[str, bool]:
    return {
        "DIRECT_LINE": bool(line.number),
        "LOCATION_NUMBER": bool(location.main_number),
        "CUSTOM": True,
    }


def _check_voicemail(body: Mapping[str, Any]) -> None:
    _check_rings("sendUnansweredCalls", body.get("sendUnansweredCalls") or {}, high=15)
    for field, target in (
        ("notifications", "destination"),
        ("emailCopyOfMessage", "emailId"),
        ("transferToNumber", "destination"),
    ):
        section = body.get(field) or {}
        if section.get("enabled") and not section.get(target):
            raise _missing(f"{field}.{target}")
    storage = body.get("messageStorage") or {}
    if storage.get("storageType", "INTERNAL") not in ("INTERNAL", "EXTERNAL"):
        raise bad_request("Unknown messageStorage.storageType.", Code.INVALID_VALUE, telephony=True)
    if storage.get("storageType") == "EXTERNAL" and not storage.get("externalEmail"):
        raise _missing("messageStorage.externalEmail")


def _check_forward(field: str, rule: Any) -> None:
    if not isinstance(rule, Mapping) or not rule.get("enabled"):
        return
    destination = str(rule.get("destination") or "")
    if not destination:
        raise _missing(f"{field}.destination")
    if not (E164.fullmatch(destination) or (destination.isascii() and destination.isdigit())):
        raise bad_request(
            f"{field}.destination {destination} is not a phone number or extension.",
            Code.INVALID_NUMBER,
            telephony=True,
        )


def _check_rings(field: str, section: Mapping[str, Any], high: int = RINGS[1]) -> None:
    rings = section.get("numberOfRings")
    if rings is None:
        return
    if isinstance(rings, bool) or not isinstance(rings, int) or not RINGS[0] <= rings <= high:
        raise bad_request(
            f"{field}.numberOfRings must be {RINGS[0]} to {high}.",
            Code.INVALID_VALUE,
            telephony=True,
        )


def _check_caller_id(body: Mapping[str, Any], line: Line, location: Location) -> None:
    selected = body.get("selected")
    if selected not in CALLER_ID_TYPES:
        raise bad_request(f"Unknown caller id type {selected}.", Code.INVALID_VALUE, telephony=True)
    if not _offered(line, location)[selected]:
        raise bad_request(
            f"Caller id {selected} is not available: there is no such number.",
            Code.INVALID_VALUE,
            telephony=True,
        )
    custom = str(body.get("customNumber") or "")
    if selected == "CUSTOM" and not (
        E164.fullmatch(custom) or (custom.isascii() and custom.isdigit())
    ):
        raise bad_request(
            "A CUSTOM caller id needs a customNumber.", Code.INVALID_NUMBER, telephony=True
        )
    policy = body.get("externalCallerIdNamePolicy")
    if policy is not None and policy not in NAME_POLICIES:
        raise bad_request(
            f"Unknown externalCallerIdNamePolicy {policy}.", Code.INVALID_VALUE, telephony=True
        )


def _missing(field: str) -> Exception:
    return bad_request(f"Missing Mandatory field name: {field}", Code.MISSING_FIELD, telephony=True)
