"""User actions against the simulator: create, update, unchanged, a move, reconciliation, licenses,
and the request budget (requests per row of a fresh import and of a re-run)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Any

import attrs
from support import MOVE_JOBS
from test_actions_support import (
    BASIC,
    PARIS,
    PROFESSIONAL,
    FaultOnce,
    Recorder,
    environment,
    paris_tenant,
    route_count,
    run_one,
    run_rows,
    summary,
    user_row,
    writes,
)

from webex_bulk.actions.context import ActionContext
from webex_bulk.actions.registry import REGISTRY
from webex_bulk.config import Settings
from webex_bulk.error_handling import Action, Reason, Status
from webex_bulk.models import EntityType

PEOPLE_POST = "POST /v1/people"
LICENSES = [
    {"name": PROFESSIONAL, "code": "BCSTD", "total": 1000},
    {"name": BASIC, "code": "BCBASIC", "total": 1000},
    {"name": "Webex Calling - Workspaces", "code": "BCWS", "total": 100},
]


def person(state: Mapping[str, Any], email: str) -> Mapping[str, Any]:
    """One person of a state dump."""
    return next(p for p in state["people"] if p["email"] == email)


async def test_user_create_then_unchanged(tmp_path: Path) -> None:
    """A calling user is created in one POST with license, location and line; again: no write."""
    async with environment(tmp_path, paris_tenant()) as env:
        row = user_row("ada@example.com", extension="1234", phone_number="+33142685300")
        created = await run_one(env.context(), row)
        assert summary([created]) == [("success", "created")]
        assert route_count(await env.counts(), PEOPLE_POST) == 1
        ada = person(await env.state("people"), "ada@example.com")
        assert ada["line"]["extension"] == "1234"
        assert ada["line"]["number"] == "+33142685300"
        assert len(ada["licenses"]) == 1
        await env.reset_counts()
        again = await run_one(env.context(), row)
        assert summary([again]) == [("success", "unchanged")]
        assert again.remote_id == created.remote_id
        assert writes(await env.counts()) == 0


async def test_user_update_is_get_modify_put(tmp_path: Path) -> None:
    """Differing names go in a full-replace PUT built from a fresh GET; the rest stays."""
    tenant = paris_tenant(
        people=[
            {
                "email": "ada@example.com",
                "firstName": "Ada",
                "lastName": "Byron",
                "location": PARIS,
                "extension": "1234",
                "title": "Countess",
            }
        ]
    )
    async with environment(tmp_path, tenant) as env:
        row = user_row("ada@example.com", first_name="Ada", last_name="Lovelace", extension="1234")
        row = attrs.evolve(row, values={**row.values, "display_name": "Ada Lovelace"})
        outcome = await run_one(env.context(), row)
        assert summary([outcome]) == [("success", "updated")]
        assert outcome.detail == "updated: last_name, display_name"
        counts = await env.counts()
        assert route_count(counts, "GET /v1/people/{personId}") == 1
        assert route_count(counts, "PUT /v1/people/{personId}") == 1
        ada = person(await env.state("people"), "ada@example.com")
        assert ada["last_name"] == "Lovelace"
        assert ada["optional"]["title"] == "Countess"  # not cleared by the full replace
        assert ada["line"]["extension"] == "1234"


async def test_user_without_calling_gets_the_license(tmp_path: Path) -> None:
    """An existing person without calling gets the license, location and line by PATCH."""
    tenant = paris_tenant(
        people=[{"email": "bob@example.com", "firstName": "Bob", "lastName": "Tester"}]
    )
    async with environment(tmp_path, tenant) as env:
        outcome = await run_one(env.context(), user_row("bob@example.com", extension="2345"))
        assert summary([outcome]) == [("success", "updated")]
        assert outcome.detail.startswith("updated: license")
        assert route_count(await env.counts(), "PATCH /v1/licenses/users") == 1
        bob = person(await env.state("people"), "bob@example.com")
        assert bob["line"]["extension"] == "2345"
        again = await run_one(env.context(), user_row("bob@example.com", extension="2345"))
        assert summary([again]) == [("success", "unchanged")]


async def test_user_in_another_location_is_moved_with_the_move_users_job(tmp_path: Path) -> None:
    """A calling user whose remote location differs is moved: validated, one job started and
    polled (waits on the context's clock) until it ends; the user is then in the row's location."""
    tenant = paris_tenant(
        locations=[{"name": "Lyon"}],
        people=[{"email": "cy@example.com", "location": "Lyon", "extension": "3000"}],
    )
    async with environment(tmp_path, tenant) as env:
        outcome = await run_one(env.context(), user_row("cy@example.com", extension="3000"))
        assert (outcome.status, outcome.action) == (Status.SUCCESS, Action.UPDATED)
        assert outcome.detail.startswith(f"moved cy@example.com from 'Lyon' to '{PARIS}'")
        counts = await env.counts()
        assert counts["by_route"][f"POST {MOVE_JOBS}"] == 2  # validate, then the job
        # The seeded user has no names: after the move the row's names are written (one PUT).
        assert "; updated: first_name, last_name" in outcome.detail
        assert writes(counts) == 3
        state = await env.state("people,locations,moveJobs")
        paris = next(loc["id"] for loc in state["locations"] if loc["name"] == PARIS)
        assert person(state, "cy@example.com")["line"]["location_id"] == paris
        assert [job["status"] for job in state["moveJobs"]] == ["COMPLETED"]


async def test_user_of_an_unknown_location_is_rejected() -> None:
    """A location found neither in the caches nor remotely: ``unknown_reference`` naming it."""
    async with environment() as env:
        row = user_row("dee@example.com", location="Atlantis", extension="1000")
        outcome = await run_one(env.context(), row)
        assert outcome.reason is Reason.UNKNOWN_REFERENCE
        assert "'Atlantis'" in outcome.detail


async def test_dropped_connection_after_commit_gives_one_user(tmp_path: Path) -> None:
    """The POST commits and the connection drops: a lookup finds the user; nothing is re-sent."""
    async with environment(tmp_path, paris_tenant()) as env:
        faulty = FaultOnce(env, "POST", "/people", drop_after_probability=1.0)
        outcome = await run_one(env.context(faulty), user_row("eve@example.com", extension="1500"))
        assert faulty.fired == 1
        assert summary([outcome]) == [("success", "created")]
        creates = await env.side("creates")
        assert creates["people"] == {"eve@example.com": 1}
        assert route_count(await env.counts(), PEOPLE_POST) == 1


async def test_400_but_created_gives_one_user_despite_lag(tmp_path: Path) -> None:
    """ "400 but the user was created", hidden by eventual consistency for 3 s: the delayed
    lookups find it and the row succeeds; a single POST was sent."""
    async with environment(tmp_path, paris_tenant(), consistency_lag=3.0) as env:
        faulty = FaultOnce(env, "POST", "/people", created_400_probability=1.0)
        outcome = await run_one(env.context(faulty), user_row("fay@example.com", extension="1600"))
        assert summary([outcome]) == [("success", "created")]
        assert route_count(await env.counts(), PEOPLE_POST) == 1
        assert (await env.side("creates"))["people"] == {"fay@example.com": 1}


async def test_a_real_400_is_rejected_with_the_webex_message(tmp_path: Path) -> None:
    """A 400 after which no user exists ends ``api_rejected`` with message and tracking id."""
    async with environment(tmp_path, paris_tenant()) as env:
        row = user_row("gus@example.com", phone_number="+33999999999")
        outcome = await run_one(env.context(), row)
        assert outcome.reason is Reason.API_REJECTED
        assert "not in the organization's inventory" in outcome.detail
        assert outcome.tracking_id
        assert route_count(await env.counts(), PEOPLE_POST) == 1


async def test_409_on_create_converges(tmp_path: Path) -> None:
    """A stale inventory sends a POST for an existing user; the 409 leads to lookup and update."""
    async with environment(tmp_path, paris_tenant()) as env:
        await run_one(env.context(), user_row("hal@example.com", extension="1700"))
        stale = env.context()
        stale.people.complete = True
        outcome = await run_one(stale, user_row("hal@example.com", extension="1701"))
        assert summary([outcome]) == [("success", "updated")]
        assert (await env.side("creates"))["people"] == {"hal@example.com": 1}


async def test_exhausted_license_is_license_unavailable(tmp_path: Path) -> None:
    """No free Professional unit: ``license_unavailable`` before any write."""
    licenses = [{**LICENSES[0], "total": 0}, *LICENSES[1:]]
    async with environment(tmp_path, paris_tenant(licenses=licenses)) as env:
        outcome = await run_one(env.context(), user_row("ivy@example.com", extension="1800"))
        assert outcome.reason is Reason.LICENSE_UNAVAILABLE
        assert writes(await env.counts()) == 0


async def test_license_used_up_meanwhile_is_license_unavailable(tmp_path: Path) -> None:
    """The last unit taken by someone else after the count was read: Webex refuses, and the row
    ends ``license_unavailable`` (not a generic rejection)."""
    licenses = [{**LICENSES[0], "total": 1}, *LICENSES[1:]]
    async with environment(tmp_path, paris_tenant(licenses=licenses)) as env:
        ctx = env.context()
        await ctx.licenses()  # one unit free, as far as this run knows
        await run_one(env.context(), user_row("jo@example.com", extension="1900"))
        outcome = await run_one(ctx, user_row("kim@example.com", extension="1901"))
        assert outcome.reason is Reason.LICENSE_UNAVAILABLE
        assert "No more licenses" in outcome.detail


async def test_org_id_goes_where_each_api_wants_it(tmp_path: Path) -> None:
    """With a target org: query ``orgId`` on reads, body ``orgId`` on POST/PUT /people and
    PATCH /licenses/users (never both)."""
    tenant = paris_tenant(people=[{"email": "bob@example.com", "firstName": "B", "lastName": "T"}])
    async with environment(tmp_path, tenant) as env:
        org = (await env.state("licenses"))["org"]["id"]
        recorder = Recorder(env)
        ctx = env.context(recorder)
        ctx.settings = attrs.evolve(ctx.settings, org_id=org)
        await run_one(ctx, user_row("ada@example.com", extension="1234"))
        await run_one(ctx, user_row("bob@example.com", extension="1235", title="Dr"))
        seen = {(method, path) for method, path, _, _ in recorder.sent}
        assert ("PATCH", "/licenses/users") in seen
        assert any(method == "PUT" and path.startswith("/people/") for method, path in seen)
        for method, path, query, body in recorder.sent:
            in_body = method in {"POST", "PUT", "PATCH"} and path.startswith(
                ("/people", "/licenses")
            )
            assert ("orgId" in (body or {})) is in_body, (method, path)
            assert ("orgId" in query) is (not in_body), (method, path)


# -- 206 on PATCH /licenses/users: an in-memory Webex answering a partial assignment ---------


@attrs.frozen
class FakeResponse:
    """A 2xx answer."""

    status: int
    body: Any = None
    tracking_id: str = "T206"


class PartialLicenses:
    """A Webex where the location and person exist and every license PATCH answers 206."""

    def __init__(self) -> None:
        self.patches: list[Any] = []

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        form: Mapping[str, str] | None = None,
    ) -> FakeResponse:
        """Only the license PATCH is expected."""
        assert (method, path) == ("PATCH", "/licenses/users")
        self.patches.append(json)
        return FakeResponse(206, {"personId": "P1", "licenses": ["MSG"]})

    async def pages(
        self, path: str, *, params: Mapping[str, Any] | None = None, items_key: str = "items"
    ) -> AsyncIterator[list[dict[str, Any]]]:
        """The location, the person (no calling license) and the licenses."""
        if path == "/locations":
            yield [{"id": "L1", "name": PARIS}]
        elif path == "/people":
            yield [{"id": "P1", "emails": ["lee@example.com"], "displayName": "Lee Tester"}]
        else:
            yield [{"id": "PRO", "name": PROFESSIONAL, "totalUnits": 5, "consumedUnits": 0}]


async def test_206_partial_license_is_license_unavailable() -> None:
    """A 206 whose answer lacks the requested calling license → ``license_unavailable``."""
    fake = PartialLicenses()
    ctx = ActionContext(fake, Settings())
    row = user_row("lee@example.com", first_name="Lee", display_name="Lee Tester", extension="10")
    [outcome] = await REGISTRY[EntityType.USER].run(ctx, [row])
    assert outcome.reason is Reason.LICENSE_UNAVAILABLE
    assert "206" in outcome.detail
    assert fake.patches[0]["licenses"][0]["id"] == "PRO"
    assert (await ctx.licenses()).free("professional") == 5  # the unit goes back


# -- plan -----------------------------------------------------------------------------------


async def test_plan_reads_only(tmp_path: Path) -> None:
    """``plan`` reports create / update (fields) / unchanged / pending without any write; a
    location created earlier in the same file makes its users "create"."""
    tenant = paris_tenant(
        locations=[{"name": "Lyon"}],
        people=[
            {
                "email": "ann@example.com",
                "location": PARIS,
                "extension": "1111",
                "firstName": "Ann",
                "lastName": "Tester",
            },
            {"email": "ben@example.com", "location": "Lyon", "extension": "2222"},
        ],
    )
    async with environment(tmp_path, tenant) as env:
        action = REGISTRY[EntityType.USER]
        ctx = env.context(file_keys={"location:rome"})
        same = await action.plan(ctx, user_row("ann@example.com", extension="1111"))
        other = await action.plan(ctx, user_row("ann@example.com", extension="1112"))
        new = await action.plan(ctx, user_row("cat@example.com", extension="3333"))
        moved = await action.plan(ctx, user_row("ben@example.com", extension="2222"))
        later = await action.plan(ctx, user_row("dan@example.com", location="Rome", extension="9"))
        nowhere = await action.plan(
            ctx, user_row("eli@example.com", location="Oslo", extension="8")
        )
        assert same.change is not None
        assert same.change.kind == "unchanged"
        assert other.change is not None
        assert (other.change.kind, other.change.fields) == ("update", ("extension",))
        assert new.change is not None
        assert new.change.kind == "create"
        assert moved.change is not None
        assert moved.change.kind == "move"
        assert moved.change.fields[0] == "location"  # then the names the seeded user lacks
        assert moved.change.detail == f"from 'Lyon' to '{PARIS}'"
        assert later.change is not None
        assert later.change.kind == "create"
        assert nowhere.outcome is not None
        assert nowhere.outcome.reason is Reason.UNKNOWN_REFERENCE
        assert writes(await env.counts()) == 0


async def test_plan_predicts_license_exhaustion(tmp_path: Path) -> None:
    """``plan`` counts the units its creates would take: with one unit left, the second new
    user is ``license_unavailable``."""
    licenses = [{**LICENSES[0], "total": 1}, *LICENSES[1:]]
    async with environment(tmp_path, paris_tenant(licenses=licenses)) as env:
        action = REGISTRY[EntityType.USER]
        ctx = env.context()
        first = await action.plan(ctx, user_row("amy@example.com", extension="1"))
        second = await action.plan(ctx, user_row("bea@example.com", extension="2"))
        assert first.change is not None
        assert first.change.kind == "create"
        assert second.outcome is not None
        assert second.outcome.reason is Reason.LICENSE_UNAVAILABLE


# -- the request budget ---------------------------------------------------------------------

USERS = 200


async def test_requests_per_row_fresh_and_rerun(tmp_path: Path) -> None:
    """200 users: a fresh import costs ≤ 1.1 requests per row, a re-run ≤ 0.05 (counted by the
    simulator, not timed); the re-run sends no write."""
    async with environment(tmp_path, paris_tenant()) as env:
        rows = [
            user_row(f"user{i:03d}@example.com", line=i + 2, extension=str(4000 + i))
            for i in range(USERS)
        ]
        await env.reset_counts()
        fresh = await run_rows(env.context(), rows)
        assert summary(fresh) == [("success", "created")] * USERS
        fresh_total = (await env.counts())["total"]
        await env.reset_counts()
        rerun = await run_rows(env.context(), rows)
        assert summary(rerun) == [("success", "unchanged")] * USERS
        counts = await env.counts()
        assert writes(counts) == 0
        rerun_total = counts["total"]
        print(
            f"requests per row: fresh {fresh_total / USERS:.3f}, re-run {rerun_total / USERS:.3f}"
        )
        assert fresh_total / USERS <= 1.1
        assert counts["total"] / USERS <= 0.05
