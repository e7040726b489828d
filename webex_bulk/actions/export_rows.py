"""Remote Webex objects as rows of the input file (``export``): one converter per entity type.

Pure: an object and the names the export holds in, the row's cells out — None when the object
is not one webex-bulk provisions (``run`` would refuse or change the row). No I/O, no clock.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import attrs

from webex_bulk.actions import compare
from webex_bulk.actions.group_bodies import RECALL_OPTIONS, virtual_line_number
from webex_bulk.input import DayHours, render_hours

#: One row of the export: column → cell text (empty cells left out).
Cells = dict[str, str]
Item = Mapping[str, Any]


@attrs.define
class ExportNames:
    """The small maps an export holds while it streams: what a row names by id elsewhere.

    ``people`` holds one e-mail per calling user (members and device owners name them); every
    other map is as small as the tenant's locations, workspaces, virtual lines or licenses.
    """

    region: str = "US"
    locations: dict[str, str] = attrs.Factory(dict)  # calling location id → name
    people: dict[str, str] = attrs.Factory(dict)  # calling user id → e-mail
    workspaces: dict[str, tuple[str, str]] = attrs.Factory(dict)  # id → (location id, name)
    virtual_lines: dict[str, tuple[str, str]] = attrs.Factory(dict)  # id → (location id, name)
    #: (location id, folded name) of every calling workspace: a virtual line of the same name
    #: cannot be written as a member (``run`` takes the name for the workspace)
    workspace_names: set[tuple[str, str]] = attrs.Factory(set)
    lines: dict[str, dict[str, str]] = attrs.Factory(dict)  # workspace id → its line
    license_kinds: dict[str, str] = attrs.Factory(dict)  # license id → professional | basic
    models: Sequence[Item] = ()  # the supported devices list


def _text(value: object) -> str:
    return compare.canonical_text(value)


def _location_id(item: Item) -> str:
    location = item.get("location")
    found = item.get("locationId") or (location.get("id") if isinstance(location, Mapping) else "")
    return str(found or "")


def _located(item: Item, names: ExportNames) -> str:
    """The name of the calling location an object lives in, or "" when it lives in none."""
    return names.locations.get(_location_id(item), "")


def _line(extension: object, number: object, region: str) -> Cells | None:
    """``extension`` / ``phone_number`` cells; None when the object holds neither."""
    cells = {"extension": _text(extension), "phone_number": compare.canonical_e164(number, region)}
    return cells if any(cells.values()) else None


def location_row(item: Item, names: ExportNames) -> Cells | None:
    """A calling-enabled location (one without calling would make ``run`` enable it)."""
    if str(item.get("id")) not in names.locations:
        return None
    address = compare.remote_address(item)
    cells = {
        "name": _text(item.get("name")),
        "time_zone": _text(item.get("timeZone")),
        **{column: _text(address.get(key)) for column, key in compare.ADDRESS_KEYS.items()},
        "preferred_language": compare.canonical_language(item.get("preferredLanguage")),
        "announcement_language": compare.canonical_language(item.get("announcementLanguage")),
    }
    cells["country"] = cells["country"].upper()
    return cells


def number_row(item: Item, names: ExportNames) -> Cells | None:
    """A phone number of a calling location, with its state."""
    location = _located(item, names)
    number = compare.canonical_e164(item.get("phoneNumber"), names.region)
    if not location or not number:
        return None
    return {"phone_number": number, "location": location, "state": compare.number_state(item)}


def schedule_row(item: Item, names: ExportNames) -> Cells | None:
    """A business-hours schedule with its weekly events (the details, merged into the listed
    item). Hours the file cannot write (all-day events, none weekly) leave it out."""
    location = _located(item, names)
    hours = compare.remote_weekly_hours(item.get("events"))
    if not location or not hours or any(end > "23:59" for _, _, end in hours):
        return None
    ordered = sorted(hours, key=lambda span: (compare.WEEKDAYS.index(span[0]), span[1]))
    spans = [DayHours(day, start, end) for day, start, end in ordered]
    return {"name": _text(item.get("name")), "location": location, "hours": render_hours(spans)}


def user_row(item: Item, names: ExportNames) -> Cells | None:
    """A calling user: a calling license, a location and a line. Names as Webex holds them, even
    empty: a user row without names leaves them to the directory (and waits for it to create
    the person in another tenant)."""
    emails = [str(email).lower() for email in item.get("emails") or ()]
    location = _located(item, names)
    kinds = {names.license_kinds.get(str(lic), "") for lic in item.get("licenses") or ()}
    license_kind = next((kind for kind in ("professional", "basic") if kind in kinds), "")
    line = _line(item.get("extension"), compare.work_number(item, names.region), names.region)
    first, last = _text(item.get("firstName")), _text(item.get("lastName"))
    if not emails or not location or not license_kind or line is None:
        return None
    return {
        "email": emails[0],
        "first_name": first,
        "last_name": last,
        "display_name": _text(item.get("displayName")),
        "location": location,
        **line,
        "license": license_kind,
        "department": _text(item.get("department")),
        "title": _text(item.get("title")),
    }


def workspace_row(item: Item, names: ExportNames) -> Cells | None:
    """A Webex Calling workspace of a location, with the line the numbers API gives it."""
    location = _located(item, names)
    if not location or not _is_calling(item):
        return None
    held = names.lines.get(str(item.get("id")), {})
    line = _line(held.get("extension"), held.get("phoneNumber"), names.region)
    if line is None:
        return None
    return {"display_name": _text(item.get("displayName")), "location": location, **line}


def _is_calling(item: Item) -> bool:
    calling = item.get("calling")
    return isinstance(calling, Mapping) and calling.get("type") == "webexCalling"


def member_name(agent_id: str, names: ExportNames, location_id: str) -> str:
    """A member as the file names it in a row of ``location_id``: a calling user's e-mail, else
    the display name of a workspace or virtual line **of that location** (``run`` looks names up
    in the row's location); "" when the file cannot name it so that ``run`` finds it again."""
    if agent_id in names.people:
        return names.people[agent_id]
    if agent_id in names.workspaces:
        where, name = names.workspaces[agent_id]
        return name if where == location_id and _nameable(name) else ""
    where, name = names.virtual_lines.get(agent_id, ("", ""))
    if where != location_id or (where, compare.fold(name)) in names.workspace_names:
        return ""
    return name if _nameable(name) else ""


def _nameable(name: str) -> bool:
    """Whether a name can stand in a member cell: ``;`` splits it, ``@`` makes it an e-mail."""
    return bool(name) and ";" not in name and "@" not in name


def _feature(item: Item, names: ExportNames) -> Cells | None:
    location = _located(item, names)
    line = _line(item.get("extension"), item.get("phoneNumber"), names.region)
    if not location or line is None:
        return None
    return {"name": _text(item.get("name")), "location": location, **line}


def _members(agents: object, names: ExportNames, location_id: str) -> str | None:
    """A member cell in remote order; None when a member cannot be named (written without it,
    ``run`` would remove it: the whole object is left out instead)."""
    found: list[str] = []
    for agent in agents if isinstance(agents, list) else ():
        agent_id = str(agent.get("id") if isinstance(agent, Mapping) else agent)
        name = member_name(agent_id, names, location_id)
        if not name:
            return None
        if name not in found:
            found.append(name)
    return ";".join(found)


def hunt_group_row(item: Item, names: ExportNames) -> Cells | None:
    """A hunt group with its members and routing policy (from its details)."""
    cells = _feature(item, names)
    members = _members(item.get("agents"), names, _location_id(item))
    if cells is None or members is None:
        return None
    return {**cells, "members": members, "policy": compare.remote_policy(item)}


def call_queue_row(item: Item, names: ExportNames) -> Cells | None:
    """A call queue with its members, routing policy and queue size (from its details)."""
    cells = hunt_group_row(item, names)
    settings = item.get("queueSettings")
    size = settings.get("queueSize") if isinstance(settings, Mapping) else None
    if cells is None:
        return None
    return {**cells, "queue_size": str(size) if size is not None else ""}


def auto_attendant_row(item: Item, names: ExportNames) -> Cells | None:
    """An auto attendant with its business-hours schedule (from its details)."""
    cells = _feature(item, names)
    schedule = _text(item.get("businessSchedule"))
    if cells is None or not schedule:
        return None
    return {**cells, "business_schedule": schedule}


def device_row(item: Item, names: ExportNames) -> Cells | None:
    """A device by MAC with its model and owner (a calling user, or a workspace and its
    location)."""
    mac = compare.canonical_mac(item.get("mac"))
    product = _text(item.get("product") or item.get("model"))
    model = compare.supported_model(names.models, product) or product
    kind, owner_id = compare.device_owner(item)
    if len(mac) != 12 or not model:
        return None
    if kind == "person" and owner_id in names.people:
        return {"mac": mac, "model": model, "owner": names.people[owner_id]}
    if kind == "workspace" and owner_id in names.workspaces:
        location_id, name = names.workspaces[owner_id]
        location = names.locations.get(location_id, "")
        if location:
            return {"mac": mac, "model": model, "owner": name, "location": location}
    return None


# -- the newer types: virtual lines, call park extensions and parks, pickups, paging, voicemail --

#: The call park API's ``recall.option`` → the CSV's ``recall``.
RECALLS = {option: column for column, option in RECALL_OPTIONS.items()}


def virtual_line_row(item: Item, names: ExportNames) -> Cells | None:
    """A virtual line with both names, its display name (its key) and its line."""
    location = _located(item, names)
    number = virtual_line_number(item)
    line = _line(_scalar(number.get("extension")), number.get("external"), names.region)
    first, last = _text(item.get("firstName")), _text(item.get("lastName"))
    display = _text(item.get("displayName"))
    if not location or line is None or not first or not last or not display:
        return None
    return {
        "display_name": display,
        "location": location,
        "first_name": first,
        "last_name": last,
        **line,
    }


def call_park_extension_row(item: Item, names: ExportNames) -> Cells | None:
    """A call park extension: its name and extension (both in the listing)."""
    location = _located(item, names)
    extension = _scalar(item.get("extension"))
    if not location or not extension:
        return None
    return {"name": _text(item.get("name")), "location": location, "extension": extension}


def call_park_row(item: Item, names: ExportNames) -> Cells | None:
    """A call park with its members, recall (and its hunt group) and call park extensions, from
    its details. A recall option or a name the file cannot write leaves it out."""
    location = _located(item, names)
    members = _members(item.get("agents"), names, _location_id(item))
    recall = item.get("recall")
    recall = recall if isinstance(recall, Mapping) else {}
    option = RECALLS.get(_text(recall.get("option")).upper(), "")
    hunt_group = _text(recall.get("huntGroupName"))
    parks = [
        _text(entry.get("name"))
        for entry in item.get("callParkExtensions") or ()
        if isinstance(entry, Mapping)
    ]
    if not location or members is None or not option or not all(map(_nameable, parks)):
        return None
    if _text(recall.get("huntGroupId")) and not hunt_group:
        return None  # a hunt group the file cannot name
    if option != "parking_user_only" and not hunt_group:
        return None  # ``run`` would refuse the row
    return {
        "name": _text(item.get("name")),
        "location": location,
        "members": members,
        "recall": option,
        "recall_hunt_group": hunt_group,
        "park_extensions": ";".join(dict.fromkeys(parks)),
    }


def call_pickup_row(item: Item, names: ExportNames) -> Cells | None:
    """A call pickup with its members (from its details)."""
    location = _located(item, names)
    members = _members(item.get("agents"), names, _location_id(item))
    if not location or members is None:
        return None
    return {"name": _text(item.get("name")), "location": location, "members": members}


def paging_group_row(item: Item, names: ExportNames) -> Cells | None:
    """A paging group with its line, originators and targets (from its details)."""
    cells = _feature(item, names)
    originators = _members(item.get("originators"), names, _location_id(item))
    targets = _members(item.get("targets"), names, _location_id(item))
    if cells is None or originators is None or targets is None:
        return None
    return {**cells, "originators": originators, "targets": targets}


def voicemail_group_row(item: Item, names: ExportNames) -> Cells | None:
    """A voicemail group with its line and notification e-mail (from its details). The passcode
    cannot be read back: its cell is empty, which ``run`` reads as "leave it as it is"."""
    location = _located(item, names)
    extension = _scalar(item.get("extension"))
    if not location or not extension:
        return None
    notifications = item.get("notifications")
    notifications = notifications if isinstance(notifications, Mapping) else {}
    email = _text(notifications.get("destination")) if notifications.get("enabled") else ""
    return {
        "name": _text(item.get("name")),
        "location": location,
        "extension": extension,
        "phone_number": compare.canonical_e164(item.get("phoneNumber"), names.region),
        "passcode": "",
        "notification_email": email.lower(),
    }


def _scalar(value: object) -> str:
    """An extension the API may type as a number (the voicemail group GET) as text."""
    if isinstance(value, bool) or value is None:
        return ""
    return _text(value if isinstance(value, str) else str(value))
