"""Hunt group, call queue and auto attendant routes: org-wide lists (name *prefix* filter, offset
paging) and create/get/update/delete under a location. One set of handlers, three ``Kind``s."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator, Mapping
from typing import Any

import attrs
from aiohttp import web

from webex_bulk.simulator.answers import json_response, offset_link, offset_page, page_size
from webex_bulk.simulator.bodies import read_json, require, text
from webex_bulk.simulator.errors import ApiError, Code, bad_request, conflict
from webex_bulk.simulator.feature_shapes import KINDS, Kind, feature_details, feature_summary
from webex_bulk.simulator.records import Agent, Feature, Line, Location, Owner
from webex_bulk.simulator.runtime import Simulator, simulator_of
from webex_bulk.simulator.tenant import Tenant

routes = web.RouteTableDef()
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
PAGE = 2000
POLICIES = ("CIRCULAR", "REGULAR", "SIMULTANEOUS", "UNIFORM", "WEIGHTED")
#: Body fields kept outside ``Feature.settings``.
CORE_FIELDS = frozenset({"name", "phoneNumber", "extension", "agents"})


def _list(kind: Kind) -> Handler:
    async def handler(request: web.Request) -> web.Response:
        sim = simulator_of(request)
        collection = sim.tenant.features[kind.name]
        location_id = request.query.get("locationId", "")
        prefix = request.query.get("name", "").casefold()
        number = request.query.get("phoneNumber", "")
        now = sim.clock()
        matching: Iterator[Feature] = (
            feature
            for _, feature in collection.entries(group=location_id or None)
            if feature.name.casefold().startswith(prefix)
            and (not number or number in (feature.line.number, feature.line.extension))
            and collection.visible(feature.id, now)
        )
        size = page_size(request, PAGE, PAGE)
        page, start = offset_page(request, matching, size)
        drop = sim.config.next_link_drops_filters
        headers = offset_link(request, start, size, drop_filters=drop, telephony=True)
        items = [feature_summary(sim.tenant, feature) for feature in page]
        return json_response({kind.list_key: items}, headers=headers)

    return handler


def _create(kind: Kind) -> Handler:
    async def handler(request: web.Request) -> web.Response:
        sim = simulator_of(request)
        body = await read_json(request)
        tenant = sim.tenant
        location = tenant.calling_location(request.match_info["locationId"])
        require(body, kind.create_required, telephony=True)
        name = text(body, "name")
        _check_name_free(tenant, kind, location.id, name)
        feature_id = tenant.mint.id(kind.name)
        line = Line(location.id, text(body, "extension"), text(body, "phoneNumber"))
        tenant.lines.check(Owner(kind.name, feature_id), line, location)
        _check_settings(tenant, kind, location, body)
        feature = Feature(
            id=feature_id,
            kind=kind.name,
            location_id=location.id,
            name=name,
            line=line,
            agents=_agents(tenant, body.get("agents") or []),
            settings={key: value for key, value in body.items() if key not in CORE_FIELDS},
        )
        tenant.features[kind.name].add(feature_id, feature, sim.hidden_until())
        tenant.feature_by_name[(kind.name, location.id, name)] = feature_id
        tenant.lines.assign(Owner(kind.name, feature_id), line)
        sim.creates.record("features", kind.name, location.id, name)
        return json_response({"id": feature_id}, status=kind.create_status)

    return handler


def _get(kind: Kind) -> Handler:
    async def handler(request: web.Request) -> web.Response:
        sim = simulator_of(request)
        feature = _feature(sim, kind, request)
        return json_response(feature_details(sim.tenant, feature))

    return handler


def _update(kind: Kind) -> Handler:
    async def handler(request: web.Request) -> web.Response:
        sim = simulator_of(request)
        body = await read_json(request)
        tenant = sim.tenant
        feature = _feature(sim, kind, request)
        location = tenant.calling_location(feature.location_id)
        require(body, kind.update_required, telephony=True)
        name = text(body, "name", feature.name)
        if name != feature.name:
            _check_name_free(tenant, kind, location.id, name)
        owner = Owner(kind.name, feature.id)
        line = Line(
            location.id,
            text(body, "extension") if "extension" in body else feature.line.extension,
            text(body, "phoneNumber") if "phoneNumber" in body else feature.line.number,
        )
        tenant.lines.check(owner, line, location)
        _check_settings(tenant, kind, location, body)
        agents = _agents(tenant, body["agents"]) if "agents" in body else feature.agents
        changes = {key: value for key, value in body.items() if key not in CORE_FIELDS}
        updated = attrs.evolve(
            feature, name=name, line=line, agents=agents, settings={**feature.settings, **changes}
        )
        tenant.lines.move(owner, feature.line, line)
        tenant.features[kind.name].replace(feature.id, updated)
        del tenant.feature_by_name[(kind.name, location.id, feature.name)]
        tenant.feature_by_name[(kind.name, location.id, name)] = feature.id
        return web.Response(status=204)

    return handler


def _delete(kind: Kind) -> Handler:
    async def handler(request: web.Request) -> web.Response:
        sim = simulator_of(request)
        feature = _feature(sim, kind, request)
        sim.tenant.lines.release(Owner(kind.name, feature.id), feature.line)
        sim.tenant.features[kind.name].remove(feature.id)
        del sim.tenant.feature_by_name[(kind.name, feature.location_id, feature.name)]
        return web.Response(status=204)

    return handler


def _feature(sim: Simulator, kind: Kind, request: web.Request) -> Feature:
    location = sim.tenant.calling_location(request.match_info["locationId"])
    return sim.tenant.feature(kind.name, location.id, request.match_info[kind.id_param])


def _check_name_free(tenant: Tenant, kind: Kind, location_id: str, name: str) -> None:
    if (kind.name, location_id, name) in tenant.feature_by_name:
        raise conflict(f"The name {name} is already in use.", Code.NAME_IN_USE, telephony=True)


def _check_settings(
    tenant: Tenant, kind: Kind, location: Location, body: Mapping[str, Any]
) -> None:
    """Policy values, and the schedules an auto attendant names, must exist."""
    policy = (body.get("callPolicies") or {}).get("policy")
    if policy is not None and policy not in POLICIES:
        raise bad_request(f"Unknown call policy {policy}.", Code.INVALID_VALUE, telephony=True)
    if kind.name != "AUTO_ATTENDANT":
        return
    for field, schedule_type in (
        ("businessSchedule", "businessHours"),
        ("holidaySchedule", "holidays"),
    ):
        name = body.get(field)
        if name in (None, ""):
            continue
        schedule_id = tenant.schedule_by_name.get((location.id, str(name)), "")
        schedule = tenant.schedules.get(schedule_id)
        if schedule is None or schedule.type != schedule_type:
            raise bad_request(
                f"{field} {name} is not a {schedule_type} schedule of location {location.name}.",
                Code.UNKNOWN_SCHEDULE,
                telephony=True,
            )
    for menu in ("businessHoursMenu", "afterHoursMenu"):
        keys = (body.get(menu) or {}).get("keyConfigurations")
        if keys is not None and not isinstance(keys, list):
            raise bad_request(
                f"{menu}.keyConfigurations must be a list.", Code.INVALID_VALUE, telephony=True
            )


def _agents(tenant: Tenant, agents: Any) -> tuple[Agent, ...]:
    """Members of a hunt group or call queue: calling people, workspaces or virtual lines."""
    if not isinstance(agents, list):
        raise bad_request("agents must be a list.", Code.INVALID_VALUE, telephony=True)
    result = []
    for agent in agents:
        agent_id = text(agent, "id")
        if tenant.calling_owner(agent_id) is None:
            raise ApiError(
                400,
                f"Agent {agent_id} is not a Webex Calling user, workspace or virtual line of this "
                "organization.",
                Code.UNKNOWN_AGENT,
                telephony=True,
            )
        weight, skill = agent.get("weight"), agent.get("skillLevel")
        result.append(
            Agent(
                agent_id,
                "" if weight is None else str(weight),
                None if skill is None else int(skill),
            )
        )
    if len({agent.id for agent in result}) != len(result):
        raise bad_request("An agent is listed twice.", Code.INVALID_VALUE, telephony=True)
    return tuple(result)


for _kind in KINDS:
    _org_path = f"/v1/telephony/config/{_kind.path}"
    _path = f"/v1/telephony/config/locations/{{locationId}}/{_kind.path}"
    routes.get(_org_path)(_list(_kind))
    routes.post(_path)(_create(_kind))
    _item = f"{_path}/{{{_kind.id_param}}}"
    routes.get(_item)(_get(_kind))
    routes.put(_item)(_update(_kind))
    routes.delete(_item)(_delete(_kind))
