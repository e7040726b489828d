"""What differs between hunt groups, call queues and auto attendants: paths, status codes,
documented required body fields, defaults, and the JSON shapes of their lists and details,
down to a line's number, extension and ESN fields (which other features and virtual lines reuse)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from webex_bulk.simulator.records import Agent, Feature, Line, Location
from webex_bulk.simulator.tenant import Tenant


@attrs.frozen
class Kind:
    """One feature type as the API exposes it."""

    name: str
    path: str
    id_param: str
    list_key: str
    create_status: int
    create_required: tuple[str, ...]
    update_required: tuple[str, ...]


_NO_ANSWER = tuple(
    f"callPolicies.noAnswer.{field}"
    for field in (
        "nextAgentEnabled",
        "nextAgentRings",
        "forwardEnabled",
        "numberOfRings",
        "destinationVoicemailEnabled",
    )
)
_HG_POLICIES = ("callPolicies.policy", "callPolicies.noAnswer", *_NO_ANSWER)
_QUEUE_SETTINGS = (
    "queueSettings.queueSize",
    "queueSettings.overflow",
    "queueSettings.overflow.action",
    "queueSettings.overflow.greeting",
    "queueSettings.welcomeMessage.greeting",
    "queueSettings.waitMessage.waitMode",
    "queueSettings.comfortMessage.greeting",
    "queueSettings.comfortMessageBypass.greeting",
    "queueSettings.mohMessage.normalSource",
    "queueSettings.mohMessage.normalSource.greeting",
    "queueSettings.mohMessage.alternateSource",
    "queueSettings.mohMessage.alternateSource.greeting",
    "queueSettings.whisperMessage.greeting",
)
_CQ_POLICIES = (
    "callPolicies.routingType",
    "callPolicies.policy",
    "callPolicies.callBounce",
    "callPolicies.distinctiveRing",
    "callPolicies.distinctiveRing.enabled",
)
_MENUS = tuple(
    f"{menu}.{field}"
    for menu in ("businessHoursMenu", "afterHoursMenu")
    for field in ("greeting", "extensionEnabled", "keyConfigurations")
) + tuple(
    f"{menu}.keyConfigurations[].{field}"
    for menu in ("businessHoursMenu", "afterHoursMenu")
    for field in ("key", "action")
)
_ALTERNATES = ("alternateNumbers[].phoneNumber",)

HUNT_GROUP = Kind(
    name="HUNT_GROUP",
    path="huntGroups",
    id_param="huntGroupId",
    list_key="huntGroups",
    create_status=200,
    create_required=("name", "callPolicies", *_HG_POLICIES, "agents", "agents[].id", "enabled"),
    update_required=(*_HG_POLICIES, "agents[].id", *_ALTERNATES),
)
CALL_QUEUE = Kind(
    name="CALL_QUEUE",
    path="queues",
    id_param="queueId",
    list_key="queues",
    create_status=200,
    create_required=(
        "name",
        "callPolicies",
        *_CQ_POLICIES,
        "queueSettings",
        *_QUEUE_SETTINGS,
        "agents",
        "agents[].id",
    ),
    update_required=(
        "queueSettings",
        *_QUEUE_SETTINGS,
        "callPolicies.routingType",
        "agents[].id",
        "alternateNumberSettings.alternateNumbers[].phoneNumber",
    ),
)
AUTO_ATTENDANT = Kind(
    name="AUTO_ATTENDANT",
    path="autoAttendants",
    id_param="autoAttendantId",
    list_key="autoAttendants",
    create_status=201,
    create_required=(
        "name",
        "businessSchedule",
        "businessHoursMenu",
        "afterHoursMenu",
        *_MENUS,
        *_ALTERNATES,
        "alternateNumbers[].ringPattern",
    ),
    update_required=(*_MENUS, *_ALTERNATES, "alternateNumbers[].ringPattern"),
)
KINDS = (HUNT_GROUP, CALL_QUEUE, AUTO_ATTENDANT)

CALL_BOUNCE_DEFAULTS = {
    "callBounceEnabled": True,
    "callBounceMaxRings": 8,
    "agentUnavailableEnabled": False,
    "alertAgentEnabled": False,
    "alertAgentMaxSeconds": 30,
    "callBounceOnHoldEnabled": False,
    "callBounceOnHoldMaxSeconds": 60,
}


def feature_summary(tenant: Tenant, feature: Feature) -> dict[str, Any]:
    """A feature as the org-wide list shows it."""
    location = tenant.locations.get(feature.location_id)
    body: dict[str, Any] = {
        "id": feature.id,
        "name": feature.name,
        "locationName": location.name if location else "",
        "locationId": feature.location_id,
    }
    add_line(body, feature.line, location)
    if feature.kind == "AUTO_ATTENDANT":
        body["tollFreeNumber"] = False
    else:
        body["enabled"] = bool(feature.settings.get("enabled", True))
    if feature.kind == "CALL_QUEUE":
        body["hasCxEssentials"] = False
    return body


def feature_details(tenant: Tenant, feature: Feature) -> dict[str, Any]:
    """A feature's details: defaults, then the stored settings, then the computed fields."""
    location = tenant.locations.get(feature.location_id)
    settings = feature.settings
    body: dict[str, Any] = {
        "enabled": True,
        "firstName": feature.name,
        "lastName": ".",
        "languageCode": location.preferred_language if location else "en_us",
        "timeZone": location.time_zone if location else "",
        **_kind_defaults(feature),
        **settings,
        "id": feature.id,
        "name": feature.name,
    }
    add_line(body, feature.line, location)
    if feature.kind == "HUNT_GROUP":
        policies = dict(settings.get("callPolicies") or {})
        policies["noAnswer"] = {"systemMaxNumberOfRings": 20, **(policies.get("noAnswer") or {})}
        body["callPolicies"] = policies
    if feature.kind == "CALL_QUEUE":
        policies = dict(settings.get("callPolicies") or {})
        policies["callBounce"] = {**CALL_BOUNCE_DEFAULTS, **(policies.get("callBounce") or {})}
        body["callPolicies"] = policies
    if feature.kind != "AUTO_ATTENDANT":
        body["agents"] = [_agent_json(tenant, agent, feature.kind) for agent in feature.agents]
    return body


def _kind_defaults(feature: Feature) -> Mapping[str, Any]:
    if feature.kind == "HUNT_GROUP":
        return {
            "distinctiveRing": False,
            "alternateNumbers": [],
            "huntGroupCallerIdForOutgoingCallsEnabled": False,
        }
    if feature.kind == "CALL_QUEUE":
        return {
            "hasCxEssentials": False,
            "alternateNumberSettings": {"distinctiveRingEnabled": True, "alternateNumbers": []},
        }
    return {
        "tollFreeNumber": False,
        "alternateNumbers": [],
        "extensionDialing": "ENTERPRISE",
        "nameDialing": "ENTERPRISE",
    }


def add_line(
    body: dict[str, Any], line: Line, location: Location | None, number_key: str = "phoneNumber"
) -> None:
    """A line's number (under ``number_key``), ``extension`` and, with the location's routing
    prefix, ``routingPrefix`` and ``esn``."""
    if line.number:
        body[number_key] = line.number
    if line.extension:
        body["extension"] = line.extension
        if location is not None and location.routing_prefix:
            body["routingPrefix"] = location.routing_prefix
            body["esn"] = location.routing_prefix + line.extension


def _agent_json(tenant: Tenant, agent: Agent, kind: str) -> dict[str, Any]:
    owner = tenant.owner_by_id(agent.id)
    body: dict[str, Any] = {"id": agent.id}
    if owner is not None:
        first, last = tenant.owner_names(owner)
        body.update(type=owner.type, firstName=first, lastName=last or ".")
        line = tenant.owner_line(owner)
        if line is not None and line.number:
            body["phoneNumber"] = line.number
        if line is not None and line.extension:
            body["extension"] = line.extension
    if agent.weight:
        body["weight"] = agent.weight
    if kind == "CALL_QUEUE" and agent.skill_level is not None:
        body["skillLevel"] = agent.skill_level
    return body
