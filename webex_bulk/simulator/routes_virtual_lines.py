"""Virtual lines: org-wide list with its filters, create, get, update and delete. A virtual line
holds a line of its location (display names unique per location) and can be a feature member."""

from __future__ import annotations

from typing import Any

import attrs
from aiohttp import web

from webex_bulk.simulator import feature_shapes, group_rules
from webex_bulk.simulator.answers import json_response
from webex_bulk.simulator.bodies import flag, read_json, require, text
from webex_bulk.simulator.people import drop_member_everywhere
from webex_bulk.simulator.records import OWNER_VIRTUAL_LINE, Line, Owner, VirtualLine
from webex_bulk.simulator.runtime import simulator_of
from webex_bulk.simulator.tenant import Tenant
from webex_bulk.simulator.virtual_lines import check_display_free, create_virtual_line

routes = web.RouteTableDef()
PATH = "/v1/telephony/config/virtualLines"
CREATE_REQUIRED = ("firstName", "lastName", "locationId")
#: Fields kept as given (names and the line are stored apart).
SETTINGS = (
    "callerIdFirstName",
    "callerIdLastName",
    "callerIdNumber",
    "announcementLanguage",
    "timeZone",
)


def _summary(tenant: Tenant, virtual: VirtualLine) -> dict[str, Any]:
    """A listing item (``ListVirtualLineObject``): both names but, as in Cisco's spec, no display
    name; only the details carry it."""
    location = tenant.locations.get(virtual.location_id)
    number: dict[str, Any] = {"primary": True}
    feature_shapes.add_line(number, virtual.line, location, number_key="external")
    return {
        "id": virtual.id,
        "firstName": virtual.first_name,
        "lastName": virtual.last_name,
        "externalCallerIdNamePolicy": "DIRECT_LINE",
        "number": number,
        "location": {"id": virtual.location_id, "name": location.name if location else ""},
        "numberOfDevicesAssigned": 0,
        **{key: value for key, value in virtual.settings.items() if key.startswith("callerId")},
    }


@routes.get(PATH)
async def list_virtual_lines(request: web.Request) -> web.Response:
    """Virtual lines: ``locationId``, ``id`` (comma list), ``ownerName`` (contains),
    ``phoneNumber``, ``locationName``, ``hasExtensionAssigned``, ``hasDnAssigned``."""
    sim = simulator_of(request)
    tenant = sim.tenant
    query = request.query
    ids = {item for item in query.get("id", "").split(",") if item}
    owner = query.get("ownerName", "").casefold()
    number = query.get("phoneNumber", "")
    location_name = query.get("locationName", "")
    with_extension = "hasExtensionAssigned" in query and flag(request, "hasExtensionAssigned")
    with_number = "hasDnAssigned" in query and flag(request, "hasDnAssigned")
    now = sim.clock()

    def keep(virtual: VirtualLine) -> bool:
        location = tenant.locations.get(virtual.location_id)
        return (
            (not ids or virtual.id in ids)
            and owner
            in f"{virtual.first_name} {virtual.last_name} {virtual.display_name}".casefold()
            and (not number or number in (virtual.line.number, virtual.line.extension))
            and (not location_name or (location is not None and location.name == location_name))
            and (not with_extension or bool(virtual.line.extension))
            and (not with_number or bool(virtual.line.number))
            and tenant.virtual_lines.visible(virtual.id, now)
        )

    found = (
        virtual
        for _, virtual in tenant.virtual_lines.entries(group=query.get("locationId") or None)
        if keep(virtual)
    )
    items = (_summary(tenant, virtual) for virtual in found)
    return group_rules.list_answer(sim, request, "virtualLines", items)


@routes.post(PATH)
async def create_virtual_line_route(request: web.Request) -> web.Response:
    """Create a virtual line (201 {id}) with an extension and/or number of its location."""
    sim = simulator_of(request)
    body = await read_json(request)
    tenant = sim.tenant
    require(body, CREATE_REQUIRED, telephony=True)
    location = tenant.calling_location(text(body, "locationId"))
    names = (text(body, "firstName"), text(body, "lastName"), text(body, "displayName"))
    line = Line(location.id, text(body, "extension"), text(body, "phoneNumber"))
    settings = {key: body[key] for key in SETTINGS if key in body}
    virtual = create_virtual_line(tenant, location, names, line, settings, sim.hidden_until())
    sim.creates.record("virtualLines", location.id, virtual.display_name)
    return json_response({"id": virtual.id}, status=201)


@routes.get(f"{PATH}/{{virtualLineId}}")
async def get_virtual_line(request: web.Request) -> web.Response:
    """One virtual line with its number, location and settings."""
    sim = simulator_of(request)
    tenant = sim.tenant
    virtual = tenant.virtual_line(request.match_info["virtualLineId"])
    location = tenant.location(virtual.location_id)
    summary = _summary(tenant, virtual)
    address = location.address
    return json_response(
        {
            "id": virtual.id,
            "firstName": virtual.first_name,
            "lastName": virtual.last_name,
            "displayName": virtual.display_name,
            "directorySearchEnabled": True,
            "announcementLanguage": location.announcement_language,
            "timeZone": location.time_zone,
            **virtual.settings,
            "number": summary["number"],
            "devices": [],
            "location": {
                "id": location.id,
                "name": location.name,
                "address": {
                    "address1": address.address1,
                    "address2": address.address2,
                    "city": address.city,
                    "state": address.state,
                    "postalCode": address.postal_code,
                    "country": address.country,
                },
            },
        }
    )


@routes.put(f"{PATH}/{{virtualLineId}}")
async def update_virtual_line(request: web.Request) -> web.Response:
    """Change the names, line and settings given (204)."""
    sim = simulator_of(request)
    body = await read_json(request)
    tenant = sim.tenant
    virtual = tenant.virtual_line(request.match_info["virtualLineId"])
    location = tenant.calling_location(virtual.location_id)
    display = text(body, "displayName", virtual.display_name)
    if display != virtual.display_name:
        check_display_free(tenant, location.id, display)
    owner = Owner(OWNER_VIRTUAL_LINE, virtual.id)
    line = Line(
        location.id,
        text(body, "extension") if "extension" in body else virtual.line.extension,
        text(body, "phoneNumber") if "phoneNumber" in body else virtual.line.number,
    )
    tenant.lines.check(owner, line, location)
    updated = attrs.evolve(
        virtual,
        first_name=text(body, "firstName", virtual.first_name),
        last_name=text(body, "lastName", virtual.last_name),
        display_name=display,
        line=line,
        settings={**virtual.settings, **{key: body[key] for key in SETTINGS if key in body}},
    )
    tenant.lines.move(owner, virtual.line, line)
    tenant.virtual_lines.replace(virtual.id, updated)
    del tenant.virtual_line_by_name[(location.id, virtual.display_name)]
    tenant.virtual_line_by_name[(location.id, display)] = virtual.id
    return web.Response(status=204)


@routes.delete(f"{PATH}/{{virtualLineId}}")
async def delete_virtual_line(request: web.Request) -> web.Response:
    """Delete a virtual line (204): its line is freed and it leaves every feature."""
    sim = simulator_of(request)
    tenant = sim.tenant
    virtual = tenant.virtual_line(request.match_info["virtualLineId"])
    owner = Owner(OWNER_VIRTUAL_LINE, virtual.id)
    tenant.lines.release(owner, virtual.line)
    tenant.virtual_lines.remove(virtual.id)
    del tenant.virtual_line_by_name[(virtual.location_id, virtual.display_name)]
    drop_member_everywhere(tenant, owner)
    return web.Response(status=204)
