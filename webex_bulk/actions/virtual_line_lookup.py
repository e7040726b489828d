"""Virtual lines by display name in a location. Cisco's listing carries first and last names but
no display name (a row's key): candidates are confirmed by their details, the likeliest first,
each read at most once per run. Reads only; steps and budget in ``docs/actions_registry.md``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from webex_bulk.actions import compare
from webex_bulk.actions.context import UNNAMED, ActionContext, located_id, location_key
from webex_bulk.actions.failure import one
from webex_bulk.actions.inventory import Item
from webex_bulk.error_handling import ApiError

VIRTUAL_LINES_PATH = "/telephony/config/virtualLines"


async def find_virtual_line(
    ctx: ActionContext, location_id: str, name: str, *, fresh: bool = False
) -> Item | None:
    """The virtual line with display name ``name`` in a location (unique there), or None.

    From a complete inventory, a name never looked up yet is settled by the location's listed
    virtual lines (``from_inventory``); otherwise by a lookup (``fetch_virtual_line``).
    """
    if not location_id:
        return None
    inventory = ctx.virtual_lines
    key = location_key(location_id, name)
    if not fresh and inventory.complete and inventory.recorded(key) is None:
        found = await inventory.lookup(
            key, lambda: from_inventory(ctx, location_id, name), fresh=True
        )
    else:
        found = await inventory.lookup(
            key, lambda: fetch_virtual_line(ctx, location_id, name), fresh=fresh
        )
    return one(found, f"virtual line {name!r}")


async def from_inventory(ctx: ActionContext, location_id: str, name: str) -> list[Item]:
    """``name`` among the location's listed virtual lines of unknown display name: those whose
    "first last" is ``name`` are confirmed by their details; none of them is it and others remain
    unknown → the lookup by name; none remain → absent, without a request."""
    unnamed = ctx.virtual_lines.recorded(UNNAMED + location_id) or []
    likeliest = [item for item in unnamed if _first_last(item) == compare.fold(name)]
    found = await _confirm(ctx, likeliest, name)
    if found or not ctx.virtual_lines.recorded(UNNAMED + location_id):
        return found
    return await fetch_virtual_line(ctx, location_id, name)


async def fetch_virtual_line(ctx: ActionContext, location_id: str, name: str) -> list[Item]:
    """``GET /telephony/config/virtualLines?locationId=&ownerName=`` (a filter on the names,
    contains), then the candidates' display names: the likeliest first, until one is ``name``."""
    params = {"locationId": location_id, "ownerName": name}
    items = await ctx.list_every(VIRTUAL_LINES_PATH, params, "virtualLines")
    here = [item for item in items if compare.same_location(item, location_id)]
    wanted = compare.fold(name)
    here.sort(key=lambda item: _first_last(item) != wanted)
    return await _confirm(ctx, here, name)


async def _confirm(ctx: ActionContext, candidates: Iterable[Item], name: str) -> list[Item]:
    """The first candidate whose display name is ``name`` (display names are unique in a
    location: the API refuses a second one), reading details only where it is not known."""
    for candidate in candidates:
        named = await _named(ctx, candidate)
        if named is not None and compare.fold(named.get("displayName")) == compare.fold(name):
            return [named]
    return []


async def _named(ctx: ActionContext, item: Item) -> Item | None:
    """The listed ``item`` with its display name: from the listing, from this run's reads, else
    from ``GET …/virtualLines/{id}`` (filed under its name, the details kept for the row's
    comparison). None when it no longer exists."""
    if item.get("displayName"):
        return item
    line_id = str(item.get("id"))
    display = ctx.virtual_line_names.get(line_id)
    if display is None:
        details = await ctx.once(f"virtualLine:{line_id}", lambda: _details(ctx, line_id))
        if details is None:
            _file(ctx, item, "")  # gone since it was listed
            return None
        display = str(details.get("displayName") or "")
    named = {**item, "displayName": display}
    _file(ctx, named, display)
    return named


async def _details(ctx: ActionContext, line_id: str) -> dict[str, Any] | None:
    try:
        response = await ctx.client.request(
            "GET", f"{VIRTUAL_LINES_PATH}/{line_id}", params=ctx.query()
        )
    except ApiError as exc:
        if exc.status == 404:
            return None
        raise
    details = dict(response.body) if isinstance(response.body, dict) else {}
    ctx.virtual_line_names[line_id] = str(details.get("displayName") or "")
    ctx.virtual_line_details[line_id] = details
    return details


def _file(ctx: ActionContext, item: Item, display: str) -> None:
    """File a virtual line under its display name (none: it is gone); either way it leaves its
    location's listed lines of unknown display name."""
    location_id = located_id(item)
    inventory = ctx.virtual_lines
    if display:
        inventory.add(location_key(location_id, display), item)
    unnamed = inventory.recorded(UNNAMED + location_id)
    if unnamed:
        inventory.put(UNNAMED + location_id, [i for i in unnamed if i.get("id") != item.get("id")])


def take_details(ctx: ActionContext, line_id: str) -> Item | None:
    """The details a lookup of this run read for the virtual line, handed out once (the row's
    comparison uses them instead of reading them again); None when there are none."""
    return ctx.virtual_line_details.pop(line_id, None)


def _first_last(item: Item) -> str:
    """``"first last"`` folded: the display name a virtual line gets by default."""
    return compare.fold(f"{item.get('firstName') or ''} {item.get('lastName') or ''}")
