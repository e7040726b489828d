"""Identity and licensing routes: who the token is, its organisation, licenses, license
assignment (``PATCH /v1/licenses/users``) and the refresh grant (``POST /v1/access_token``)."""

from __future__ import annotations

import math
import time
from typing import Any

from aiohttp import web

from webex_bulk.simulator.answers import json_response
from webex_bulk.simulator.auth import LONG_LIFETIME
from webex_bulk.simulator.bodies import flag, read_json, require, text
from webex_bulk.simulator.errors import bad_request, not_found
from webex_bulk.simulator.people import LicenseChange, change_licenses, person_json
from webex_bulk.simulator.records import License
from webex_bulk.simulator.runtime import Simulator, simulator_of

routes = web.RouteTableDef()


@routes.get("/v1/people/me")
async def get_me(request: web.Request) -> web.Response:
    """The admin the token belongs to."""
    tenant = simulator_of(request).tenant
    admin = tenant.person(tenant.admin_id)
    return json_response(person_json(tenant, admin, flag(request, "callingData")))


@routes.get("/v1/organizations")
async def list_organizations(request: web.Request) -> web.Response:
    """The one organisation the token sees (not paginated)."""
    return json_response({"items": [_org_json(simulator_of(request))]})


@routes.get("/v1/organizations/{orgId}")
async def get_organization(request: web.Request) -> web.Response:
    """The token's organisation; any other id is unknown."""
    sim = simulator_of(request)
    if request.match_info["orgId"] != sim.tenant.org.id:
        raise not_found("organization")
    return json_response(_org_json(sim))


def _org_json(sim: Simulator) -> dict[str, Any]:
    org = sim.tenant.org
    return {"id": org.id, "displayName": org.name, "created": org.created}


@routes.get("/v1/licenses")
async def list_licenses(request: web.Request) -> web.Response:
    """Every license of the org with its unit counts."""
    sim = simulator_of(request)
    return json_response({"items": [_license_json(sim, lic) for lic in sim.tenant.licenses]})


@routes.get("/v1/licenses/{licenseId}")
async def get_license(request: web.Request) -> web.Response:
    """One license with its unit counts."""
    sim = simulator_of(request)
    license = sim.tenant.licenses.get(request.match_info["licenseId"])
    if license is None:
        raise not_found("license")
    return json_response(_license_json(sim, license))


def _license_json(sim: Simulator, license: License) -> dict[str, Any]:
    by_users, by_workspaces = sim.tenant.licenses.usage(license.id)
    return {
        "id": license.id,
        "name": license.name,
        "totalUnits": license.total,
        "consumedUnits": by_users + by_workspaces,
        "consumedByUsers": by_users,
        "consumedByWorkspaces": by_workspaces,
        "subscriptionId": "Sub-SIM-0001",
    }


LICENSE_PATCH_REQUIRED = ("licenses[].id", "siteUrls[].siteUrl", "siteUrls[].accountType")


@routes.patch("/v1/licenses/users")
async def assign_licenses(request: web.Request) -> web.Response:
    """Add or remove licenses of one person: 200, 206 when some were not assigned."""
    sim = simulator_of(request)
    body = await read_json(request)
    tenant = sim.tenant
    require(body, LICENSE_PATCH_REQUIRED)
    person_id, email = text(body, "personId"), text(body, "email").lower()
    if not person_id and not email:
        raise bad_request("Either email or personId is required.")
    if person_id:
        person = tenant.person(person_id)
    elif email in tenant.person_by_email:
        person = tenant.person(tenant.person_by_email[email])
    else:
        raise not_found("person")
    changes = [_license_change(item) for item in body.get("licenses") or []]
    person, partial = change_licenses(tenant, person, changes)
    answer = {
        "orgId": tenant.org.id,
        "personId": person.id,
        "email": person.email,
        "licenses": list(person.licenses),
        "siteUrls": [],
        "pendingLicenses": [],
        "pendingSiteUrls": [],
    }
    return json_response(answer, status=206 if partial else 200)


def _license_change(item: Any) -> LicenseChange:
    if not isinstance(item, dict):
        raise bad_request("Each entry of licenses must be an object.")
    operation = text(item, "operation", "add")
    if operation not in {"add", "remove"}:
        raise bad_request(f"Unknown license operation {operation!r}.")
    properties = item.get("properties") or {}
    return LicenseChange(
        license_id=text(item, "id"),
        operation=operation,
        location_id=text(properties, "locationId"),
        extension=text(properties, "extension"),
        number=text(properties, "phoneNumber"),
    )


@routes.get("/v1/authorizations/tokenExpiry")
async def token_expiry(request: web.Request) -> web.Response:
    """When the bearer token expires, in epoch milliseconds (far ahead for a lasting token)."""
    sim = simulator_of(request)
    token = request.headers.get("Authorization", "").partition(" ")[2].strip()
    left = sim.tokens.seconds_left(token, sim.clock())
    seconds = LONG_LIFETIME if math.isinf(left) else left
    return json_response({"exp": int((time.time() + seconds) * 1000)})


@routes.post("/v1/access_token")
async def access_token(request: web.Request) -> web.Response:
    """The OAuth refresh grant (form-encoded); no bearer token needed."""
    sim = simulator_of(request)
    form = await request.post()
    fields = {key: str(value) for key, value in form.items()}
    return json_response(sim.tokens.refresh(sim.config, fields, sim.clock()))
