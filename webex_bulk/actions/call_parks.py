"""Call park extensions and call parks: lookup by name in the location → create, or PUT what
differs. A call park names its members, its recall hunt group and its call park extensions."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from webex_bulk.actions import group_bodies, members
from webex_bulk.actions.compared import Compared
from webex_bulk.actions.context import ActionContext
from webex_bulk.actions.failure import RowFailure
from webex_bulk.actions.features import HuntGroupActions
from webex_bulk.actions.group_feature import GroupFeatureActions
from webex_bulk.actions.inventory import Item
from webex_bulk.error_handling import Reason
from webex_bulk.models import EntityType, Row


class CallParkExtensionActions(GroupFeatureActions):
    """Call park extensions: a name and an extension of the location."""

    entity_type = EntityType.CALL_PARK_EXTENSION
    path = "callParkExtensions"
    list_key = "callParkExtensions"
    has_members = False

    async def references(
        self, ctx: ActionContext, row: Row, location_id: str, *, planning: bool
    ) -> dict[str, Any]:
        """No references beyond the location."""
        return {}

    def compare_details(
        self, row: Row, details: Item, refs: Mapping[str, Any], region: str
    ) -> Compared:
        """The extension."""
        return group_bodies.park_extension_diff(row, details, region)

    def create_body(self, row: Row, refs: Mapping[str, Any]) -> dict[str, Any]:
        """Name and extension."""
        return group_bodies.park_extension_body(row)


_HUNT_GROUPS = HuntGroupActions()
_EXTENSIONS = CallParkExtensionActions()


class CallParkActions(GroupFeatureActions):
    """Call parks (listed per location by the API)."""

    entity_type = EntityType.CALL_PARK
    path = "callParks"
    list_key = "callParks"
    per_location = True

    async def references(
        self, ctx: ActionContext, row: Row, location_id: str, *, planning: bool
    ) -> dict[str, Any]:
        """Members, the recall hunt group and the call park extensions as ids."""
        found = await members.resolve(ctx, row, location_id, row.members, planning=planning)
        waiting = ["members"] if found.waiting else []
        location = row.get("location").casefold()
        hunt_group_id = ""
        hunt_group = row.get("recall_hunt_group")
        if hunt_group:
            remote = await _HUNT_GROUPS.find(ctx, location_id, hunt_group)
            if remote is not None:
                hunt_group_id = str(remote["id"])
            elif _in_file(ctx, planning, f"hunt_group:{location}/{hunt_group.casefold()}"):
                waiting.append("recall_hunt_group")
            else:
                raise _missing("recall_hunt_group", "hunt group", hunt_group, row)
        extension_ids: list[str] = []
        for name in members.split(row, "park_extensions"):
            remote = await _EXTENSIONS.find(ctx, location_id, name)
            if remote is not None:
                extension_ids.append(str(remote["id"]))
            elif _in_file(ctx, planning, f"call_park_extension:{location}/{name.casefold()}"):
                waiting.append("park_extensions")
            else:
                raise _missing("park_extensions", "call park extension", name, row)
        return {
            "agent_ids": list(found.ids),
            "hunt_group_id": hunt_group_id,
            "extension_ids": extension_ids,
            "waiting": tuple(dict.fromkeys(waiting)),
        }

    def compare_details(
        self, row: Row, details: Item, refs: Mapping[str, Any], region: str
    ) -> Compared:
        """Members, recall and call park extensions."""
        return group_bodies.call_park_diff(row, details, refs)

    def create_body(self, row: Row, refs: Mapping[str, Any]) -> dict[str, Any]:
        """Name, recall, members and call park extensions."""
        return group_bodies.call_park_body(row, refs)


def _in_file(ctx: ActionContext, planning: bool, key: str) -> bool:
    return planning and key in ctx.file_keys


def _missing(column: str, what: str, name: str, row: Row) -> RowFailure:
    return RowFailure(
        Reason.UNKNOWN_REFERENCE,
        f"{column}: {what} {name!r} is not in location {row.get('location')!r} in the tenant "
        "or in this run",
    )
