"""Device actions: a desk phone added by MAC to its owner (a user, or a workspace of a location),
or, without a MAC, an activation code for the owner and model (``activation``).

One owner's devices run in sequence (``group_key``), since parallel adds race on the primary
device. Lookup by MAC → ``POST /devices``; a device owned by someone else, or a model outside
``supportedDevices``, is ``pending`` ``out_of_scope``.
"""

from __future__ import annotations

from webex_bulk.actions import bodies, compare, lookups
from webex_bulk.actions.activation import decide_code, mint_code
from webex_bulk.actions.base import (
    CREATE,
    Change,
    Decision,
    EntityActions,
    answer_item,
    create_reconciled,
    reference_missing,
    unchanged,
)
from webex_bulk.actions.context import ActionContext, device_keys
from webex_bulk.actions.failure import RowFailure, one
from webex_bulk.actions.inventory import Item
from webex_bulk.error_handling import Reason
from webex_bulk.input import reference_key
from webex_bulk.models import EntityType, Outcome, Row


def _mac(row: Row) -> str:
    return compare.canonical_mac(row.get("mac"))


async def fetch_device(ctx: ActionContext, mac: str) -> list[Item]:
    """``GET /devices?mac=``, exact-matched on the MAC."""
    items = await ctx.list_every("/devices", {"mac": mac}, "items")
    return [item for item in items if compare.canonical_mac(item.get("mac")) == mac]


async def find_device(ctx: ActionContext, mac: str, *, fresh: bool = False) -> Item | None:
    """The device with this MAC, from the inventory or a lookup."""
    found = await ctx.devices.lookup(mac, lambda: fetch_device(ctx, mac), fresh=fresh)
    return one(found, f"device {mac}")


class DeviceActions(EntityActions):
    """Devices: exists with that owner → unchanged; absent → added for the owner."""

    entity_type = EntityType.DEVICE

    async def prepare(self, ctx: ActionContext, row_count: int) -> None:
        """List ``/devices`` (and people and workspaces, the owners) when cheaper than a lookup
        per row."""
        await ctx.locations.list_all(row_count)
        await ctx.people.list_all(row_count)
        await ctx.workspaces.list_all(row_count)
        await ctx.devices.list_all(row_count)

    def group_key(self, row: Row) -> str | None:
        """One owner's devices are added one after another."""
        return "device-owner:" + reference_key(row.get("owner"), row.get("location"))

    async def decide(self, ctx: ActionContext, row: Row, *, planning: bool = False) -> Decision:
        """Supported model? owner exists? device exists, and with that owner? (Without a MAC:
        is a code still valid, or a phone of the model registered?)"""
        model = compare.supported_model(await ctx.supported_devices(), row.get("model"))
        if not model:
            raise RowFailure(
                Reason.OUT_OF_SCOPE,
                f"model {row.get('model')!r} is not in the supported devices list: add the "
                "device in Control Hub (Devices › Add device), or fix the model name",
            )
        owner = await self._owner(ctx, row, planning=planning)
        if not _mac(row):
            return await decide_code(ctx, row, model, owner)
        # None: an owner this file creates (plan); a device held by another is still refused.
        kind, owner_id = owner if owner is not None else ("", "")
        refs = (
            {"model": model, "owner_kind": kind, "owner_id": owner_id}
            if owner
            else {"model": model}
        )
        remote = await find_device(ctx, _mac(row))
        if remote is None:
            return Decision(CREATE, refs=refs)
        if compare.device_owner(remote) != owner:
            raise RowFailure(
                Reason.OUT_OF_SCOPE,
                f"device {_mac(row)} belongs to another owner: remove it from that owner in "
                "Control Hub (Devices) and run again",
                remote_id=str(remote.get("id", "")),
            )
        held = {"owner": f"{kind}:{owner_id}"}
        return Decision(Change("unchanged", (), str(remote["id"]), held, held), remote, refs)

    async def _owner(
        self, ctx: ActionContext, row: Row, *, planning: bool
    ) -> tuple[str, str] | None:
        """``(kind, id)`` of the owner; None in ``plan`` when it is created earlier in the file."""
        owner = row.get("owner")
        if "@" in owner:
            person = await lookups.find_person(ctx, owner)
            if person is not None:
                return "person", str(person["id"])
            key = reference_key(owner, row.get("location"))
            reference_missing(ctx, key, f"owner {owner!r}", planning=planning)
            return None
        location = await lookups.find_location(ctx, row.get("location"))
        if location is not None:
            workspace = await lookups.find_workspace(ctx, str(location["id"]), owner)
            if workspace is not None:
                return "workspace", str(workspace["id"])
        key = reference_key(owner, row.get("location"))
        what = f"owner {owner!r} (a workspace of location {row.get('location')!r})"
        reference_missing(ctx, key, what, planning=planning)
        return None

    async def execute(self, ctx: ActionContext, row: Row, decision: Decision) -> Outcome:
        """Add the device for its owner (one POST); an existing one is left as it is. Without a
        MAC: mint an activation code (one POST) unless the decision is unchanged."""
        if not _mac(row):
            return await mint_code(ctx, row, decision)
        if decision.change.kind == "unchanged":
            return unchanged(row, decision)
        mac = _mac(row)
        refs = decision.refs
        body = bodies.device_create_body(
            row, str(refs["owner_kind"]), str(refs["owner_id"]), model=str(refs["model"])
        )

        async def create() -> Item:
            response = await ctx.client.request("POST", "/devices", params=ctx.query(), json=body)
            return {**answer_item(response, "/devices", body), "mac": mac}

        async def lookup() -> Item | None:
            return await find_device(ctx, mac, fresh=True)

        remote, how = await create_reconciled(ctx, create, lookup, f"device {mac}", unique_key=True)
        for key in device_keys(remote):
            # An owner's devices are filed only where they are known whole (listed or looked
            # up): a key holding just this one would hide the owner's other devices.
            if key == mac or ctx.devices.get(key) is not None:
                ctx.devices.add(key, remote)
        return await self.converge(ctx, row, str(remote.get("id", "")), how)
