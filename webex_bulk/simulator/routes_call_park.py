"""Call park extensions (org-wide list; create/get/update/delete under a location) and call parks
(list, create, get, update, delete under a location). A call park's id changes with its name."""

from __future__ import annotations

from typing import Any

import attrs
from aiohttp import web

from webex_bulk.simulator import group_rules
from webex_bulk.simulator.answers import json_response
from webex_bulk.simulator.bodies import read_json, require, text
from webex_bulk.simulator.errors import ApiError, Code, bad_request
from webex_bulk.simulator.records import Feature, Line, Location, Owner
from webex_bulk.simulator.runtime import simulator_of
from webex_bulk.simulator.tenant import Tenant

routes = web.RouteTableDef()
EXTENSION = "CALL_PARK_EXTENSION"
PARK = "CALL_PARK"
BASE = "/v1/telephony/config/locations/{locationId}"
RECALL_OPTIONS = (
    "ALERT_PARKING_USER_ONLY",
    "ALERT_PARKING_USER_FIRST_THEN_HUNT_GROUP",
    "ALERT_HUNT_GROUP_ONLY",
)


# Call park extensions.


@routes.get("/v1/telephony/config/callParkExtensions")
async def list_extensions(request: web.Request) -> web.Response:
    """Call park extensions of the org: ``locationId``, ``name`` (contains), ``extension``,
    ``locationName`` filters, offset paging."""
    sim = simulator_of(request)
    tenant = sim.tenant
    location_name = request.query.get("locationName", "")
    location_id = request.query.get("locationId", "")
    extension = request.query.get("extension", "")
    found = group_rules.listed(
        sim, request, EXTENSION, location_id=location_id, extension=extension
    )
    items = (
        {**_extension_json(tenant, feature), **group_rules.location_fields(tenant, feature)}
        for feature in found
        if not location_name
        or location_name == group_rules.location_fields(tenant, feature)["locationName"]
    )
    return group_rules.list_answer(sim, request, "callParkExtensions", items)


@routes.post(f"{BASE}/callParkExtensions")
async def create_extension(request: web.Request) -> web.Response:
    """Create a call park extension (201 {id}): name unique, extension free in the location."""
    sim = simulator_of(request)
    body = await read_json(request)
    tenant = sim.tenant
    location = tenant.calling_location(request.match_info["locationId"])
    require(body, ("name", "extension"), telephony=True)
    name = group_rules.new_name(tenant, EXTENSION, location.id, body)
    feature_id = tenant.mint.id(EXTENSION)
    line = Line(location.id, text(body, "extension"))
    tenant.lines.check(Owner(EXTENSION, feature_id), line, location)
    feature = Feature(id=feature_id, kind=EXTENSION, location_id=location.id, name=name, line=line)
    group_rules.store(sim, feature)
    tenant.lines.assign(Owner(EXTENSION, feature_id), line)
    return json_response({"id": feature_id}, status=201)


@routes.get(f"{BASE}/callParkExtensions/{{callParkExtensionId}}")
async def get_extension(request: web.Request) -> web.Response:
    """One call park extension: name, extension (and ESN with a routing prefix)."""
    sim = simulator_of(request)
    feature = group_rules.located(sim, request, EXTENSION, "callParkExtensionId")
    return json_response(_extension_json(sim.tenant, feature))


@routes.put(f"{BASE}/callParkExtensions/{{callParkExtensionId}}")
async def update_extension(request: web.Request) -> web.Response:
    """Change the name and/or extension (204)."""
    sim = simulator_of(request)
    body = await read_json(request)
    tenant = sim.tenant
    feature = group_rules.located(sim, request, EXTENSION, "callParkExtensionId")
    location = tenant.calling_location(feature.location_id)
    name = group_rules.changed_name(tenant, feature, body)
    owner = Owner(EXTENSION, feature.id)
    line = Line(location.id, text(body, "extension", feature.line.extension))
    tenant.lines.check(owner, line, location)
    tenant.lines.move(owner, feature.line, line)
    group_rules.replace(tenant, feature, attrs.evolve(feature, name=name, line=line))
    return web.Response(status=204)


@routes.delete(f"{BASE}/callParkExtensions/{{callParkExtensionId}}")
async def delete_extension(request: web.Request) -> web.Response:
    """Delete a call park extension (204); call parks that listed it drop it."""
    sim = simulator_of(request)
    tenant = sim.tenant
    feature = group_rules.located(sim, request, EXTENSION, "callParkExtensionId")
    tenant.lines.release(Owner(EXTENSION, feature.id), feature.line)
    group_rules.remove(tenant, feature)
    for park in list(tenant.group_features(PARK)):
        kept = [item for item in park.settings.get("callParkExtensions", []) if item != feature.id]
        if len(kept) != len(park.settings.get("callParkExtensions", [])):
            settings = {**park.settings, "callParkExtensions": kept}
            tenant.features[PARK].replace(park.id, attrs.evolve(park, settings=settings))
    return web.Response(status=204)


def _extension_json(tenant: Tenant, feature: Feature) -> dict[str, Any]:
    body: dict[str, Any] = {"name": feature.name}
    group_rules.add_line_fields(body, tenant, feature)
    return body


# Call parks.


@routes.get(f"{BASE}/callParks")
async def list_parks(request: web.Request) -> web.Response:
    """Call parks of a location: ``name`` (contains), offset paging."""
    sim = simulator_of(request)
    location = sim.tenant.calling_location(request.match_info["locationId"])
    found = group_rules.listed(sim, request, PARK, location_id=location.id)
    items = (group_rules.location_fields(sim.tenant, feature) for feature in found)
    return group_rules.list_answer(sim, request, "callParks", items)


@routes.post(f"{BASE}/callParks")
async def create_park(request: web.Request) -> web.Response:
    """Create a call park (201 {id}); members are calling users, workspaces or virtual lines of
    the location, extensions are call park extensions of the location."""
    sim = simulator_of(request)
    body = await read_json(request)
    tenant = sim.tenant
    location = tenant.calling_location(request.match_info["locationId"])
    require(body, ("name", "recall", "recall.option"), telephony=True)
    name = group_rules.new_name(tenant, PARK, location.id, body)
    feature = Feature(
        id=tenant.mint.id(PARK),
        kind=PARK,
        location_id=location.id,
        name=name,
        line=Line(location.id),
        agents=_agents(tenant, body.get("agents"), location),
        settings=_park_settings(tenant, location, body, {}),
    )
    group_rules.store(sim, feature)
    return json_response({"id": feature.id}, status=201)


@routes.get(f"{BASE}/callParks/{{callParkId}}")
async def get_park(request: web.Request) -> web.Response:
    """One call park with its recall settings, members and extensions."""
    sim = simulator_of(request)
    tenant = sim.tenant
    feature = group_rules.located(sim, request, PARK, "callParkId")
    settings = feature.settings
    recall = dict(settings.get("recall") or {"option": RECALL_OPTIONS[0]})
    hunt_group = tenant.features["HUNT_GROUP"].get(str(recall.get("huntGroupId", "")))
    if hunt_group is not None:
        recall["huntGroupName"] = hunt_group.name
    extensions = []
    for extension_id in settings.get("callParkExtensions", []):
        extension = tenant.features[EXTENSION].get(extension_id)
        if extension is not None:
            extensions.append({"id": extension.id, **_extension_json(tenant, extension)})
    return json_response(
        {
            "id": feature.id,
            "name": feature.name,
            "recall": recall,
            "agents": [
                group_rules.member_json(tenant, agent.id, "numbers") for agent in feature.agents
            ],
            "parkOnAgentsEnabled": bool(settings.get("parkOnAgentsEnabled", False)),
            "callParkExtensions": extensions,
        }
    )


@routes.put(f"{BASE}/callParks/{{callParkId}}")
async def update_park(request: web.Request) -> web.Response:
    """Replace a call park's settings (200 {id}); a new name gives the call park a new id."""
    sim = simulator_of(request)
    body = await read_json(request)
    tenant = sim.tenant
    feature = group_rules.located(sim, request, PARK, "callParkId")
    location = tenant.calling_location(feature.location_id)
    require(body, ("recall.option",), telephony=True)
    name = group_rules.changed_name(tenant, feature, body)
    agents = _agents(tenant, body["agents"], location) if "agents" in body else feature.agents
    settings = _park_settings(tenant, location, body, feature.settings)
    updated = attrs.evolve(
        group_rules.renamed(tenant, feature, name), agents=agents, settings=settings
    )
    group_rules.replace(tenant, feature, updated)
    return json_response({"id": updated.id})


@routes.delete(f"{BASE}/callParks/{{callParkId}}")
async def delete_park(request: web.Request) -> web.Response:
    """Delete a call park (204)."""
    sim = simulator_of(request)
    group_rules.remove(sim.tenant, group_rules.located(sim, request, PARK, "callParkId"))
    return web.Response(status=204)


def _agents(tenant: Tenant, value: Any, location: Location) -> tuple[Any, ...]:
    return group_rules.members(tenant, group_rules.member_ids(value, "agents"), location)


def _park_settings(
    tenant: Tenant, location: Location, body: dict[str, Any], old: Any
) -> dict[str, Any]:
    """Recall, park-on-agents and extensions: the body's values over the stored ones."""
    settings = dict(old)
    if "recall" in body:
        recall = body["recall"] or {}
        if recall.get("option") not in RECALL_OPTIONS:
            raise bad_request(
                f"Unknown recall option {recall.get('option')}.", Code.INVALID_VALUE, telephony=True
            )
        hunt_group_id = text(recall, "huntGroupId")
        if hunt_group_id:
            hunt_group = tenant.features["HUNT_GROUP"].get(hunt_group_id)
            if hunt_group is None or hunt_group.location_id != location.id:
                raise ApiError(
                    400,
                    f"Hunt group {hunt_group_id} is not in location {location.name}.",
                    Code.UNKNOWN_HUNT_GROUP,
                    telephony=True,
                )
        elif recall["option"] != RECALL_OPTIONS[0]:
            raise bad_request(
                "recall.huntGroupId is required for this recall option.",
                Code.INVALID_VALUE,
                telephony=True,
            )
        settings["recall"] = {"option": recall["option"], "huntGroupId": hunt_group_id}
    if "parkOnAgentsEnabled" in body:
        settings["parkOnAgentsEnabled"] = bool(body["parkOnAgentsEnabled"])
    if "callParkExtensions" in body:
        ids = group_rules.member_ids(body["callParkExtensions"], "callParkExtensions")
        for extension_id in ids:
            extension = tenant.features[EXTENSION].get(extension_id)
            if extension is None or extension.location_id != location.id:
                raise ApiError(
                    400,
                    f"Call park extension {extension_id} is not in location {location.name}.",
                    Code.UNKNOWN_PARK_EXTENSION,
                    telephony=True,
                )
        settings["callParkExtensions"] = ids
    return settings
