"""Location voicemail groups: org-wide list; create, get, update, delete under a location. The
passcode is stored apart and never answered."""

from __future__ import annotations

from typing import Any

import attrs
from aiohttp import web

from webex_bulk.simulator import group_rules
from webex_bulk.simulator.answers import json_response
from webex_bulk.simulator.bodies import read_json, require, text
from webex_bulk.simulator.errors import Code, bad_request
from webex_bulk.simulator.records import Feature, Owner
from webex_bulk.simulator.runtime import simulator_of

routes = web.RouteTableDef()
KIND = "VOICEMAIL_GROUP"
BASE = "/v1/telephony/config/locations/{locationId}/voicemailGroups"
CREATE_REQUIRED = (
    "name",
    "extension",
    "passcode",
    "languageCode",
    "messageStorage",
    "messageStorage.storageType",
    "notifications",
    "notifications.enabled",
    "faxMessage",
    "faxMessage.enabled",
    "transferToNumber",
    "transferToNumber.enabled",
    "emailCopyOfMessage",
    "emailCopyOfMessage.enabled",
)
#: Fields kept as given (name, line and passcode are stored apart).
SETTINGS = (
    "firstName",
    "lastName",
    "enabled",
    "languageCode",
    "greeting",
    "greetingDescription",
    "messageStorage",
    "notifications",
    "faxMessage",
    "transferToNumber",
    "emailCopyOfMessage",
    "directLineCallerIdName",
    "dialByName",
)
PASSCODE_LENGTH = (4, 30)


@routes.get("/v1/telephony/config/voicemailGroups")
async def list_groups(request: web.Request) -> web.Response:
    """Voicemail groups of the org: ``locationId``, ``name`` (contains), ``phoneNumber``."""
    sim = simulator_of(request)
    tenant = sim.tenant
    found = group_rules.listed(sim, request, KIND, location_id=request.query.get("locationId", ""))

    def item(feature: Feature) -> dict[str, Any]:
        body = group_rules.location_fields(tenant, feature)
        group_rules.add_line_fields(body, tenant, feature)
        body["enabled"] = bool(feature.settings.get("enabled", True))
        body["tollFreeNumber"] = False
        return body

    return group_rules.list_answer(sim, request, "voicemailGroups", (item(f) for f in found))


@routes.post(BASE)
async def create_group(request: web.Request) -> web.Response:
    """Create a voicemail group (201 {id}) with an extension (and a number) of its location."""
    sim = simulator_of(request)
    body = await read_json(request)
    tenant = sim.tenant
    location = tenant.calling_location(request.match_info["locationId"])
    require(body, CREATE_REQUIRED, telephony=True)
    name = group_rules.new_name(tenant, KIND, location.id, body)
    feature_id = tenant.mint.id(KIND)
    line = group_rules.line_of(body, location.id)
    tenant.lines.check(Owner(KIND, feature_id), line, location)
    feature = Feature(
        id=feature_id,
        kind=KIND,
        location_id=location.id,
        name=name,
        line=line,
        settings={key: body[key] for key in SETTINGS if key in body},
        secret=_passcode(body),
    )
    group_rules.store(sim, feature)
    tenant.lines.assign(Owner(KIND, feature_id), line)
    return json_response({"id": feature_id}, status=201)


@routes.get(f"{BASE}/{{voicemailGroupId}}")
async def get_group(request: web.Request) -> web.Response:
    """One voicemail group: defaults, then its stored settings; never the passcode. The
    extension is a JSON number, as the spec types it (the org-wide list gives a string)."""
    sim = simulator_of(request)
    tenant = sim.tenant
    feature = group_rules.located(sim, request, KIND, "voicemailGroupId")
    location = tenant.locations.get(feature.location_id)
    body: dict[str, Any] = {
        "firstName": feature.name,
        "lastName": ".",
        "enabled": True,
        "languageCode": location.preferred_language if location else "en_us",
        "greeting": "DEFAULT",
        "greetingUploaded": False,
        "voiceMessageForwardingEnabled": False,
        "tollFreeNumber": False,
        **feature.settings,
        "id": feature.id,
        "name": feature.name,
    }
    group_rules.add_line_fields(body, tenant, feature)
    if "extension" in body:
        body["extension"] = int(body["extension"])  # the spec types it as a number here
    return json_response(body)


@routes.put(f"{BASE}/{{voicemailGroupId}}")
async def update_group(request: web.Request) -> web.Response:
    """Change the fields given (204): name, line, passcode, settings."""
    sim = simulator_of(request)
    body = await read_json(request)
    tenant = sim.tenant
    feature = group_rules.located(sim, request, KIND, "voicemailGroupId")
    location = tenant.calling_location(feature.location_id)
    name = group_rules.changed_name(tenant, feature, body)
    owner = Owner(KIND, feature.id)
    line = group_rules.line_of(body, location.id, feature.line)
    tenant.lines.check(owner, line, location)
    secret = _passcode(body) if "passcode" in body else feature.secret
    settings = {**feature.settings, **{key: body[key] for key in SETTINGS if key in body}}
    tenant.lines.move(owner, feature.line, line)
    updated = attrs.evolve(feature, name=name, line=line, settings=settings, secret=secret)
    group_rules.replace(tenant, feature, updated)
    return web.Response(status=204)


@routes.delete(f"{BASE}/{{voicemailGroupId}}")
async def delete_group(request: web.Request) -> web.Response:
    """Delete a voicemail group (204), freeing its line."""
    sim = simulator_of(request)
    feature = group_rules.located(sim, request, KIND, "voicemailGroupId")
    sim.tenant.lines.release(Owner(KIND, feature.id), feature.line)
    group_rules.remove(sim.tenant, feature)
    return web.Response(status=204)


def _passcode(body: dict[str, Any]) -> str:
    """The passcode as digits; 400 unless it is 4–30 digits."""
    passcode = text(body, "passcode")
    low, high = PASSCODE_LENGTH
    if not (passcode.isascii() and passcode.isdigit() and low <= len(passcode) <= high):
        raise bad_request(
            f"The passcode must be {low} to {high} digits.", Code.INVALID_VALUE, telephony=True
        )
    return passcode
