"""What call parks, call park extensions, call pickups, paging groups and voicemail groups share:
finding one under its location, unique names per location, a line from a body, members that must
be calling users, workspaces or virtual lines, storing a feature under its name, list filters,
and the JSON of a member."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import attrs
from aiohttp import web

from webex_bulk.simulator import feature_shapes
from webex_bulk.simulator.answers import json_response, offset_link, offset_page, page_size
from webex_bulk.simulator.bodies import text
from webex_bulk.simulator.errors import ApiError, Code, bad_request, conflict
from webex_bulk.simulator.records import Agent, Feature, Line, Location
from webex_bulk.simulator.runtime import Simulator
from webex_bulk.simulator.tenant import Tenant

PAGE = 2000


def check_name_free(tenant: Tenant, kind: str, location_id: str, name: str) -> None:
    """409 when a feature of this kind already has the name in the location."""
    if not name:
        raise ApiError(
            400, "Missing Mandatory field name: name", Code.MISSING_FIELD, telephony=True
        )
    if (kind, location_id, name) in tenant.feature_by_name:
        raise conflict(f"The name {name} is already in use.", Code.NAME_IN_USE, telephony=True)


def located(sim: Simulator, request: web.Request, kind: str, id_param: str) -> Feature:
    """The feature of a kind named by the path's ``locationId`` and ``id_param``; 404 otherwise."""
    location = sim.tenant.calling_location(request.match_info["locationId"])
    return sim.tenant.feature(kind, location.id, request.match_info[id_param])


def new_name(tenant: Tenant, kind: str, location_id: str, body: dict[str, Any]) -> str:
    """The body's ``name`` for a new feature; 400 when missing, 409 when taken in the location."""
    name = text(body, "name")
    check_name_free(tenant, kind, location_id, name)
    return name


def changed_name(tenant: Tenant, feature: Feature, body: dict[str, Any]) -> str:
    """The body's ``name`` (the feature's own when absent); 409 when a new one is taken."""
    name = text(body, "name", feature.name)
    if name != feature.name:
        check_name_free(tenant, feature.kind, feature.location_id, name)
    return name


def line_of(body: dict[str, Any], location_id: str, old: Line | None = None) -> Line:
    """The ``extension`` and ``phoneNumber`` of a body as a line of the location; with ``old``,
    a field the body leaves out keeps its old value."""
    return Line(
        location_id,
        text(body, "extension") if old is None or "extension" in body else old.extension,
        text(body, "phoneNumber") if old is None or "phoneNumber" in body else old.number,
    )


def member_ids(body_value: Any, field: str) -> list[str]:
    """A list of member ids: plain strings, or objects with an ``id``."""
    if body_value is None:
        return []
    if not isinstance(body_value, list):
        raise bad_request(f"{field} must be a list.", Code.INVALID_VALUE, telephony=True)
    ids = [str(item.get("id", "")) if isinstance(item, dict) else str(item) for item in body_value]
    if len(set(ids)) != len(ids):
        raise bad_request(
            f"A member of {field} is listed twice.", Code.INVALID_VALUE, telephony=True
        )
    return ids


def members(
    tenant: Tenant, ids: Iterable[str], location: Location | None = None
) -> tuple[Agent, ...]:
    """Agents for ids that name calling people, workspaces or virtual lines (of ``location``
    when one is given); 400 for any other id."""
    result = []
    for member_id in ids:
        owner = tenant.calling_owner(member_id)
        line = tenant.owner_line(owner) if owner is not None else None
        if owner is None or line is None:
            raise ApiError(
                400,
                f"Member {member_id} is not a Webex Calling user, workspace or virtual line "
                "of this organization.",
                Code.UNKNOWN_AGENT,
                telephony=True,
            )
        if location is not None and line.location_id != location.id:
            raise ApiError(
                400,
                f"Member {member_id} is not in location {location.name}.",
                Code.MEMBER_OTHER_LOCATION,
                telephony=True,
            )
        result.append(Agent(member_id))
    return tuple(result)


def member_json(tenant: Tenant, member_id: str, numbers_key: str = "") -> dict[str, Any]:
    """A member as feature details show it: names, type and its line. With ``numbers_key`` (call
    park ``numbers``, call pickup ``phoneNumber``) the line is a list ``[{external, extension}]``
    and ``displayName`` and ``email`` are given; without it (paging) the line fields are flat."""
    owner = tenant.owner_by_id(member_id)
    body: dict[str, Any] = {"id": member_id}
    if owner is None:
        return body
    first, last = tenant.owner_names(owner)
    body.update(type=owner.type, firstName=first, lastName=last or ".")
    line = tenant.owner_line(owner)
    number = line.number if line is not None else ""
    extension = line.extension if line is not None else ""
    if numbers_key:
        person = tenant.people.get(member_id)
        body["displayName"] = f"{first} {last}".strip()
        body["email"] = person.email if person is not None else ""
        entry = {"external": number, "extension": extension}
        body[numbers_key] = [{key: value for key, value in entry.items() if value}]
        return body
    if number:
        body["phoneNumber"] = number
    if extension:
        body["extension"] = extension
    return body


def add_line_fields(body: dict[str, Any], tenant: Tenant, feature: Feature) -> None:
    """``phoneNumber``, ``extension`` and, with a routing prefix, ``routingPrefix`` and ``esn``."""
    feature_shapes.add_line(body, feature.line, tenant.locations.get(feature.location_id))


def store(sim: Simulator, feature: Feature) -> None:
    """Add a new feature and index it by name."""
    tenant = sim.tenant
    tenant.features[feature.kind].add(feature.id, feature, sim.hidden_until())
    tenant.feature_by_name[(feature.kind, feature.location_id, feature.name)] = feature.id
    sim.creates.record("features", feature.kind, feature.location_id, feature.name)


def replace(tenant: Tenant, old: Feature, new: Feature) -> None:
    """Store a new version of a feature; a new id (a renamed call park or pickup) re-adds it."""
    collection = tenant.features[old.kind]
    if new.id != old.id:
        collection.remove(old.id)
        collection.add(new.id, new)
    else:
        collection.replace(old.id, new)
    del tenant.feature_by_name[(old.kind, old.location_id, old.name)]
    tenant.feature_by_name[(new.kind, new.location_id, new.name)] = new.id


def remove(tenant: Tenant, feature: Feature) -> None:
    """Delete a feature and its name."""
    tenant.features[feature.kind].remove(feature.id)
    del tenant.feature_by_name[(feature.kind, feature.location_id, feature.name)]


def renamed(tenant: Tenant, feature: Feature, name: str) -> Feature:
    """The feature with a new name and, as Webex does for call parks and pickups, a new id."""
    if name == feature.name:
        return feature
    return attrs.evolve(feature, name=name, id=tenant.mint.id(feature.kind))


def listed(
    sim: Simulator,
    request: web.Request,
    kind: str,
    *,
    location_id: str = "",
    extension: str = "",
) -> Iterator[Feature]:
    """Visible features of a kind, filtered by ``name`` (contains, case-insensitive),
    ``phoneNumber`` and ``extension``, in creation order."""
    collection = sim.tenant.features[kind]
    needle = request.query.get("name", "").casefold()
    number = request.query.get("phoneNumber", "")
    now = sim.clock()
    for _, feature in collection.entries(group=location_id or None):
        if needle not in feature.name.casefold():
            continue
        if number and number not in (feature.line.number, feature.line.extension):
            continue
        if extension and feature.line.extension != extension:
            continue
        if collection.visible(feature.id, now):
            yield feature


def list_answer(
    sim: Simulator, request: web.Request, key: str, items: Iterable[dict[str, Any]]
) -> web.Response:
    """One offset page of rendered list items under ``key``, with its next link."""
    size = page_size(request, PAGE, PAGE)
    page, start = offset_page(request, items, size)
    drop = sim.config.next_link_drops_filters
    headers = offset_link(request, start, size, drop_filters=drop, telephony=True)
    return json_response({key: page}, headers=headers)


def location_fields(tenant: Tenant, feature: Feature) -> dict[str, Any]:
    """``id``, ``name``, ``locationName`` and ``locationId`` of a list item."""
    location = tenant.locations.get(feature.location_id)
    return {
        "id": feature.id,
        "name": feature.name,
        "locationName": location.name if location else "",
        "locationId": feature.location_id,
    }
