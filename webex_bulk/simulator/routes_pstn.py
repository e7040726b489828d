"""The PSTN connection of a location (``GET /telephony/pstn/locations/{id}/connection``), which
needs the ``spark-admin:telephony_pstn_read`` scope; a location with PSTN type ``NONE`` has none."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from webex_bulk.simulator.answers import json_response
from webex_bulk.simulator.auth import require_scope
from webex_bulk.simulator.errors import ApiError, Code
from webex_bulk.simulator.ids import TRUNK, encode_id
from webex_bulk.simulator.runtime import simulator_of

routes = web.RouteTableDef()
PSTN_READ = "spark-admin:telephony_pstn_read"
#: The spec's connection types, by the simulator's PSTN type of a location.
CONNECTION_TYPES = {
    "LOCAL_GATEWAY": "LOCAL_GATEWAY",
    "NON_INTEGRATED_CCP": "NON_INTEGRATED_CCP",
    "INTEGRATED_CCP": "INTEGRATED_CCP",
    "CISCO_CALLING_PLAN": "CISCO_PSTN",
}
DISPLAY_NAMES = {
    "LOCAL_GATEWAY": "Premises-based PSTN",
    "NON_INTEGRATED_CCP": "Cloud Connected PSTN (non-integrated)",
    "INTEGRATED_CCP": "Cloud Connected PSTN",
    "CISCO_PSTN": "Cisco Calling Plan",
}


@routes.get("/v1/telephony/pstn/locations/{locationId}/connection")
async def get_connection(request: web.Request) -> web.Response:
    """The location's PSTN connection; 403 without the scope, 404 for a location without one."""
    sim = simulator_of(request)
    require_scope(sim.config, PSTN_READ)
    location = sim.tenant.calling_location(request.match_info["locationId"])
    kind = CONNECTION_TYPES.get(location.pstn)
    if kind is None:
        raise ApiError(
            404,
            f"Location {location.name} has no PSTN connection.",
            Code.NO_PSTN_CONNECTION,
            telephony=True,
        )
    body: dict[str, Any] = {
        "id": encode_id(TRUNK, f"pstn-{location.id}"),
        "displayName": DISPLAY_NAMES[kind],
        "pstnServices": ["GEOGRAPHIC_NUMBERS"],
        "pstnConnectionType": kind,
    }
    if kind == "LOCAL_GATEWAY":
        body["routeType"] = "TRUNK"
        body["routeId"] = encode_id(TRUNK, f"trunk-{location.name}")
    return json_response(body)
