"""Side endpoints under ``/_sim/`` (no auth, not counted): request counts, the create ledger,
a state dump, reset, ending the running move jobs, and reading or changing the knobs at runtime."""

from __future__ import annotations

from typing import Any

import attrs
from aiohttp import web

from webex_bulk.simulator.answers import json_response
from webex_bulk.simulator.bodies import read_json
from webex_bulk.simulator.config import ConfigError
from webex_bulk.simulator.errors import ApiError
from webex_bulk.simulator.records import Feature
from webex_bulk.simulator.runtime import Simulator, simulator_of

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
    "virtualLines",
    "callParkExtensions",
    "callParks",
    "callPickups",
    "pagingGroups",
    "voicemailGroups",
    "callSettings",
    "moveJobs",
    "activationCodes",
)
#: State types that are location features of the second family, by their kind.
GROUP_TYPES = {
    "callParkExtensions": "CALL_PARK_EXTENSION",
    "callParks": "CALL_PARK",
    "callPickups": "CALL_PICKUP",
    "pagingGroups": "PAGING_GROUP",
    "voicemailGroups": "VOICEMAIL_GROUP",
}


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
    sim = simulator_of(request)
    tenant = sim.tenant
    asked = request.query.get("types", "")
    types = [name for name in asked.split(",") if name] or list(STATE_TYPES)
    unknown = sorted(set(types) - set(STATE_TYPES))
    if unknown:
        return json_response({"message": f"unknown types: {', '.join(unknown)}"}, status=400)
    body: dict[str, Any] = {"org": attrs.asdict(tenant.org), "adminId": tenant.admin_id}
    for name in types:
        body[name] = _dump(sim, name)
    return json_response(body)


def _dump(sim: Simulator, name: str) -> list[dict[str, Any]]:
    tenant = sim.tenant
    now = sim.clock()
    if name in GROUP_TYPES:
        return [_feature(feature) for feature in tenant.group_features(GROUP_TYPES[name])]
    if name == "callSettings":
        return [
            {"ownerId": owner_id, **settings} for owner_id, settings in tenant.call_settings.items()
        ]
    if name == "moveJobs":
        return [
            {
                "id": job.id,
                "moves": [attrs.asdict(move) for move in job.moves],
                "status": sim.jobs.status(job, now)[0],
                "errors": len(job.errors),
            }
            for job in sim.jobs.jobs.values()
        ]
    if name == "activationCodes":
        return [
            {**attrs.asdict(code), "expired": now >= code.expires}
            for code in tenant.activation_codes.values()
        ]
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
        return [_feature(feature) for feature in tenant.all_features()]
    if name == "virtualLines":
        return [attrs.asdict(line) for line in tenant.virtual_lines.values()]
    collection = getattr(tenant, name)
    return [attrs.asdict(record) for record in collection.values()]


def _feature(feature: Feature) -> dict[str, Any]:
    """A feature record; a secret (a voicemail group passcode) only as whether one is set."""
    body = attrs.asdict(feature)
    body["secret"] = bool(feature.secret)
    return body


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


@routes.post("/_sim/moveJobs/finish")
async def finish_move_jobs(request: web.Request) -> web.Response:
    """End every running move-users job now (its moves applied); answers their ids."""
    sim = simulator_of(request)
    now = sim.clock()
    running = [job for job in sim.jobs.jobs.values() if not job.done]
    for job in running:
        job.ends = min(job.ends, now)
    sim.jobs.advance(sim.tenant, now)
    return json_response({"finished": [job.id for job in running]})


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
