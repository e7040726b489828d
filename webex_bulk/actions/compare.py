"""Semantic comparison: remote Webex objects read into the CSV's canonical forms, then compared.

Bottom layer: no network, no asyncio, no clock. Comparisons return a ``Compared``: each compared
column's remote and wanted value and the columns that differ; an empty optional cell means "not
managed" and is never compared.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping
from typing import Any, Protocol

import phonenumbers

from webex_bulk.actions.compared import Compared, member_labels
from webex_bulk.models import Row

#: A JSON object as the API takes and gives it (request bodies, query parameters).
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


# -- exact client-side matching (name filters of the API are substring / prefix filters) -------


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


def line_compared(row: Row, extension: object, number: object, region: str) -> Compared:
    """``extension`` and ``phone_number`` of the row's line compared with the remote one."""
    compared = Compared().text("extension", row.get("extension"), canonical_text(extension))
    wanted = canonical_e164(row.get("phone_number"), region)
    return compared.text("phone_number", wanted, canonical_e164(number, region))


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


def remote_address(remote: Mapping[str, Any]) -> Mapping[str, Any]:
    """The ``address`` object of a remote location, or ``{}`` when it has none."""
    address = remote.get("address")
    return address if isinstance(address, Mapping) else {}


def location_diff(row: Row, remote: Mapping[str, Any]) -> Compared:
    """CSV columns of a location compared with the remote ``/locations`` object."""
    address = remote_address(remote)
    compared = Compared().text(
        "time_zone", row.get("time_zone"), canonical_text(remote.get("timeZone"))
    )
    for column, key in ADDRESS_KEYS.items():
        remote_value = canonical_text(address.get(key))
        desired = row.get(column)
        if column == "country":
            desired, remote_value = desired.upper(), remote_value.upper()
        compared.text(column, desired, remote_value)
    for column, key in (
        ("preferred_language", "preferredLanguage"),
        ("announcement_language", "announcementLanguage"),
    ):
        wanted = canonical_language(row.get(column))
        compared.text(column, wanted, canonical_language(remote.get(key)))
    return compared


# -- numbers -----------------------------------------------------------------------------------


def number_state(remote: Mapping[str, Any]) -> str:
    """A remote number's state as the CSV spells it (``active`` / ``inactive``)."""
    return canonical_text(remote.get("state")).lower() or "active"


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


RECUR_DAY = {
    "mon": "monday",
    "tue": "tuesday",
    "wed": "wednesday",
    "thu": "thursday",
    "fri": "friday",
    "sat": "saturday",
    "sun": "sunday",
}


WeeklyHours = frozenset[tuple[str, str, str]]


def weekly_hours(hours: Iterable[DayHoursLike]) -> WeeklyHours:
    """Hours as a set of ``(day, start, end)``: the canonical form both sides are compared in."""
    return frozenset((h.day, h.start[:5], h.end[:5]) for h in hours)


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
            if weekly.get(RECUR_DAY[day]):
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


# -- people and licenses -----------------------------------------------------------------------


PERSON_TEXT = (
    ("first_name", "firstName"),
    ("last_name", "lastName"),
    ("display_name", "displayName"),
    ("department", "department"),
    ("title", "title"),
)


def display_name(row: Row) -> str:
    """The wanted display name: the cell, or "first last" when the row gives both; else ``""``
    (not managed: the directory's stays)."""
    first, last = row.get("first_name"), row.get("last_name")
    if row.get("display_name") or not (first and last):
        return row.get("display_name")
    return canonical_text(f"{first} {last}")


def work_number(person: Mapping[str, Any], region: str = "US") -> str:
    """A person's work number as E.164 (first ``work`` entry), or ``""``."""
    for entry in person.get("phoneNumbers") or ():
        if isinstance(entry, Mapping) and entry.get("type") == "work":
            return canonical_e164(entry.get("value"), region)
    return ""


def person_diff(row: Row, remote: Mapping[str, Any], region: str = "US") -> Compared:
    """CSV columns of a user compared with the remote Person (names NFC-collapsed, E.164)."""
    compared = Compared()
    for column, key in PERSON_TEXT:
        desired = display_name(row) if column == "display_name" else row.get(column)
        compared.text(column, canonical_text(desired), canonical_text(remote.get(key)))
    line = line_compared(row, remote.get("extension"), work_number(remote, region), region)
    return compared.extend(line)


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


def workspace_calling(remote: Mapping[str, Any]) -> Mapping[str, Any]:
    """The ``calling.webexCalling`` object of a workspace, or ``{}`` when not on Webex Calling."""
    calling = remote.get("calling")
    if not isinstance(calling, Mapping) or calling.get("type") != "webexCalling":
        return {}
    inner = calling.get("webexCalling")
    return inner if isinstance(inner, Mapping) else {}


def workspace_diff(row: Row, remote: Mapping[str, Any], region: str = "US") -> Compared:
    """CSV columns of a workspace compared (extension, phone number; calling type implied)."""
    calling = workspace_calling(remote)
    return line_compared(row, calling.get("extension"), calling.get("phoneNumber"), region)


# -- hunt groups, call queues, auto attendants -------------------------------------------------


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
) -> Compared:
    """CSV columns of a hunt group, call queue or auto attendant compared with its details.

    Members are compared as a **set** of remote ids; the business schedule by name, case-folded.
    """
    compared = line_compared(row, remote.get("extension"), remote.get("phoneNumber"), region)
    if "callPolicies" in remote:
        compared.text("policy", row.get("policy", "circular"), remote_policy(remote))
    if agent_ids is not None:
        differs = frozenset(agent_ids) != remote_agent_ids(remote)
        held = member_labels(remote.get("agents"))
        compared.mark("members", row.get("members"), held, differs=differs)
    settings = remote.get("queueSettings")
    queue_size = settings.get("queueSize") if isinstance(settings, Mapping) else None
    if queue_size is not None:
        compared.text("queue_size", row.get("queue_size"), str(queue_size))
    if schedule_name is not None:
        held_schedule = canonical_text(remote.get("businessSchedule"))
        differs = fold(schedule_name) != fold(held_schedule)
        compared.mark("business_schedule", schedule_name, held_schedule, differs=differs)
    return compared


# -- devices -----------------------------------------------------------------------------------


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
