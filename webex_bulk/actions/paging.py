"""Paging groups: lookup by name in the location → create with a line, originators and targets,
or PUT what differs."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from webex_bulk.actions import group_bodies, members
from webex_bulk.actions.compared import Compared
from webex_bulk.actions.context import ActionContext
from webex_bulk.actions.group_feature import GroupFeatureActions
from webex_bulk.actions.inventory import Item
from webex_bulk.models import EntityType, Row


class PagingGroupActions(GroupFeatureActions):
    """Paging groups: originators page the targets (users, workspaces, virtual lines)."""

    entity_type = EntityType.PAGING_GROUP
    path = "paging"
    list_key = "locationPaging"

    async def references(
        self, ctx: ActionContext, row: Row, location_id: str, *, planning: bool
    ) -> dict[str, Any]:
        """Originators and targets as ids."""
        refs: dict[str, Any] = {}
        waiting = []
        for column in ("originators", "targets"):
            found = await members.resolve(
                ctx, row, location_id, members.split(row, column), planning=planning, column=column
            )
            refs[f"{column[:-1]}_ids"] = list(found.ids)
            if found.waiting:
                waiting.append(column)
        refs["waiting"] = tuple(waiting)
        return refs

    def compare_details(
        self, row: Row, details: Item, refs: Mapping[str, Any], region: str
    ) -> Compared:
        """Line, originators and targets."""
        return group_bodies.paging_diff(row, details, refs, region)

    def create_body(self, row: Row, refs: Mapping[str, Any]) -> dict[str, Any]:
        """Name, line, originators and targets."""
        return group_bodies.paging_body(row, refs)
