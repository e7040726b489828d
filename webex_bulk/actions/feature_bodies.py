"""Pure request bodies of the call features: hunt groups, call queues, auto attendants.

Bottom layer: no network, no asyncio, no clock. Their comparison is ``compare.feature_diff``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from webex_bulk.actions.bodies import line_fields
from webex_bulk.actions.compare import JsonDict
from webex_bulk.models import Row

POLICIES = ("circular", "regular", "simultaneous", "uniform", "weighted")


def agents_body(agent_ids: Sequence[str], policy: str) -> list[JsonDict]:
    """``agents`` entries; for the weighted policy, weights that sum to 100."""
    if policy != "weighted" or not agent_ids:
        return [{"id": agent} for agent in agent_ids]
    share, extra = divmod(100, len(agent_ids))
    return [
        {"id": agent, "weight": str(share + (1 if index < extra else 0))}
        for index, agent in enumerate(agent_ids)
    ]


HUNT_GROUP_NO_ANSWER: Mapping[str, Any] = {
    "nextAgentEnabled": True,
    "nextAgentRings": 5,
    "forwardEnabled": False,
    "numberOfRings": 15,
    "destinationVoicemailEnabled": False,
}


def hunt_group_create_body(row: Row, agent_ids: Sequence[str]) -> JsonDict:
    """``POST …/locations/{id}/huntGroups`` minimal body (CreateHuntGroupObject)."""
    policy = row.get("policy", "circular")
    return {
        "name": row.get("name"),
        **line_fields(row),
        "callPolicies": {
            "policy": policy.upper(),
            "waitingEnabled": False,
            "noAnswer": dict(HUNT_GROUP_NO_ANSWER),
        },
        "agents": agents_body(agent_ids, policy),
        "enabled": True,
    }


QUEUE_CALL_BOUNCE: Mapping[str, Any] = {
    "callBounceEnabled": True,
    "callBounceMaxRings": 8,
    "agentUnavailableEnabled": False,
    "alertAgentEnabled": False,
    "alertAgentMaxSeconds": 30,
    "callBounceOnHoldEnabled": False,
    "callBounceOnHoldMaxSeconds": 60,
}


QUEUE_OVERFLOW: Mapping[str, Any] = {
    "action": "PERFORM_BUSY_TREATMENT",
    "sendToVoicemail": False,
    "greeting": "DEFAULT",
}


def call_queue_create_body(row: Row, agent_ids: Sequence[str]) -> JsonDict:
    """``POST …/locations/{id}/queues`` minimal body (wxc_sdk's "simple queue" defaults)."""
    policy = row.get("policy", "circular")
    return {
        "name": row.get("name"),
        **line_fields(row),
        "callPolicies": {
            "routingType": "PRIORITY_BASED",
            "policy": policy.upper(),
            "callBounce": dict(QUEUE_CALL_BOUNCE),
            "distinctiveRing": {"enabled": True, "ringPattern": "NORMAL"},
        },
        "queueSettings": {
            "queueSize": int(row.get("queue_size", "10")),
            "overflow": dict(QUEUE_OVERFLOW),
        },
        "agents": agents_body(agent_ids, policy),
    }


def minimal_menu() -> JsonDict:
    """wxc_sdk's minimal auto-attendant menu: default greeting, key 0 exits."""
    return {
        "greeting": "DEFAULT",
        "extensionEnabled": True,
        "keyConfigurations": [{"key": "0", "action": "EXIT"}],
    }


def auto_attendant_create_body(row: Row, schedule_name: str) -> JsonDict:
    """``POST …/locations/{id}/autoAttendants`` minimal body; the schedule goes by its name."""
    return {
        "name": row.get("name"),
        **line_fields(row),
        "businessSchedule": schedule_name,
        "businessHoursMenu": minimal_menu(),
        "afterHoursMenu": minimal_menu(),
    }


def hunt_group_update_body(
    row: Row, remote: Mapping[str, Any], fields: Sequence[str], agent_ids: Sequence[str]
) -> JsonDict:
    """``PUT …/huntGroups/{id}`` body (ModifyHuntGroupObject) for the differing fields."""
    body = line_fields(row)
    policy = row.get("policy", "circular")
    if "policy" in fields:
        current = remote.get("callPolicies")
        policies = dict(current) if isinstance(current, Mapping) else {}
        no_answer = policies.get("noAnswer")
        no_answer = dict(no_answer) if isinstance(no_answer, Mapping) else {}
        no_answer.pop("systemMaxNumberOfRings", None)  # read-only
        policies["noAnswer"] = no_answer or dict(HUNT_GROUP_NO_ANSWER)
        body["callPolicies"] = {**policies, "policy": policy.upper()}
    if "members" in fields or "policy" in fields:
        body["agents"] = agents_body(agent_ids, policy)
    return body


def call_queue_update_body(
    row: Row, remote: Mapping[str, Any], fields: Sequence[str], agent_ids: Sequence[str]
) -> JsonDict:
    """``PUT …/queues/{id}`` body (ModifyCallQueueObject): ``queueSettings`` is required there,
    so the remote one is carried back with the wanted size."""
    body = line_fields(row)
    policy = row.get("policy", "circular")
    current = remote.get("queueSettings")
    settings = dict(current) if isinstance(current, Mapping) else {}
    settings.setdefault("overflow", dict(QUEUE_OVERFLOW))
    size = row.get("queue_size") or str(settings.get("queueSize") or "10")
    body["queueSettings"] = {**settings, "queueSize": int(size)}
    if "policy" in fields:
        current_policies = remote.get("callPolicies")
        policies = dict(current_policies) if isinstance(current_policies, Mapping) else {}
        policies.setdefault("routingType", "PRIORITY_BASED")
        body["callPolicies"] = {**policies, "policy": policy.upper()}
    if "members" in fields or "policy" in fields:
        body["agents"] = agents_body(agent_ids, policy)
    return body


def auto_attendant_update_body(row: Row, schedule_name: str) -> JsonDict:
    """``PUT …/autoAttendants/{id}`` body (ModifyAutoAttendantObject) for number and schedule."""
    return {**line_fields(row), "businessSchedule": schedule_name}
