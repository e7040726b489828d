"""Device activation codes: ``POST /devices/activationCode`` for a person or a workspace, a code
with an expiry (``activation_code_ttl``); minting one for a phone needs a calling owner, and the
phone then shows in ``/devices`` as ``activating`` (no MAC) until it is activated."""

from __future__ import annotations

import datetime
import random

import attrs
from aiohttp import web

from webex_bulk.simulator.answers import json_response
from webex_bulk.simulator.bodies import read_json, text
from webex_bulk.simulator.errors import Code, bad_request
from webex_bulk.simulator.ids import DEVICE
from webex_bulk.simulator.records import OWNER_PEOPLE, OWNER_PLACE, ActivationCode, Device, Owner
from webex_bulk.simulator.routes_devices import Model, model_named
from webex_bulk.simulator.runtime import Simulator, simulator_of
from webex_bulk.simulator.tenant import timestamp

routes = web.RouteTableDef()
#: Calling types a device added to a workspace resets to ``freeCalling`` (spec text).
RESET_CALLING = ("none", "thirdPartySipCalling")


@routes.post("/v1/devices/activationCode")
async def create_activation_code(request: web.Request) -> web.Response:
    """A new 16-digit code and its expiry for exactly one of ``personId`` and ``workspaceId``."""
    sim = simulator_of(request)
    body = await read_json(request)
    tenant = sim.tenant
    person_id, workspace_id = text(body, "personId"), text(body, "workspaceId")
    if bool(person_id) == bool(workspace_id):
        raise bad_request("Exactly one of personId and workspaceId is required.")
    if person_id:
        owner = Owner(OWNER_PEOPLE, tenant.person(person_id).id)
    else:
        workspace = tenant.workspace(workspace_id)
        owner = Owner(OWNER_PLACE, workspace.id)
        if workspace.calling_type in RESET_CALLING:
            tenant.workspaces.replace(
                workspace.id, attrs.evolve(workspace, calling_type="freeCalling")
            )
    model = ""
    if "model" in body:
        found = model_named(text(body, "model"))
        if found is None:
            raise bad_request(
                f"Unsupported device model {text(body, 'model')}.", Code.UNSUPPORTED_MODEL
            )
        line = tenant.owner_line(owner)
        if line is None:
            raise bad_request(
                "The device owner is not enabled for Webex Calling.", Code.LOCATION_NOT_CALLING
            )
        _awaiting_phone(sim, owner, found, line.location_id)
        model = found.model
    ttl = sim.config.activation_code_ttl
    rng = random.Random(f"{sim.config.seed}:activation:{len(tenant.activation_codes)}")
    code = "".join(str(rng.randrange(10)) for _ in range(16))
    expiry = datetime.datetime.now(datetime.UTC) + datetime.timedelta(seconds=ttl)
    expiry_time = expiry.strftime("%Y-%m-%dT%H:%M:%S.") + f"{expiry.microsecond // 1000:03d}Z"
    record = ActivationCode(code, owner, model, sim.clock() + ttl, expiry_time)
    tenant.activation_codes[code] = record
    sim.creates.record("activationCodes", owner.id, model)
    return json_response({"code": code, "expiryTime": expiry_time})


def _awaiting_phone(sim: Simulator, owner: Owner, model: Model, location_id: str) -> None:
    """The owner's phone of this model awaiting activation: added on the first code, the same
    device for a later one (a new code for a phone that has not used its first)."""
    tenant = sim.tenant
    for device in tenant.devices.values():
        if device.activating and device.owner == owner and device.model == model.model:
            return
    device = Device(
        id=tenant.mint.id(DEVICE),
        mac="",
        model=model.model,
        product=model.display_name,
        owner=owner,
        location_id=location_id,
        created=timestamp(),
        activating=True,
    )
    tenant.devices.add(device.id, device, sim.hidden_until())
