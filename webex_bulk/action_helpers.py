"""Pure request builders (row → Webex body) and semantic comparison (desired row vs remote object).

Bottom layer: no network, no asyncio, no clock. Comparisons return the CSV column names that
differ; an empty optional cell means "not managed" and never counts as a difference.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Protocol

import phonenumbers

from webex_bulk.config import Settings
from webex_bulk.models import Row

JsonDict = dict[str, Any]

# -- canonical values --------------------------------------------------------------------------


def canonical_text(text: object) -> str:
    """NFC, whitespace collapsed to single spaces, trimmed; None and non-text become ``""``."""
    if not isinstance(text, str):
        return ""
    return " ".join(unicodedata.normalize("NFC", text).split())


def fold(text: object) -> str:
    """The case-insensitive form of a name, as in row keys."""
    return canonical_text(text).casefold()


def canonical_e164(value: object, region: str = "US") -> str:
    """A phone number as E.164; text that does not parse comes back trimmed (plain compare)."""
    text = canonical_text(value).replace(" ", "")
    if not text:
        return ""
    try:
        parsed = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return text
    return str(phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164))


def canonical_mac(value: object) -> str:
    """A MAC address as 12 upper-case hex digits without separators."""
    text = canonical_text(value).upper()
    return "".join(ch for ch in text if ch in "0123456789ABCDEF")


def canonical_language(value: object) -> str:
    """A language code in the Webex spelling: ``en-US`` → ``en_us``."""
    return canonical_text(value).replace("-", "_").lower()


# -- orgId placement (WEBEX_API §1.9) ------------------------------------------------------------


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


# -- exact client-side matching (name filters of the API are substring / prefix filters) ------


def exact_matches(
    items: Iterable[Mapping[str, Any]], field: str, wanted: str
) -> list[Mapping[str, Any]]:
    """The items whose ``field`` equals ``wanted`` once NFC-collapsed and case-folded."""
    target = fold(wanted)
    return [item for item in items if fold(item.get(field)) == target]


def same_location(item: Mapping[str, Any], location_id: str) -> bool:
    """Whether a remote item lives in the location (``locationId`` or ``location.id``)."""
    found = item.get("locationId")
    if not found and isinstance(item.get("location"), Mapping):
        found = item["location"].get("id")
    return bool(found) and found == location_id


def _differs(desired: str, remote: str) -> bool:
    """A managed value differs; an empty desired value is not managed."""
    return bool(desired) and desired != remote


# -- locations ---------------------------------------------------------------------------------

#: CSV column → key inside the Webex ``address`` object.
ADDRESS_KEYS: Mapping[str, str] = {
    "address1": "address1",
    "address2": "address2",
    "city": "city",
    "state": "state",
    "postal_code": "postalCode",
    "country": "country",
}


def _address(row: Row) -> JsonDict:
    return {key: row.get(column) for column, key in ADDRESS_KEYS.items() if row.get(column)}


def _address_of(remote: Mapping[str, Any]) -> Mapping[str, Any]:
    address = remote.get("address")
    return address if isinstance(address, Mapping) else {}


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


def location_diff(row: Row, remote: Mapping[str, Any]) -> tuple[str, ...]:
    """CSV columns of a location that differ from the remote ``/locations`` object."""
    address = _address_of(remote)
    fields: list[str] = []
    if _differs(row.get("time_zone"), canonical_text(remote.get("timeZone"))):
        fields.append("time_zone")
    for column, key in ADDRESS_KEYS.items():
        remote_value = canonical_text(address.get(key))
        desired = row.get(column)
        if column == "country":
            desired, remote_value = desired.upper(), remote_value.upper()
        if _differs(desired, remote_value):
            fields.append(column)
    for column, key in (
        ("preferred_language", "preferredLanguage"),
        ("announcement_language", "announcementLanguage"),
    ):
        if _differs(canonical_language(row.get(column)), canonical_language(remote.get(key))):
            fields.append(column)
    return tuple(fields)


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
        current = _address_of(remote)
        body["address"] = {**{k: v for k, v in current.items() if v}, **_address(row)}
    return body


def location_calling_update_body(row: Row) -> JsonDict:
    """``PUT /telephony/config/locations/{id}`` body that sets the announcement language."""
    return {"announcementLanguage": row.get("announcement_language")}


# -- numbers -----------------------------------------------------------------------------------


def number_state(remote: Mapping[str, Any]) -> str:
    """A remote number's state as the CSV spells it (``active`` / ``inactive``)."""
    return canonical_text(remote.get("state")).lower() or "active"


def numbers_add_body(numbers: Sequence[str], state: str) -> JsonDict:
    """``POST …/locations/{id}/numbers`` body (NumbersPost) for numbers of one wanted state."""
    return {"phoneNumbers": list(numbers), "state": state.upper()}


def numbers_state_body(numbers: Sequence[str], state: str) -> JsonDict:
    """``PUT …/locations/{id}/numbers`` body (NumbersRequest): activate or deactivate numbers."""
    action = "ACTIVATE" if state == "active" else "DEACTIVATE"
    return {"phoneNumbers": list(numbers), "action": action}


def per_number_errors(body: Any, region: str = "US") -> dict[str, str]:
    """Per-number errors of a failed numbers add: E.164 → message.

    Webex answers a batch add it refuses in part with a 400 whose body is a list of
    ``{number, errorCode, errorMessage}`` (bare, or under ``errors``/``items``).
    """
    entries = body
    if isinstance(body, Mapping):
        entries = body.get("errors") or body.get("items") or body.get("numbers") or []
    found: dict[str, str] = {}
    for entry in entries if isinstance(entries, list) else []:
        if not isinstance(entry, Mapping) or not entry.get("number"):
            continue
        message = entry.get("errorMessage") or entry.get("description") or "refused"
        code = entry.get("errorCode")
        text = f"{message} (error code {code})" if code is not None else str(message)
        found[canonical_e164(entry["number"], region)] = text
    return found


# -- schedules ---------------------------------------------------------------------------------


class DayHoursLike(Protocol):
    """One day's opening hours (``data_pipeline.DayHours``)."""

    @property
    def day(self) -> str:
        """``mon`` … ``sun``."""
        ...

    @property
    def start(self) -> str:
        """Opening time, ``HH:MM``."""
        ...

    @property
    def end(self) -> str:
        """Closing time, ``HH:MM``."""
        ...


WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_RECUR_DAY = {
    "mon": "monday",
    "tue": "tuesday",
    "wed": "wednesday",
    "thu": "thursday",
    "fri": "friday",
    "sat": "saturday",
    "sun": "sunday",
}
#: A fixed Monday: each event starts on the first of its weekdays in that week (no clock read).
_ANCHOR_WEEK = tuple(f"2024-01-0{day}" for day in range(1, 8))

WeeklyHours = frozenset[tuple[str, str, str]]


def weekly_hours(hours: Iterable[DayHoursLike]) -> WeeklyHours:
    """Hours as a set of ``(day, start, end)``: the canonical form both sides are compared in."""
    return frozenset((h.day, h.start[:5], h.end[:5]) for h in hours)


def schedule_events(hours: WeeklyHours) -> list[JsonDict]:
    """Webex ``events``: one weekly-recurring event per distinct opening time span."""
    spans: dict[tuple[str, str], list[str]] = {}
    for day, start, end in hours:
        spans.setdefault((start, end), []).append(day)
    events = []
    for (start, end), days in sorted(spans.items()):
        first = min(WEEKDAYS.index(day) for day in days)
        weekly = {_RECUR_DAY[day]: day in days for day in WEEKDAYS}
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


def remote_weekly_hours(events: Any) -> WeeklyHours:
    """The weekly hours a remote schedule's events describe, touching spans of a day merged as
    in the CSV's canonical form; events that do not recur weekly are ignored."""
    spans: dict[str, list[tuple[str, str]]] = {}
    for event in events if isinstance(events, list) else []:
        recurrence = event.get("recurrence") if isinstance(event, Mapping) else None
        weekly = recurrence.get("recurWeekly") if isinstance(recurrence, Mapping) else None
        if not isinstance(weekly, Mapping):
            continue
        if event.get("allDayEnabled"):
            span = ("00:00", "24:00")
        else:
            span = (
                canonical_text(event.get("startTime"))[:5],
                canonical_text(event.get("endTime"))[:5],
            )
        for day in WEEKDAYS:
            if weekly.get(_RECUR_DAY[day]):
                spans.setdefault(day, []).append(span)
    return frozenset(
        (day, start, end) for day, found in spans.items() for start, end in _merged(found)
    )


def _merged(spans: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Spans of one day with touching or overlapping ones joined (HH:MM sorts as text)."""
    merged: list[tuple[str, str]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


# -- people ------------------------------------------------------------------------------------

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

_PERSON_TEXT = (
    ("first_name", "firstName"),
    ("last_name", "lastName"),
    ("display_name", "displayName"),
    ("department", "department"),
    ("title", "title"),
)


def display_name(row: Row) -> str:
    """The wanted display name: the cell, or "first last"."""
    return row.get("display_name") or canonical_text(
        f"{row.get('first_name')} {row.get('last_name')}"
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


def work_number(person: Mapping[str, Any], region: str = "US") -> str:
    """A person's work number as E.164 (first ``work`` entry), or ``""``."""
    for entry in person.get("phoneNumbers") or ():
        if isinstance(entry, Mapping) and entry.get("type") == "work":
            return canonical_e164(entry.get("value"), region)
    return ""


def person_diff(row: Row, remote: Mapping[str, Any], region: str = "US") -> tuple[str, ...]:
    """CSV columns of a user that differ from the remote Person (names NFC-collapsed, E.164)."""
    fields = []
    for column, key in _PERSON_TEXT:
        desired = display_name(row) if column == "display_name" else row.get(column)
        if _differs(canonical_text(desired), canonical_text(remote.get(key))):
            fields.append(column)
    if _differs(row.get("extension"), canonical_text(remote.get("extension"))):
        fields.append("extension")
    if _differs(canonical_e164(row.get("phone_number"), region), work_number(remote, region)):
        fields.append("phone_number")
    return tuple(fields)


def person_update_body(remote: Mapping[str, Any], row: Row, fields: Sequence[str]) -> JsonDict:
    """``PUT /people/{id}`` full-replace body: the GET result minus read-only fields, with only
    the differing fields changed; licenses and everything else are carried back unchanged.
    Only ``work`` numbers are written back (the only type the API accepts on write).
    """
    body = {key: value for key, value in remote.items() if key not in PERSON_READ_ONLY}
    for column, key in _PERSON_TEXT:
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
    remove_ids: Sequence[str] = (),
) -> JsonDict:
    """``PATCH /licenses/users`` body adding a calling license (orgId: ``org_body``)."""
    properties: JsonDict = {"locationId": location_id}
    if extension:
        properties["extension"] = extension
    if phone_number:
        properties["phoneNumber"] = phone_number
    licenses: list[JsonDict] = [{"id": add_id, "operation": "add", "properties": properties}]
    licenses += [{"id": lic, "operation": "remove"} for lic in remove_ids]
    return {"personId": person_id, "licenses": licenses}


def unassigned_licenses(requested: Iterable[str], response_body: Any) -> tuple[str, ...]:
    """Requested license ids missing from a ``PATCH /licenses/users`` answer (206 partial)."""
    assigned: set[str] = set()
    if isinstance(response_body, Mapping):
        for item in response_body.get("licenses") or ():
            assigned.add(item.get("id", "") if isinstance(item, Mapping) else str(item))
    return tuple(lic for lic in requested if lic not in assigned)


def license_kind(name: str) -> str:
    """The calling kind of a license by its Webex name: ``professional``, ``basic``,
    ``workspace``, or "" for a license that carries no Webex Calling."""
    lowered = fold(name)
    if "calling" not in lowered:
        return ""
    for kind in ("workspace", "professional", "basic"):
        if kind in lowered:
            return kind
    return ""


# -- workspaces --------------------------------------------------------------------------------


def _webex_calling(row: Row, location_id: str) -> JsonDict:
    calling: JsonDict = {"locationId": location_id}
    if row.get("extension"):
        calling["extension"] = row.get("extension")
    if row.get("phone_number"):
        calling["phoneNumber"] = row.get("phone_number")
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


def workspace_calling(remote: Mapping[str, Any]) -> Mapping[str, Any]:
    """The ``calling.webexCalling`` object of a workspace, or ``{}`` when not on Webex Calling."""
    calling = remote.get("calling")
    if not isinstance(calling, Mapping) or calling.get("type") != "webexCalling":
        return {}
    inner = calling.get("webexCalling")
    return inner if isinstance(inner, Mapping) else {}


def workspace_diff(row: Row, remote: Mapping[str, Any], region: str = "US") -> tuple[str, ...]:
    """CSV columns of a workspace that differ (extension, phone number; calling type implied)."""
    calling = workspace_calling(remote)
    fields = []
    if _differs(row.get("extension"), canonical_text(calling.get("extension"))):
        fields.append("extension")
    desired = canonical_e164(row.get("phone_number"), region)
    if _differs(desired, canonical_e164(calling.get("phoneNumber"), region)):
        fields.append("phone_number")
    return tuple(fields)


def workspace_update_body(row: Row, remote: Mapping[str, Any], location_id: str) -> JsonDict:
    """``PUT /workspaces/{id}`` body: calling set, and the fields a PUT would clear carried back."""
    body: JsonDict = {"displayName": remote.get("displayName") or row.get("display_name")}
    for key in ("capacity", "type", "notes", "hotdeskingStatus"):
        if remote.get(key) is not None:
            body[key] = remote[key]
    calling = _webex_calling(row, location_id)
    current = workspace_calling(remote)
    for key in ("extension", "phoneNumber"):
        if key not in calling["webexCalling"] and current.get(key):
            calling["webexCalling"][key] = current[key]
    body["calling"] = calling
    return body


# -- hunt groups, call queues, auto attendants -------------------------------------------------

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


def _number_fields(row: Row) -> JsonDict:
    body: JsonDict = {}
    if row.get("extension"):
        body["extension"] = row.get("extension")
    if row.get("phone_number"):
        body["phoneNumber"] = row.get("phone_number")
    return body


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
        **_number_fields(row),
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
        **_number_fields(row),
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
        **_number_fields(row),
        "businessSchedule": schedule_name,
        "businessHoursMenu": minimal_menu(),
        "afterHoursMenu": minimal_menu(),
    }


def remote_agent_ids(remote: Mapping[str, Any]) -> frozenset[str]:
    """The member set of a remote hunt group or call queue, as ids."""
    return frozenset(
        str(agent["id"])
        for agent in remote.get("agents") or ()
        if isinstance(agent, Mapping) and agent.get("id")
    )


def remote_policy(remote: Mapping[str, Any]) -> str:
    """A remote feature's routing policy in the CSV spelling."""
    policies = remote.get("callPolicies")
    return canonical_text(policies.get("policy")).lower() if isinstance(policies, Mapping) else ""


def feature_diff(
    row: Row,
    remote: Mapping[str, Any],
    *,
    agent_ids: Iterable[str] | None = None,
    schedule_name: str | None = None,
    region: str = "US",
) -> tuple[str, ...]:
    """CSV columns of a hunt group, call queue or auto attendant that differ from its details.

    Members are compared as a **set** of remote ids; the business schedule by name, case-folded.
    """
    fields = []
    if _differs(row.get("extension"), canonical_text(remote.get("extension"))):
        fields.append("extension")
    desired = canonical_e164(row.get("phone_number"), region)
    if _differs(desired, canonical_e164(remote.get("phoneNumber"), region)):
        fields.append("phone_number")
    if "callPolicies" in remote and _differs(row.get("policy", "circular"), remote_policy(remote)):
        fields.append("policy")
    if agent_ids is not None and frozenset(agent_ids) != remote_agent_ids(remote):
        fields.append("members")
    settings = remote.get("queueSettings")
    queue_size = settings.get("queueSize") if isinstance(settings, Mapping) else None
    if queue_size is not None and _differs(row.get("queue_size"), str(queue_size)):
        fields.append("queue_size")
    if schedule_name is not None and fold(schedule_name) != fold(remote.get("businessSchedule")):
        fields.append("business_schedule")
    return tuple(fields)


def hunt_group_update_body(
    row: Row, remote: Mapping[str, Any], fields: Sequence[str], agent_ids: Sequence[str]
) -> JsonDict:
    """``PUT …/huntGroups/{id}`` body (ModifyHuntGroupObject) for the differing fields."""
    body = _number_fields(row)
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
    body = _number_fields(row)
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
    return {**_number_fields(row), "businessSchedule": schedule_name}


# -- devices -----------------------------------------------------------------------------------


def device_create_body(row: Row, owner_kind: str, owner_id: str, *, model: str = "") -> JsonDict:
    """``POST /devices`` body: mac, model (the supported-devices spelling when given) and
    exactly one of personId / workspaceId."""
    key = "personId" if owner_kind == "person" else "workspaceId"
    return {"mac": canonical_mac(row.get("mac")), "model": model or row.get("model"), key: owner_id}


def device_owner(remote: Mapping[str, Any]) -> tuple[str, str]:
    """A remote device's owner as ``(kind, id)``; ``("", "")`` when it has none."""
    if remote.get("personId"):
        return "person", str(remote["personId"])
    if remote.get("workspaceId"):
        return "workspace", str(remote["workspaceId"])
    return "", ""


def supported_model(devices: Iterable[Mapping[str, Any]], model: str) -> str:
    """The supported-devices ``model`` matching a CSV model (model or display name, any case)."""
    wanted = fold(model)
    for device in devices:
        if wanted in (fold(device.get("model")), fold(device.get("displayName"))):
            return str(device.get("model"))
    return ""
