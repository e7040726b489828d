"""Hunt group, call queue and auto attendant actions against the simulator over real HTTP."""

from __future__ import annotations

from pathlib import Path

from test_actions_support import (
    Env,
    FaultOnce,
    environment,
    feature_row,
    paris_tenant,
    route_count,
    run_one,
    run_rows,
    schedule_row,
    summary,
    user_row,
    workspace_row,
    writes,
)

from webex_bulk.actions.registry import REGISTRY
from webex_bulk.error_handling import Reason
from webex_bulk.models import EntityType

HG = EntityType.HUNT_GROUP
CQ = EntityType.CALL_QUEUE
AA = EntityType.AUTO_ATTENDANT


async def members(env: Env) -> None:
    """Two calling users and a calling workspace of Paris HQ."""
    ctx = env.context()
    await run_one(ctx, user_row("ada@example.com", extension="1001"))
    await run_one(ctx, user_row("bob@example.com", extension="1002"))
    await run_one(ctx, workspace_row("Lobby", extension="1003"))


def agents_of(state: dict[str, object], name: str) -> set[str]:
    """Agent ids of a feature in a state dump."""
    features = state["features"]
    assert isinstance(features, list)
    feature = next(f for f in features if f["name"] == name)
    return {agent["id"] for agent in feature["agents"]}


async def test_hunt_group_create_unchanged_and_member_set_update(tmp_path: Path) -> None:
    """Members resolve to person and workspace ids; same set in another order is unchanged;
    a different set is PUT."""
    async with environment(tmp_path, paris_tenant()) as env:
        await members(env)
        row = feature_row(HG, "Sales", members=("ada@example.com", "Lobby"), extension="5001")
        created = await run_one(env.context(), row)
        assert summary([created]) == [("success", "created")]
        await env.reset_counts()
        reordered = feature_row(HG, "sales", members=("lobby", "ada@example.com"), extension="5001")
        same = await run_one(env.context(), reordered)
        assert summary([same]) == [("success", "unchanged")]
        assert writes(await env.counts()) == 0
        swapped = feature_row(
            HG, "Sales", members=("bob@example.com", "Lobby"), extension="5001", policy="uniform"
        )
        changed = await run_one(env.context(), swapped)
        assert summary([changed]) == [("success", "updated")]
        assert changed.detail == "updated: policy, members"
        state = await env.state("features,people,workspaces")
        bob = next(p["id"] for p in state["people"] if p["email"] == "bob@example.com")
        lobby = state["workspaces"][0]["id"]
        assert agents_of(state, "Sales") == {bob, lobby}


async def test_call_queue_create_and_queue_size_update(tmp_path: Path) -> None:
    """A queue is created with its size; a new size is PUT with queueSettings carried back."""
    async with environment(tmp_path, paris_tenant()) as env:
        await members(env)
        row = feature_row(
            CQ, "Help", members=("ada@example.com",), extension="6001", queue_size="10"
        )
        assert summary([await run_one(env.context(), row)]) == [("success", "created")]
        bigger = feature_row(
            CQ, "Help", members=("ada@example.com",), extension="6001", queue_size="25"
        )
        outcome = await run_one(env.context(), bigger)
        assert summary([outcome]) == [("success", "updated")]
        assert outcome.detail == "updated: queue_size"
        [queue] = (await env.state("features"))["features"]
        assert queue["settings"]["queueSettings"]["queueSize"] == 25


async def test_auto_attendant_with_schedule(tmp_path: Path) -> None:
    """An auto attendant names its business schedule; a missing schedule is unknown_reference."""
    async with environment(tmp_path, paris_tenant()) as env:
        await run_one(env.context(), schedule_row("Office", "mon-fri 08:00-18:00"))
        row = feature_row(AA, "Main", extension="7000", business_schedule="office")
        created = await run_one(env.context(), row)
        assert summary([created]) == [("success", "created")]
        [attendant] = (await env.state("features"))["features"]
        assert attendant["settings"]["businessSchedule"] == "Office"  # the remote spelling
        again = await run_one(env.context(), row)
        assert summary([again]) == [("success", "unchanged")]
        missing = feature_row(AA, "Night", extension="7001", business_schedule="Nights")
        outcome = await run_one(env.context(), missing)
        assert outcome.reason is Reason.UNKNOWN_REFERENCE
        assert "'Nights'" in outcome.detail


async def test_member_found_nowhere_is_unknown_reference(tmp_path: Path) -> None:
    """A member that is neither a user nor a workspace of the location rejects the row."""
    async with environment(tmp_path, paris_tenant()) as env:
        await members(env)
        await env.reset_counts()
        row = feature_row(
            HG, "Sales", members=("ada@example.com", "ghost@example.com"), extension="5001"
        )
        outcome = await run_one(env.context(), row)
        assert outcome.reason is Reason.UNKNOWN_REFERENCE
        assert "ghost@example.com" in outcome.detail
        assert writes(await env.counts()) == 0


async def test_feature_unknown_outcome_gives_one_feature(tmp_path: Path) -> None:
    """A committed hunt group create answered by a dropped connection is found by name."""
    async with environment(tmp_path, paris_tenant()) as env:
        await members(env)
        faulty = FaultOnce(env, "POST", "/telephony/config/locations/", drop_after_probability=1.0)
        row = feature_row(HG, "Sales", members=("ada@example.com",), extension="5001")
        outcome = await run_one(env.context(faulty), row)
        assert faulty.fired == 1
        assert summary([outcome]) == [("success", "created")]
        assert (await env.side("creates"))["duplicates"] == {}


async def test_feature_prepare_lists_once(tmp_path: Path) -> None:
    """With many rows the org-wide list is read once; lookups cost no request."""
    async with environment(tmp_path, paris_tenant()) as env:
        await members(env)
        rows = [
            feature_row(
                HG, f"Group {i}", line=i + 2, members=("ada@example.com",), extension=str(5100 + i)
            )
            for i in range(4)
        ]
        await env.reset_counts()
        outcomes = await run_rows(env.context(), rows)
        assert summary(outcomes) == [("success", "created")] * 4
        counts = await env.counts()
        assert route_count(counts, "GET /v1/telephony/config/huntGroups") == 1


async def test_feature_plan_with_members_from_the_file(tmp_path: Path) -> None:
    """In ``plan``, a member that a user row of the same file creates does not reject the row."""
    async with environment(tmp_path, paris_tenant()) as env:
        ctx = env.context(file_keys={"user:new@example.com"})
        row = feature_row(HG, "Sales", members=("new@example.com",), extension="5001")
        item = await REGISTRY[HG].plan(ctx, row)
        assert item.change is not None
        assert item.change.kind == "create"
        assert writes(await env.counts()) == 0
