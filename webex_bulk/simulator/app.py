"""The aiohttp application: every route, and the one middleware that makes a request behave like
Webex (tracking id, auth, rate limit, latency, faults, error bodies) and counts it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

from aiohttp import web

from webex_bulk.simulator import (
    routes_activation,
    routes_call_park,
    routes_call_settings,
    routes_devices,
    routes_features,
    routes_identity,
    routes_locations,
    routes_move_jobs,
    routes_numbers,
    routes_people,
    routes_pickup_paging,
    routes_pstn,
    routes_schedules,
    routes_virtual_lines,
    routes_voicemail_groups,
    routes_workspaces,
    side,
)
from webex_bulk.simulator.answers import json_response
from webex_bulk.simulator.auth import INVALID_TOKEN
from webex_bulk.simulator.config import SimConfig
from webex_bulk.simulator.errors import ApiError, Code
from webex_bulk.simulator.faults import Fault, FaultKind, retry_after_headers
from webex_bulk.simulator.runtime import SIM, Clock, Simulator

log = logging.getLogger(__name__)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
TOKEN_ROUTE = "/v1/access_token"
UNMATCHED = "(unmatched)"
#: Route groups in registration order: ``/v1/people/me`` must come before ``/v1/people/{id}``.
ROUTE_TABLES = (
    routes_identity.routes,
    routes_people.routes,
    routes_call_settings.routes,
    routes_locations.routes,
    routes_numbers.routes,
    routes_schedules.routes,
    routes_features.routes,
    routes_call_park.routes,
    routes_pickup_paging.routes,
    routes_voicemail_groups.routes,
    routes_virtual_lines.routes,
    routes_move_jobs.routes,
    routes_pstn.routes,
    routes_workspaces.routes,
    routes_activation.routes,
    routes_devices.routes,
    side.routes,
)


class _Dropped(Exception):
    """The connection was closed without an answer."""


def build_app(config: SimConfig | None = None, clock: Clock = time.monotonic) -> web.Application:
    """A simulator application with a fresh tenant built from ``config``."""
    app = web.Application(middlewares=[webex_middleware], client_max_size=16 * 1024 * 1024)
    app[SIM] = Simulator(config or SimConfig(), clock)
    for table in ROUTE_TABLES:
        app.add_routes(table)
    return app


def route_template(request: web.Request) -> str:
    """The route template a request matched (e.g. ``/v1/people/{personId}``)."""
    resource = request.match_info.route.resource
    return resource.canonical if resource is not None else UNMATCHED


@web.middleware
async def webex_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Serve ``/v1`` requests the Webex way and count them; other paths pass straight through."""
    if not request.path.startswith("/v1/"):
        return await handler(request)
    sim = request.app[SIM]
    arrived = sim.clock()
    route = route_template(request)
    tracking_id = request.headers.get("TrackingID") or f"ROUTER_{sim.tracking.uuid()}"
    status: int | str = "dropped"
    try:
        response = await _serve(sim, request, handler, route, tracking_id)
        status = response.status
        response.headers["Trackingid"] = tracking_id
        return response
    except _Dropped:
        if request.transport is not None:
            request.transport.abort()
        return web.Response(status=499)
    finally:
        sim.requests.record(arrived, request.method, route, status)


async def _serve(
    sim: Simulator, request: web.Request, handler: Handler, route: str, tracking_id: str
) -> web.StreamResponse:
    config = sim.config
    try:
        if config.outage:
            raise ApiError(503, "The service is unavailable; try again later.", Code.UNAVAILABLE)
        if route == TOKEN_ROUTE:
            return await handler(request)
        token = _authorise(sim, request)
        wait = sim.faults.throttle(config, token, sim.clock())
        if wait is not None:
            headers = retry_after_headers(config, wait, time.time())
            raise ApiError(429, "Too many requests; slow down.", Code.RATE_LIMITED, headers=headers)
        if config.latency:
            delay = sim.faults.delay(config, family_of(route))
            if delay:
                await asyncio.sleep(delay)
        _strike(sim, sim.faults.before(config, request.method))
        sim.jobs.advance(sim.tenant, sim.clock())
        response = await handler(request)
        if 200 <= response.status < 300:
            creates_person = request.method == "POST" and route == "/v1/people"
            late = sim.faults.after(config, request.method, creates_person)
            if late is not None:
                return await _after_commit(sim, late, response)
        return response
    except ApiError as error:
        return json_response(error.body(tracking_id), error.status, error.headers)
    except web.HTTPException as error:
        failure = ApiError(error.status, error.reason)
        return json_response(failure.body(tracking_id), error.status)
    except _Dropped:
        raise
    except Exception:
        log.exception("simulator.route_failed route=%s", route)
        failure = ApiError(500, "Internal server error.", Code.SERVER_ERROR)
        return json_response(failure.body(tracking_id), 500)


def _authorise(sim: Simulator, request: web.Request) -> str:
    """The bearer token of a request; 401 when it is missing, unknown or expired."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not sim.tokens.valid(token.strip(), sim.clock()):
        raise ApiError(401, INVALID_TOKEN, Code.UNAUTHORIZED)
    return token.strip()


def _strike(sim: Simulator, fault: Fault | None) -> None:
    """Act on a fault decided before the handler runs."""
    if fault is None:
        return
    if fault.kind is FaultKind.DROP:
        raise _Dropped
    if fault.kind is FaultKind.LOCKED:
        headers = retry_after_headers(sim.config, sim.config.retry_after, time.time())
        raise ApiError(
            423, "The resource is locked; try again later.", Code.LOCKED, headers=headers
        )
    raise ApiError(fault.status, "Injected server error; try again later.", Code.SERVER_ERROR)


async def _after_commit(
    sim: Simulator, fault: Fault, response: web.StreamResponse
) -> web.StreamResponse:
    """Act on a fault decided after the handler committed its change."""
    if fault.kind is FaultKind.DROP:
        raise _Dropped
    if fault.kind is FaultKind.STALL:
        await asyncio.sleep(sim.config.stall_seconds)
        return response
    if fault.kind is FaultKind.CREATED_400:
        raise ApiError(
            400,
            "The user was created but Webex Calling could not be set up: an error occurred.",
            Code.CALLING_DATA_FAILED,
        )
    raise ApiError(fault.status, "Injected server error; try again later.", Code.SERVER_ERROR)


_FAMILY_MARKERS = (
    ("/huntGroups", "features"),
    ("/callPark", "features"),
    ("/callPickups", "features"),
    ("/paging", "features"),
    ("/voicemailGroups", "features"),
    ("/virtualLines", "features"),
    ("/jobs/person", "people"),
    ("/queues", "features"),
    ("/autoAttendants", "features"),
    ("/schedules", "schedules"),
    ("/numbers", "numbers"),
    ("/supportedDevices", "devices"),
    ("/v1/devices", "devices"),
    ("/locations", "locations"),
    ("/v1/people/me", "identity"),
    ("/v1/organizations", "identity"),
    ("/v1/licenses", "licenses"),
    ("/v1/people", "people"),
    ("/v1/workspaces", "workspaces"),
)


def family_of(route: str) -> str:
    """The latency family of a route template."""
    return next((name for marker, name in _FAMILY_MARKERS if marker in route), "default")
