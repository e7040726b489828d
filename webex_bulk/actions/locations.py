"""Location and schedule actions: create or update a location and enable it for Webex Calling;
create or update a location's business-hours schedule.

Steps and request budget: ``docs/actions_registry.md``.
"""

from __future__ import annotations

from collections.abc import Mapping

from webex_bulk.actions import bodies, compare, lookups
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
from webex_bulk.actions.compared import Compared
from webex_bulk.actions.context import ActionContext
from webex_bulk.actions.failure import RowFailure
from webex_bulk.actions.inventory import Item
from webex_bulk.error_handling import (
    Action,
    Reason,
    RetriesExhausted,
    UnknownOutcome,
)
from webex_bulk.input import DayHours, parse_hours, render_hours
from webex_bulk.models import EntityType, Outcome, Row

#: Not a CSV column: shown in ``plan`` when a location exists without Webex Calling.
CALLING_FIELD = "calling"


class LocationActions(EntityActions):
    """Location: lookup by exact name → create, or PUT the differing fields → enable calling."""

    entity_type = EntityType.LOCATION

    async def prepare(self, ctx: ActionContext, row_count: int) -> None:
        """List ``/locations`` and the calling-enabled locations when cheaper than lookups."""
        await ctx.locations.list_all(row_count)
        await ctx.calling_locations.list_all(row_count)

    async def decide(self, ctx: ActionContext, row: Row, *, planning: bool = False) -> Decision:
        """Exists? which fields differ? calling enabled?"""
        remote = await lookups.find_location(ctx, row.get("name"))
        if remote is None:
            return Decision(CREATE)
        compared = compare.location_diff(row, remote)
        enabled = await lookups.calling_enabled(ctx, str(remote["id"]))
        held = "enabled" if enabled else "disabled"
        compared.mark(CALLING_FIELD, "enabled", held, differs=not enabled)
        return Decision(change_for(compared, str(remote["id"])), remote)

    async def execute(self, ctx: ActionContext, row: Row, decision: Decision) -> Outcome:
        """Create, or update and enable calling; success when all three hold."""
        if decision.change.kind == "unchanged":
            return unchanged(row, decision)
        if decision.change.kind == "create":
            return await self._create(ctx, row)
        return await self._update(ctx, row, decision.remote, decision.change.fields)

    async def _create(self, ctx: ActionContext, row: Row) -> Outcome:
        name = row.get("name")

        async def create() -> Item:
            body = bodies.location_create_body(row)
            response = await ctx.client.request("POST", "/locations", params=ctx.query(), json=body)
            return answer_item(response, "/locations", body)

        async def lookup() -> Item | None:
            return await lookups.find_location(ctx, name, fresh=True)

        remote, how = await create_reconciled(
            ctx, create, lookup, f"location {name!r}", unique_key=True
        )
        ctx.locations.add(compare.fold(name), remote)
        if how is Reconciled.EXISTED:
            # Created by someone else meanwhile: converge like an update (held by run --plan).
            return await self.run_one(ctx, row)
        found = how is Reconciled.FOUND_AFTER_UNKNOWN
        fields = compare.location_diff(row, remote).differing if found else ()
        if fields:
            await self._put(ctx, row, remote, fields, calling=False)
        await _enable_calling(ctx, row, remote)
        return Outcome.success(row, Action.CREATED, str(remote["id"]))

    async def _update(
        self, ctx: ActionContext, row: Row, remote: Item, fields: tuple[str, ...]
    ) -> Outcome:
        location_fields = tuple(f for f in fields if f != CALLING_FIELD)
        calling = CALLING_FIELD not in fields
        if location_fields:
            await self._put(ctx, row, remote, location_fields, calling=calling)
        if not calling:
            await _enable_calling(ctx, row, remote)
        return updated(row, str(remote["id"]), fields)

    async def _put(
        self, ctx: ActionContext, row: Row, remote: Item, fields: tuple[str, ...], *, calling: bool
    ) -> None:
        """PUT the location's differing fields; the announcement language goes to the calling
        settings (when calling is not enabled yet, the enable body carries it)."""
        location_id = str(remote["id"])
        body = bodies.location_update_body(row, fields, remote)
        if body:
            await ctx.client.request(
                "PUT", f"/locations/{location_id}", params=ctx.query(), json=body
            )
        if "announcement_language" in fields and calling:
            await ctx.client.request(
                "PUT",
                f"/telephony/config/locations/{location_id}",
                params=ctx.query(),
                json=bodies.location_calling_update_body(row),
            )
        fresh = {**remote, **body}
        if "announcement_language" in fields:
            fresh["announcementLanguage"] = row.get("announcement_language")
        ctx.locations.add(compare.fold(row.get("name")), fresh)


async def _enable_calling(ctx: ActionContext, row: Row, remote: Item) -> None:
    """``POST /telephony/config/locations`` as a reconciled create: an unknown outcome is settled
    by lookups and sent once more only when calling is certainly still off; a 409 means it is
    already enabled. A row that still cannot tell keeps the location's id (it exists)."""
    location_id = str(remote["id"])
    body = bodies.location_calling_body(row, location_id, str(remote.get("name") or ""))

    async def lookup() -> Item | None:
        enabled = await lookups.calling_enabled(ctx, location_id, fresh=True)
        return {"id": location_id} if enabled else None

    async def enable() -> Item:
        await ctx.client.request(
            "POST", "/telephony/config/locations", params=ctx.query(), json=body
        )
        return {"id": location_id}

    try:
        await create_reconciled(
            ctx, enable, lookup, f"calling on location {location_id}", unique_key=True
        )
    except RowFailure as failure:
        raise RowFailure(failure.reason, failure.detail, remote_id=location_id) from None
    except (RetriesExhausted, UnknownOutcome) as exc:
        raise RowFailure(Reason.RETRIES_EXHAUSTED, str(exc), remote_id=location_id) from None
    ctx.calling_locations.add(location_id, {"id": location_id})


class ScheduleActions(EntityActions):
    """Business-hours schedule: lookup in the location's schedules → create, or PUT the events."""

    entity_type = EntityType.SCHEDULE

    async def prepare(self, ctx: ActionContext, row_count: int) -> None:
        """List the locations when cheaper than a lookup per row (schedules are listed per
        location, on first use)."""
        await ctx.locations.list_all(row_count)

    async def decide(self, ctx: ActionContext, row: Row, *, planning: bool = False) -> Decision:
        """Exists in the location? same weekly hours?"""
        location = await row_location(ctx, row, planning=planning)
        if location is None:
            return Decision(CREATE)
        location_id = str(location["id"])
        if planning and not await lookups.calling_enabled(ctx, location_id):
            return Decision(CREATE, refs={"location_id": location_id})
        remote = await lookups.find_schedule(ctx, location_id, row.get("name"))
        refs = {"location_id": location_id}
        if remote is None:
            return Decision(CREATE, refs=refs)
        response = await ctx.client.request(
            "GET", _schedule_path(location_id, str(remote["id"])), params=ctx.query()
        )
        details = response.body if isinstance(response.body, Mapping) else {}
        wanted = compare.weekly_hours(parse_hours(row.get("hours")))
        held = compare.remote_weekly_hours(details.get("events"))
        compared = Compared().mark(
            "hours", row.get("hours"), hours_text(held), differs=held != wanted
        )
        return Decision(change_for(compared, str(remote["id"])), details, refs)

    async def execute(self, ctx: ActionContext, row: Row, decision: Decision) -> Outcome:
        """Create with the weekly events, or replace the events."""
        if decision.change.kind == "unchanged":
            return unchanged(row, decision)
        location_id = str(decision.refs["location_id"])
        hours = compare.weekly_hours(parse_hours(row.get("hours")))
        if decision.change.kind == "update":
            name = str(decision.remote.get("name") or row.get("name"))
            await ctx.client.request(
                "PUT",
                _schedule_path(location_id, decision.change.remote_id),
                params=ctx.query(),
                json=bodies.schedule_update_body(name, hours),
            )
            return updated(row, decision.change.remote_id, decision.change.fields)
        return await self._create(ctx, row, location_id, hours)

    async def _create(
        self, ctx: ActionContext, row: Row, location_id: str, hours: compare.WeeklyHours
    ) -> Outcome:
        name = row.get("name")

        async def create() -> Item:
            response = await ctx.client.request(
                "POST",
                lookups.schedules_path(location_id),
                params=ctx.query(),
                json=bodies.schedule_create_body(name, hours),
            )
            sent = {"name": name, "type": "businessHours"}
            return answer_item(response, lookups.schedules_path(location_id), sent)

        async def lookup() -> Item | None:
            return await lookups.find_schedule(ctx, location_id, name, fresh=True)

        remote, how = await create_reconciled(ctx, create, lookup, f"schedule {name!r}")
        if ctx.schedules.get(location_id) is not None:  # never claim a list it has not read
            ctx.schedules.add(location_id, remote)
        return await self.converge(ctx, row, str(remote["id"]), how)


def _schedule_path(location_id: str, schedule_id: str) -> str:
    return f"{lookups.schedules_path(location_id)}/businessHours/{schedule_id}"


def hours_text(hours: compare.WeeklyHours) -> str:
    """Weekly hours as the ``hours`` column writes them (days in week order)."""
    ordered = sorted(hours, key=lambda span: (compare.WEEKDAYS.index(span[0]), span[1]))
    return render_hours([DayHours(day, start, end) for day, start, end in ordered])
