"""Location routes: ``/v1/locations`` (name *contains* filter, cursor paging) and the calling side
``/v1/telephony/config/locations`` (enable calling, offset paging, calling details)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import attrs
from aiohttp import web

from webex_bulk.simulator.answers import (
    cursor_page,
    json_response,
    next_link,
    offset_link,
    offset_page,
    page_size,
)
from webex_bulk.simulator.bodies import read_json, require, text
from webex_bulk.simulator.errors import Code, bad_request, conflict
from webex_bulk.simulator.ids import LOCATION, TRUNK, encode_id
from webex_bulk.simulator.records import Address, Location
from webex_bulk.simulator.runtime import Simulator, simulator_of
from webex_bulk.simulator.tenant import timestamp

routes = web.RouteTableDef()

ADDRESS_REQUIRED = (
    "address",
    "address.address1",
    "address.city",
    "address.state",
    "address.postalCode",
    "address.country",
)
CREATE_REQUIRED = (
    "name",
    "timeZone",
    "preferredLanguage",
    "announcementLanguage",
    *ADDRESS_REQUIRED,
)
ENABLE_REQUIRED = ("id", *CREATE_REQUIRED)
MAX_NAME = 256
MAX_CALLING_NAME = 80
TELEPHONY_PAGE = 2000


def location_json(sim: Simulator, location: Location) -> dict[str, Any]:
    """A location as ``/v1/locations`` shows it."""
    address = location.address
    body: dict[str, Any] = {
        "id": location.id,
        "name": location.name,
        "orgId": sim.tenant.org.id,
        "timeZone": location.time_zone,
        "preferredLanguage": location.preferred_language,
        "announcementLanguage": location.announcement_language,
        "address": {
            "address1": address.address1,
            "city": address.city,
            "state": address.state,
            "postalCode": address.postal_code,
            "country": address.country,
        },
    }
    if address.address2:
        body["address"]["address2"] = address.address2
    for key, value in (("latitude", location.latitude), ("longitude", location.longitude)):
        if value:
            body[key] = value
    if location.notes:
        body["notes"] = location.notes
    return body


@routes.get("/v1/locations")
async def list_locations(request: web.Request) -> web.Response:
    """Locations whose name *contains* ``name`` (case-insensitive), or by ``id``."""
    sim = simulator_of(request)
    locations = sim.tenant.locations
    needle = request.query.get("name", "").casefold()
    wanted_id = request.query.get("id", "")
    now = sim.clock()

    def entries(after: int) -> Iterator[tuple[int, Location]]:
        return locations.entries_of([wanted_id], after) if wanted_id else locations.entries(after)

    def keep(location: Location) -> bool:
        return locations.visible(location.id, now) and needle in location.name.casefold()

    page, cursor = cursor_page(request, entries, keep, page_size(request, 500, 1000))
    headers = None
    if cursor is not None:
        drop = sim.config.next_link_drops_filters
        headers = next_link(request, {"cursor": cursor}, drop_filters=drop, telephony=False)
    return json_response({"items": [location_json(sim, loc) for loc in page]}, headers=headers)


@routes.post("/v1/locations")
async def create_location(request: web.Request) -> web.Response:
    """Create a location (201, the full location); names are unique in the org."""
    sim = simulator_of(request)
    body = await read_json(request)
    tenant = sim.tenant
    require(body, CREATE_REQUIRED)
    name = text(body, "name")
    _check_name(sim, name, calling=False, current="")
    location = Location(
        id=encode_id(LOCATION, tenant.mint.uuid()),
        name=name,
        time_zone=text(body, "timeZone"),
        preferred_language=text(body, "preferredLanguage"),
        announcement_language=text(body, "announcementLanguage"),
        address=_address(body["address"]),
        created=timestamp(),
        latitude=text(body, "latitude"),
        longitude=text(body, "longitude"),
        notes=text(body, "notes"),
        pstn=sim.config.new_location_pstn,
    )
    tenant.locations.add(location.id, location, sim.hidden_until())
    tenant.location_by_name[name] = location.id
    sim.creates.record("locations", name)
    return json_response(location_json(sim, location), status=201)


@routes.get("/v1/locations/{locationId}")
async def get_location(request: web.Request) -> web.Response:
    """One location."""
    sim = simulator_of(request)
    return json_response(location_json(sim, sim.tenant.location(request.match_info["locationId"])))


@routes.put("/v1/locations/{locationId}")
async def update_location(request: web.Request) -> web.Response:
    """Change name, time zone, languages or address fields given in the body (204)."""
    sim = simulator_of(request)
    body = await read_json(request)
    tenant = sim.tenant
    location = tenant.location(request.match_info["locationId"])
    name = text(body, "name", location.name)
    _check_name(sim, name, calling=location.calling, current=location.name)
    address = body.get("address")
    if address is not None and not isinstance(address, dict):
        raise bad_request("address must be an object.")
    updated = attrs.evolve(
        location,
        name=name,
        time_zone=text(body, "timeZone", location.time_zone),
        preferred_language=text(body, "preferredLanguage", location.preferred_language),
        announcement_language=text(body, "announcementLanguage", location.announcement_language),
        address=_merged_address(location.address, address or {}),
        latitude=text(body, "latitude", location.latitude),
        longitude=text(body, "longitude", location.longitude),
        notes=text(body, "notes", location.notes),
    )
    tenant.locations.replace(location.id, updated)
    del tenant.location_by_name[location.name]
    tenant.location_by_name[name] = location.id
    return web.Response(status=204)


def _check_name(sim: Simulator, name: str, *, calling: bool, current: str) -> None:
    limit = MAX_CALLING_NAME if calling else MAX_NAME
    if len(name) > limit:
        raise bad_request(f"Location name must be at most {limit} characters.", Code.INVALID_VALUE)
    if name != current and name in sim.tenant.location_by_name:
        raise conflict(f"Location name {name} already exists.", Code.NAME_IN_USE)


def _address(value: dict[str, Any]) -> Address:
    return Address(
        address1=text(value, "address1"),
        address2=text(value, "address2"),
        city=text(value, "city"),
        state=text(value, "state"),
        postal_code=text(value, "postalCode"),
        country=text(value, "country"),
    )


def _merged_address(address: Address, changes: dict[str, Any]) -> Address:
    return Address(
        address1=text(changes, "address1", address.address1),
        address2=text(changes, "address2", address.address2),
        city=text(changes, "city", address.city),
        state=text(changes, "state", address.state),
        postal_code=text(changes, "postalCode", address.postal_code),
        country=text(changes, "country", address.country),
    )


@routes.get("/v1/telephony/config/locations")
async def list_calling_locations(request: web.Request) -> web.Response:
    """Calling-enabled locations (``locations`` key, ``start``/``max``, name contains)."""
    sim = simulator_of(request)
    needle = request.query.get("name", "").casefold()
    now = sim.clock()
    locations = sim.tenant.locations
    matching = (
        loc
        for loc in locations.values()
        if loc.calling and needle in loc.name.casefold() and locations.visible(loc.id, now)
    )
    size = page_size(request, TELEPHONY_PAGE, TELEPHONY_PAGE)
    page, start = offset_page(request, matching, size)
    drop = sim.config.next_link_drops_filters
    headers = offset_link(request, start, size, drop_filters=drop, telephony=True)
    return json_response({"locations": [_calling_summary(loc) for loc in page]}, headers=headers)


def _calling_summary(location: Location) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": location.id,
        "name": location.name,
        "enforceOutsideDialDigit": False,
        "callingLineId": {"name": location.name, "phoneNumber": location.main_number},
        "e911SetupRequired": False,
    }
    if location.routing_prefix:
        body["routingPrefix"] = location.routing_prefix
    return body


@routes.post("/v1/telephony/config/locations")
async def enable_calling(request: web.Request) -> web.Response:
    """Enable an existing location for Webex Calling (201 ``{id}``)."""
    sim = simulator_of(request)
    body = await read_json(request)
    require(body, ENABLE_REQUIRED, telephony=True)
    location = sim.tenant.location(text(body, "id"), telephony=True)
    if location.calling:
        raise conflict(
            f"Location {location.name} is already enabled for Webex Calling.",
            Code.NAME_IN_USE,
            telephony=True,
        )
    if len(location.name) > MAX_CALLING_NAME:
        raise bad_request(
            f"A calling location name must be at most {MAX_CALLING_NAME} characters.",
            Code.INVALID_VALUE,
            telephony=True,
        )
    sim.tenant.locations.replace(location.id, attrs.evolve(location, calling=True))
    return json_response({"id": location.id}, status=201)


@routes.get("/v1/telephony/config/locations/{locationId}")
async def get_calling_location(request: web.Request) -> web.Response:
    """Calling details of a calling-enabled location."""
    sim = simulator_of(request)
    location = sim.tenant.calling_location(request.match_info["locationId"])
    body: dict[str, Any] = {
        "id": location.id,
        "name": location.name,
        "announcementLanguage": location.announcement_language,
        "callingLineId": {"name": location.name, "phoneNumber": location.main_number},
        "externalCallerIdName": location.name,
        "userLimit": 500_000,
        "outsideDialDigit": "",
        "enforceOutsideDialDigit": False,
        "routingPrefix": location.routing_prefix,
        "defaultDomain": "sim.webex.example",
    }
    if location.pstn == "LOCAL_GATEWAY":
        body["connection"] = {"type": "TRUNK", "id": encode_id(TRUNK, f"trunk-{location.name}")}
    return json_response(body)
