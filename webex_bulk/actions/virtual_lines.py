"""Virtual lines: lookup by display name in the location → create with names and a line, or PUT
the names and line that differ. Virtual lines may be members of every call feature."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from webex_bulk.actions import group_bodies, virtual_line_lookup
from webex_bulk.actions.compared import Compared
from webex_bulk.actions.context import ActionContext
from webex_bulk.actions.group_feature import GroupFeatureActions
from webex_bulk.actions.inventory import Inventory, Item
from webex_bulk.models import EntityType, Row


class VirtualLineActions(GroupFeatureActions):
    """Virtual lines (org-level API; the location goes in the body)."""

    entity_type = EntityType.VIRTUAL_LINE
    path = "virtualLines"
    list_key = "virtualLines"
    has_members = False

    def row_name(self, row: Row) -> str:
        """The display name."""
        return row.get("display_name")

    def item_path(self, location_id: str, feature_id: str = "") -> str:
        """``/telephony/config/virtualLines[/{id}]`` (not under the location)."""
        base = virtual_line_lookup.VIRTUAL_LINES_PATH
        return f"{base}/{feature_id}" if feature_id else base

    def inventory(self, ctx: ActionContext) -> Inventory:
        """The run's virtual lines (also what member resolution reads)."""
        return ctx.virtual_lines

    async def find(
        self, ctx: ActionContext, location_id: str, name: str, *, fresh: bool = False
    ) -> Item | None:
        """The virtual line with this display name in the location."""
        return await virtual_line_lookup.find_virtual_line(ctx, location_id, name, fresh=fresh)

    async def references(
        self, ctx: ActionContext, row: Row, location_id: str, *, planning: bool
    ) -> dict[str, Any]:
        """No references beyond the location."""
        return {}

    async def details(self, ctx: ActionContext, location_id: str, remote_id: str) -> Item:
        """The details the lookup just read to confirm the display name, else a ``GET``."""
        read = virtual_line_lookup.take_details(ctx, remote_id)
        return read if read is not None else await super().details(ctx, location_id, remote_id)

    def sent(self, row: Row, location_id: str) -> dict[str, Any]:
        """The inventory's object of a create: display name and location."""
        return {"displayName": self.row_name(row), "locationId": location_id}

    def compare_details(
        self, row: Row, details: Item, refs: Mapping[str, Any], region: str
    ) -> Compared:
        """Names and line."""
        return group_bodies.virtual_line_diff(row, details, region)

    def create_body(self, row: Row, refs: Mapping[str, Any]) -> dict[str, Any]:
        """Names, location and line."""
        return group_bodies.virtual_line_create_body(row, str(refs["location_id"]))

    def update_body(
        self, row: Row, details: Item, fields: tuple[str, ...], refs: Mapping[str, Any]
    ) -> dict[str, Any]:
        """The differing names and the line."""
        return group_bodies.virtual_line_update_body(row, fields)
