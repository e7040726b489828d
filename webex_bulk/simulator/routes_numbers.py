"""Number routes: the org-wide number query and adding, activating/deactivating and removing the
numbers of a location's inventory."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import attrs
from aiohttp import web

from webex_bulk.simulator.answers import json_response, offset_link, offset_page, page_size
from webex_bulk.simulator.bodies import flag, read_json, require, text
from webex_bulk.simulator.errors import Code, bad_request
from webex_bulk.simulator.records import Owner, PhoneNumber
from webex_bulk.simulator.runtime import Simulator, simulator_of
from webex_bulk.simulator.tenant import Tenant

routes = web.RouteTableDef()

PAGE = 2000
STATES = ("ACTIVE", "INACTIVE")
#: The most numbers one DELETE may name (the spec's ``NumbersDelete`` schema).
DELETE_LIMIT = 5


#: An extension-only line: (location id, extension, owner).
ExtensionLine = tuple[str, str, Owner]


@routes.get("/v1/telephony/config/numbers")
async def list_numbers(request: web.Request) -> web.Response:
    """Numbers (then extension-only lines) filtered by location, number, extension, owner, state."""
    sim = simulator_of(request)
    size = page_size(request, PAGE, PAGE)
    page, start = offset_page(request, _matches(sim, request), size)
    drop = sim.config.next_link_drops_filters
    headers = offset_link(request, start, size, drop_filters=drop, telephony=True)
    rows = [
        _number_row(sim.tenant, item)
        if isinstance(item, PhoneNumber)
        else _line_row(sim.tenant, *item)
        for item in page
    ]
    return json_response({"phoneNumbers": rows}, headers=headers)


def _matches(sim: Simulator, request: web.Request) -> Iterator[PhoneNumber | ExtensionLine]:
    """The numbers and extension-only lines a query selects, unrendered (pages skip cheaply)."""
    tenant = sim.tenant
    query = request.query
    location_id = query.get("locationId", "")
    extension = query.get("extension", "")
    owner_type = query.get("ownerType", "")
    owner = tenant.owner_by_id(query["ownerId"]) if query.get("ownerId") else None
    if query.get("ownerId") and owner is None:
        return
    number_type = query.get("numberType", "").upper()
    state = query.get("state", "").upper()
    available = flag(request, "available")
    now = sim.clock()
    if number_type != "EXTENSION":
        for record in _candidate_numbers(tenant, query.get("phoneNumber", ""), location_id, owner):
            if not tenant.lines.numbers.visible(record.number, now):
                continue
            if (state and record.state != state) or (available and record.owner is not None):
                continue
            if owner_type and (record.owner is None or record.owner.type != owner_type):
                continue
            if not extension or _extension_of(tenant, record) == extension:
                yield record
    if number_type == "NUMBER" or available or query.get("phoneNumber") or state == "INACTIVE":
        return
    for line in tenant.lines.extension_only(location_id or None):
        if (extension and line[1] != extension) or (owner and line[2] != owner):
            continue
        if not owner_type or line[2].type == owner_type:
            yield line


def _extension_of(tenant: Tenant, record: PhoneNumber) -> str:
    line = tenant.owner_line(record.owner) if record.owner is not None else None
    return line.extension if line is not None else ""


def _candidate_numbers(
    tenant: Tenant, phone_number: str, location_id: str, owner: Owner | None
) -> Iterator[PhoneNumber]:
    numbers = tenant.lines.numbers
    candidates: Iterable[PhoneNumber | None]
    if phone_number:
        wanted = phone_number if phone_number.startswith("+") else f"+{phone_number}"
        candidates = [numbers.get(wanted.replace(" ", ""))]
    elif owner is not None:
        line = tenant.owner_line(owner)
        candidates = [numbers.get(line.number) if line and line.number else None]
    else:
        candidates = (record for _, record in numbers.entries(group=location_id or None))
    for record in candidates:
        if record is not None and (not location_id or record.location_id == location_id):
            yield record


def _number_row(tenant: Tenant, record: PhoneNumber) -> dict[str, Any]:
    location = tenant.locations.get(record.location_id)
    row: dict[str, Any] = {
        "phoneNumber": record.number,
        "state": record.state,
        "phoneNumberType": "PRIMARY",
        "mainNumber": location is not None and location.main_number == record.number,
        "includedTelephonyTypes": "PSTN_NUMBER",
        "tollFreeNumber": False,
        "isServiceNumber": False,
        "location": {"id": record.location_id, "name": location.name if location else ""},
    }
    if record.owner is not None:
        line = tenant.owner_line(record.owner)
        if line is not None and line.extension:
            _add_extension(row, line.extension, location.routing_prefix if location else "")
        row["owner"] = _owner_json(tenant, record.owner)
    return row


def _line_row(tenant: Tenant, location_id: str, extension: str, owner: Owner) -> dict[str, Any]:
    location = tenant.locations.get(location_id)
    row: dict[str, Any] = {
        "state": "ACTIVE",
        "phoneNumberType": "PRIMARY",
        "mainNumber": False,
        "includedTelephonyTypes": "PSTN_NUMBER",
        "tollFreeNumber": False,
        "isServiceNumber": False,
        "location": {"id": location_id, "name": location.name if location else ""},
        "owner": _owner_json(tenant, owner),
    }
    _add_extension(row, extension, location.routing_prefix if location else "")
    return row


def _add_extension(row: dict[str, Any], extension: str, routing_prefix: str) -> None:
    row["extension"] = extension
    if routing_prefix:
        row["routingPrefix"] = routing_prefix
        row["esn"] = routing_prefix + extension


def _owner_json(tenant: Tenant, owner: Owner) -> dict[str, Any]:
    first, last = tenant.owner_names(owner)
    body: dict[str, Any] = {"id": owner.id, "type": owner.type, "firstName": first}
    if last:
        body["lastName"] = last
    return body


NUMBERS_REQUIRED = ("phoneNumbers",)


async def _numbers_of(request: web.Request) -> tuple[list[str], dict[str, Any]]:
    body = await read_json(request)
    require(body, NUMBERS_REQUIRED, telephony=True)
    numbers = body["phoneNumbers"]
    if not isinstance(numbers, list) or not numbers or not all(isinstance(n, str) for n in numbers):
        raise bad_request(
            "phoneNumbers must be a non-empty list of numbers.", Code.INVALID_NUMBER, telephony=True
        )
    return numbers, body


@routes.post("/v1/telephony/config/locations/{locationId}/numbers")
async def add_numbers(request: web.Request) -> web.Response:
    """Add numbers to a calling location (201); refused for Cisco Calling Plan locations."""
    sim = simulator_of(request)
    numbers, body = await _numbers_of(request)
    location = sim.tenant.calling_location(request.match_info["locationId"])
    state = text(body, "state", "ACTIVE").upper()
    if state not in STATES:
        raise bad_request(f"Unknown number state {state}.", Code.INVALID_VALUE, telephony=True)
    ignore = not sim.config.number_add_conflict
    added = sim.tenant.lines.add_numbers(
        location, numbers, state, sim.hidden_until(), ignore_present=ignore
    )
    if not location.main_number:
        sim.tenant.locations.replace(location.id, attrs.evolve(location, main_number=numbers[0]))
    for number in added:
        sim.creates.record("numbers", number)
    return web.Response(status=201)


@routes.put("/v1/telephony/config/locations/{locationId}/numbers")
async def manage_numbers(request: web.Request) -> web.Response:
    """Activate (default) or deactivate numbers of a location (204)."""
    sim = simulator_of(request)
    numbers, body = await _numbers_of(request)
    location = sim.tenant.calling_location(request.match_info["locationId"])
    action = text(body, "action", "ACTIVATE").upper()
    if action not in {"ACTIVATE", "DEACTIVATE"}:
        raise bad_request(f"Unknown action {action}.", Code.INVALID_VALUE, telephony=True)
    records = sim.tenant.lines.in_location(location, numbers)
    sim.tenant.lines.set_state(records, "ACTIVE" if action == "ACTIVATE" else "INACTIVE")
    return web.Response(status=204)


@routes.delete("/v1/telephony/config/locations/{locationId}/numbers")
async def remove_numbers(request: web.Request) -> web.Response:
    """Remove up to 5 unassigned numbers (not the main number) from a location (204)."""
    sim = simulator_of(request)
    numbers, _ = await _numbers_of(request)
    if len(numbers) > DELETE_LIMIT:
        raise bad_request(
            f"At most {DELETE_LIMIT} numbers can be removed at a time.",
            Code.TOO_MANY_NUMBERS,
            telephony=True,
        )
    location = sim.tenant.calling_location(request.match_info["locationId"])
    records = sim.tenant.lines.in_location(location, numbers)
    sim.tenant.lines.remove(location, records)
    return web.Response(status=204)
