"""Lookups shared by the entity actions: locations, calling, PSTN, people, workspaces and
schedules, answered from the run's inventories when possible and exact-matched client-side.

``fresh=True`` asks the tenant again (reconciliation after an unknown outcome). Reads only.
"""

from __future__ import annotations

import logging

from webex_bulk.actions import compare
from webex_bulk.actions.context import ActionContext, location_key, person_keys
from webex_bulk.actions.failure import one
from webex_bulk.actions.inventory import Item
from webex_bulk.error_handling import ApiError, ForbiddenError
from webex_bulk.input import did_you_mean

#: Known names a "did you mean" compares with at most (difflib is linear in them).
NEAR_MATCH_LIMIT = 20_000
#: The scope of the PSTN connection read; without it the numbers' PSTN pre-check is skipped.
PSTN_READ_SCOPE = "spark-admin:telephony_pstn_read"

log = logging.getLogger("webex_bulk.actions.lookups")

# -- locations ---------------------------------------------------------------------------------


async def fetch_locations(ctx: ActionContext, name: str) -> list[Item]:
    """``GET /locations?name=`` (a contains filter), exact-matched on the name."""
    items = await ctx.list_every("/locations", {"name": name}, "items")
    return compare.exact_matches(items, "name", name)


async def find_location(ctx: ActionContext, name: str, *, fresh: bool = False) -> Item | None:
    """The location called ``name``; several → ``ambiguous_match``."""
    found = await ctx.locations.lookup(
        compare.fold(name), lambda: fetch_locations(ctx, name), fresh=fresh
    )
    return one(found, f"location {name!r}")


def location_hint(ctx: ActionContext, name: str) -> str:
    """``"; did you mean 'Paris'?"`` when a location this run knows (listed, looked up or
    created) is a near match of ``name``; ``""`` otherwise. Sends no request."""
    names = [str(item.get("name") or "") for item in ctx.locations.values()]
    return did_you_mean(name, names)


def member_hint(ctx: ActionContext, location_id: str, member: str) -> str:
    """A near match of a member: a person's e-mail, or a workspace or virtual line of the
    location, known to this run. Sends no request."""
    if "@" in member:
        known = ctx.people.known_keys()
    else:
        prefix = location_key(location_id, "")
        known = [
            key[len(prefix) :]
            for inventory in (ctx.workspaces, ctx.virtual_lines)
            for key in inventory.known_keys()
            if key.startswith(prefix)
        ]
    return did_you_mean(member, known) if len(known) <= NEAR_MATCH_LIMIT else ""


async def calling_enabled(ctx: ActionContext, location_id: str, *, fresh: bool = False) -> bool:
    """Whether the location is enabled for Webex Calling (``/telephony/config/locations``).

    A location id of ``""`` is a location still to be created (``plan``): it holds nothing, so
    this and the lookups by location below answer without a request."""
    if not location_id:
        return False
    found = await ctx.calling_locations.lookup(
        location_id, lambda: _fetch_calling(ctx, location_id), fresh=fresh
    )
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
    connection``, answer ``{pstnConnectionType}``); "" when the location has none yet, or when
    the token may not read it (403: warned once per run, then never asked again)."""
    if not ctx.pstn_readable:
        return ""
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
    except ForbiddenError as exc:
        _pstn_unreadable(ctx, exc)
        return ""
    except ApiError as exc:
        if exc.status == 404:
            return ""
        raise
    body = response.body if isinstance(response.body, dict) else {}
    return str(body.get("pstnConnectionType") or "")


def _pstn_unreadable(ctx: ActionContext, exc: ForbiddenError) -> None:
    """A token without the PSTN read scope: the pre-check is an optimisation, so it is skipped
    for the rest of the run (one warning) and each numbers add meets Webex's own refusal."""
    if not ctx.pstn_readable:
        return
    ctx.pstn_readable = False
    fields = {
        "scope": PSTN_READ_SCOPE,
        "detail": f"403 on GET {exc.path}: numbers are added without the PSTN pre-check; Webex "
        "refuses those of provider-managed locations itself (rows end pending out_of_scope)",
        "tracking_id": exc.tracking_id,
    }
    log.warning("numbers.pstn_check_skipped", extra={"event_fields": fields})


async def location_name(ctx: ActionContext, location_id: str) -> str:
    """A location's name for a message: from the inventory, else ``GET /locations/{id}``; its id
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
    items = await ctx.list_every("/people", {"email": email, "callingData": "true"}, "items")
    wanted = email.lower()
    return [p for p in items if wanted in (str(e).lower() for e in p.get("emails") or ())]


async def find_person(ctx: ActionContext, email: str, *, fresh: bool = False) -> Item | None:
    """The person with this e-mail; several → ``ambiguous_match``."""
    found = await ctx.people.lookup(email.lower(), lambda: fetch_person(ctx, email), fresh=fresh)
    return one(found, f"user {email!r}")


def add_person(ctx: ActionContext, person: Item) -> None:
    """File a person found or written by this run under each of its e-mails."""
    for key in person_keys(person):
        ctx.people.add(key, person)


# -- workspaces --------------------------------------------------------------------------------


async def fetch_workspace(ctx: ActionContext, location_id: str, name: str) -> list[Item]:
    """``GET /workspaces?displayName=&locationId=``, exact-matched on the name and location."""
    params = {"displayName": name, "locationId": location_id}
    items = await ctx.list_every("/workspaces", params, "items")
    matches = compare.exact_matches(items, "displayName", name)
    return [item for item in matches if compare.same_location(item, location_id)]


async def find_workspace(
    ctx: ActionContext, location_id: str, name: str, *, fresh: bool = False
) -> Item | None:
    """The workspace called ``name`` in a location; several → ``ambiguous_match``."""
    if not location_id:
        return None
    found = await ctx.workspaces.lookup(
        location_key(location_id, name),
        lambda: fetch_workspace(ctx, location_id, name),
        fresh=fresh,
    )
    return one(found, f"workspace {name!r}")


# -- schedules ---------------------------------------------------------------------------------


def schedules_path(location_id: str) -> str:
    """The schedules collection of a location."""
    return f"/telephony/config/locations/{location_id}/schedules"


async def fetch_schedules(ctx: ActionContext, location_id: str) -> list[Item]:
    """Every business-hours schedule of a location."""
    items = await ctx.list_every(schedules_path(location_id), {}, "schedules")
    return [item for item in items if item.get("type", "businessHours") == "businessHours"]


async def find_schedule(
    ctx: ActionContext, location_id: str, name: str, *, fresh: bool = False
) -> Item | None:
    """The business-hours schedule called ``name`` in a location; several → ambiguous.

    A location's schedules are listed once per run; a fresh lookup lists them again.
    """
    if not location_id:
        return None
    if fresh:
        found = await fetch_schedules(ctx, location_id)
    else:
        found = await ctx.schedules.lookup(location_id, lambda: fetch_schedules(ctx, location_id))
    return one(compare.exact_matches(found, "name", name), f"schedule {name!r}")
