"""Call pickups (list, create, get, update, delete under a location; a member belongs to one
pickup; the id changes with the name) and paging groups (org-wide list; create, get, update,
delete under a location; a line of their own, originators and targets)."""

from __future__ import annotations

from typing import Any

import attrs
from aiohttp import web

from webex_bulk.simulator import group_rules
from webex_bulk.simulator.answers import json_response
from webex_bulk.simulator.bodies import read_json, require
from webex_bulk.simulator.errors import ApiError, Code, bad_request
from webex_bulk.simulator.records import Agent, Feature, Line, Location, Owner
from webex_bulk.simulator.runtime import simulator_of
from webex_bulk.simulator.tenant import Tenant

routes = web.RouteTableDef()
PICKUP = "CALL_PICKUP"
PAGING = "PAGING_GROUP"
BASE = "/v1/telephony/config/locations/{locationId}"
NOTIFICATION_TYPES = ("NONE", "AUDIO_ONLY", "VISUAL_ONLY", "AUDIO_AND_VISUAL")
#: Paging group fields kept as given (the line, members and name are stored apart).
PAGING_SETTINGS = (
    "enabled",
    "languageCode",
    "firstName",
    "lastName",
    "originatorCallerIdEnabled",
    "directLineCallerIdName",
    "dialByName",
)
MAX_TARGETS = 75


# Call pickups.


@routes.get(f"{BASE}/callPickups")
async def list_pickups(request: web.Request) -> web.Response:
    """Call pickups of a location: ``name`` (contains), offset paging."""
    sim = simulator_of(request)
    location = sim.tenant.calling_location(request.match_info["locationId"])
    found = group_rules.listed(sim, request, PICKUP, location_id=location.id)
    items = (group_rules.location_fields(sim.tenant, feature) for feature in found)
    return group_rules.list_answer(sim, request, "callPickups", items)


@routes.post(f"{BASE}/callPickups")
async def create_pickup(request: web.Request) -> web.Response:
    """Create a call pickup (201 {id}) of members of the location not in another pickup."""
    sim = simulator_of(request)
    body = await read_json(request)
    tenant = sim.tenant
    location = tenant.calling_location(request.match_info["locationId"])
    require(body, ("name",), telephony=True)
    name = group_rules.new_name(tenant, PICKUP, location.id, body)
    feature = Feature(
        id=tenant.mint.id(PICKUP),
        kind=PICKUP,
        location_id=location.id,
        name=name,
        line=Line(location.id),
        agents=_pickup_agents(tenant, body.get("agents"), location, ""),
        settings=_pickup_settings(body, {}),
    )
    group_rules.store(sim, feature)
    return json_response({"id": feature.id}, status=201)


@routes.get(f"{BASE}/callPickups/{{callPickupId}}")
async def get_pickup(request: web.Request) -> web.Response:
    """One call pickup with its notification settings and members."""
    sim = simulator_of(request)
    feature = group_rules.located(sim, request, PICKUP, "callPickupId")
    agents = [
        group_rules.member_json(sim.tenant, agent.id, "phoneNumber") for agent in feature.agents
    ]
    return json_response(
        {"id": feature.id, "name": feature.name, **feature.settings, "agents": agents}
    )


@routes.put(f"{BASE}/callPickups/{{callPickupId}}")
async def update_pickup(request: web.Request) -> web.Response:
    """Replace a call pickup's settings (200 {id}); a new name gives it a new id."""
    sim = simulator_of(request)
    body = await read_json(request)
    tenant = sim.tenant
    feature = group_rules.located(sim, request, PICKUP, "callPickupId")
    location = tenant.calling_location(feature.location_id)
    name = group_rules.changed_name(tenant, feature, body)
    agents = feature.agents
    if "agents" in body:
        agents = _pickup_agents(tenant, body["agents"], location, feature.id)
    updated = attrs.evolve(
        group_rules.renamed(tenant, feature, name),
        agents=agents,
        settings=_pickup_settings(body, feature.settings),
    )
    group_rules.replace(tenant, feature, updated)
    return json_response({"id": updated.id})


@routes.delete(f"{BASE}/callPickups/{{callPickupId}}")
async def delete_pickup(request: web.Request) -> web.Response:
    """Delete a call pickup (204)."""
    sim = simulator_of(request)
    group_rules.remove(sim.tenant, group_rules.located(sim, request, PICKUP, "callPickupId"))
    return web.Response(status=204)


def _pickup_agents(
    tenant: Tenant, value: Any, location: Location, own_id: str
) -> tuple[Agent, ...]:
    agents = group_rules.members(tenant, group_rules.member_ids(value, "agents"), location)
    for other in tenant.group_features(PICKUP):
        if other.id == own_id:
            continue
        taken = {agent.id for agent in other.agents} & {agent.id for agent in agents}
        if taken:
            raise ApiError(
                400,
                f"Member {sorted(taken)[0]} is already in call pickup {other.name}.",
                Code.MEMBER_IN_OTHER_PICKUP,
                telephony=True,
            )
    return agents


def _pickup_settings(body: dict[str, Any], old: Any) -> dict[str, Any]:
    settings = {"notificationType": "NONE", "notificationDelayTimerSeconds": 6, **old}
    if "notificationType" in body:
        if body["notificationType"] not in NOTIFICATION_TYPES:
            raise bad_request(
                f"Unknown notificationType {body['notificationType']}.",
                Code.INVALID_VALUE,
                telephony=True,
            )
        settings["notificationType"] = body["notificationType"]
    if "notificationDelayTimerSeconds" in body:
        settings["notificationDelayTimerSeconds"] = body["notificationDelayTimerSeconds"]
    return settings


# Paging groups.


@routes.get("/v1/telephony/config/paging")
async def list_paging(request: web.Request) -> web.Response:
    """Paging groups of the org: ``locationId``, ``name`` (contains), ``phoneNumber``."""
    sim = simulator_of(request)
    tenant = sim.tenant
    found = group_rules.listed(
        sim, request, PAGING, location_id=request.query.get("locationId", "")
    )

    def item(feature: Feature) -> dict[str, Any]:
        body = group_rules.location_fields(tenant, feature)
        group_rules.add_line_fields(body, tenant, feature)
        body["tollFreeNumber"] = False
        return body

    return group_rules.list_answer(sim, request, "locationPaging", (item(f) for f in found))


@routes.post(f"{BASE}/paging")
async def create_paging(request: web.Request) -> web.Response:
    """Create a paging group (201 {id}) with an extension and/or number of its location."""
    sim = simulator_of(request)
    body = await read_json(request)
    tenant = sim.tenant
    location = tenant.calling_location(request.match_info["locationId"])
    require(body, ("name",), telephony=True)
    name = group_rules.new_name(tenant, PAGING, location.id, body)
    feature_id = tenant.mint.id(PAGING)
    line = group_rules.line_of(body, location.id)
    tenant.lines.check(Owner(PAGING, feature_id), line, location)
    feature = Feature(
        id=feature_id,
        kind=PAGING,
        location_id=location.id,
        name=name,
        line=line,
        agents=_targets(tenant, body.get("targets")),
        settings=_paging_settings(tenant, body, {}),
    )
    group_rules.store(sim, feature)
    tenant.lines.assign(Owner(PAGING, feature_id), line)
    return json_response({"id": feature_id}, status=201)


@routes.get(f"{BASE}/paging/{{pagingId}}")
async def get_paging(request: web.Request) -> web.Response:
    """One paging group with its originators and targets."""
    sim = simulator_of(request)
    tenant = sim.tenant
    feature = group_rules.located(sim, request, PAGING, "pagingId")
    location = tenant.locations.get(feature.location_id)
    settings = dict(feature.settings)
    originators = settings.pop("originators", [])
    body: dict[str, Any] = {
        "id": feature.id,
        "enabled": True,
        "name": feature.name,
        "tollFreeNumber": False,
        "language": "English",
        "languageCode": location.preferred_language if location else "en_us",
        "firstName": feature.name,
        "lastName": ".",
        "originatorCallerIdEnabled": False,
        **settings,
        "originators": [group_rules.member_json(tenant, member) for member in originators],
        "targets": [group_rules.member_json(tenant, agent.id) for agent in feature.agents],
    }
    group_rules.add_line_fields(body, tenant, feature)
    return json_response(body)


@routes.put(f"{BASE}/paging/{{pagingId}}")
async def update_paging(request: web.Request) -> web.Response:
    """Replace a paging group's fields (204): the line, name, members and settings given."""
    sim = simulator_of(request)
    body = await read_json(request)
    tenant = sim.tenant
    feature = group_rules.located(sim, request, PAGING, "pagingId")
    location = tenant.calling_location(feature.location_id)
    name = group_rules.changed_name(tenant, feature, body)
    owner = Owner(PAGING, feature.id)
    line = group_rules.line_of(body, location.id, feature.line)
    tenant.lines.check(owner, line, location)
    targets = _targets(tenant, body["targets"]) if "targets" in body else feature.agents
    settings = _paging_settings(tenant, body, feature.settings)
    tenant.lines.move(owner, feature.line, line)
    updated = attrs.evolve(feature, name=name, line=line, agents=targets, settings=settings)
    group_rules.replace(tenant, feature, updated)
    return web.Response(status=204)


@routes.delete(f"{BASE}/paging/{{pagingId}}")
async def delete_paging(request: web.Request) -> web.Response:
    """Delete a paging group (204), freeing its line."""
    sim = simulator_of(request)
    feature = group_rules.located(sim, request, PAGING, "pagingId")
    sim.tenant.lines.release(Owner(PAGING, feature.id), feature.line)
    group_rules.remove(sim.tenant, feature)
    return web.Response(status=204)


def _targets(tenant: Tenant, value: Any) -> tuple[Agent, ...]:
    agents = group_rules.members(tenant, group_rules.member_ids(value, "targets"))
    if len(agents) > MAX_TARGETS:
        raise bad_request(
            f"A paging group has at most {MAX_TARGETS} targets.", Code.INVALID_VALUE, telephony=True
        )
    return agents


def _paging_settings(tenant: Tenant, body: dict[str, Any], old: Any) -> dict[str, Any]:
    settings = dict(old)
    settings.update({key: body[key] for key in PAGING_SETTINGS if key in body})
    if "originators" in body:
        ids = group_rules.member_ids(body["originators"], "originators")
        group_rules.members(tenant, ids)
        settings["originators"] = ids
    return settings
