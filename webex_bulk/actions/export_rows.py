"""Remote Webex objects as rows of the input file (``export``): one converter per entity type.

Pure: an object and the names the export holds in, the row's cells out — None when the object
is not one webex-bulk provisions (``run`` would refuse or change the row). No I/O, no clock.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import attrs

from webex_bulk.actions import compare
from webex_bulk.input import DayHours, render_hours

#: One row of the export: column → cell text (empty cells left out).
Cells = dict[str, str]
Item = Mapping[str, Any]


@attrs.define
class ExportNames:
    """The small maps an export holds while it streams: what a row names by id elsewhere.

    ``people`` holds one e-mail per calling user (members and device owners name them); every
    other map is as small as the tenant's locations, workspaces or licenses.
    """

    region: str = "US"
    locations: dict[str, str] = attrs.Factory(dict)  # calling location id → name
    people: dict[str, str] = attrs.Factory(dict)  # calling user id → e-mail
    workspaces: dict[str, tuple[str, str]] = attrs.Factory(dict)  # id → (location id, name)
    lines: dict[str, dict[str, str]] = attrs.Factory(dict)  # workspace id → its line
    license_kinds: dict[str, str] = attrs.Factory(dict)  # license id → professional | basic
    models: Sequence[Item] = ()  # the supported devices list


def _text(value: object) -> str:
    return compare.canonical_text(value)


def _located(item: Item, names: ExportNames) -> str:
    """The name of the calling location an object lives in, or "" when it lives in none."""
    location = item.get("location")
    location_id = item.get("locationId") or (
        location.get("id") if isinstance(location, Mapping) else ""
    )
    return names.locations.get(str(location_id or ""), "")


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
    """A calling user: a calling license, a location and a line; both names (the file needs
    them to create the user)."""
    emails = [str(email).lower() for email in item.get("emails") or ()]
    location = _located(item, names)
    kinds = {names.license_kinds.get(str(lic), "") for lic in item.get("licenses") or ()}
    license_kind = next((kind for kind in ("professional", "basic") if kind in kinds), "")
    line = _line(item.get("extension"), compare.work_number(item, names.region), names.region)
    first, last = _text(item.get("firstName")), _text(item.get("lastName"))
    if not emails or not location or not license_kind or line is None or not first or not last:
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


def member_name(agent_id: str, names: ExportNames) -> str:
    """A member as the file names it: a user's e-mail, else a workspace's display name."""
    if agent_id in names.people:
        return names.people[agent_id]
    return names.workspaces.get(agent_id, ("", ""))[1]


def _feature(item: Item, names: ExportNames) -> Cells | None:
    location = _located(item, names)
    line = _line(item.get("extension"), item.get("phoneNumber"), names.region)
    if not location or line is None:
        return None
    return {"name": _text(item.get("name")), "location": location, **line}


def _members(item: Item, names: ExportNames) -> str:
    """The member cell; a member that is neither a calling user nor a workspace is left out."""
    found = []
    for agent in item.get("agents") or ():
        name = member_name(str(agent.get("id")), names) if isinstance(agent, Mapping) else ""
        if name and name not in found:
            found.append(name)
    return ";".join(found)


def hunt_group_row(item: Item, names: ExportNames) -> Cells | None:
    """A hunt group with its members and routing policy (from its details)."""
    cells = _feature(item, names)
    if cells is None:
        return None
    return {**cells, "members": _members(item, names), "policy": compare.remote_policy(item)}


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
