"""A calling user's and a calling workspace's own call settings: GET and PUT under
``/people/{id}/features/`` and ``/workspaces/{id}/features/``. Defaults until a PUT changes them."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from webex_bulk.simulator import call_settings
from webex_bulk.simulator.answers import json_response
from webex_bulk.simulator.bodies import read_json
from webex_bulk.simulator.errors import not_found
from webex_bulk.simulator.records import Line, Location
from webex_bulk.simulator.runtime import simulator_of
from webex_bulk.simulator.tenant import Tenant

routes = web.RouteTableDef()
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
#: What an owner lookup gives: its id, line, location and ``(first, last)`` names.
Holder = tuple[str, Line, Location, tuple[str, str]]


def _person(tenant: Tenant, request: web.Request) -> Holder:
    person = tenant.person(request.match_info["personId"])
    if person.line is None:
        raise not_found("calling user", telephony=True)
    location = tenant.location(person.line.location_id, telephony=True)
    return person.id, person.line, location, (person.first_name, person.last_name)


def _workspace(tenant: Tenant, request: web.Request) -> Holder:
    workspace = tenant.workspace(request.match_info["workspaceId"])
    if workspace.line is None:
        raise not_found("calling workspace", telephony=True)
    location = tenant.location(workspace.line.location_id, telephony=True)
    return workspace.id, workspace.line, location, (workspace.display_name, "")


def _stored(tenant: Tenant, owner_id: str, name: str) -> dict[str, Any]:
    saved = tenant.call_settings.get(owner_id, {}).get(name)
    return dict(saved if saved is not None else call_settings.DEFAULTS[name])


def _get(name: str, holder: Callable[[Tenant, web.Request], Holder]) -> Handler:
    async def handler(request: web.Request) -> web.Response:
        tenant = simulator_of(request).tenant
        owner_id, line, location, names = holder(tenant, request)
        stored = _stored(tenant, owner_id, name)
        if name == call_settings.CALLER_ID:
            workspace = "workspaceId" in request.match_info
            return json_response(
                call_settings.caller_id(stored, line, location, names, workspace=workspace)
            )
        return json_response(stored)

    return handler


def _put(name: str, holder: Callable[[Tenant, web.Request], Holder]) -> Handler:
    async def handler(request: web.Request) -> web.Response:
        tenant = simulator_of(request).tenant
        body = await read_json(request)
        owner_id, line, location, _ = holder(tenant, request)
        workspace = "workspaceId" in request.match_info
        call_settings.check_required(name, body, workspace=workspace)
        call_settings.check(name, body, line, location)
        updated = call_settings.merged(_stored(tenant, owner_id, name), body)
        if name == call_settings.FORWARDING:
            call_settings.check(name, updated, line, location)
        tenant.call_settings.setdefault(owner_id, {})[name] = updated
        return web.Response(status=204)

    return handler


for _name in call_settings.PERSON_SETTINGS:
    _path = f"/v1/people/{{personId}}/features/{_name}"
    routes.get(_path)(_get(_name, _person))
    routes.put(_path)(_put(_name, _person))
for _name in call_settings.WORKSPACE_SETTINGS:
    _path = f"/v1/workspaces/{{workspaceId}}/features/{_name}"
    routes.get(_path)(_get(_name, _workspace))
    routes.put(_path)(_put(_name, _workspace))
