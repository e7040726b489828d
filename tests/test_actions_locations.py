"""Location and schedule actions against the simulator over real HTTP on 127.0.0.1."""

from __future__ import annotations

from pathlib import Path

from test_actions_support import (
    PARIS,
    FaultOnce,
    environment,
    location_row,
    paris_tenant,
    route_count,
    run_one,
    run_rows,
    schedule_row,
    summary,
    writes,
)

from webex_bulk.actions.registry import REGISTRY
from webex_bulk.error_handling import Reason, Status
from webex_bulk.models import EntityType


async def test_location_create_then_unchanged_with_zero_writes() -> None:
    """A new location is created and enabled for calling; the same row again sends no write."""
    async with environment() as env:
        ctx = env.context()
        created = await run_one(ctx, location_row("Lyon"))
        assert summary([created]) == [("success", "created")]
        state = await env.state("locations")
        assert [(loc["name"], loc["calling"]) for loc in state["locations"]] == [("Lyon", True)]
        await env.reset_counts()
        again = await run_one(env.context(), location_row("Lyon"))
        assert summary([again]) == [("success", "unchanged")]
        assert again.remote_id == created.remote_id
        assert writes(await env.counts()) == 0


async def test_location_update_sends_only_the_differing_fields(tmp_path: Path) -> None:
    """A changed city is PUT; a location without calling gets calling enabled."""
    tenant = paris_tenant(locations=[{"name": "Nice", "calling": False}])
    async with environment(tmp_path, tenant) as env:
        ctx = env.context()
        outcome = await run_one(ctx, location_row(PARIS, city="Paris 1er"))
        assert summary([outcome]) == [("success", "updated")]
        assert outcome.detail == "updated: city"
        nice = await run_one(ctx, location_row("Nice"))
        assert summary([nice]) == [("success", "updated")]
        assert "calling" in nice.detail
        counts = await env.counts()
        assert route_count(counts, "PUT /v1/locations/{locationId}") == 2  # Nice's address too
        assert route_count(counts, "POST /v1/telephony/config/locations") == 1
        state = await env.state("locations")
        by_name = {loc["name"]: loc for loc in state["locations"]}
        assert by_name[PARIS]["address"]["city"] == "Paris 1er"
        assert by_name["Nice"]["calling"] is True


async def test_location_ambiguous_when_two_exact_matches(tmp_path: Path) -> None:
    """Two remote locations that differ only in case match one row: ``ambiguous_match``."""
    tenant = paris_tenant(locations=[{"name": "PARIS HQ"}])
    async with environment(tmp_path, tenant) as env:
        outcome = await run_one(env.context(), location_row(PARIS))
        assert outcome.reason is Reason.AMBIGUOUS_MATCH
        assert outcome.status is Status.REJECTED
        assert writes(await env.counts()) == 0


async def test_location_unknown_outcome_is_reconciled_by_lookup() -> None:
    """A create committed but answered by a dropped connection is found; one location exists."""
    async with environment() as env:
        faulty = FaultOnce(env, "POST", "/locations", drop_after_probability=1.0)
        outcome = await run_one(env.context(faulty), location_row("Lyon"))
        assert faulty.fired == 1
        assert summary([outcome]) == [("success", "created")]
        creates = await env.side("creates")
        assert creates["locations"] == {"Lyon": 1}
        assert creates["duplicates"] == {}


async def test_location_unknown_outcome_rides_out_eventual_consistency() -> None:
    """A location name is unique: one lookup, then a re-send; when a lag hid what the first
    POST made, the re-send's 409 leads to delayed lookups (ctx.sleep) and one location."""
    async with environment(consistency_lag=3.0) as env:
        faulty = FaultOnce(env, "POST", "/locations", error_after_commit_probability=1.0)
        outcome = await run_one(env.context(faulty), location_row("Lyon"))
        assert summary([outcome]) == [("success", "created")]
        counts = await env.counts()
        assert counts["by_status"].get("409") == 1
        assert route_count(counts, "POST /v1/locations") == 2
        # the first lookup, one after the unknown outcome, then settling the 409: at once,
        # +2 s, +4 s (visible after 3 s)
        assert route_count(counts, "GET /v1/locations") == 5
        creates = await env.side("creates")
        assert creates["locations"] == {"Lyon": 1}
        assert creates["duplicates"] == {}


async def test_location_409_converges() -> None:
    """A create refused with 409 (a stale inventory) looks the location up and converges."""
    async with environment() as env:
        await run_one(env.context(), location_row("Lyon"))
        stale = env.context()
        stale.locations.complete = True  # believes the tenant is empty
        outcome = await run_one(stale, location_row("Lyon", city="Lyon 2e"))
        assert summary([outcome]) == [("success", "updated")]
        assert (await env.side("creates"))["locations"] == {"Lyon": 1}


async def test_location_prepare_lists_once_for_many_rows(tmp_path: Path) -> None:
    """With many rows the inventory is listed once and lookups cost no request."""
    async with environment(tmp_path, paris_tenant()) as env:
        rows = [location_row(f"Site {i}", line=i + 2) for i in range(6)] + [location_row(PARIS, 9)]
        outcomes = await run_rows(env.context(), rows)
        assert summary(outcomes).count(("success", "created")) == 6
        counts = await env.counts()
        assert route_count(counts, "GET /v1/locations") == 1
        assert route_count(counts, "POST /v1/locations") == 6


# -- schedules ------------------------------------------------------------------------------

HOURS = "mon-fri 08:00-18:00; sat 09:00-13:00"


async def test_schedule_create_unchanged_update(tmp_path: Path) -> None:
    """Created with weekly events; unchanged with no write; new hours replace the events."""
    async with environment(tmp_path, paris_tenant()) as env:
        created = await run_one(env.context(), schedule_row("Office", HOURS))
        assert summary([created]) == [("success", "created")]
        await env.reset_counts()
        same = await run_one(env.context(), schedule_row("office", HOURS))
        assert summary([same]) == [("success", "unchanged")]
        assert writes(await env.counts()) == 0
        changed = await run_one(env.context(), schedule_row("Office", "mon-sun 00:00-23:59"))
        assert summary([changed]) == [("success", "updated")]
        assert changed.detail == "updated: hours"
        schedules = (await env.state("schedules"))["schedules"]
        assert len(schedules) == 1
        weekly = schedules[0]["events"][0]["recurrence"]["recurWeekly"]
        assert all(weekly.values())


async def test_schedule_unknown_location_is_rejected() -> None:
    """A schedule of a location that exists nowhere is ``unknown_reference`` naming it."""
    async with environment() as env:
        outcome = await run_one(env.context(), schedule_row("Office", HOURS, location="Atlantis"))
        assert outcome.reason is Reason.UNKNOWN_REFERENCE
        assert "Atlantis" in outcome.detail


async def test_schedule_plan_sends_no_write(tmp_path: Path) -> None:
    """``plan`` says create / update (hours) / unchanged and never writes."""
    async with environment(tmp_path, paris_tenant()) as env:
        await run_one(env.context(), schedule_row("Office", HOURS))
        await env.reset_counts()
        action = REGISTRY[EntityType.SCHEDULE]
        ctx = env.context()
        new = await action.plan(ctx, schedule_row("Night", HOURS))
        same = await action.plan(ctx, schedule_row("Office", HOURS))
        other = await action.plan(ctx, schedule_row("Office", "sat 10:00-12:00"))
        assert new.change is not None
        assert new.change.kind == "create"
        assert same.change is not None
        assert same.change.kind == "unchanged"
        assert other.change is not None
        assert (other.change.kind, other.change.fields) == ("update", ("hours",))
        assert writes(await env.counts()) == 0


async def test_enable_calling_lost_before_commit_is_sent_again() -> None:
    """An enable-calling POST dropped before the tenant applied it is sent once more after the
    lookups say calling is still off: the location ends success with calling on."""
    async with environment() as env:
        faulty = FaultOnce(env, "POST", "/telephony/config/locations", drop_before_probability=1.0)
        outcome = await run_one(env.context(faulty), location_row("Lille"))
        state = await env.state("locations")
        counts = await env.counts()
    assert faulty.fired == 1
    assert summary([outcome]) == [("success", "created")]
    assert [(loc["name"], loc["calling"]) for loc in state["locations"]] == [("Lille", True)]
    assert route_count(counts, "POST /v1/telephony/config/locations") == 2
