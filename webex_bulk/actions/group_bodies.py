"""Pure request bodies and comparisons of call parks, call park extensions, call pickups, paging
groups, voicemail groups and virtual lines.

Bottom layer: no network, no asyncio, no clock. Members are compared as **sets** of remote ids.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from webex_bulk.actions.bodies import line_fields
from webex_bulk.actions.compare import JsonDict, canonical_e164, canonical_text, fold
from webex_bulk.actions.compared import Compared, member_labels
from webex_bulk.models import Row

#: CSV recall option → the call park API's ``recall.option``.
RECALL_OPTIONS: Mapping[str, str] = {
    "parking_user_only": "ALERT_PARKING_USER_ONLY",
    "parking_user_first_then_hunt_group": "ALERT_PARKING_USER_FIRST_THEN_HUNT_GROUP",
    "hunt_group_only": "ALERT_HUNT_GROUP_ONLY",
}


def _text(value: object) -> str:
    """A remote scalar as text (the voicemail group GET types its extension as a number)."""
    if isinstance(value, bool) or value is None:
        return ""
    return canonical_text(value if isinstance(value, str) else str(value))


def remote_ids(items: Any) -> frozenset[str]:
    """The ids of a remote member list (objects with an ``id``, or plain id strings)."""
    found = set()
    for item in items if isinstance(items, list) else ():
        value = item.get("id") if isinstance(item, Mapping) else item
        if value:
            found.add(str(value))
    return frozenset(found)


def line_diff(row: Row, extension: object, number: object, region: str) -> Compared:
    """``extension`` and ``phone_number`` of the row's line compared with the remote one."""
    compared = Compared().text("extension", row.get("extension"), _text(extension))
    wanted = canonical_e164(row.get("phone_number"), region)
    return compared.text("phone_number", wanted, canonical_e164(_text(number), region))


def _set_diff(
    compared: Compared, row: Row, column: str, wanted: Iterable[str], remote: Any
) -> None:
    """A member column compared as a set of remote ids (shown as the members' names)."""
    differs = frozenset(wanted) != remote_ids(remote)
    compared.mark(column, row.get(column), member_labels(remote), differs=differs)


# -- call park extensions ----------------------------------------------------------------------


def park_extension_body(row: Row) -> JsonDict:
    """``POST``/``PUT …/callParkExtensions`` body."""
    return {"name": row.get("name"), "extension": row.get("extension")}


def park_extension_diff(row: Row, remote: Mapping[str, Any], region: str) -> Compared:
    """The extension compared."""
    return line_diff(row, remote.get("extension"), None, region)


# -- call parks --------------------------------------------------------------------------------


def recall_body(row: Row, hunt_group_id: str) -> JsonDict:
    """The ``recall`` object: the option and, when it needs one, the hunt group."""
    recall: JsonDict = {"option": RECALL_OPTIONS[row.get("recall", "parking_user_only")]}
    if hunt_group_id:
        recall["huntGroupId"] = hunt_group_id
    return recall


def call_park_body(row: Row, refs: Mapping[str, Any]) -> JsonDict:
    """``POST``/``PUT …/callParks`` body: recall, members and call park extensions as ids."""
    return {
        "name": row.get("name"),
        "recall": recall_body(row, refs["hunt_group_id"]),
        "agents": list(refs["agent_ids"]),
        "callParkExtensions": list(refs["extension_ids"]),
    }


_RECALL_COLUMN = {option: column for column, option in RECALL_OPTIONS.items()}


def call_park_diff(row: Row, remote: Mapping[str, Any], refs: Mapping[str, Any]) -> Compared:
    """Members, recall option, recall hunt group and call park extensions compared."""
    recall = remote.get("recall")
    recall = recall if isinstance(recall, Mapping) else {}
    wanted = recall_body(row, refs["hunt_group_id"])
    compared = Compared()
    _set_diff(compared, row, "members", refs["agent_ids"], remote.get("agents"))
    option = _text(recall.get("option"))
    compared.mark(
        "recall",
        row.get("recall", "parking_user_only"),
        _RECALL_COLUMN.get(option, option),
        differs=wanted["option"] != option,
    )
    held = _text(recall.get("huntGroupName") or recall.get("huntGroupId"))
    differs = _text(wanted.get("huntGroupId")) != _text(recall.get("huntGroupId"))
    compared.mark("recall_hunt_group", row.get("recall_hunt_group"), held, differs=differs)
    extensions = remote.get("callParkExtensions")
    _set_diff(compared, row, "park_extensions", refs["extension_ids"], extensions)
    return compared


# -- call pickups ------------------------------------------------------------------------------


def call_pickup_body(row: Row, refs: Mapping[str, Any]) -> JsonDict:
    """``POST``/``PUT …/callPickups`` body: the name and the members as ids."""
    return {"name": row.get("name"), "agents": list(refs["agent_ids"])}


def call_pickup_diff(row: Row, remote: Mapping[str, Any], refs: Mapping[str, Any]) -> Compared:
    """The member set compared."""
    compared = Compared()
    _set_diff(compared, row, "members", refs["agent_ids"], remote.get("agents"))
    return compared


# -- paging groups -----------------------------------------------------------------------------


def paging_body(row: Row, refs: Mapping[str, Any]) -> JsonDict:
    """``POST``/``PUT …/paging`` body: the line, originators and targets as ids."""
    return {
        "name": row.get("name"),
        **line_fields(row),
        "originators": list(refs["originator_ids"]),
        "targets": list(refs["target_ids"]),
    }


def paging_diff(
    row: Row, remote: Mapping[str, Any], refs: Mapping[str, Any], region: str
) -> Compared:
    """The line, originator set and target set compared."""
    compared = line_diff(row, remote.get("extension"), remote.get("phoneNumber"), region)
    _set_diff(compared, row, "originators", refs["originator_ids"], remote.get("originators"))
    _set_diff(compared, row, "targets", refs["target_ids"], remote.get("targets"))
    return compared


# -- voicemail groups --------------------------------------------------------------------------


def voicemail_notifications(row: Row) -> JsonDict:
    """New-message notifications: on, to the row's e-mail, when one is given."""
    email = row.get("notification_email")
    return {"enabled": True, "destination": email} if email else {"enabled": False}


def voicemail_create_body(row: Row, language: str) -> JsonDict:
    """``POST …/voicemailGroups`` body with every field the API requires (minimal defaults)."""
    return {
        "name": row.get("name"),
        **line_fields(row),
        "passcode": row.get("passcode"),
        "languageCode": language,
        "messageStorage": {"storageType": "INTERNAL"},
        "notifications": voicemail_notifications(row),
        "faxMessage": {"enabled": False},
        "transferToNumber": {"enabled": False},
        "emailCopyOfMessage": {"enabled": False},
    }


def voicemail_update_body(row: Row, fields: Sequence[str]) -> JsonDict:
    """``PUT …/voicemailGroups/{id}`` body: the line, the notifications when they differ, and the
    passcode when the row gives one (it cannot be read back, so it rides along any change)."""
    body = line_fields(row)
    if "notification_email" in fields:
        body["notifications"] = voicemail_notifications(row)
    if row.get("passcode"):
        body["passcode"] = row.get("passcode")
    return body


def voicemail_diff(row: Row, remote: Mapping[str, Any], region: str) -> Compared:
    """The line and the notification e-mail compared (the passcode is never answered)."""
    compared = line_diff(row, remote.get("extension"), remote.get("phoneNumber"), region)
    notifications = remote.get("notifications")
    notifications = notifications if isinstance(notifications, Mapping) else {}
    destination = _text(notifications.get("destination")) if notifications.get("enabled") else ""
    return compared.text("notification_email", row.get("notification_email"), destination.lower())


# -- virtual lines -----------------------------------------------------------------------------

VIRTUAL_LINE_NAMES = (("first_name", "firstName"), ("last_name", "lastName"))


def virtual_line_create_body(row: Row, location_id: str) -> JsonDict:
    """``POST /telephony/config/virtualLines`` body."""
    return {
        "firstName": row.get("first_name"),
        "lastName": row.get("last_name"),
        "displayName": row.get("display_name"),
        "locationId": location_id,
        **line_fields(row),
    }


def virtual_line_update_body(row: Row, fields: Sequence[str]) -> JsonDict:
    """``PUT /telephony/config/virtualLines/{id}`` body for the differing fields."""
    body: JsonDict = {
        key: row.get(column) for column, key in VIRTUAL_LINE_NAMES if column in fields
    }
    body.update(line_fields(row))
    return body


def virtual_line_number(remote: Mapping[str, Any]) -> Mapping[str, Any]:
    """The ``number`` object of a virtual line (``external``, ``extension``)."""
    number = remote.get("number")
    return number if isinstance(number, Mapping) else {}


def virtual_line_diff(row: Row, remote: Mapping[str, Any], region: str) -> Compared:
    """Names and line compared (the display name is the key: it matches already)."""
    compared = Compared()
    for column, key in VIRTUAL_LINE_NAMES:
        compared.text(column, row.get(column), canonical_text(remote.get(key)))
    number = virtual_line_number(remote)
    return compared.extend(line_diff(row, number.get("extension"), number.get("external"), region))


def same_name(item: Mapping[str, Any], field: str, wanted: str) -> bool:
    """Whether a remote item's ``field`` is ``wanted`` (NFC-collapsed, case-folded)."""
    return fold(item.get(field)) == fold(wanted)
