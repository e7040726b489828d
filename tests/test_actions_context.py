"""The frame of the actions without a server: caches, single-flight lookups, listing budgets,
error → outcome mapping and the reconciliation of creates with an unknown outcome."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from typing import Any

import pytest
from test_actions_support import user_row

from webex_bulk.actions.base import (
    Reconciled,
    create_reconciled,
    error_outcome,
    license_exhausted,
    settle,
)
from webex_bulk.actions.context import ActionContext
from webex_bulk.actions.failure import RowFailure, one
from webex_bulk.actions.inventory import Inventory, Item, Listing, page_budget
from webex_bulk.actions.licenses import LicensePool
from webex_bulk.config import Settings
from webex_bulk.error_handling import (
    ApiError,
    ForbiddenError,
    Reason,
    RetriesExhausted,
    Status,
    UnknownOutcome,
)


class Pages:
    """A client whose listings serve ``pages`` pages of one item each, counting the requests."""

    def __init__(self, pages: int) -> None:
        self.total = pages
        self.served = 0
        self.closed = False

    async def request(self, method: str, path: str, **_: Any) -> Any:
        """Not used by these tests."""
        raise AssertionError(f"unexpected {method} {path}")

    async def pages(
        self, path: str, *, params: Mapping[str, Any] | None = None, items_key: str = "items"
    ) -> AsyncIterator[list[dict[str, Any]]]:
        """One item per page."""
        try:
            for index in range(self.total):
                self.served += 1
                yield [{"id": str(index)}]
        finally:
            self.closed = True


WAITS: dict[int, list[float]] = {}


def context(client: Any = None, **settings: Any) -> ActionContext:
    """A context whose consistency waits are recorded (``waits_of``) instead of slept."""
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    ctx = ActionContext(client or Pages(0), Settings(**settings), sleep=sleep)
    WAITS[id(ctx)] = waits
    return ctx


def waits_of(ctx: ActionContext) -> list[float]:
    """The consistency waits a context asked for."""
    return WAITS[id(ctx)]


# -- caches ---------------------------------------------------------------------------------


def test_inventory_knows_absent_only_when_complete() -> None:
    """A key never looked up is unknown, unless the whole type was listed."""
    inventory = Inventory()
    assert inventory.get("a") is None
    inventory.put("b", [])
    assert inventory.get("b") == []
    inventory.complete = True
    assert inventory.get("a") == []
    inventory.add("a", {"id": "1", "v": 1})
    inventory.add("a", {"id": "1", "v": 2})
    assert inventory.get("a") == [{"id": "1", "v": 2}]


def test_one_says_ambiguous_for_several_matches() -> None:
    """One match is returned, none is None, several are ``ambiguous_match`` naming the ids."""
    assert one([], "x") is None
    assert one([{"id": "1"}], "x") == {"id": "1"}
    with pytest.raises(RowFailure) as caught:
        one([{"id": "1"}, {"id": "2"}], "location 'Paris'")
    assert caught.value.reason is Reason.AMBIGUOUS_MATCH
    assert "2 remote objects match location 'Paris': 1, 2" in caught.value.detail


@pytest.mark.parametrize(("rows", "pages"), [(0, 0), (1, 0), (2, 1), (200, 100)])
def test_page_budget_is_half_the_lookups(rows: int, pages: int) -> None:
    """Listing may cost at most half the per-row lookups it replaces."""
    assert page_budget(rows) == pages


async def test_list_pages_gives_up_past_the_budget() -> None:
    """A listing longer than its budget stops (closing the pager) and says so with None."""
    short = Pages(3)
    items = await context(short).list_pages("/x", {}, "items", 3)
    assert items == [{"id": "0"}, {"id": "1"}, {"id": "2"}]
    long = Pages(10)
    assert await context(long).list_pages("/x", {}, "items", 3) is None
    assert long.served == 4
    assert long.closed


def listed(client: Pages) -> Inventory:
    """An inventory of ``client``'s listing, items filed under their id."""
    listing = Listing("/x", "items", {}, lambda item: [str(item["id"])])
    return Inventory(listing, context(client).list_pages)


async def test_inventory_lists_once_and_then_knows_absence() -> None:
    """A listing within budget files every item and completes the inventory; asking again
    lists nothing more, and a key missing from it is certainly absent."""
    client = Pages(3)
    inventory = listed(client)
    assert await inventory.list_all(row_count=6)
    assert await inventory.list_all(row_count=6)
    assert client.served == 3
    assert inventory.get("1") == [{"id": "1"}]
    assert inventory.get("7") == []


async def test_inventory_past_its_budget_stays_incomplete() -> None:
    """A listing dearer than the lookups it replaces is abandoned: lookups go on one by one."""
    inventory = listed(Pages(10))
    assert not await inventory.list_all(row_count=6)
    assert inventory.get("1") is None
    assert not await listed(Pages(1)).list_all(row_count=1)  # one row: a lookup is cheaper


async def test_inventory_lookup_remembers_and_fresh_asks_again() -> None:
    """A lookup is fetched once and remembered; ``fresh`` fetches again and keeps the answer."""
    inventory = Inventory()
    answers = [[{"id": "a"}], [{"id": "b"}]]

    async def fetch() -> list[Item]:
        return answers.pop(0)

    assert await inventory.lookup("k", fetch) == [{"id": "a"}]
    assert await inventory.lookup("k", fetch) == [{"id": "a"}]
    assert await inventory.lookup("k", fetch, fresh=True) == [{"id": "b"}]
    assert inventory.get("k") == [{"id": "b"}]


LICENSES = [
    {"id": "P1", "name": "Webex Calling - Professional", "totalUnits": 2, "consumedUnits": 1},
    {"id": "P2", "name": "Webex Calling Professional (EA)", "totalUnits": 3, "consumedUnits": 0},
    {"id": "B1", "name": "Webex Calling - Basic", "totalUnits": 1, "consumedUnits": 1},
    {"id": "M1", "name": "Messaging", "totalUnits": 9, "consumedUnits": 0},
]


def test_license_pool_matches_kinds_by_name_across_licenses() -> None:
    """Every license whose name carries Webex Calling and the kind counts, whatever its
    exact spelling; a messaging license never does."""
    pool = LicensePool(LICENSES)
    assert pool.ids_of_kind("professional") == {"P1", "P2"}
    assert pool.ids_of_kind("professional", "basic") == {"P1", "P2", "B1"}
    assert pool.free("professional") == 4
    assert pool.free("basic") == 0


def test_license_pool_reserves_most_free_first_and_releases() -> None:
    """``pick`` takes a unit of the license with most free units; ``release`` gives it back;
    a kind without free units is ``license_unavailable``."""
    pool = LicensePool(LICENSES)
    assert pool.pick("professional", reserve=True) == "P2"
    assert pool.free("professional") == 3
    pool.release("P2")
    assert pool.free("professional") == 4
    assert pool.pick("professional", reserve=False) == "P2"
    assert pool.free("professional") == 4
    with pytest.raises(RowFailure) as caught:
        pool.pick("basic", reserve=True)
    assert caught.value.reason is Reason.LICENSE_UNAVAILABLE
    with pytest.raises(RowFailure, match="no Webex Calling workspace license"):
        pool.pick("workspace", reserve=True)


async def test_once_shares_one_fetch_between_concurrent_callers() -> None:
    """Concurrent lookups of one key send one request; a failure reaches every waiter."""
    ctx = context()
    calls = 0
    release = asyncio.Event()

    async def fetch() -> str:
        nonlocal calls
        calls += 1
        await release.wait()
        return "found"

    tasks = [asyncio.create_task(ctx.once("k", fetch)) for _ in range(5)]
    await asyncio.sleep(0)
    release.set()
    assert await asyncio.gather(*tasks) == ["found"] * 5
    assert calls == 1

    async def broken() -> str:
        await asyncio.sleep(0)
        raise RetriesExhausted("GET", "/x", "T", "503", 4)

    failing = [asyncio.create_task(ctx.once("k", broken)) for _ in range(3)]
    results = await asyncio.gather(*failing, return_exceptions=True)
    assert all(isinstance(result, RetriesExhausted) for result in results)


async def test_once_waiter_fetches_anew_when_the_fetcher_is_cancelled() -> None:
    """A cancelled fetching task does not cancel the rows waiting on its answer."""
    ctx = context()
    started = asyncio.Event()
    calls = 0

    async def fetch() -> str:
        nonlocal calls
        calls += 1
        if calls == 1:
            started.set()
            await asyncio.Event().wait()  # hangs until cancelled
        return "second"

    owner = asyncio.create_task(ctx.once("k", fetch))
    await started.wait()
    waiter = asyncio.create_task(ctx.once("k", fetch))
    await asyncio.sleep(0)
    owner.cancel()
    assert await waiter == "second"
    with pytest.raises(asyncio.CancelledError):
        await owner


# -- errors → outcomes ----------------------------------------------------------------------

ROW = user_row("ada@example.com")


def test_request_errors_map_to_reasons() -> None:
    """403 → forbidden, other 4xx → api_rejected with message, code and tracking id,
    exhausted retries and unknown outcomes → pending retries_exhausted."""
    forbidden = error_outcome(ROW, ForbiddenError("POST", "/people", "T1", 403, "no scope"))
    assert (forbidden.status, forbidden.reason) == (Status.REJECTED, Reason.FORBIDDEN)
    refused = error_outcome(ROW, ApiError("POST", "/people", "T2", 400, "bad number", 4010))
    assert refused.reason is Reason.API_REJECTED
    assert "bad number" in refused.detail
    assert "error code 4010" in refused.detail
    assert "T2" in refused.detail
    assert refused.tracking_id == "T2"
    tired = error_outcome(ROW, RetriesExhausted("GET", "/people", "T3", "503", 4))
    assert (tired.status, tired.reason) == (Status.PENDING, Reason.RETRIES_EXHAUSTED)
    unknown = error_outcome(ROW, UnknownOutcome("POST", "/people", "T4", "reset"))
    assert unknown.reason is Reason.RETRIES_EXHAUSTED
    with pytest.raises(ValueError, match="bug"):
        error_outcome(ROW, ValueError("bug"))


def test_exhausted_license_message_is_license_unavailable() -> None:
    """A 400 saying no license unit is left maps to ``license_unavailable``."""
    exhausted = ApiError("POST", "/people", "T", 400, "No more licenses available for X.")
    assert license_exhausted(exhausted)
    assert error_outcome(ROW, exhausted).reason is Reason.LICENSE_UNAVAILABLE
    assert not license_exhausted(ApiError("POST", "/people", "T", 400, "Invalid license id"))


# -- reconciliation -------------------------------------------------------------------------


class Remote:
    """A create that fails as told, and a lookup that finds the object after ``visible_after``
    lookups."""

    def __init__(self, failures: list[Exception], visible_after: int | None) -> None:
        self.failures = failures
        self.visible_after = visible_after
        self.creates = 0
        self.lookups = 0

    async def create(self) -> Item:
        """POST."""
        self.creates += 1
        if self.failures:
            raise self.failures.pop(0)
        return {"id": "new"}

    async def lookup(self) -> Item | None:
        """GET by natural key."""
        self.lookups += 1
        if self.visible_after is not None and self.lookups > self.visible_after:
            return {"id": "found"}
        return None


UNKNOWN = UnknownOutcome("POST", "/x", "T", "reset after sending")


async def test_unknown_outcome_settles_with_delayed_lookups() -> None:
    """Lookups at once and after each wait find the object; the POST is not sent again."""
    ctx = context(consistency_attempts=3, consistency_wait=2.0)
    remote = Remote([UNKNOWN], visible_after=2)
    found, how = await create_reconciled(ctx, remote.create, remote.lookup, "x")
    assert (found, how) == ({"id": "found"}, Reconciled.FOUND_AFTER_UNKNOWN)
    assert remote.creates == 1
    assert waits_of(ctx) == [2.0, 2.0]


async def test_certainly_absent_is_created_once_more() -> None:
    """When every lookup says absent, the POST is sent a second (and last) time."""
    ctx = context(consistency_attempts=1)
    remote = Remote([UNKNOWN], visible_after=None)
    found, how = await create_reconciled(ctx, remote.create, remote.lookup, "x")
    assert (found, how) == ({"id": "new"}, Reconciled.CREATED)
    assert remote.creates == 2


async def test_still_unknown_is_retries_exhausted() -> None:
    """Two unknown outcomes with the object never found: ``retries_exhausted`` with the cause."""
    ctx = context(consistency_attempts=1)
    remote = Remote([UNKNOWN, UNKNOWN], visible_after=None)
    with pytest.raises(RowFailure) as caught:
        await create_reconciled(ctx, remote.create, remote.lookup, "user 'a'")
    assert caught.value.reason is Reason.RETRIES_EXHAUSTED
    assert "reset after sending" in caught.value.detail
    assert remote.creates == 2


async def test_409_converges_and_400_only_where_documented() -> None:
    """409 → the existing object; a 400 is looked up only for POST /people ("400 but created")."""
    conflict = ApiError("POST", "/x", "T", 409, "exists")
    remote = Remote([conflict], visible_after=0)
    found, how = await create_reconciled(context(), remote.create, remote.lookup, "x")
    assert how is Reconciled.EXISTED
    bad = ApiError("POST", "/x", "T", 400, "invalid")
    plain = Remote([bad], visible_after=0)
    with pytest.raises(ApiError):
        await create_reconciled(context(), plain.create, plain.lookup, "x")
    assert plain.lookups == 0
    people = Remote([bad], visible_after=0)
    found, how = await create_reconciled(
        context(), people.create, people.lookup, "x", created_despite_400=True
    )
    assert (found, how) == ({"id": "found"}, Reconciled.FOUND_AFTER_UNKNOWN)


async def test_settle_stops_at_the_first_find() -> None:
    """No wait is spent once the object is found."""
    ctx = context(consistency_attempts=5)
    remote = Remote([], visible_after=0)
    assert await settle(ctx, remote.lookup) == {"id": "found"}
    assert waits_of(ctx) == []
