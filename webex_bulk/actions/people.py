"""User actions: a calling user with a license, a location and an extension/number.

Lookup by e-mail → create in one ``POST /people?callingData=true`` (absent and nameless, or
``create_people`` off: pending ``not_in_directory``), or add the missing calling license
(``PATCH /licenses/users``, which also gives a person without a line its location and line) and
GET-modify-PUT the fields still differing; a calling user of another location is moved
(``moves``). Steps and budget: ``docs/actions_registry.md``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from webex_bulk.actions import bodies, call_settings, compare, lookups, moves
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
from webex_bulk.error_handling import ApiError, Reason
from webex_bulk.models import EntityType, Outcome, Row

CALLING_KINDS = ("professional", "basic")
#: Not a CSV column value: ``plan`` shows it when the wanted calling license is missing.
LICENSE_FIELD = "license"
#: The columns the ``properties`` of a calling-license PATCH set, on a person who had no line.
LINE_FIELDS = ("extension", "phone_number")


def _kind(row: Row) -> str:
    return row.get("license", "professional")


#: Why a row waits for a person the directory has not brought into the tenant yet.
NOT_SYNCED = "not synced from the directory yet; run again after the next sync"


def _check_creatable(ctx: ActionContext, row: Row) -> None:
    """A person absent from the tenant is created only from a row with first and last name, and
    only where people may be created (``create_people``); else the row waits for the directory
    sync (``not_in_directory``). One name without the other is a row to fix."""
    if not ctx.settings.create_people:
        raise RowFailure(
            Reason.NOT_IN_DIRECTORY,
            f"{NOT_SYNCED} (create_people is off: only the directory creates people here)",
        )
    first, last = row.get("first_name"), row.get("last_name")
    if not (first or last):
        raise RowFailure(Reason.NOT_IN_DIRECTORY, NOT_SYNCED)
    if not (first and last):
        missing = "last_name" if first else "first_name"
        raise RowFailure(
            Reason.MISSING_FIELD,
            f"column {missing}: required to create {row.get('email')}, who is not in the tenant; "
            "fill it, or leave both names empty to wait for the directory sync",
        )


class UserActions(EntityActions):
    """Calling users: create with license, location and line; or license + full-replace PUT."""

    entity_type = EntityType.USER

    async def prepare(self, ctx: ActionContext, row_count: int) -> None:
        """List ``/people?callingData=true`` (100 a page) and the locations when cheaper than a
        lookup per row."""
        await ctx.locations.list_all(row_count)
        await ctx.people.list_all(row_count)

    async def decide(self, ctx: ActionContext, row: Row, *, planning: bool = False) -> Decision:
        """Exists? in another location (a move)? license? which fields differ?

        ``plan`` counts the license units its creates would take, so it predicts exhaustion;
        ``run`` takes the unit when it writes.
        """
        location = await row_location(ctx, row, planning=planning)
        # None: a location this file creates (plan); the user is still checked as run will.
        location_id = str(location["id"]) if location is not None else ""
        refs: dict[str, Any] = {"location_id": location_id}
        person = await lookups.find_person(ctx, row.get("email"))
        if person is None:
            _check_creatable(ctx, row)
        pool = await ctx.licenses()
        if person is None:
            pool.pick(_kind(row), reserve=planning)
            return Decision(CREATE, refs=refs)
        calling = pool.ids_of_kind(*CALLING_KINDS)
        held = [lic for lic in person.get("licenses") or () if lic in calling]
        remote_location = str(person.get("locationId") or "")
        compared = compare.person_diff(row, person, ctx.settings.default_region)
        if held and remote_location and remote_location != location_id:
            return await moves.move_decision(ctx, row, person, location_id, compared)
        refs["had_line"] = bool(held or remote_location or person.get("extension"))
        wanted = pool.ids_of_kind(_kind(row))
        licensed = any(lic in wanted for lic in held)
        if not licensed:
            pool.pick(_kind(row), reserve=planning)
        kinds = [kind for kind in CALLING_KINDS if set(held) & pool.ids_of_kind(kind)]
        decided = Compared().mark(LICENSE_FIELD, _kind(row), ";".join(kinds), differs=not licensed)
        decided.extend(compared)
        if held:  # a calling user has settings to read; one who gets calling now, after
            owner = call_settings.Owner("people", str(person["id"]))
            decided.extend(await call_settings.compare(ctx, row, owner, refs))
        return Decision(change_for(decided, str(person["id"])), person, refs)

    async def execute(self, ctx: ActionContext, row: Row, decision: Decision) -> Outcome:
        """Create, move, or license and update; success when the person matches the row."""
        if decision.change.kind == "unchanged":
            return unchanged(row, decision)
        if decision.change.kind == "move":
            return await moves.move(ctx, row, decision, self.run_one)
        if decision.change.kind == "create":
            return await self._create(ctx, row, str(decision.refs["location_id"]))
        return await self._update(ctx, row, decision)

    async def _create(self, ctx: ActionContext, row: Row, location_id: str) -> Outcome:
        email = row.get("email")
        pool = await ctx.licenses()
        license_id = pool.pick(_kind(row), reserve=True)
        body = ctx.body(
            bodies.person_create_body(row, location_id=location_id, license_id=license_id)
        )

        async def create() -> Item:
            response = await ctx.client.request(
                "POST", "/people", params={"callingData": "true"}, json=body
            )
            return answer_item(response, "/people", {})

        async def lookup() -> Item | None:
            return await lookups.find_person(ctx, email, fresh=True)

        try:
            person, how = await create_reconciled(
                ctx, create, lookup, f"user {email!r}", created_despite_400=True, unique_key=True
            )
        except ApiError:
            pool.release(license_id)
            raise
        lookups.add_person(ctx, person)
        if how is Reconciled.EXISTED:
            pool.release(license_id)
        if how is Reconciled.CREATED:
            await call_settings.apply(ctx, row, call_settings.Owner("people", str(person["id"])))
        return await self.converge(ctx, row, str(person["id"]), how)

    async def _update(self, ctx: ActionContext, row: Row, decision: Decision) -> Outcome:
        person_id = decision.change.remote_id
        fields = decision.change.fields
        rest = [field for field in call_settings.other_fields(fields) if field != LICENSE_FIELD]
        if LICENSE_FIELD in fields:
            licensed = await self._license(ctx, row, decision)
            if licensed is not None:
                # The PATCH set the line: a GET would find nothing left of it to change (the
                # next run's listing still compares every field).
                lookups.add_person(ctx, licensed)
                rest = [field for field in rest if field not in LINE_FIELDS]
        if rest:
            response = await ctx.client.request(
                "GET", f"/people/{person_id}", params=ctx.query({"callingData": "true"})
            )
            fresh = response.body if isinstance(response.body, Mapping) else {}
            differing = compare.person_diff(row, fresh, ctx.settings.default_region).differing
            if differing:
                body = ctx.body(bodies.person_update_body(fresh, row, differing))
                answer = await ctx.client.request(
                    "PUT", f"/people/{person_id}", params={"callingData": "true"}, json=body
                )
                if isinstance(answer.body, Mapping) and answer.body.get("id"):
                    lookups.add_person(ctx, answer.body)
        await call_settings.apply(ctx, row, call_settings.Owner("people", person_id), decision.refs)
        return updated(row, person_id, fields)

    async def _license(self, ctx: ActionContext, row: Row, decision: Decision) -> Item | None:
        """Assign the wanted calling license; a 206 that leaves it unassigned →
        ``license_unavailable``. A user holds one calling license: the add replaces the one held,
        and no separate remove is sent, so a refused add leaves the user as they were.

        Returns the person as the PATCH left them when its answer proves the line was set as
        sent (see ``_line_confirmed``); None when the line must be checked with a GET.
        """
        pool = await ctx.licenses()
        license_id = pool.pick(_kind(row), reserve=True)
        location_id = str(decision.refs["location_id"])
        body = ctx.body(
            bodies.license_patch_body(
                decision.change.remote_id,
                license_id,
                location_id=location_id,
                extension=row.get("extension"),
                phone_number=row.get("phone_number"),
            )
        )
        try:
            response = await ctx.client.request("PATCH", "/licenses/users", json=body)
        except ApiError:
            pool.release(license_id)
            raise
        missing = compare.unassigned_licenses([license_id], response.body)
        if response.status == 206 and missing:
            pool.release(license_id)
            raise RowFailure(
                Reason.LICENSE_UNAVAILABLE,
                f"the calling license was not assigned (206 partial answer) "
                f"[tracking id {response.tracking_id}]",
                remote_id=decision.change.remote_id,
            )
        if missing or decision.refs.get("had_line", True):
            return None
        properties = body["licenses"][0]["properties"]
        if not _line_confirmed(properties, response.body):
            return None
        return _licensed_person(decision.remote, response.body, properties)


def _line_confirmed(properties: Mapping[str, Any], answer: Any) -> bool:
    """Whether a PATCH answer that lists the calling license agrees with the line sent.

    For a person who had no line, Webex makes the license's ``properties`` (location, extension,
    number) the line, or refuses the request: the answer lists the license only when it did.
    Where the answer also carries a line field, it must equal what was sent.
    """
    if not isinstance(answer, Mapping):
        return False
    carried = {"locationId": "locationId", "extension": "extension"}
    for sent_key, answer_key in carried.items():
        if answer_key in answer and str(answer[answer_key] or "") != str(
            properties.get(sent_key) or ""
        ):
            return False
    return True


def _licensed_person(
    remote: Item, answer: Mapping[str, Any], properties: Mapping[str, Any]
) -> dict[str, Any]:
    """The person as a confirmed license PATCH left them, for the run's inventory."""
    person = dict(remote)
    person["licenses"] = [
        item.get("id") if isinstance(item, Mapping) else str(item)
        for item in answer.get("licenses") or ()
    ]
    person["locationId"] = properties["locationId"]
    if properties.get("extension"):
        person["extension"] = properties["extension"]
    if properties.get("phoneNumber"):
        others = [
            entry
            for entry in person.get("phoneNumbers") or ()
            if not (isinstance(entry, Mapping) and entry.get("type") == "work")
        ]
        person["phoneNumbers"] = [*others, {"type": "work", "value": properties["phoneNumber"]}]
    return person
