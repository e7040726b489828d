"""Hunt group, call queue and auto attendant actions: one class, three kinds.

Lookup by exact name in the location → create with minimal defaults and members resolved to
person, workspace or virtual line ids, or PUT when number, extension, policy, queue size,
schedule or the member **set** differ. Steps and request budget: ``docs/actions_registry.md``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from webex_bulk.actions import compare, feature_bodies, lookups, members
from webex_bulk.actions.base import (
    CREATE,
    Decision,
    EntityActions,
    answer_item,
    change_for,
    create_reconciled,
    row_location,
    unchanged,
    updated,
)
from webex_bulk.actions.compared import Compared
from webex_bulk.actions.context import FEATURES_PAGE, ActionContext, location_key
from webex_bulk.actions.failure import RowFailure, one
from webex_bulk.actions.inventory import Inventory, Item
from webex_bulk.error_handling import Reason
from webex_bulk.models import EntityType, Outcome, Row


class FeatureActions(EntityActions):
    """The shared steps of hunt groups, call queues and auto attendants."""

    path = ""  # huntGroups | queues | autoAttendants
    list_key = ""

    @property
    def list_path(self) -> str:
        """The org-wide list of this feature."""
        return f"/telephony/config/{self.path}"

    def item_path(self, location_id: str, feature_id: str = "") -> str:
        """The collection (or one item) of this feature under a location."""
        base = f"/telephony/config/locations/{location_id}/{self.path}"
        return f"{base}/{feature_id}" if feature_id else base

    async def prepare(self, ctx: ActionContext, row_count: int) -> None:
        """List the org's features of this kind (and people and workspaces, the members) when
        cheaper than a lookup per row."""
        await ctx.locations.list_all(row_count)
        if self.entity_type is not EntityType.AUTO_ATTENDANT:
            await ctx.people.list_all(row_count)
            await ctx.workspaces.list_all(row_count)
            await ctx.virtual_lines.list_all(row_count)
        await self.inventory(ctx).list_all(row_count)

    def row_name(self, row: Row) -> str:
        """The name that identifies the row's object in its location."""
        return row.get("name")

    def inventory(self, ctx: ActionContext) -> Inventory:
        """The run's inventory of this feature kind."""
        return ctx.features(self.list_path, self.list_key)

    async def find(
        self, ctx: ActionContext, location_id: str, name: str, *, fresh: bool = False
    ) -> Item | None:
        """The feature called ``name`` in the location (exact match; several → ambiguous); none
        in a location still to be created (``""``)."""
        if not location_id:
            return None

        async def fetch() -> list[Item]:
            params = {"locationId": location_id, "name": name, "max": FEATURES_PAGE}
            items = await ctx.list_every(self.list_path, params, self.list_key)
            return [
                item
                for item in compare.exact_matches(items, "name", name)
                if compare.same_location(item, location_id)
            ]

        key = location_key(location_id, name)
        found = await self.inventory(ctx).lookup(key, fetch, fresh=fresh)
        return one(found, f"{self.entity_type.value.replace('_', ' ')} {name!r}")

    async def decide(self, ctx: ActionContext, row: Row, *, planning: bool = False) -> Decision:
        """Resolve location, members and schedule; exists? which fields differ?"""
        location = await row_location(ctx, row, planning=planning)
        if location is None:
            # A location this file creates: what the row names must still exist (run's rule).
            await self.references(ctx, row, "", planning=planning)
            return Decision(CREATE)
        location_id = str(location["id"])
        refs: dict[str, Any] = {"location_id": location_id}
        refs.update(await self.references(ctx, row, location_id, planning=planning))
        remote = await self.find(ctx, location_id, self.row_name(row))
        if remote is None:
            return Decision(CREATE, refs=refs)
        details = await self.details(ctx, location_id, str(remote["id"]))
        compared = self.diff(row, details, refs, ctx.settings.default_region)
        return Decision(change_for(compared, str(remote["id"])), details, refs)

    async def details(self, ctx: ActionContext, location_id: str, remote_id: str) -> Item:
        """``GET`` the details of the object (what a row is compared with)."""
        response = await ctx.client.request(
            "GET", self.item_path(location_id, remote_id), params=ctx.query()
        )
        return response.body if isinstance(response.body, Mapping) else {}

    async def references(
        self, ctx: ActionContext, row: Row, location_id: str, *, planning: bool
    ) -> dict[str, Any]:
        """Members as ids (``agent_ids``; ``members_pending`` when some exist only in the file)."""
        found = await members.resolve(ctx, row, location_id, row.members, planning=planning)
        return {"agent_ids": list(found.ids), "members_pending": found.waiting}

    def diff(self, row: Row, details: Item, refs: Mapping[str, Any], region: str) -> Compared:
        """The differing CSV columns, members compared as a set of remote ids."""
        compared = compare.feature_diff(row, details, agent_ids=refs["agent_ids"], region=region)
        if refs.get("members_pending"):
            held = compared.old.get("members", "")
            compared.mark("members", row.get("members"), held, differs=True)
        return compared

    def create_body(self, row: Row, refs: Mapping[str, Any]) -> dict[str, Any]:
        """The POST body."""
        raise NotImplementedError

    def sent(self, row: Row, location_id: str) -> dict[str, Any]:
        """What a create answer is overlaid on to make the inventory's object."""
        return {"name": self.row_name(row), "locationId": location_id}

    def update_body(
        self, row: Row, details: Item, fields: tuple[str, ...], refs: Mapping[str, Any]
    ) -> dict[str, Any]:
        """The PUT body for the differing fields."""
        raise NotImplementedError

    async def execute(self, ctx: ActionContext, row: Row, decision: Decision) -> Outcome:
        """Create, or PUT what differs."""
        if decision.change.kind == "unchanged":
            return unchanged(row, decision)
        location_id = str(decision.refs["location_id"])
        if decision.change.kind == "update":
            body = self.update_body(row, decision.remote, decision.change.fields, decision.refs)
            await ctx.client.request(
                "PUT",
                self.item_path(location_id, decision.change.remote_id),
                params=ctx.query(),
                json=body,
            )
            return updated(row, decision.change.remote_id, decision.change.fields)
        return await self._create(ctx, row, location_id, decision.refs)

    async def _create(
        self, ctx: ActionContext, row: Row, location_id: str, refs: Mapping[str, Any]
    ) -> Outcome:
        name = self.row_name(row)
        body = self.create_body(row, refs)

        async def create() -> Item:
            response = await ctx.client.request(
                "POST", self.item_path(location_id), params=ctx.query(), json=body
            )
            return answer_item(response, self.item_path(location_id), self.sent(row, location_id))

        async def lookup() -> Item | None:
            return await self.find(ctx, location_id, name, fresh=True)

        what = f"{self.entity_type.value.replace('_', ' ')} {name!r}"
        remote, how = await create_reconciled(ctx, create, lookup, what)
        self.inventory(ctx).add(location_key(location_id, name), remote)
        return await self.converge(ctx, row, str(remote["id"]), how)


class HuntGroupActions(FeatureActions):
    """Hunt groups."""

    entity_type = EntityType.HUNT_GROUP
    path = "huntGroups"
    list_key = "huntGroups"

    def create_body(self, row: Row, refs: Mapping[str, Any]) -> dict[str, Any]:
        """CreateHuntGroupObject with minimal defaults."""
        return feature_bodies.hunt_group_create_body(row, refs["agent_ids"])

    def update_body(
        self, row: Row, details: Item, fields: tuple[str, ...], refs: Mapping[str, Any]
    ) -> dict[str, Any]:
        """ModifyHuntGroupObject for the differing fields."""
        return feature_bodies.hunt_group_update_body(row, details, fields, refs["agent_ids"])


class CallQueueActions(FeatureActions):
    """Call queues."""

    entity_type = EntityType.CALL_QUEUE
    path = "queues"
    list_key = "queues"

    def create_body(self, row: Row, refs: Mapping[str, Any]) -> dict[str, Any]:
        """A simple queue (wxc_sdk defaults)."""
        return feature_bodies.call_queue_create_body(row, refs["agent_ids"])

    def update_body(
        self, row: Row, details: Item, fields: tuple[str, ...], refs: Mapping[str, Any]
    ) -> dict[str, Any]:
        """ModifyCallQueueObject (queueSettings carried back, as the API requires it)."""
        return feature_bodies.call_queue_update_body(row, details, fields, refs["agent_ids"])


class AutoAttendantActions(FeatureActions):
    """Auto attendants: no members; a business-hours schedule of the location, by name."""

    entity_type = EntityType.AUTO_ATTENDANT
    path = "autoAttendants"
    list_key = "autoAttendants"

    async def references(
        self, ctx: ActionContext, row: Row, location_id: str, *, planning: bool
    ) -> dict[str, Any]:
        """The business schedule's remote name (``unknown_reference`` when it does not exist)."""
        wanted = row.get("business_schedule")
        schedule = None
        if not planning or await lookups.calling_enabled(ctx, location_id):
            schedule = await lookups.find_schedule(ctx, location_id, wanted)
        if schedule is not None:
            return {"schedule": str(schedule.get("name") or wanted)}
        key = f"schedule:{compare.fold(row.get('location'))}/{compare.fold(wanted)}"
        if planning and key in ctx.file_keys:
            return {"schedule": wanted}
        raise RowFailure(
            Reason.UNKNOWN_REFERENCE,
            f"business schedule {wanted!r} is not a schedule of location "
            f"{row.get('location')!r} in the tenant or in this run",
        )

    def diff(self, row: Row, details: Item, refs: Mapping[str, Any], region: str) -> Compared:
        """Number, extension and schedule name."""
        return compare.feature_diff(row, details, schedule_name=refs["schedule"], region=region)

    def create_body(self, row: Row, refs: Mapping[str, Any]) -> dict[str, Any]:
        """PostAutoAttendantObject with the minimal menus."""
        return feature_bodies.auto_attendant_create_body(row, refs["schedule"])

    def update_body(
        self, row: Row, details: Item, fields: tuple[str, ...], refs: Mapping[str, Any]
    ) -> dict[str, Any]:
        """ModifyAutoAttendantObject: number, extension and schedule."""
        return feature_bodies.auto_attendant_update_body(row, refs["schedule"])
