"""The steps that call parks, call park extensions, call pickups, paging groups, voicemail groups
and virtual lines share with hunt groups: lookup by name in the location, GET the details, create
or PUT what differs. Kinds that the API lists per location only are looked up location by
location. Steps and request budget: ``docs/actions_registry.md``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from webex_bulk.actions import compare
from webex_bulk.actions.compared import Compared
from webex_bulk.actions.context import FEATURES_PAGE, ActionContext, location_key
from webex_bulk.actions.failure import one
from webex_bulk.actions.features import FeatureActions
from webex_bulk.actions.inventory import Inventory, Item
from webex_bulk.models import Row


class GroupFeatureActions(FeatureActions):
    """A call feature of a location whose details are compared by ``compare_details``."""

    #: True when the API has no org-wide list of the kind (call parks, call pickups).
    per_location = False
    #: Whether rows name members (users, workspaces, virtual lines) to resolve.
    has_members = True

    async def prepare(self, ctx: ActionContext, row_count: int) -> None:
        """List locations, the members' kinds and this kind when cheaper than lookups per row."""
        await ctx.locations.list_all(row_count)
        if self.has_members:
            await ctx.people.list_all(row_count)
            await ctx.workspaces.list_all(row_count)
            await ctx.virtual_lines.list_all(row_count)
        if not self.per_location:
            await self.inventory(ctx).list_all(row_count)

    def inventory(self, ctx: ActionContext) -> Inventory:
        """The run's inventory of this kind."""
        if self.per_location:
            return ctx.unlisted(self.path)
        return ctx.features(self.list_path, self.list_key)

    async def find(
        self, ctx: ActionContext, location_id: str, name: str, *, fresh: bool = False
    ) -> Item | None:
        """The object called ``name`` in the location (exact match; several → ambiguous)."""
        if not self.per_location or not location_id:
            return await super().find(ctx, location_id, name, fresh=fresh)

        async def fetch() -> list[Item]:
            params = {"name": name, "max": FEATURES_PAGE}
            items = await ctx.list_every(self.item_path(location_id), params, self.list_key)
            return compare.exact_matches(items, "name", name)

        found = await self.inventory(ctx).lookup(
            location_key(location_id, name), fetch, fresh=fresh
        )
        return one(found, f"{self.entity_type.value.replace('_', ' ')} {name!r}")

    def diff(self, row: Row, details: Item, refs: Mapping[str, Any], region: str) -> Compared:
        """The differing CSV columns; member columns whose members exist only in the file yet
        (``plan``) count as differing."""
        compared = self.compare_details(row, details, refs, region)
        for column in refs.get("waiting", ()):
            compared.mark(column, row.get(column), compared.old.get(column, ""), differs=True)
        return compared

    def compare_details(
        self, row: Row, details: Item, refs: Mapping[str, Any], region: str
    ) -> Compared:
        """The differing CSV columns of the remote details."""
        raise NotImplementedError

    def update_body(
        self, row: Row, details: Item, fields: tuple[str, ...], refs: Mapping[str, Any]
    ) -> dict[str, Any]:
        """The PUT body: by default the create body (the API replaces the fields given)."""
        return self.create_body(row, refs)
