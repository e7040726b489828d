"""Workspace routes: list (displayName *contains*, offset paging), create with Webex Calling
(consumes a workspace license), get, full-ish replace and delete."""

from __future__ import annotations

from typing import Any

import attrs
from aiohttp import web

from webex_bulk.simulator.answers import json_response, offset_link, offset_page, page_size
from webex_bulk.simulator.bodies import read_json, require, text
from webex_bulk.simulator.errors import Code, bad_request
from webex_bulk.simulator.ids import PLACE
from webex_bulk.simulator.licensing import WORKSPACE, WORKSPACE_CALLING
from webex_bulk.simulator.people import drop_member_everywhere
from webex_bulk.simulator.records import OWNER_PLACE, Line, Owner, Workspace
from webex_bulk.simulator.runtime import Simulator, simulator_of
from webex_bulk.simulator.tenant import Tenant, timestamp

routes = web.RouteTableDef()

CALLING_TYPES = (
    "freeCalling",
    "hybridCalling",
    "webexCalling",
    "webexEdgeForDevices",
    "thirdPartySipCalling",
    "none",
)
SUPPORTED_DEVICES = ("collaborationDevices", "phones")
#: Calling types a PUT may not set on a workspace that has devices (spec of ``PUT /workspaces``).
REFUSED_WITH_DEVICES = ("none", "thirdPartySipCalling", "webexCalling")
#: Cleared by a PUT that leaves them out; other optional fields stay as they were.
CLEARED_ON_PUT = ("capacity", "type", "notes")
KEPT_ON_PUT = (
    "calendar",
    "hotdeskingStatus",
    "deviceHostedMeetings",
    "indoorNavigation",
    "floorId",
)


def workspace_json(tenant: Tenant, workspace: Workspace) -> dict[str, Any]:
    """A workspace as the Workspaces API shows it (the calling line is read via numbers)."""
    body: dict[str, Any] = {
        "id": workspace.id,
        "orgId": tenant.org.id,
        "displayName": workspace.display_name,
        "type": "notSet",
        "created": workspace.created,
        "calling": {"type": workspace.calling_type},
        "hotdeskingStatus": "off",
        "supportedDevices": workspace.supported_devices,
        "devicePlatform": "cisco",
        **workspace.optional,
    }
    if workspace.location_id:
        body["locationId"] = workspace.location_id
    if workspace.license_id:
        body["calling"]["webexCalling"] = {"licenses": [workspace.license_id]}
    return body


@routes.get("/v1/workspaces")
async def list_workspaces(request: web.Request) -> web.Response:
    """Workspaces by displayName (contains), locationId and calling type."""
    sim = simulator_of(request)
    spaces = sim.tenant.workspaces
    needle = request.query.get("displayName", "").casefold()
    location_id = request.query.get("locationId", "")
    calling = request.query.get("calling", "")
    now = sim.clock()
    matching = (
        space
        for _, space in spaces.entries(group=location_id or None)
        if needle in space.display_name.casefold()
        and (not calling or space.calling_type == calling)
        and spaces.visible(space.id, now)
    )
    size = page_size(request, 100, 1000)
    page, start = offset_page(request, matching, size)
    drop = sim.config.next_link_drops_filters
    headers = offset_link(request, start, size, drop_filters=drop, telephony=False)
    items = [workspace_json(sim.tenant, space) for space in page]
    return json_response({"items": items}, headers=headers)


@routes.post("/v1/workspaces")
async def create_workspace(request: web.Request) -> web.Response:
    """Create a workspace (201); Webex Calling needs a location, a line and a license unit."""
    sim = simulator_of(request)
    body = await read_json(request)
    tenant = sim.tenant
    require(body, ("displayName",))
    calling = _calling(body)
    supported = text(body, "supportedDevices", "collaborationDevices")
    if supported not in SUPPORTED_DEVICES:
        raise bad_request(f"Unknown supportedDevices {supported}.")
    workspace = Workspace(
        id=tenant.mint.id(PLACE),
        display_name=text(body, "displayName"),
        created=timestamp(),
        location_id=text(body, "locationId"),
        calling_type=text(calling, "type", "freeCalling"),
        supported_devices=supported,
        optional=_optional(body, {}),
    )
    workspace = _with_calling(tenant, workspace, calling)
    tenant.workspaces.add(workspace.id, workspace, sim.hidden_until())
    _take_calling(tenant, workspace)
    sim.creates.record("workspaces", workspace.display_name, workspace.location_id)
    return json_response(workspace_json(tenant, workspace), status=201)


@routes.get("/v1/workspaces/{workspaceId}")
async def get_workspace(request: web.Request) -> web.Response:
    """One workspace."""
    sim = simulator_of(request)
    workspace = sim.tenant.workspace(request.match_info["workspaceId"])
    return json_response(workspace_json(sim.tenant, workspace))


@routes.put("/v1/workspaces/{workspaceId}")
async def update_workspace(request: web.Request) -> web.Response:
    """Update (200): capacity, type and notes are cleared when omitted; location and supported
    devices cannot change; setting ``calling`` is refused while the workspace has devices."""
    sim = simulator_of(request)
    body = await read_json(request)
    tenant = sim.tenant
    workspace = tenant.workspace(request.match_info["workspaceId"])
    location_id = text(body, "locationId", workspace.location_id)
    if workspace.location_id and location_id != workspace.location_id:
        raise bad_request("The location of a workspace cannot be changed.", Code.INVALID_VALUE)
    supported = text(body, "supportedDevices", workspace.supported_devices)
    if supported != workspace.supported_devices:
        raise bad_request("supportedDevices cannot be changed.", Code.INVALID_VALUE)
    updated = attrs.evolve(
        workspace,
        display_name=text(body, "displayName", workspace.display_name),
        location_id=location_id,
        optional=_optional(body, workspace.optional),
    )
    if "calling" in body:
        updated = _changed_calling(sim, workspace, updated, _calling(body))
    tenant.workspaces.replace(workspace.id, updated)
    return json_response(workspace_json(tenant, updated))


@routes.delete("/v1/workspaces/{workspaceId}")
async def delete_workspace(request: web.Request) -> web.Response:
    """Delete a workspace (204) with its devices, freeing its line and license."""
    sim = simulator_of(request)
    tenant = sim.tenant
    workspace = tenant.workspace(request.match_info["workspaceId"])
    _give_back_calling(tenant, workspace)
    tenant.workspaces.remove(workspace.id)
    drop_member_everywhere(tenant, Owner(OWNER_PLACE, workspace.id))
    return web.Response(status=204)


def _calling(body: dict[str, Any]) -> dict[str, Any]:
    calling = body.get("calling") or {}
    if not isinstance(calling, dict):
        raise bad_request("calling must be an object.")
    calling_type = text(calling, "type", "freeCalling")
    if calling_type not in CALLING_TYPES:
        raise bad_request(f"Unknown calling type {calling_type}.")
    return calling


def _optional(body: dict[str, Any], held: Any) -> dict[str, Any]:
    kept = {key: held[key] for key in KEPT_ON_PUT if key in held}
    given = {key: body[key] for key in (*CLEARED_ON_PUT, *KEPT_ON_PUT) if body.get(key) is not None}
    return {**kept, **given}


def _with_calling(tenant: Tenant, workspace: Workspace, calling: dict[str, Any]) -> Workspace:
    """The workspace with its checked Webex Calling line and license (or no calling line)."""
    calling_type = text(calling, "type", "freeCalling")
    if calling_type != "webexCalling":
        if workspace.location_id and workspace.location_id not in tenant.locations:
            raise bad_request(f"Invalid locationId {workspace.location_id}.", Code.INVALID_VALUE)
        return attrs.evolve(workspace, calling_type=calling_type, line=None, license_id="")
    settings = calling.get("webexCalling") or {}
    location_id = text(settings, "locationId") or workspace.location_id
    if not location_id:
        raise bad_request("A Webex Calling workspace needs a locationId.")
    if workspace.location_id and location_id != workspace.location_id:
        raise bad_request("calling.webexCalling.locationId differs from locationId.")
    location = tenant.locations.get(location_id)
    if location is None:
        raise bad_request(f"Invalid locationId {location_id}.", Code.INVALID_VALUE)
    held = workspace.line
    line = Line(
        location_id,
        text(settings, "extension") if "extension" in settings or held is None else held.extension,
        text(settings, "phoneNumber") if "phoneNumber" in settings or held is None else held.number,
    )
    tenant.lines.check(Owner(OWNER_PLACE, workspace.id), line, location)
    license_id = workspace.license_id or _pick_license(tenant, settings.get("licenses") or [])
    return attrs.evolve(
        workspace,
        location_id=location_id,
        calling_type=calling_type,
        line=line,
        license_id=license_id,
    )


def _pick_license(tenant: Tenant, asked: list[Any]) -> str:
    """The first listed workspace-capable license with a free unit, else the oldest workspace
    license with one; 400 when none is left."""
    if not asked:
        return tenant.licenses.first_free(frozenset({WORKSPACE}))
    for license_id in (str(item) for item in asked):
        license = tenant.licenses.require(license_id)
        if license.kind not in WORKSPACE_CALLING:
            raise bad_request(f"License {license.name} cannot be assigned to a workspace.")
        if tenant.licenses.free(license_id) > 0:
            return license_id
    tenant.licenses.check_free(str(item) for item in asked)
    return ""


def _changed_calling(
    sim: Simulator, workspace: Workspace, updated: Workspace, calling: dict[str, Any]
) -> Workspace:
    tenant = sim.tenant
    new_type = text(calling, "type", workspace.calling_type)
    owner = Owner(OWNER_PLACE, workspace.id)
    if any(device.owner == owner for device in tenant.devices.values()):
        if new_type != workspace.calling_type:
            raise bad_request(
                "The calling type of a workspace with devices cannot be changed.",
                Code.WORKSPACE_HAS_DEVICES,
            )
        if sim.config.refuse_workspace_calling_with_devices and new_type in REFUSED_WITH_DEVICES:
            raise bad_request(
                f"Updating calling to {new_type} is not supported while the workspace has devices.",
                Code.WORKSPACE_HAS_DEVICES,
            )
    result = _with_calling(tenant, updated, calling)
    tenant.lines.move(owner, workspace.line, result.line)
    if workspace.license_id != result.license_id:
        tenant.licenses.give_back(
            [workspace.license_id] if workspace.license_id else [], workspace=True
        )
        tenant.licenses.take([result.license_id] if result.license_id else [], workspace=True)
    return result


def _take_calling(tenant: Tenant, workspace: Workspace) -> None:
    if workspace.line is not None:
        tenant.lines.assign(Owner(OWNER_PLACE, workspace.id), workspace.line)
    if workspace.license_id:
        tenant.licenses.take([workspace.license_id], workspace=True)


def _give_back_calling(tenant: Tenant, workspace: Workspace) -> None:
    tenant.lines.release(Owner(OWNER_PLACE, workspace.id), workspace.line)
    if workspace.license_id:
        tenant.licenses.give_back([workspace.license_id], workspace=True)
