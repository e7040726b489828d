"""``export --with-settings``: the call settings of each exported user and workspace, read and
written into its row's settings columns. One GET per owner and settings group, ``workers``
owners at a time, rows kept in listing order; without the flag nothing here is read.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping

from webex_bulk.actions.context import ActionContext
from webex_bulk.actions.export_rows import Cells
from webex_bulk.actions.inventory import Item
from webex_bulk.actions.settings_bodies import remote_cells
from webex_bulk.error_handling import ApiError
from webex_bulk.input import SETTINGS_GROUPS, WORKSPACE_SETTINGS_GROUPS
from webex_bulk.models import EntityType

#: The entity types with settings: the path their settings live under, and their groups.
OWNERS: Mapping[EntityType, tuple[str, tuple[str, ...]]] = {
    EntityType.USER: ("people", tuple(SETTINGS_GROUPS)),
    EntityType.WORKSPACE: ("workspaces", WORKSPACE_SETTINGS_GROUPS),
}

Converted = AsyncIterator[tuple[Item, Cells]]


async def with_settings(
    ctx: ActionContext, entity_type: EntityType, converted: Converted
) -> Converted:
    """The rows of ``converted`` with their owners' settings cells added, in the same order."""
    batch: list[tuple[Item, Cells]] = []
    size = max(1, ctx.settings.workers)
    async for pair in converted:
        batch.append(pair)
        if len(batch) >= size:
            for done in await _read(ctx, entity_type, batch):
                yield done
            batch = []
    for done in await _read(ctx, entity_type, batch):
        yield done


async def _read(
    ctx: ActionContext, entity_type: EntityType, batch: list[tuple[Item, Cells]]
) -> list[tuple[Item, Cells]]:
    kind, groups = OWNERS[entity_type]

    async def one(item: Item, cells: Cells) -> tuple[Item, Cells]:
        found = dict(cells)
        for group in groups:
            path = f"/{kind}/{item['id']}/features/{group}"
            try:
                response = await ctx.client.request("GET", path, params=ctx.query())
            except ApiError as exc:
                if exc.status == 404:  # deleted, or lost calling, since it was listed
                    continue
                raise
            remote = response.body if isinstance(response.body, Mapping) else {}
            values = remote_cells(group, remote, ctx.settings.default_region)
            found.update({column: value for column, value in values.items() if value})
        return item, found

    return list(await asyncio.gather(*(one(item, cells) for item, cells in batch)))
