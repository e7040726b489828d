"""Number actions (batched per location) against the simulator, plus per-number errors of a
batch through an in-memory client (the simulator refuses a batch as a whole)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Any

import attrs
from test_actions_support import (
    PARIS,
    FaultOnce,
    environment,
    number_row,
    paris_tenant,
    route_count,
    run_rows,
    summary,
    writes,
)

from webex_bulk.actions.context import ActionContext
from webex_bulk.actions.registry import REGISTRY
from webex_bulk.config import Settings
from webex_bulk.error_handling import ApiError, Reason
from webex_bulk.models import EntityType

NEW = [f"+3314268540{i}" for i in range(5)]
ADD_ROUTE = "POST /v1/telephony/config/locations/{locationId}/numbers"
STATE_ROUTE = "PUT /v1/telephony/config/locations/{locationId}/numbers"


async def test_numbers_are_added_in_one_post_per_batch(tmp_path: Path) -> None:
    """Five new numbers of one location cost one POST; each row gets its own outcome."""
    async with environment(tmp_path, paris_tenant()) as env:
        rows = [number_row(n, line=i + 2) for i, n in enumerate(NEW)]
        outcomes = await run_rows(env.context(), rows)
        assert summary(outcomes) == [("success", "created")] * 5
        counts = await env.counts()
        assert route_count(counts, ADD_ROUTE) == 1
        await env.reset_counts()
        again = await run_rows(env.context(), rows)
        assert summary(again) == [("success", "unchanged")] * 5
        assert writes(await env.counts()) == 0


async def test_numbers_batch_respects_the_batch_size(tmp_path: Path) -> None:
    """Rows of one location beyond ``numbers_batch_size`` go in a second POST."""
    async with environment(tmp_path, paris_tenant()) as env:
        ctx = env.context()
        ctx.settings = attrs.evolve(ctx.settings, numbers_batch_size=2)
        rows = [number_row(n, line=i + 2) for i, n in enumerate(NEW)]
        outcomes = await run_rows(ctx, rows)
        assert summary(outcomes) == [("success", "created")] * 5
        assert route_count(await env.counts(), ADD_ROUTE) == 3


async def test_inactive_numbers_are_activated_and_mixed_states_split(tmp_path: Path) -> None:
    """A present inactive number wanted active is activated (PUT); new numbers are added by
    wanted state, one POST per state."""
    tenant = paris_tenant(
        numbers=[{"phoneNumber": "+33142685310", "location": PARIS, "state": "INACTIVE"}]
    )
    async with environment(tmp_path, tenant) as env:
        rows = [
            number_row("+33142685310", line=2),
            number_row(NEW[0], line=3, state="inactive"),
            number_row(NEW[1], line=4),
            number_row("+33142685300", line=5),
        ]
        outcomes = await run_rows(env.context(), rows)
        assert summary(outcomes) == [
            ("success", "updated"),
            ("success", "created"),
            ("success", "created"),
            ("success", "unchanged"),
        ]
        counts = await env.counts()
        assert route_count(counts, ADD_ROUTE) == 2
        assert route_count(counts, STATE_ROUTE) == 1
        numbers = {n["number"]: n["state"] for n in (await env.state("numbers"))["numbers"]}
        assert numbers["+33142685310"] == "ACTIVE"
        assert numbers[NEW[0]] == "INACTIVE"


async def test_number_in_another_location_is_out_of_scope(tmp_path: Path) -> None:
    """A number that lives in another location is ``pending`` ``out_of_scope``, not moved."""
    tenant = paris_tenant(locations=[{"name": "Lyon", "numbers": ["+33478000000"]}])
    async with environment(tmp_path, tenant) as env:
        outcomes = await run_rows(env.context(), [number_row("+33478000000")])
        assert outcomes[0].reason is Reason.OUT_OF_SCOPE
        assert "Lyon" in outcomes[0].detail
        assert writes(await env.counts()) == 0


async def test_cisco_calling_plan_location_is_out_of_scope(tmp_path: Path) -> None:
    """Numbers of a location served by Cisco Calling Plan end ``out_of_scope`` (the provider
    owns them); nothing is added."""
    tenant = paris_tenant(locations=[{"name": "Berlin", "pstn": "CISCO_CALLING_PLAN"}])
    async with environment(tmp_path, tenant) as env:
        ctx = env.context()
        first = await run_rows(ctx, [number_row("+4930000000", line=2, location="Berlin")])
        later = await run_rows(ctx, [number_row("+4930000001", line=3, location="Berlin")])
        for outcome in (*first, *later):
            assert outcome.reason is Reason.OUT_OF_SCOPE
            assert "PSTN provider" in outcome.detail
        assert "CISCO_PSTN" in first[0].detail  # the PSTN pre-check names the spec's type
        numbers = {n["number"] for n in (await env.state("numbers"))["numbers"]}
        assert not numbers & {"+4930000000", "+4930000001"}
        assert route_count(await env.counts(), ADD_ROUTE) == 0  # the PSTN pre-check refuses


async def test_unknown_location_rejects_the_batch() -> None:
    """Numbers of a location that exists nowhere are ``unknown_reference``."""
    async with environment() as env:
        outcomes = await run_rows(env.context(), [number_row(NEW[0], location="Atlantis")])
        assert outcomes[0].reason is Reason.UNKNOWN_REFERENCE


async def test_unknown_outcome_of_a_batch_is_settled(tmp_path: Path) -> None:
    """A batch committed but answered with a dropped connection: the location is listed again,
    every row succeeds, and no number is added twice."""
    async with environment(tmp_path, paris_tenant()) as env:
        faulty = FaultOnce(env, "POST", "/telephony/config/locations/", drop_after_probability=1.0)
        rows = [number_row(n, line=i + 2) for i, n in enumerate(NEW[:3])]
        outcomes = await run_rows(env.context(faulty), rows)
        assert faulty.fired == 1
        assert summary(outcomes) == [("success", "created")] * 3
        creates = await env.side("creates")
        assert creates["duplicates"] == {}
        assert route_count(await env.counts(), ADD_ROUTE) == 1


async def test_409_on_a_batch_converges(tmp_path: Path) -> None:
    """A number added behind a stale inventory makes the batch 409 (where Webex answers 409
    rather than ignoring a present number); the rest is sent again."""
    async with environment(tmp_path, paris_tenant(), number_add_conflict=True) as env:
        stale = env.context()
        await REGISTRY[EntityType.NUMBER].prepare(stale, 10)
        await run_rows(env.context(), [number_row(NEW[0])])  # another run adds it
        rows = [number_row(NEW[0], line=2), number_row(NEW[1], line=3)]
        outcomes = await run_rows(stale, rows, prepare=False)
        assert summary(outcomes) == [("success", "unchanged"), ("success", "created")]
        assert route_count(await env.counts(), ADD_ROUTE) == 3  # other run, 409, second try


# -- per-number errors: the simulator refuses a batch whole, so an in-memory client plays Webex


@attrs.frozen
class FakeResponse:
    """A 2xx answer."""

    status: int
    body: Any = None
    tracking_id: str = "T"


class PerNumberErrors:
    """A Webex that refuses one number of a batch with a list of per-number errors."""

    def __init__(self, refused: str) -> None:
        self.refused = refused
        self.present: set[str] = set()
        self.posts: list[list[str]] = []

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        form: Mapping[str, str] | None = None,
    ) -> FakeResponse:
        """Answer location lookups, PSTN reads and number adds."""
        if method == "POST":
            numbers = list(json["phoneNumbers"])
            self.posts.append(numbers)
            if self.refused in numbers:
                error = [{"number": self.refused, "errorCode": 4321, "errorMessage": "barred"}]
                raise ApiError(method, path, "T1", 400, "some numbers failed", 4321, error)
            self.present.update(numbers)
            return FakeResponse(201)
        return FakeResponse(200, {"pstnConnectionType": "LOCAL_GATEWAY"})

    async def pages(
        self, path: str, *, params: Mapping[str, Any] | None = None, items_key: str = "items"
    ) -> AsyncIterator[list[dict[str, Any]]]:
        """One location, and the numbers added so far."""
        if path == "/locations":
            yield [{"id": "L1", "name": PARIS}]
        else:
            yield [{"phoneNumber": n, "location": {"id": "L1"}} for n in sorted(self.present)]


async def test_per_number_errors_become_per_row_outcomes() -> None:
    """A 400 naming one bad number rejects that row; the others are sent again and succeed."""
    fake = PerNumberErrors(refused=NEW[1])
    ctx = ActionContext(fake, Settings(consistency_wait=0.0))
    rows = [number_row(n, line=i + 2) for i, n in enumerate(NEW[:3])]
    outcomes = await REGISTRY[EntityType.NUMBER].run(ctx, rows)
    assert summary(outcomes) == [
        ("success", "created"),
        ("rejected", "api_rejected"),
        ("success", "created"),
    ]
    assert "barred (error code 4321)" in outcomes[1].detail
    assert fake.posts == [NEW[:3], [NEW[0], NEW[2]]]
