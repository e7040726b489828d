"""Number actions: add numbers to a location in batches (one POST per location, batch and wanted
state), activate or deactivate numbers already there; one outcome per row.

Steps and request budget: ``docs/actions_registry.md``.
"""

from __future__ import annotations

from collections.abc import Sequence

from webex_bulk.actions import bodies, compare, lookups
from webex_bulk.actions.base import (
    CREATE,
    ROW_ERRORS,
    Decision,
    EntityActions,
    change_for,
    error_outcome,
    held_by_plan,
    row_location,
    unchanged,
    updated,
)
from webex_bulk.actions.compared import Compared
from webex_bulk.actions.context import NUMBERS_PATH, ActionContext
from webex_bulk.actions.failure import RowFailure, one
from webex_bulk.actions.inventory import Item
from webex_bulk.error_handling import (
    Action,
    ApiError,
    ForbiddenError,
    Reason,
    RetriesExhausted,
    UnknownOutcome,
)
from webex_bulk.models import EntityType, Outcome, Row

#: PSTN connection types whose numbers the provider manages (WEBEX_API G12).
PROVIDER_MANAGED_PSTN = frozenset(
    {"CISCO_CALLING_PLAN", "INTEGRATED_CCP", "CISCO_PSTN", "PROVIDER_MANAGED"}
)
#: Error code and wording of a numbers add refused because the PSTN provider owns the numbers.
PSTN_REFUSED_CODES = frozenset({25228})
PSTN_REFUSED_TEXT = "managed by its pstn provider"


def _number(row: Row) -> str:
    return row.get("phone_number")


def _state(row: Row) -> str:
    return row.get("state", "active")


def _location_of(item: Item) -> str:
    location = item.get("location")
    return str(location.get("id", "")) if isinstance(location, dict) else ""


async def fetch_number(ctx: ActionContext, number: str) -> list[Item]:
    """``GET /telephony/config/numbers?phoneNumber=``, exact-matched on E.164."""
    items = await ctx.list_every(NUMBERS_PATH, {"phoneNumber": number}, "phoneNumbers")
    region = ctx.settings.default_region
    return [
        item for item in items if compare.canonical_e164(item.get("phoneNumber"), region) == number
    ]


async def find_number(ctx: ActionContext, number: str, *, fresh: bool = False) -> Item | None:
    """The tenant's record of a number, in whichever location it is."""
    found = await ctx.numbers.lookup(number, lambda: fetch_number(ctx, number), fresh=fresh)
    return one(found, f"number {number}")


async def location_numbers(ctx: ActionContext, location_id: str) -> dict[str, Item]:
    """Every number of one location, fresh (one listing): used to settle a batch."""
    params = {"locationId": location_id, "numberType": "NUMBER"}
    items = await ctx.list_every(NUMBERS_PATH, params, "phoneNumbers")
    region = ctx.settings.default_region
    found: dict[str, Item] = {}
    for item in items:
        if item.get("phoneNumber"):
            number = compare.canonical_e164(item["phoneNumber"], region)
            found[number] = item
            ctx.numbers.add(number, item)
    return found


class NumberActions(EntityActions):
    """Numbers: batched per location; present → unchanged or (de)activated; absent → added."""

    entity_type = EntityType.NUMBER

    async def prepare(self, ctx: ActionContext, row_count: int) -> None:
        """List the org's numbers (2000 a page) and the locations when cheaper than a lookup
        per row."""
        await ctx.locations.list_all(row_count)
        await ctx.numbers.list_all(row_count)

    def group_key(self, row: Row) -> str | None:
        """Numbers of one location are batched together."""
        return f"number:{compare.fold(row.get('location'))}"

    async def decide(self, ctx: ActionContext, row: Row, *, planning: bool = False) -> Decision:
        """In this location with the wanted state? elsewhere? absent?"""
        location = await row_location(ctx, row, planning=planning)
        # None: a location this file creates (plan); a number held elsewhere is still refused.
        location_id = str(location["id"]) if location is not None else ""
        remote = await find_number(ctx, _number(row))
        if remote is None:
            if location_id:
                await _check_pstn(ctx, location_id)
            return Decision(CREATE, refs={"location_id": location_id})
        if _location_of(remote) != location_id:
            where = (remote.get("location") or {}).get("name") or _location_of(remote)
            raise RowFailure(
                Reason.OUT_OF_SCOPE,
                f"number {_number(row)} is in location {where!r}: move it with the "
                "manage-numbers job (Control Hub › Calling › Numbers › Move) and run again",
            )
        compared = Compared().mark(
            "state", _state(row), compare.number_state(remote), differs=False
        )
        if compare.number_state(remote) == _state(row):
            return Decision(change_for(compared, _number(row)), remote)
        await _check_pstn(ctx, location_id)
        refs = {"location_id": location_id}
        compared.fields.append("state")
        return Decision(change_for(compared, _number(row)), remote, refs)

    async def run(self, ctx: ActionContext, rows: Sequence[Row]) -> list[Outcome]:
        """One batch of one location: at most one POST per wanted state, one PUT per action."""
        outcomes: dict[int, Outcome] = {}
        to_add: list[Row] = []
        to_change: list[Row] = []
        location_id = ""
        for row in rows:
            try:
                decision = await self.decide(ctx, row)
            except ROW_ERRORS as exc:
                outcomes[row.line] = error_outcome(row, exc)
                continue
            held = held_by_plan(ctx, row, decision)
            if held is not None:
                outcomes[row.line] = held
                continue
            location_id = str(decision.refs.get("location_id", location_id))
            if decision.change.kind == "unchanged":
                outcomes[row.line] = unchanged(row, decision)
            elif decision.change.kind == "update":
                to_change.append(row)
            else:
                to_add.append(row)
        if to_add or to_change:
            for outcome in await self._write(ctx, location_id, to_add, to_change):
                outcomes[outcome.line] = outcome
        return [outcomes[row.line] for row in rows]

    async def _write(
        self, ctx: ActionContext, location_id: str, to_add: list[Row], to_change: list[Row]
    ) -> list[Outcome]:
        outcomes = []
        for state in ("active", "inactive"):
            batch = [row for row in to_change if _state(row) == state]
            if batch:
                outcomes += await _set_state(ctx, location_id, batch, state)
            batch = [row for row in to_add if _state(row) == state]
            if batch:
                outcomes += await _add(ctx, location_id, batch, state)
        return outcomes


async def _check_pstn(ctx: ActionContext, location_id: str) -> None:
    pstn = await lookups.pstn_type(ctx, location_id)
    if pstn in PROVIDER_MANAGED_PSTN:
        raise _pstn_failure(pstn)


def _pstn_failure(why: str) -> RowFailure:
    return RowFailure(
        Reason.OUT_OF_SCOPE,
        f"the location's numbers are managed by its PSTN provider ({why}): order the number "
        "from the provider in Control Hub (Calling › Numbers); it then appears in the location",
    )


async def _set_state(
    ctx: ActionContext, location_id: str, rows: list[Row], state: str
) -> list[Outcome]:
    """One PUT activating or deactivating the numbers already in the location."""
    body = bodies.numbers_state_body([_number(row) for row in rows], state)
    try:
        await ctx.client.request(
            "PUT",
            f"/telephony/config/locations/{location_id}/numbers",
            params=ctx.query(),
            json=body,
        )
    except ROW_ERRORS as exc:
        return [error_outcome(row, exc) for row in rows]
    for row in rows:
        ctx.numbers.add(
            _number(row),
            {"phoneNumber": _number(row), "state": state.upper(), "location": {"id": location_id}},
        )
    return [updated(row, _number(row), ("state",)) for row in rows]


async def _add(ctx: ActionContext, location_id: str, rows: list[Row], state: str) -> list[Outcome]:
    """POST the absent numbers; after an unknown outcome, a 409 or per-number errors, the
    location's numbers are listed again and only numbers certainly absent are sent once more."""
    outcomes: dict[int, Outcome] = {}
    pending = list(rows)
    cause: Exception | None = None
    for _ in range(2):
        if not pending:
            break
        try:
            await _post(ctx, location_id, pending, state)
            outcomes.update({row.line: _created(ctx, row, location_id) for row in pending})
            return [outcomes[row.line] for row in rows]
        except ForbiddenError as exc:
            outcomes.update({row.line: error_outcome(row, exc) for row in pending})
            return [outcomes[row.line] for row in rows]
        except (UnknownOutcome, ApiError) as exc:
            cause = exc
            if isinstance(exc, ApiError) and not _settleable(exc):
                failure: Exception = exc
                if _pstn_refused(exc):
                    ctx.pstn[location_id] = "PROVIDER_MANAGED"  # later batches skip the POST
                    failure = _pstn_failure(f"Webex said: {exc.message}")
                outcomes.update({row.line: error_outcome(row, failure) for row in pending})
                return [outcomes[row.line] for row in rows]
        except RetriesExhausted as exc:
            outcomes.update({row.line: error_outcome(row, exc) for row in pending})
            return [outcomes[row.line] for row in rows]
        pending = await _settle_batch(ctx, location_id, pending, cause, outcomes)
    for row in pending:
        outcomes[row.line] = Outcome.failed(
            row,
            Reason.RETRIES_EXHAUSTED,
            f"adding number {_number(row)} had an unknown outcome twice and it is still "
            f"not in the location: {cause}",
        )
    return [outcomes[row.line] for row in rows]


async def _post(ctx: ActionContext, location_id: str, rows: list[Row], state: str) -> None:
    body = bodies.numbers_add_body([_number(row) for row in rows], state)
    await ctx.client.request(
        "POST", f"/telephony/config/locations/{location_id}/numbers", params=ctx.query(), json=body
    )


def _settleable(exc: ApiError) -> bool:
    """400 with per-number errors, or 409 (some number exists): look again and converge."""
    return exc.status == 409 or (exc.status == 400 and bool(compare.per_number_errors(exc.body)))


def _pstn_refused(exc: ApiError) -> bool:
    """A numbers add refused because the location's PSTN provider manages its numbers."""
    return exc.error_code in PSTN_REFUSED_CODES or PSTN_REFUSED_TEXT in exc.message.casefold()


async def _settle_batch(
    ctx: ActionContext,
    location_id: str,
    rows: list[Row],
    cause: Exception | None,
    outcomes: dict[int, Outcome],
) -> list[Row]:
    """Decide each row from a fresh listing (with consistency waits while some are missing);
    return the rows whose numbers are certainly absent and may be sent again."""
    errors = compare.per_number_errors(getattr(cause, "body", None), ctx.settings.default_region)
    present = await location_numbers(ctx, location_id)
    for _ in range(ctx.settings.consistency_attempts):
        missing = [
            row for row in rows if _number(row) not in present and _number(row) not in errors
        ]
        if not missing or not isinstance(cause, UnknownOutcome):
            break
        await ctx.sleep(ctx.settings.consistency_wait)
        present = await location_numbers(ctx, location_id)
    existed = isinstance(cause, ApiError) and cause.status == 409
    again = []
    for row in rows:
        number = _number(row)
        if number in present:
            outcomes[row.line] = _created(ctx, row, location_id, existed=existed)
        elif number in errors:
            detail = f"number {number}: {errors[number]} [{getattr(cause, 'tracking_id', '')}]"
            outcomes[row.line] = Outcome.failed(row, Reason.API_REJECTED, detail)
        else:
            elsewhere = await find_number(ctx, number, fresh=True)
            if elsewhere is not None:
                outcomes[row.line] = error_outcome(
                    row,
                    RowFailure(Reason.OUT_OF_SCOPE, f"number {number} is in another location"),
                )
            else:
                again.append(row)
    return again


def _created(ctx: ActionContext, row: Row, location_id: str, *, existed: bool = False) -> Outcome:
    """Success of a number now in the location (``unchanged`` when a 409 said it was there)."""
    ctx.numbers.add(
        _number(row),
        {
            "phoneNumber": _number(row),
            "state": _state(row).upper(),
            "location": {"id": location_id},
        },
    )
    return Outcome.success(row, Action.UNCHANGED if existed else Action.CREATED, _number(row))
