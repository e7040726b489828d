"""Side endpoints under ``/_sim/`` (no auth, not counted): request counts, the create ledger,
a state dump, reset, and reading or changing the knobs at runtime."""

from __future__ import annotations

from typing import Any

import attrs
from aiohttp import web

from webex_bulk.simulator.answers import json_response
from webex_bulk.simulator.bodies import read_json
from webex_bulk.simulator.config import ConfigError
from webex_bulk.simulator.errors import ApiError
from webex_bulk.simulator.runtime import simulator_of
from webex_bulk.simulator.tenant import Tenant

routes = web.RouteTableDef()

STATE_TYPES = (
    "licenses",
    "locations",
    "people",
    "workspaces",
    "numbers",
    "schedules",
    "features",
    "devices",
)


@routes.get("/_sim/counts")
async def counts(request: web.Request) -> web.Response:
    """Requests by method, route and status, total writes, and recent arrivals."""
    return json_response(simulator_of(request).requests.snapshot())


@routes.get("/_sim/creates")
async def creates(request: web.Request) -> web.Response:
    """Successful creates by entity type and natural key, plus the duplicates among them."""
    return json_response(simulator_of(request).creates.snapshot())


@routes.get("/_sim/state")
async def state(request: web.Request) -> web.Response:
    """A dump of the tenant; ``?types=people,numbers`` limits it to some object types."""
    tenant = simulator_of(request).tenant
    asked = request.query.get("types", "")
    types = [name for name in asked.split(",") if name] or list(STATE_TYPES)
    unknown = sorted(set(types) - set(STATE_TYPES))
    if unknown:
        return json_response({"message": f"unknown types: {', '.join(unknown)}"}, status=400)
    body: dict[str, Any] = {"org": attrs.asdict(tenant.org), "adminId": tenant.admin_id}
    for name in types:
        body[name] = _dump(tenant, name)
    return json_response(body)


def _dump(tenant: Tenant, name: str) -> list[dict[str, Any]]:
    if name == "licenses":
        return [
            {
                **attrs.asdict(license),
                "consumedByUsers": tenant.licenses.usage(license.id)[0],
                "consumedByWorkspaces": tenant.licenses.usage(license.id)[1],
            }
            for license in tenant.licenses
        ]
    if name == "numbers":
        return [attrs.asdict(record) for record in tenant.lines.numbers.values()]
    if name == "features":
        return [attrs.asdict(feature) for feature in tenant.all_features()]
    collection = getattr(tenant, name)
    return [attrs.asdict(record) for record in collection.values()]


@routes.post("/_sim/reset")
async def reset(request: web.Request) -> web.Response:
    """Reset ``counters``, ``tenant`` and/or ``faults`` (each defaults to true)."""
    sim = simulator_of(request)
    body = await _body(request)
    sim.reset(
        counters=bool(body.get("counters", True)),
        tenant=bool(body.get("tenant", True)),
        faults=bool(body.get("faults", True)),
    )
    return json_response({"reset": True})


@routes.get("/_sim/config")
async def get_config(request: web.Request) -> web.Response:
    """The current knobs."""
    return json_response(simulator_of(request).config.to_json())


@routes.post("/_sim/config")
async def set_config(request: web.Request) -> web.Response:
    """Merge a partial config (nested maps merge by key); answers the resulting knobs."""
    sim = simulator_of(request)
    body = await _body(request)
    try:
        config = sim.reconfigure(body)
    except ConfigError as error:
        return json_response({"message": str(error)}, status=400)
    return json_response(config.to_json())


async def _body(request: web.Request) -> dict[str, Any]:
    try:
        return await read_json(request)
    except ApiError as error:
        raise web.HTTPBadRequest(text=error.description) from error
