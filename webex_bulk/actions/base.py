"""The frame every entity action shares: ``Change``/``PlanItem``, ``EntityActions``, the mapping
of request errors to row outcomes, and the reconciliation of creates with an unknown outcome.

A row's fate is always an ``Outcome``; only run-stopping errors (auth, abort, storage,
cancellation) leave ``run``.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, ClassVar, Literal

import attrs

from webex_bulk.actions.compare import fold
from webex_bulk.actions.compared import Compared
from webex_bulk.actions.context import ActionContext
from webex_bulk.actions.failure import RowFailure
from webex_bulk.actions.inventory import Item
from webex_bulk.actions.lookups import find_location, location_hint
from webex_bulk.actions.ports import ResponseLike
from webex_bulk.error_handling import (
    Action,
    ApiError,
    ForbiddenError,
    Reason,
    RetriesExhausted,
    UnknownOutcome,
)
from webex_bulk.models import EntityType, Outcome, Row


@attrs.frozen
class Change:
    """What a row needs, decided before any write."""

    kind: Literal["create", "update", "move", "unchanged"]
    fields: tuple[str, ...] = ()  # CSV column names that differ (for update and move)
    remote_id: str = ""
    #: every compared column: the remote value read (``old``) and the row's (``new``)
    old: Mapping[str, str] = attrs.field(factory=dict, eq=False)
    new: Mapping[str, str] = attrs.field(factory=dict, eq=False)
    detail: str = ""  # what ``plan`` says besides the fields (a move: from where to where)


@attrs.frozen
class PlanItem:
    """One row of ``plan``: the change, or the rejected/pending outcome (no write was sent)."""

    row: Row
    change: Change | None
    outcome: Outcome | None = None


@attrs.frozen
class Decision:
    """A ``Change`` plus what the steps found on the way (remote object, resolved references)."""

    change: Change
    remote: Item = attrs.field(factory=dict)
    refs: dict[str, Any] = attrs.field(factory=dict)


CREATE = Change("create")


def change_for(compared: Compared, remote_id: str) -> Change:
    """``update`` of the differing fields, or ``unchanged`` when none differ; either way with
    the values compared (what ``plan`` shows and ``run --plan`` checks)."""
    fields = compared.differing
    kind: Literal["update", "unchanged"] = "update" if fields else "unchanged"
    return Change(kind, fields, remote_id, dict(compared.old), dict(compared.new))


_LICENSE_WORDS = re.compile(r"licen[sc]e", re.IGNORECASE)
_EXHAUSTED_WORDS = re.compile(r"no more|available|exhaust|insufficient", re.IGNORECASE)


def error_outcome(row: Row, exc: Exception) -> Outcome:
    """The row outcome of a request error or a step failure."""
    if isinstance(exc, RowFailure):
        return Outcome.failed(row, exc.reason, exc.detail, remote_id=exc.remote_id)
    if isinstance(exc, ForbiddenError):
        return Outcome.failed(row, Reason.FORBIDDEN, str(exc), tracking_id=exc.tracking_id)
    if isinstance(exc, ApiError):
        reason = Reason.LICENSE_UNAVAILABLE if license_exhausted(exc) else Reason.API_REJECTED
        return Outcome.failed(row, reason, str(exc), tracking_id=exc.tracking_id)
    if isinstance(exc, RetriesExhausted | UnknownOutcome):
        return Outcome.failed(row, Reason.RETRIES_EXHAUSTED, str(exc), tracking_id=exc.tracking_id)
    raise exc


def license_exhausted(exc: ApiError) -> bool:
    """Whether a 4xx says a license has no free unit left."""
    text = exc.message or ""
    return (
        exc.status == 400
        and bool(_LICENSE_WORDS.search(text))
        and bool(_EXHAUSTED_WORDS.search(text))
    )


#: The errors that end one row (as its outcome) rather than the run.
ROW_ERRORS = (RowFailure, ApiError, RetriesExhausted, UnknownOutcome)


class EntityActions:
    """One entity type's steps: lookup → create or update only what differs → post-steps.

    Subclasses implement ``decide`` (reads only) and ``execute`` (the writes of a decision).
    """

    entity_type: ClassVar[EntityType]

    async def prepare(self, ctx: ActionContext, row_count: int) -> None:
        """Once per phase before its rows: list the remote inventory when that is cheaper."""

    def group_key(self, row: Row) -> str | None:
        """Rows with the same key go to one worker in file order; None = independent."""
        return None

    async def run(self, ctx: ActionContext, rows: Sequence[Row]) -> list[Outcome]:
        """One outcome per row, same order."""
        return [await self.run_one(ctx, row) for row in rows]

    async def run_one(self, ctx: ActionContext, row: Row, *, gated: bool = True) -> Outcome:
        """Decide and execute one row; request errors become the row's outcome. With an
        approved plan (``run --plan``) a decision the plan did not make is not executed."""
        try:
            decision = await self.decide(ctx, row)
            held = held_by_plan(ctx, row, decision) if gated else None
            return held or await self.execute(ctx, row, decision)
        except ROW_ERRORS as exc:
            return error_outcome(row, exc)

    async def converge(
        self, ctx: ActionContext, row: Row, remote_id: str, how: Reconciled
    ) -> Outcome:
        """The outcome of a reconciled create: ``created``; or, when the object was found after
        an unknown outcome or already existed (409), the row run again against it (still
        ``created`` when only the lookups found what our POST made)."""
        if how is Reconciled.CREATED:
            return Outcome.success(row, Action.CREATED, remote_id)
        # Our own create found again is no change since the plan: not held by it.
        outcome = await self.run_one(ctx, row, gated=how is Reconciled.EXISTED)
        if how is Reconciled.FOUND_AFTER_UNKNOWN and outcome.action is not None:
            return Outcome.success(row, Action.CREATED, outcome.remote_id, detail=outcome.detail)
        return outcome

    async def plan(self, ctx: ActionContext, row: Row) -> PlanItem:
        """What ``run`` would do with the row; reads only, never writes."""
        try:
            decision = await self.decide(ctx, row, planning=True)
        except ROW_ERRORS as exc:
            return PlanItem(row, None, error_outcome(row, exc))
        return PlanItem(row, decision.change)

    async def decide(self, ctx: ActionContext, row: Row, *, planning: bool = False) -> Decision:
        """Look the row up and compare; raise ``RowFailure`` for a rejected/pending row."""
        raise NotImplementedError

    async def execute(self, ctx: ActionContext, row: Row, decision: Decision) -> Outcome:
        """Send the writes of a decision and return the row's outcome."""
        raise NotImplementedError


def held_by_plan(ctx: ActionContext, row: Row, decision: Decision) -> Outcome | None:
    """The row's outcome when the approved plan holds it back (``plan_stale``), else None."""
    return ctx.approve(row, decision.change) if ctx.approve is not None else None


def answer_item(response: ResponseLike, path: str, sent: Mapping[str, Any]) -> Item:
    """A create's answer as the remote object (what was sent, overlaid by the answer).

    An answer without an id cannot say what was created: it counts as an unknown outcome, so
    the object is looked up instead of being created again.
    """
    body = response.body if isinstance(response.body, Mapping) else {}
    if not body.get("id"):
        raise UnknownOutcome("POST", path, response.tracking_id, "the create answer has no id")
    return {**sent, **body}


def unchanged(row: Row, decision: Decision) -> Outcome:
    """The success outcome of a row that already matches the tenant."""
    return Outcome.success(row, Action.UNCHANGED, decision.change.remote_id)


def updated(row: Row, remote_id: str, fields: Sequence[str], tracking_id: str = "") -> Outcome:
    """The success outcome of a row whose differing fields were written."""
    return Outcome.success(
        row, Action.UPDATED, remote_id, tracking_id, detail="updated: " + ", ".join(fields)
    )


class Reconciled(enum.Enum):
    """How a create ended."""

    CREATED = "created"  # our POST answered 2xx
    FOUND_AFTER_UNKNOWN = "found"  # the outcome was unknown; a lookup found the object
    EXISTED = "existed"  # 409: the object was already there; converge like an update


Lookup = Callable[[], Awaitable[Item | None]]


async def settle(ctx: ActionContext, lookup: Lookup) -> Item | None:
    """Look an object up now and then ``consistency_attempts`` times ``consistency_wait`` apart,
    to ride out eventual consistency. Lookups bypass the caches."""
    found = await lookup()
    for _ in range(ctx.settings.consistency_attempts):
        if found is not None:
            break
        await ctx.sleep(ctx.settings.consistency_wait)
        found = await lookup()
    return found


async def create_reconciled(
    ctx: ActionContext,
    create: Callable[[], Awaitable[Item]],
    lookup: Lookup,
    what: str,
    *,
    created_despite_400: bool = False,
    unique_key: bool = False,
) -> tuple[Item, Reconciled]:
    """Create an object without ever re-sending the POST blindly.

    An unknown outcome (timeout, reset, 5xx) is followed by lookups, and the POST is sent once
    more only when they do not find the object. Where the API refuses a second object with the
    same key (``unique_key``: people by e-mail, locations by name, devices by MAC, calling on a
    location) one lookup is enough: should the first POST have created the object behind a
    lagging listing, the re-send answers 409. Otherwise ``settle`` rides out eventual
    consistency first. A 409 means the object exists: look it up and converge. With
    ``created_despite_400`` a 400 (POST /people may fail yet create the user) is settled by
    lookups and never re-sent. Still unknown after the second try → ``retries_exhausted``.
    """
    last: UnknownOutcome | None = None
    for attempt in range(2):
        try:
            return await create(), Reconciled.CREATED
        except UnknownOutcome as exc:
            last = exc
        except ApiError as exc:
            if isinstance(exc, ForbiddenError):
                raise
            if exc.status == 409:
                found = await settle(ctx, lookup)
                if found is None:
                    raise
                # After an unknown outcome of our own POST, the 409 is most likely that POST.
                how = Reconciled.FOUND_AFTER_UNKNOWN if attempt else Reconciled.EXISTED
                return found, how
            if not (created_despite_400 and exc.status == 400):
                raise
            # A 400 is no reason to send the same body again: only lookups settle it.
            found = await settle(ctx, lookup)
            if found is None:
                raise
            return found, Reconciled.FOUND_AFTER_UNKNOWN
        # The last chance before ``retries_exhausted`` always rides out the lag.
        found = await (lookup() if unique_key and not attempt else settle(ctx, lookup))
        if found is not None:
            return found, Reconciled.FOUND_AFTER_UNKNOWN
    raise RowFailure(
        Reason.RETRIES_EXHAUSTED,
        f"creating {what} twice had an unknown outcome and lookups still do not find it: {last}",
    )


async def row_location(ctx: ActionContext, row: Row, *, planning: bool) -> Item | None:
    """The location a row names; missing → ``unknown_reference`` (None in ``plan`` when a row
    of the file creates it)."""
    name = row.get("location")
    location = await find_location(ctx, name)
    if location is None:
        key, what = f"location:{fold(name)}", f"location {name!r}"
        reference_missing(ctx, key, what, planning=planning, hint=location_hint(ctx, name))
    return location


def reference_missing(
    ctx: ActionContext, key: str, what: str, *, planning: bool, hint: str = ""
) -> Decision:
    """A reference found neither in the caches nor remotely.

    In ``plan`` a reference to a row of the same file will exist by then: the row is a create.
    In ``run`` the row is ``rejected`` ``unknown_reference``; ``hint`` ("did you mean…") ends
    the detail.
    """
    if planning and key in ctx.file_keys:
        return Decision(CREATE)
    raise RowFailure(
        Reason.UNKNOWN_REFERENCE,
        f"{what} is neither in the tenant nor created by this run{hint}",
    )
