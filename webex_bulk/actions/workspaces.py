"""Workspace actions: a Webex Calling workspace of a location with an extension and/or number.

Lookup by display name in the location → ``POST /workspaces`` (calling ``webexCalling``), or
``PUT /workspaces/{id}`` when the line differs — unless the workspace has devices, whose calling
Webex does not change (the row ends pending with the manual step). The line of a workspace is
read through the numbers API (``ownerId``), since the workspace object does not carry it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from webex_bulk.actions import bodies, call_settings, compare, lookups
from webex_bulk.actions.base import (
    CREATE,
    Decision,
    EntityActions,
    Reconciled,
    answer_item,
    change_for,
    create_reconciled,
    row_location,
    unchanged,
    updated,
)
from webex_bulk.actions.context import NUMBERS_PATH, ActionContext, location_key
from webex_bulk.actions.failure import RowFailure
from webex_bulk.actions.inventory import Item, page_budget
from webex_bulk.error_handling import ApiError, ForbiddenError, Reason
from webex_bulk.models import EntityType, Outcome, Row

NUMBERS_PAGE = 2000
#: The CSV columns that live in the workspace's ``calling`` object.
CALLING_FIELDS = frozenset({"extension", "phone_number"})


async def owner_line(ctx: ActionContext, owner_id: str) -> Mapping[str, str]:
    """The extension and phone number an owner holds (``GET …/numbers?ownerId=``)."""
    rows = ctx.owner_lines.get(owner_id)
    if rows is None:
        params = {"ownerId": owner_id, "max": NUMBERS_PAGE}
        rows = await ctx.list_every(NUMBERS_PATH, params, "phoneNumbers")
        ctx.owner_lines.put(owner_id, rows)
    line: dict[str, str] = {}
    for row in rows:
        if row.get("extension") and "extension" not in line:
            line["extension"] = str(row["extension"])
        if row.get("phoneNumber") and "phoneNumber" not in line:
            line["phoneNumber"] = str(row["phoneNumber"])
    return line


def with_line(workspace: Item, line: Mapping[str, str]) -> Item:
    """A workspace with its line merged into ``calling.webexCalling`` (for the comparison)."""
    calling = dict(workspace.get("calling") or {})
    inner = dict(calling.get("webexCalling") or {})
    if calling.get("type") == "webexCalling":
        inner.update(line)
    calling["webexCalling"] = inner
    return {**workspace, "calling": calling}


class WorkspaceActions(EntityActions):
    """Workspaces: create with Webex Calling, or PUT the calling line when it differs."""

    entity_type = EntityType.WORKSPACE

    async def prepare(self, ctx: ActionContext, row_count: int) -> None:
        """List locations, workspaces and the lines of all workspaces when cheaper than lookups."""
        await ctx.locations.list_all(row_count)
        if not await ctx.workspaces.list_all(row_count):
            return
        params = {"ownerType": "PLACE", "max": NUMBERS_PAGE}
        lines = await ctx.list_pages(NUMBERS_PATH, params, "phoneNumbers", page_budget(row_count))
        if lines is None:
            return
        by_owner: dict[str, list[Item]] = {str(item["id"]): [] for item in ctx.workspaces.values()}
        for line in lines:
            owner = line.get("owner") or {}
            if owner.get("id"):
                by_owner.setdefault(str(owner["id"]), []).append(line)
        for owner_id, found in by_owner.items():
            ctx.owner_lines.put(owner_id, found)

    async def decide(self, ctx: ActionContext, row: Row, *, planning: bool = False) -> Decision:
        """Exists in the location? on Webex Calling with the wanted line?"""
        location = await row_location(ctx, row, planning=planning)
        if location is None:
            return Decision(CREATE)
        location_id = str(location["id"])
        refs: dict[str, Any] = {"location_id": location_id}
        remote = await lookups.find_workspace(ctx, location_id, row.get("display_name"))
        if remote is None:
            return Decision(CREATE, refs=refs)
        view = with_line(remote, await owner_line(ctx, str(remote["id"])))
        compared = compare.workspace_diff(row, view, ctx.settings.default_region)
        if CALLING_FIELDS.intersection(compared.differing):
            await _refuse_if_devices(ctx, row, str(remote["id"]))
        if compare.workspace_calling(view):  # not yet on Webex Calling: settings after the PUT
            owner = call_settings.Owner("workspaces", str(remote["id"]))
            compared.extend(await call_settings.compare(ctx, row, owner, refs))
        return Decision(change_for(compared, str(remote["id"])), view, refs)

    async def execute(self, ctx: ActionContext, row: Row, decision: Decision) -> Outcome:
        """Create, or PUT the calling settings with the fields a PUT would clear carried back."""
        if decision.change.kind == "unchanged":
            return unchanged(row, decision)
        location_id = str(decision.refs["location_id"])
        if decision.change.kind == "update":
            workspace_id = decision.change.remote_id
            if call_settings.other_fields(decision.change.fields):
                await self._put(ctx, row, decision, location_id)
            owner = call_settings.Owner("workspaces", workspace_id)
            await call_settings.apply(ctx, row, owner, decision.refs)
            return updated(row, workspace_id, decision.change.fields)
        return await self._create(ctx, row, location_id)

    async def _put(
        self, ctx: ActionContext, row: Row, decision: Decision, location_id: str
    ) -> None:
        """The workspace's own PUT, with ``calling`` only when the line or calling type changes;
        Webex's refusal for a workspace with devices ends the row with the manual step."""
        workspace_id = decision.change.remote_id
        calling = bool(CALLING_FIELDS.intersection(decision.change.fields))
        body = bodies.workspace_update_body(row, decision.remote, location_id, calling=calling)
        try:
            await ctx.client.request(
                "PUT", f"/workspaces/{workspace_id}", params=ctx.query(), json=body
            )
        except ApiError as exc:
            if calling and exc.status == 400 and "device" in exc.message.casefold():
                raise _has_devices(row, workspace_id, f"Webex said: {exc.message}") from None
            raise
        ctx.owner_lines.put(workspace_id, [bodies.line_fields(row)])

    async def _create(self, ctx: ActionContext, row: Row, location_id: str) -> Outcome:
        name = row.get("display_name")
        body = ctx.body(bodies.workspace_create_body(row, location_id))

        async def create() -> Item:
            response = await ctx.client.request("POST", "/workspaces", json=body)
            return answer_item(response, "/workspaces", body)

        async def lookup() -> Item | None:
            return await lookups.find_workspace(ctx, location_id, name, fresh=True)

        remote, how = await create_reconciled(ctx, create, lookup, f"workspace {name!r}")
        ctx.workspaces.add(location_key(location_id, name), remote)
        if how is Reconciled.CREATED:
            ctx.owner_lines.put(str(remote["id"]), [bodies.line_fields(row)])
            await call_settings.apply(
                ctx, row, call_settings.Owner("workspaces", str(remote["id"]))
            )
        return await self.converge(ctx, row, str(remote["id"]), how)


async def _refuse_if_devices(ctx: ActionContext, row: Row, workspace_id: str) -> None:
    """Webex does not change the calling of a workspace that has devices (spec of
    ``PUT /workspaces``): one ``GET /devices?workspaceId=`` before such a change says so. A
    token that may not read devices (403) skips the read: the PUT meets Webex's own refusal."""
    params = ctx.query({"workspaceId": workspace_id, "max": 1})
    try:
        response = await ctx.client.request("GET", "/devices", params=params)
    except ForbiddenError:
        return
    items = (response.body or {}).get("items") if isinstance(response.body, Mapping) else None
    if items:
        device = items[0] if isinstance(items[0], Mapping) else {}
        what = device.get("product") or device.get("displayName") or device.get("mac") or "one"
        raise _has_devices(row, workspace_id, f"it has devices ({what})")


def _has_devices(row: Row, workspace_id: str, why: str) -> RowFailure:
    name = row.get("display_name")
    return RowFailure(
        Reason.OUT_OF_SCOPE,
        f"workspace {name!r}: Webex does not change the calling line of a workspace with "
        f"devices; {why} — change its extension/number in Control Hub (Workspaces › {name} › "
        "Calling), or remove its devices and run again (its device rows add them back)",
        remote_id=workspace_id,
    )
