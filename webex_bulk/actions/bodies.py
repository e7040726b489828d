"""Pure request builders: a normalised row → the JSON body of each Webex create and update.

Bottom layer: no network, no asyncio, no clock. Call-feature bodies are in ``feature_bodies``;
comparison of desired and remote values is in ``compare``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from webex_bulk.actions.compare import (
    ADDRESS_KEYS,
    PERSON_TEXT,
    RECUR_DAY,
    WEEKDAYS,
    JsonDict,
    WeeklyHours,
    canonical_mac,
    display_name,
    remote_address,
    workspace_calling,
)
from webex_bulk.config import Settings
from webex_bulk.models import Row

# -- orgId placement (WEBEX_API §1.9) ----------------------------------------------------------


def org_query(settings: Settings, params: Mapping[str, Any] | None = None) -> JsonDict:
    """Query parameters with ``orgId`` added when a target org is set (GETs, lists, telephony)."""
    query = dict(params or {})
    if settings.org_id:
        query["orgId"] = settings.org_id
    return query


def org_body(settings: Settings, body: Mapping[str, Any]) -> JsonDict:
    """A JSON body with ``orgId`` added when a target org is set.

    For the calls that want it in the body: POST /people, PUT /people/{id},
    PATCH /licenses/users, POST /workspaces.
    """
    result = dict(body)
    if settings.org_id:
        result["orgId"] = settings.org_id
    return result


# -- locations ---------------------------------------------------------------------------------


def _address(row: Row) -> JsonDict:
    return {key: row.get(column) for column, key in ADDRESS_KEYS.items() if row.get(column)}


def location_create_body(row: Row) -> JsonDict:
    """``POST /locations`` body (PostCommonLocationObject)."""
    return {
        "name": row.get("name"),
        "timeZone": row.get("time_zone"),
        "preferredLanguage": row.get("preferred_language", "en_us"),
        "announcementLanguage": row.get("announcement_language", "en_us"),
        "address": _address(row),
    }


def location_calling_body(row: Row, location_id: str, remote_name: str = "") -> JsonDict:
    """``POST /telephony/config/locations`` body: enable Webex Calling on an existing location."""
    body = location_create_body(row)
    body["id"] = location_id
    if remote_name:
        body["name"] = remote_name
    return body


def location_update_body(row: Row, fields: Sequence[str], remote: Mapping[str, Any]) -> JsonDict:
    """``PUT /locations/{id}`` body for the differing fields (PutCommonLocationObject).

    The address is sent whole (remote values kept for columns the row leaves empty), because the
    API replaces the address object. ``announcement_language`` is not part of this body: it is set
    with ``PUT /telephony/config/locations/{id}`` (see ``location_calling_update_body``).
    """
    body: JsonDict = {}
    if "time_zone" in fields:
        body["timeZone"] = row.get("time_zone")
    if "preferred_language" in fields:
        body["preferredLanguage"] = row.get("preferred_language")
    if any(column in fields for column in ADDRESS_KEYS):
        current = remote_address(remote)
        body["address"] = {**{k: v for k, v in current.items() if v}, **_address(row)}
    return body


def location_calling_update_body(row: Row) -> JsonDict:
    """``PUT /telephony/config/locations/{id}`` body that sets the announcement language."""
    return {"announcementLanguage": row.get("announcement_language")}


# -- numbers -----------------------------------------------------------------------------------


def numbers_add_body(numbers: Sequence[str], state: str) -> JsonDict:
    """``POST …/locations/{id}/numbers`` body (NumbersPost) for numbers of one wanted state."""
    return {"phoneNumbers": list(numbers), "state": state.upper()}


def numbers_state_body(numbers: Sequence[str], state: str) -> JsonDict:
    """``PUT …/locations/{id}/numbers`` body (NumbersRequest): activate or deactivate numbers."""
    action = "ACTIVATE" if state == "active" else "DEACTIVATE"
    return {"phoneNumbers": list(numbers), "action": action}


# -- schedules ---------------------------------------------------------------------------------


#: A fixed Monday: each event starts on the first of its weekdays in that week (no clock read).
_ANCHOR_WEEK = tuple(f"2024-01-0{day}" for day in range(1, 8))


def schedule_events(hours: WeeklyHours) -> list[JsonDict]:
    """Webex ``events``: one weekly-recurring event per distinct opening time span."""
    spans: dict[tuple[str, str], list[str]] = {}
    for day, start, end in hours:
        spans.setdefault((start, end), []).append(day)
    events = []
    for (start, end), days in sorted(spans.items()):
        first = min(WEEKDAYS.index(day) for day in days)
        weekly = {RECUR_DAY[day]: day in days for day in WEEKDAYS}
        events.append(
            {
                "name": f"{start.replace(':', '')}-{end.replace(':', '')}",
                "startDate": _ANCHOR_WEEK[first],
                "endDate": _ANCHOR_WEEK[first],
                "startTime": start,
                "endTime": end,
                "allDayEnabled": False,
                "recurrence": {"recurForEver": True, "recurWeekly": weekly},
            }
        )
    return events


def schedule_create_body(name: str, hours: WeeklyHours) -> JsonDict:
    """``POST …/locations/{id}/schedules`` body (PostScheduleObject): business hours."""
    return {"type": "businessHours", "name": name, "events": schedule_events(hours)}


def schedule_update_body(name: str, hours: WeeklyHours) -> JsonDict:
    """``PUT …/schedules/businessHours/{id}`` body (ModifyScheduleObject): the wanted events."""
    events = [{**event, "newName": event["name"]} for event in schedule_events(hours)]
    return {"name": name, "events": events}


# -- people and licenses -----------------------------------------------------------------------


#: Fields of a Person that a PUT must not carry back (wxc_sdk ``Person.create_update``).
PERSON_READ_ONLY = (
    "id",
    "created",
    "lastModified",
    "timezone",
    "lastActivity",
    "sipAddresses",
    "status",
    "invitePending",
    "loginEnabled",
    "type",
)


def person_create_body(row: Row, *, location_id: str, license_id: str) -> JsonDict:
    """``POST /people?callingData=true`` body: a calling user in one call (orgId: ``org_body``)."""
    body: JsonDict = {
        "emails": [row.get("email")],
        "firstName": row.get("first_name"),
        "lastName": row.get("last_name"),
        "displayName": display_name(row),
        "licenses": [license_id],
        "locationId": location_id,
    }
    if row.get("extension"):
        body["extension"] = row.get("extension")
    if row.get("phone_number"):
        body["phoneNumbers"] = [{"type": "work", "value": row.get("phone_number")}]
    for column in ("department", "title"):
        if row.get(column):
            body[column] = row.get(column)
    return body


def person_update_body(remote: Mapping[str, Any], row: Row, fields: Sequence[str]) -> JsonDict:
    """``PUT /people/{id}`` full-replace body: the GET result minus read-only fields, with only
    the differing fields changed; licenses and everything else are carried back unchanged.
    Only ``work`` numbers are written back (the only type the API accepts on write).
    """
    body = {key: value for key, value in remote.items() if key not in PERSON_READ_ONLY}
    for column, key in PERSON_TEXT:
        if column in fields:
            body[key] = display_name(row) if column == "display_name" else row.get(column)
    if "extension" in fields:
        body["extension"] = row.get("extension")
    numbers = [n for n in body.get("phoneNumbers") or () if n.get("type") == "work"]
    if "phone_number" in fields:
        numbers = [{"type": "work", "value": row.get("phone_number")}]
    if numbers:
        body["phoneNumbers"] = [{"type": "work", "value": n.get("value")} for n in numbers]
    else:
        body.pop("phoneNumbers", None)
    return body


def license_patch_body(
    person_id: str,
    add_id: str,
    *,
    location_id: str,
    extension: str = "",
    phone_number: str = "",
) -> JsonDict:
    """``PATCH /licenses/users`` body adding a calling license (orgId: ``org_body``).

    No ``remove`` entry: the add replaces the calling license a user holds.
    """
    properties: JsonDict = {"locationId": location_id}
    if extension:
        properties["extension"] = extension
    if phone_number:
        properties["phoneNumber"] = phone_number
    return {
        "personId": person_id,
        "licenses": [{"id": add_id, "operation": "add", "properties": properties}],
    }


def move_users_body(
    person_id: str,
    location_id: str,
    *,
    validate: bool,
    extension: str = "",
    phone_number: str = "",
) -> JsonDict:
    """The move-users job body for one calling user (``orgId`` goes in the query).

    An extension or number is sent only when it changes: a user moves with its own line.
    """
    user: JsonDict = {"userId": person_id}
    if extension:
        user["extension"] = extension
    if phone_number:
        user["phoneNumber"] = phone_number
    return {"usersList": [{"locationId": location_id, "validate": validate, "users": [user]}]}


# -- workspaces --------------------------------------------------------------------------------


def line_fields(row: Row) -> JsonDict:
    """The row's line as Webex spells it: ``extension`` and ``phoneNumber``, those given."""
    line: JsonDict = {}
    if row.get("extension"):
        line["extension"] = row.get("extension")
    if row.get("phone_number"):
        line["phoneNumber"] = row.get("phone_number")
    return line


def _webex_calling(row: Row, location_id: str) -> JsonDict:
    calling: JsonDict = {"locationId": location_id, **line_fields(row)}
    return {"type": "webexCalling", "webexCalling": calling}


def workspace_create_body(row: Row, location_id: str) -> JsonDict:
    """``POST /workspaces`` body (WorkspaceCreationRequest) with Webex Calling; orgId: ``org_body``.

    ``supportedDevices`` is ``phones`` because the tool adds desk phones to workspaces, and the
    value cannot change after creation.
    """
    return {
        "displayName": row.get("display_name"),
        "locationId": location_id,
        "supportedDevices": "phones",
        "calling": _webex_calling(row, location_id),
    }


def workspace_update_body(
    row: Row, remote: Mapping[str, Any], location_id: str, *, calling: bool = True
) -> JsonDict:
    """``PUT /workspaces/{id}`` body: the fields a PUT would clear carried back, and ``calling``
    only when it must change (``calling``): Webex refuses any ``calling`` on a workspace with
    devices, even an unchanged one, while an omitted ``calling`` stays as it is."""
    body: JsonDict = {"displayName": remote.get("displayName") or row.get("display_name")}
    for key in ("capacity", "type", "notes", "hotdeskingStatus"):
        if remote.get(key) is not None:
            body[key] = remote[key]
    if not calling:
        return body
    wanted = _webex_calling(row, location_id)
    current = workspace_calling(remote)
    for key in ("extension", "phoneNumber"):
        if key not in wanted["webexCalling"] and current.get(key):
            wanted["webexCalling"][key] = current[key]
    body["calling"] = wanted
    return body


# -- devices -----------------------------------------------------------------------------------


def device_create_body(row: Row, owner_kind: str, owner_id: str, *, model: str = "") -> JsonDict:
    """``POST /devices`` body: mac, model (the supported-devices spelling when given) and
    exactly one of personId / workspaceId."""
    key = "personId" if owner_kind == "person" else "workspaceId"
    return {"mac": canonical_mac(row.get("mac")), "model": model or row.get("model"), key: owner_id}
