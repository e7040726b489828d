"""Call pickups: lookup by name in the location (the API lists them per location) → create with
the members, or PUT a different member set."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from webex_bulk.actions import group_bodies, members
from webex_bulk.actions.compared import Compared
from webex_bulk.actions.context import ActionContext
from webex_bulk.actions.group_feature import GroupFeatureActions
from webex_bulk.actions.inventory import Item
from webex_bulk.models import EntityType, Row


class CallPickupActions(GroupFeatureActions):
    """Call pickups: a name and members (users, workspaces, virtual lines of the location)."""

    entity_type = EntityType.CALL_PICKUP
    path = "callPickups"
    list_key = "callPickups"
    per_location = True

    async def references(
        self, ctx: ActionContext, row: Row, location_id: str, *, planning: bool
    ) -> dict[str, Any]:
        """Members as ids."""
        found = await members.resolve(ctx, row, location_id, row.members, planning=planning)
        return {"agent_ids": list(found.ids), "waiting": ("members",) if found.waiting else ()}

    def compare_details(
        self, row: Row, details: Item, refs: Mapping[str, Any], region: str
    ) -> Compared:
        """The member set."""
        return group_bodies.call_pickup_diff(row, details, refs)

    def create_body(self, row: Row, refs: Mapping[str, Any]) -> dict[str, Any]:
        """Name and members."""
        return group_bodies.call_pickup_body(row, refs)
