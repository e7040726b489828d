"""Lookups shared by the entity actions: locations, people, workspaces, schedules, licenses and
supported devices, answered from the run's caches when possible and exact-matched client-side.

``fresh=True`` bypasses the caches (reconciliation after an unknown outcome). Reads only.
"""

from __future__ import annotations

from typing import Any

from webex_bulk.actions import compare
from webex_bulk.actions.context import ActionContext, Item, RowFailure, one, page_budget
from webex_bulk.error_handling import ApiError, Reason

UNLIMITED = 1 << 30
#: Page sizes of the inventory listings (the API caps: people with calling data 100).
PEOPLE_PAGE = 100
LOCATIONS_PAGE = 1000
WORKSPACES_PAGE = 1000


def location_key(location_id: str, name: str) -> str:
    """The cache key of an object named ``name`` inside a location."""
    return f"{location_id}/{compare.fold(name)}"


# -- locations ---------------------------------------------------------------------------------


async def fetch_locations(ctx: ActionContext, name: str) -> list[Item]:
    """``GET /locations?name=`` (a contains filter), exact-matched on the name."""
    items = await ctx.list_pages("/locations", {"name": name}, "items", UNLIMITED) or []
    return compare.exact_matches(items, "name", name)


async def find_location(ctx: ActionContext, name: str, *, fresh: bool = False) -> Item | None:
    """The location called ``name``; several → ``ambiguous_match``."""
    key = compare.fold(name)
    found = None if fresh else ctx.locations.get(key)
    if found is None:
        found = await ctx.once(f"location:{key}", lambda: fetch_locations(ctx, name))
        ctx.locations.put(key, found)
    return one(found, f"location {name!r}")


async def prime_locations(ctx: ActionContext, row_count: int) -> None:
    """List ``/locations`` once per run when cheaper than ``row_count`` lookups: every entity
    type names its location."""
    budget = page_budget(row_count)
    if ctx.locations.complete or budget < 1:
        return
    items = await ctx.list_pages("/locations", {"max": LOCATIONS_PAGE}, "items", budget)
    if items is None:
        return
    for item in items:
        ctx.locations.add(compare.fold(item.get("name")), item)
    ctx.locations.complete = True


async def calling_enabled(ctx: ActionContext, location_id: str, *, fresh: bool = False) -> bool:
    """Whether the location is enabled for Webex Calling (``/telephony/config/locations``)."""
    found = None if fresh else ctx.calling_locations.get(location_id)
    if found is None:
        found = await ctx.once(f"calling:{location_id}", lambda: _fetch_calling(ctx, location_id))
        ctx.calling_locations.put(location_id, found)
    return bool(found)


async def _fetch_calling(ctx: ActionContext, location_id: str) -> list[Item]:
    try:
        response = await ctx.client.request(
            "GET", f"/telephony/config/locations/{location_id}", params=ctx.query()
        )
    except ApiError as exc:
        if exc.status == 404:
            return []
        raise
    return [response.body] if isinstance(response.body, dict) else []


async def pstn_type(ctx: ActionContext, location_id: str) -> str:
    """The PSTN connection type serving a location (``GET /telephony/pstn/locations/{id}/
    connection``, answer ``{pstnConnectionType}``); "" when the location has none yet."""
    if location_id not in ctx.pstn:
        ctx.pstn[location_id] = await ctx.once(
            f"pstn:{location_id}", lambda: _fetch_pstn(ctx, location_id)
        )
    return ctx.pstn[location_id]


async def _fetch_pstn(ctx: ActionContext, location_id: str) -> str:
    try:
        response = await ctx.client.request(
            "GET", f"/telephony/pstn/locations/{location_id}/connection", params=ctx.query()
        )
    except ApiError as exc:
        if exc.status == 404:
            return ""
        raise
    body = response.body if isinstance(response.body, dict) else {}
    return str(body.get("pstnConnectionType") or "")


async def require_location(ctx: ActionContext, name: str) -> Item:
    """The location a row references; ``unknown_reference`` naming it when it does not exist."""
    location = await find_location(ctx, name)
    if location is None:
        raise RowFailure(
            Reason.UNKNOWN_REFERENCE,
            f"location {name!r} is neither in the tenant nor created by this run",
        )
    return location


async def location_name(ctx: ActionContext, location_id: str) -> str:
    """A location's name for a message: from the caches, else ``GET /locations/{id}``; its id
    when that fails too."""
    for item in ctx.locations.values():
        if item.get("id") == location_id:
            return str(item.get("name"))
    try:
        response = await ctx.client.request("GET", f"/locations/{location_id}", params=ctx.query())
    except ApiError:
        return location_id
    body = response.body if isinstance(response.body, dict) else {}
    name = str(body.get("name") or location_id)
    if body.get("id"):
        ctx.locations.add(compare.fold(name), body)
    return name


# -- people ------------------------------------------------------------------------------------


async def fetch_person(ctx: ActionContext, email: str) -> list[Item]:
    """``GET /people?email=&callingData=true``, exact-matched on the e-mail."""
    params = {"email": email, "callingData": "true"}
    items = await ctx.list_pages("/people", params, "items", UNLIMITED) or []
    wanted = email.lower()
    return [p for p in items if wanted in (str(e).lower() for e in p.get("emails") or ())]


async def find_person(ctx: ActionContext, email: str, *, fresh: bool = False) -> Item | None:
    """The person with this e-mail; several → ``ambiguous_match``."""
    key = email.lower()
    found = None if fresh else ctx.people.get(key)
    if found is None:
        found = await ctx.once(f"person:{key}", lambda: fetch_person(ctx, email))
        ctx.people.put(key, found)
    return one(found, f"user {email!r}")


def add_person(ctx: ActionContext, person: Item) -> None:
    """Cache a person listed, found or written by this run."""
    for email in person.get("emails") or ():
        ctx.people.add(str(email).lower(), person)


async def prime_people(ctx: ActionContext, row_count: int) -> None:
    """List ``/people?callingData=true`` once per run when cheaper than ``row_count`` lookups
    (users, device owners, members); afterwards an e-mail missing from it is absent."""
    budget = page_budget(row_count)
    if ctx.people.complete or budget < 1:
        return
    params = {"callingData": "true", "max": PEOPLE_PAGE}
    items = await ctx.list_pages("/people", params, "items", budget)
    if items is None:
        return
    for person in items:
        add_person(ctx, person)
    ctx.people.complete = True


# -- workspaces --------------------------------------------------------------------------------


async def fetch_workspace(ctx: ActionContext, location_id: str, name: str) -> list[Item]:
    """``GET /workspaces?displayName=&locationId=``, exact-matched on the name and location."""
    params = {"displayName": name, "locationId": location_id}
    items = await ctx.list_pages("/workspaces", params, "items", UNLIMITED) or []
    matches = compare.exact_matches(items, "displayName", name)
    return [item for item in matches if compare.same_location(item, location_id)]


async def find_workspace(
    ctx: ActionContext, location_id: str, name: str, *, fresh: bool = False
) -> Item | None:
    """The workspace called ``name`` in a location; several → ``ambiguous_match``."""
    key = location_key(location_id, name)
    found = None if fresh else ctx.workspaces.get(key)
    if found is None:
        found = await ctx.once(f"workspace:{key}", lambda: fetch_workspace(ctx, location_id, name))
        ctx.workspaces.put(key, found)
    return one(found, f"workspace {name!r}")


async def prime_workspaces(ctx: ActionContext, row_count: int) -> bool:
    """List ``/workspaces`` once per run when cheaper than ``row_count`` lookups; True when the
    inventory is complete."""
    budget = page_budget(row_count)
    if ctx.workspaces.complete or budget < 1:
        return ctx.workspaces.complete
    items = await ctx.list_pages("/workspaces", {"max": WORKSPACES_PAGE}, "items", budget)
    if items is None:
        return False
    for item in items:
        key = location_key(str(item.get("locationId")), str(item.get("displayName")))
        ctx.workspaces.add(key, item)
    ctx.workspaces.complete = True
    return True


# -- schedules ---------------------------------------------------------------------------------


def schedules_path(location_id: str) -> str:
    """The schedules collection of a location."""
    return f"/telephony/config/locations/{location_id}/schedules"


async def list_schedules(ctx: ActionContext, location_id: str) -> None:
    """Cache every business-hours schedule of a location (one listing per location and run)."""
    items = await ctx.list_pages(schedules_path(location_id), {}, "schedules", UNLIMITED) or []
    for item in items:
        if item.get("type", "businessHours") == "businessHours":
            ctx.schedules.add(location_key(location_id, str(item.get("name"))), item)
    ctx.schedules_listed.add(location_id)


async def find_schedule(
    ctx: ActionContext, location_id: str, name: str, *, fresh: bool = False
) -> Item | None:
    """The business-hours schedule called ``name`` in a location; several → ambiguous."""
    key = location_key(location_id, name)
    if fresh:
        items = await ctx.list_pages(schedules_path(location_id), {}, "schedules", UNLIMITED)
        matches = compare.exact_matches(items or [], "name", name)
        found = [item for item in matches if item.get("type", "businessHours") == "businessHours"]
        return one(found, f"schedule {name!r}")
    if location_id not in ctx.schedules_listed:
        await ctx.once(f"schedules:{location_id}", lambda: list_schedules(ctx, location_id))
    return one(ctx.schedules.get(key) or [], f"schedule {name!r}")


# -- licenses and supported devices -------------------------------------------------------------


async def licenses(ctx: ActionContext) -> list[Item]:
    """The org's licenses (``GET /licenses``), read once per run."""
    if ctx.licenses is None:
        ctx.licenses = await ctx.once(
            "licenses", lambda: ctx.list_pages("/licenses", {}, "items", UNLIMITED)
        )
    return ctx.licenses or []


async def license_ids_of_kind(ctx: ActionContext, *kinds: str) -> frozenset[str]:
    """Ids of the org's licenses of these calling kinds (professional, basic, workspace)."""
    return frozenset(
        str(lic["id"])
        for lic in await licenses(ctx)
        if compare.license_kind(str(lic.get("name"))) in kinds
    )


async def pick_license(ctx: ActionContext, kind: str, *, reserve: bool) -> str:
    """A calling license of ``kind`` with a free unit (most free first), counting this run's
    assignments; none → ``license_unavailable``. ``reserve`` takes the unit."""
    candidates = [
        lic for lic in await licenses(ctx) if compare.license_kind(str(lic.get("name"))) == kind
    ]
    if not candidates:
        raise RowFailure(Reason.LICENSE_UNAVAILABLE, f"the org has no Webex Calling {kind} license")
    best = max(candidates, key=lambda lic: _free(ctx, lic))
    if _free(ctx, best) <= 0:
        raise RowFailure(
            Reason.LICENSE_UNAVAILABLE,
            f"no free unit of {best.get('name')!r} (total {best.get('totalUnits')})",
        )
    if reserve:
        ctx.license_reserved[str(best["id"])] = ctx.license_reserved.get(str(best["id"]), 0) + 1
    return str(best["id"])


def release_license(ctx: ActionContext, license_id: str) -> None:
    """Give back a unit reserved by ``pick_license`` when the write certainly did not happen."""
    if ctx.license_reserved.get(license_id, 0) > 0:
        ctx.license_reserved[license_id] -= 1


def _free(ctx: ActionContext, lic: Item) -> int:
    total = int(lic.get("totalUnits") or 0)
    used = int(lic.get("consumedUnits") or 0)
    return total - used - ctx.license_reserved.get(str(lic.get("id")), 0)


async def supported_devices(ctx: ActionContext) -> list[Item]:
    """``GET /telephony/config/supportedDevices``, read once per run."""
    if ctx.supported_devices is None:
        ctx.supported_devices = await ctx.once("supportedDevices", lambda: _fetch_supported(ctx))
    return ctx.supported_devices or []


async def _fetch_supported(ctx: ActionContext) -> list[Item]:
    response = await ctx.client.request(
        "GET", "/telephony/config/supportedDevices", params=ctx.query()
    )
    body: Any = response.body if isinstance(response.body, dict) else {}
    devices = body.get("devices") or []
    return [item for item in devices if isinstance(item, dict)]
