"""Device routes: the supported-device list, and adding calling devices by MAC to a person or a
workspace (MAC unique in the org, model from the supported list)."""

from __future__ import annotations

import re
from typing import Any

import attrs
from aiohttp import web

from webex_bulk.simulator.answers import json_response, offset_link, offset_page, page_size
from webex_bulk.simulator.bodies import read_json, require, text
from webex_bulk.simulator.errors import Code, bad_request, conflict, not_found
from webex_bulk.simulator.ids import DEVICE
from webex_bulk.simulator.records import OWNER_PEOPLE, OWNER_PLACE, Device, Owner
from webex_bulk.simulator.runtime import simulator_of
from webex_bulk.simulator.tenant import Tenant, timestamp

routes = web.RouteTableDef()

MAC = re.compile(r"[0-9A-F]{12}")


@attrs.frozen
class Model:
    """A supported device model: its model string, display name, type and line ports."""

    model: str
    display_name: str
    type: str = "MPP"
    ports: int = 1
    line_keys: int = 0


SUPPORTED = (
    Model("DMS Cisco 6821", "Cisco 6821", ports=2, line_keys=2),
    Model("DMS Cisco 6841", "Cisco 6841", ports=4, line_keys=4),
    Model("DMS Cisco 6871", "Cisco 6871", ports=6, line_keys=6),
    Model("DMS Cisco 7841", "Cisco 7841", ports=4, line_keys=4),
    Model("DMS Cisco 8811", "Cisco 8811", ports=5, line_keys=5),
    Model("DMS Cisco 8841", "Cisco 8841", ports=5, line_keys=5),
    Model("DMS Cisco 8845", "Cisco 8845", ports=5, line_keys=5),
    Model("DMS Cisco 8851", "Cisco 8851", ports=5, line_keys=5),
    Model("DMS Cisco 8861", "Cisco 8861", ports=5, line_keys=5),
    Model("DMS Cisco 8865", "Cisco 8865", ports=5, line_keys=5),
    Model("DMS Cisco 9841", "Cisco 9841", ports=4, line_keys=4),
    Model("DMS Cisco 9861", "Cisco 9861", ports=10, line_keys=10),
    Model("DMS Cisco 192", "Cisco ATA 192", type="ATA", ports=2),
)
_BY_NAME = {
    name.casefold(): model for model in SUPPORTED for name in (model.model, model.display_name)
}


def model_named(name: str) -> Model | None:
    """The supported model with this model string or display name (any case)."""
    return _BY_NAME.get(name.casefold())


def normalise_mac(value: str) -> str:
    """12 upper-case hex digits, separators removed; 400 for anything that is not a MAC."""
    mac = re.sub(r"[:.\-\s]", "", value).upper()
    if not MAC.fullmatch(mac):
        raise bad_request(f"Invalid MAC address {value!r}.", Code.INVALID_VALUE)
    return mac


@routes.get("/v1/telephony/config/supportedDevices")
async def supported_devices(request: web.Request) -> web.Response:
    """The device models calling devices can be added for."""
    wanted = request.query.get("type", "")
    models = [m for m in SUPPORTED if not wanted or m.type == wanted]
    body = {
        "upgradeChannelList": ["STABLE", "PREVIEW"],
        "devices": [_model_json(m) for m in models],
    }
    return json_response(body)


def _model_json(model: Model) -> dict[str, Any]:
    return {
        "model": model.model,
        "displayName": model.display_name,
        "familyDisplayName": model.display_name.rsplit(" ", 1)[0],
        "type": model.type,
        "manufacturer": "CISCO",
        "managedBy": "CISCO",
        "supportedFor": ["PEOPLE", "PLACE"],
        "onboardingMethod": ["MAC_ADDRESS", "ACTIVATION_CODE"],
        "allowConfigureLayoutEnabled": model.line_keys > 0,
        "numberOfLinePorts": model.ports,
        "kemSupportEnabled": model.line_keys >= 5,
        "kemLinesSupportEnabled": model.line_keys >= 5,
        "upgradeChannelEnabled": True,
        "additionalPrimaryLineAppearancesEnabled": model.line_keys > 1,
        "basicEmergencyNomadicEnabled": True,
        "customizedBehaviorsEnabled": True,
        "allowConfigurePortsEnabled": model.type == "ATA",
        "customizableLineLabelEnabled": model.line_keys > 0,
        "supportsLinePortReorderingEnabled": model.line_keys > 0,
        "portNumberSupportEnabled": model.type == "ATA",
        "t38Enabled": model.type == "ATA",
        "callDeclinedEnabled": True,
        "touchScreenPhone": model.model.endswith(("8865", "9861")),
        "numberOfLineKeyButtons": model.line_keys,
        "allowHotelingHostEnabled": True,
        "supportsApplyChangesEnabled": True,
        "allowConfigureLinesEnabled": True,
        "allowConfigurePhoneSettingsEnabled": True,
        "supportsHotlineEnabled": True,
    }


def device_json(tenant: Tenant, device: Device) -> dict[str, Any]:
    """A device as the Devices API shows it (MAC written with colons; a phone awaiting its
    activation code has no MAC and the ``activating`` connection status)."""
    body: dict[str, Any] = {
        "id": device.id,
        "displayName": device.product,
        "orgId": tenant.org.id,
        "capabilities": [],
        "permissions": [],
        "connectionStatus": "activating" if device.activating else "disconnected",
        "product": device.product,
        "type": "phone",
        "tags": [],
        "mac": ":".join(device.mac[i : i + 2] for i in range(0, 12, 2)),
        "serial": "",
        "software": "",
        "upgradeChannel": "stable",
        "created": device.created,
        "locationId": device.location_id,
        "errorCodes": [],
        "managedBy": "CISCO",
        "devicePlatform": "cisco",
    }
    if not device.mac:
        del body["mac"]
    key = "personId" if device.owner.type == OWNER_PEOPLE else "workspaceId"
    body[key] = device.owner.id
    if device.owner.type == OWNER_PLACE:
        body["placeId"] = device.owner.id
    return body


@routes.get("/v1/devices")
async def list_devices(request: web.Request) -> web.Response:
    """Devices by mac, personId, workspaceId or locationId (offset paging)."""
    sim = simulator_of(request)
    tenant = sim.tenant
    query = request.query
    mac = normalise_mac(query["mac"]) if query.get("mac") else ""
    person, workspace = query.get("personId", ""), query.get("workspaceId", "")
    location_id = query.get("locationId", "")
    now = sim.clock()
    if mac:
        candidates = [tenant.devices.get(tenant.device_by_mac.get(mac, ""))]
    else:
        candidates = list(tenant.devices.values())
    matching = (
        device
        for device in candidates
        if device is not None
        and (not person or device.owner == Owner(OWNER_PEOPLE, person))
        and (not workspace or device.owner == Owner(OWNER_PLACE, workspace))
        and (not location_id or device.location_id == location_id)
        and tenant.devices.visible(device.id, now)
    )
    size = page_size(request, 100, 1000)
    page, start = offset_page(request, matching, size)
    drop = sim.config.next_link_drops_filters
    headers = offset_link(request, start, size, drop_filters=drop, telephony=False)
    return json_response({"items": [device_json(tenant, d) for d in page]}, headers=headers)


@routes.post("/v1/devices")
async def create_device(request: web.Request) -> web.Response:
    """Add a calling device by MAC for exactly one calling person or workspace (200)."""
    sim = simulator_of(request)
    body = await read_json(request)
    tenant = sim.tenant
    require(body, ("mac", "model"))
    mac = normalise_mac(text(body, "mac"))
    model = _BY_NAME.get(text(body, "model").casefold())
    if model is None:
        raise bad_request(
            f"Unsupported device model {text(body, 'model')}.", Code.UNSUPPORTED_MODEL
        )
    owner = _owner(tenant, text(body, "personId"), text(body, "workspaceId"))
    line = tenant.owner_line(owner)
    if line is None:
        raise bad_request(
            "The device owner is not enabled for Webex Calling.", Code.LOCATION_NOT_CALLING
        )
    if mac in tenant.device_by_mac:
        raise conflict(f"MAC address {mac} is already in use.", Code.MAC_IN_USE)
    device = Device(
        id=tenant.mint.id(DEVICE),
        mac=mac,
        model=model.model,
        product=model.display_name,
        owner=owner,
        location_id=line.location_id,
        created=timestamp(),
    )
    tenant.devices.add(device.id, device, sim.hidden_until())
    tenant.device_by_mac[mac] = device.id
    sim.creates.record("devices", mac)
    return json_response(device_json(tenant, device))


def _owner(tenant: Tenant, person_id: str, workspace_id: str) -> Owner:
    if bool(person_id) == bool(workspace_id):
        raise bad_request("Exactly one of personId and workspaceId is required.")
    if person_id:
        return Owner(OWNER_PEOPLE, tenant.person(person_id).id)
    return Owner(OWNER_PLACE, tenant.workspace(workspace_id).id)


@routes.get("/v1/devices/{deviceId}")
async def get_device(request: web.Request) -> web.Response:
    """One device."""
    tenant = simulator_of(request).tenant
    device = tenant.devices.get(request.match_info["deviceId"])
    if device is None:
        raise not_found("device")
    return json_response(device_json(tenant, device))


@routes.delete("/v1/devices/{deviceId}")
async def delete_device(request: web.Request) -> web.Response:
    """Remove a device (204)."""
    tenant = simulator_of(request).tenant
    device = tenant.devices.get(request.match_info["deviceId"])
    if device is None:
        raise not_found("device")
    tenant.devices.remove(device.id)
    tenant.device_by_mac.pop(device.mac, None)
    return web.Response(status=204)
