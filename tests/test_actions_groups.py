"""Virtual lines, call park extensions, call parks, call pickups, paging groups and voicemail
groups against the simulator over real HTTP: create, unchanged re-run, updates, member errors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from test_actions_support import (
    PARIS,
    Env,
    environment,
    feature_row,
    make_row,
    paris_tenant,
    run_one,
    summary,
    user_row,
    workspace_row,
    writes,
)

from webex_bulk.error_handling import Reason
from webex_bulk.models import EntityType, Row

VL = EntityType.VIRTUAL_LINE
CPE = EntityType.CALL_PARK_EXTENSION
CP = EntityType.CALL_PARK
PICKUP = EntityType.CALL_PICKUP
PAGING = EntityType.PAGING_GROUP
VM = EntityType.VOICEMAIL_GROUP
HG = EntityType.HUNT_GROUP


def virtual_row(display: str, line: int = 2, **values: str) -> Row:
    """A virtual line row of Paris HQ."""
    base = {"display_name": display, "location": PARIS, "first_name": "Front", "last_name": "Desk"}
    key = f"virtual_line:{PARIS.casefold()}/{display.casefold()}"
    return make_row(VL, key, {**base, **values}, line)


async def people(env: Env) -> None:
    """Two calling users, a calling workspace and a virtual line of Paris HQ."""
    ctx = env.context()
    await run_one(ctx, user_row("ada@example.com", extension="1001"))
    await run_one(ctx, user_row("bob@example.com", extension="1002"))
    await run_one(ctx, workspace_row("Lobby", extension="1003"))
    await run_one(ctx, virtual_row("Night Line", extension="1004"))


async def converges(env: Env, row: Row) -> None:
    """The row is created, and the same row again is unchanged without a write."""
    assert summary([await run_one(env.context(), row)]) == [("success", "created")]
    await env.reset_counts()
    assert summary([await run_one(env.context(), row)]) == [("success", "unchanged")]
    assert writes(await env.counts()) == 0


async def updated(env: Env, row: Row, detail: str) -> None:
    """The row is an update of exactly the named fields; once written, it is unchanged."""
    outcome = await run_one(env.context(), row)
    assert summary([outcome]) == [("success", "updated")]
    assert outcome.detail == f"updated: {detail}"
    assert summary([await run_one(env.context(), row)]) == [("success", "unchanged")]


def stored(state: dict[str, Any], kind: str, name: str) -> dict[str, Any]:
    """The stored object of a feature by state type and name in a state dump."""
    return next(f for f in state[kind] if f["name"] == name)


async def test_virtual_line_create_rerun_and_updates(tmp_path: Path) -> None:
    """A virtual line converges, then each of its names and its line is updated."""
    async with environment(tmp_path, paris_tenant()) as env:
        await converges(env, virtual_row("Front Desk Line", extension="2001"))
        await updated(env, virtual_row("front desk line", extension="2002"), "extension")
        await updated(
            env, virtual_row("Front Desk Line", extension="2002", first_name="Main"), "first_name"
        )
        await updated(
            env,
            virtual_row("Front Desk Line", extension="2002", first_name="Main", last_name="Hall"),
            "last_name",
        )
        number = virtual_row(
            "Front Desk Line",
            extension="2002",
            first_name="Main",
            last_name="Hall",
            phone_number="+33142685300",
        )
        await updated(env, number, "phone_number")
        [line] = (await env.state("virtualLines"))["virtualLines"]
        assert (line["first_name"], line["last_name"]) == ("Main", "Hall")
        assert line["line"]["number"] == "+33142685300"


async def test_virtual_lines_and_workspaces_are_hunt_group_members(tmp_path: Path) -> None:
    """A hunt group takes a virtual line and a workspace as agents, by their display names."""
    async with environment(tmp_path, paris_tenant()) as env:
        await people(env)
        row = feature_row(HG, "Sales", members=("Night Line", "Lobby"), extension="5001")
        await converges(env, row)
        state = await env.state("features,virtualLines,workspaces")
        agents = {agent["id"] for agent in stored(state, "features", "Sales")["agents"]}
        assert agents == {state["virtualLines"][0]["id"], state["workspaces"][0]["id"]}


async def test_call_park_extension_create_rerun_and_update(tmp_path: Path) -> None:
    """A call park extension converges; a new extension is PUT."""
    async with environment(tmp_path, paris_tenant()) as env:
        await converges(env, feature_row(CPE, "Park 1", extension="3101"))
        await updated(env, feature_row(CPE, "Park 1", extension="3102"), "extension")


async def test_call_park_with_members_recall_and_extensions(tmp_path: Path) -> None:
    """A call park names members, a recall hunt group and extensions; each is updated alone."""
    async with environment(tmp_path, paris_tenant()) as env:
        await people(env)
        ctx = env.context()
        await run_one(ctx, feature_row(HG, "Sales", members=("ada@example.com",), extension="5001"))
        await run_one(ctx, feature_row(CPE, "Park 1", extension="3101"))
        await run_one(ctx, feature_row(CPE, "Park 2", extension="3102"))
        base: dict[str, str] = {
            "recall": "parking_user_first_then_hunt_group",
            "recall_hunt_group": "Sales",
            "park_extensions": "Park 1",
        }
        members = ("ada@example.com", "Night Line", "Lobby")
        await converges(env, feature_row(CP, "Lot", members=members, **base))
        await updated(env, feature_row(CP, "Lot", members=members[:2], **base), "members")
        two = {**base, "park_extensions": "Park 1;Park 2"}
        await updated(env, feature_row(CP, "Lot", members=members[:2], **two), "park_extensions")
        plain = {"recall": "parking_user_only", "park_extensions": "Park 1;Park 2"}
        await updated(
            env, feature_row(CP, "Lot", members=members[:2], **plain), "recall, recall_hunt_group"
        )
        park = stored(await env.state("callParks"), "callParks", "Lot")
        assert park["settings"]["recall"]["option"] == "ALERT_PARKING_USER_ONLY"
        assert len(park["settings"]["callParkExtensions"]) == 2


async def test_call_park_unknown_recall_hunt_group_is_unknown_reference(tmp_path: Path) -> None:
    """A recall hunt group that does not exist rejects the call park without a write."""
    async with environment(tmp_path, paris_tenant()) as env:
        await env.reset_counts()
        row = feature_row(
            CP, "Lot", recall="hunt_group_only", recall_hunt_group="Nobody", park_extensions=""
        )
        outcome = await run_one(env.context(), row)
        assert outcome.reason is Reason.UNKNOWN_REFERENCE
        assert "'Nobody'" in outcome.detail
        assert writes(await env.counts()) == 0


async def test_call_pickup_create_rerun_and_member_update(tmp_path: Path) -> None:
    """A call pickup converges; a different member set is PUT."""
    async with environment(tmp_path, paris_tenant()) as env:
        await people(env)
        await converges(env, feature_row(PICKUP, "Desk", members=("ada@example.com", "Lobby")))
        await updated(
            env, feature_row(PICKUP, "Desk", members=("bob@example.com", "Night Line")), "members"
        )


async def test_unknown_and_non_calling_members(tmp_path: Path) -> None:
    """An unknown member rejects the row before any write; so does a user without calling
    (unknown_reference, the rule plan applies too), which the tenant would refuse."""
    person = {"email": "nocall@example.com", "firstName": "No", "lastName": "Call"}
    async with environment(tmp_path, paris_tenant(people=[person])) as env:
        await people(env)
        await env.reset_counts()
        ghost = feature_row(PICKUP, "Desk", members=("ada@example.com", "Ghost Line"))
        outcome = await run_one(env.context(), ghost)
        assert outcome.reason is Reason.UNKNOWN_REFERENCE
        assert "'Ghost Line'" in outcome.detail
        assert writes(await env.counts()) == 0
        plain = feature_row(PICKUP, "Desk", members=("nocall@example.com",))
        refused = await run_one(env.context(), plain)
        assert refused.reason is Reason.UNKNOWN_REFERENCE
        assert "'nocall@example.com' is a user without Webex Calling" in refused.detail
        assert writes(await env.counts()) == 0


async def test_paging_group_create_rerun_and_updates(tmp_path: Path) -> None:
    """A paging group converges; its extension, originators and targets are each updated."""
    async with environment(tmp_path, paris_tenant()) as env:
        await people(env)
        base = {"originators": "ada@example.com", "targets": "Lobby;Night Line"}
        await converges(env, feature_row(PAGING, "All", extension="4001", **base))
        await updated(env, feature_row(PAGING, "All", extension="4002", **base), "extension")
        more = {**base, "originators": "ada@example.com;bob@example.com"}
        await updated(env, feature_row(PAGING, "All", extension="4002", **more), "originators")
        fewer = {**more, "targets": "Lobby"}
        await updated(env, feature_row(PAGING, "All", extension="4002", **fewer), "targets")


async def test_voicemail_group_create_rerun_updates_and_passcode(tmp_path: Path) -> None:
    """A voicemail group converges without its passcode being compared; its line and e-mail are
    updated; a new group without a passcode is missing_field naming the mask."""
    async with environment(tmp_path, paris_tenant()) as env:
        row = feature_row(VM, "Sales VM", extension="4501", passcode="740218")
        await converges(env, row)
        no_passcode = feature_row(VM, "Sales VM", extension="4501")
        assert summary([await run_one(env.context(), no_passcode)]) == [("success", "unchanged")]
        await updated(env, feature_row(VM, "Sales VM", extension="4502"), "extension")
        mail = {"notification_email": "vm@example.com"}
        await updated(
            env, feature_row(VM, "Sales VM", extension="4502", **mail), "notification_email"
        )
        await updated(
            env,
            feature_row(VM, "Sales VM", extension="4502", phone_number="+33142685301", **mail),
            "phone_number",
        )
        fresh = await run_one(env.context(), feature_row(VM, "Other VM", extension="4503"))
        assert fresh.reason is Reason.MISSING_FIELD
        assert "****" in fresh.detail
        group = stored(await env.state("voicemailGroups"), "voicemailGroups", "Sales VM")
        assert group["secret"] is True  # set on create, never answered back
