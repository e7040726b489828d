"""Workspace and device actions against the simulator over real HTTP on 127.0.0.1."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_actions_support import (
    PARIS,
    FaultOnce,
    device_row,
    environment,
    paris_tenant,
    route_count,
    run_one,
    run_rows,
    summary,
    user_row,
    workspace_row,
    writes,
)

from webex_bulk.actions.failure import RowFailure
from webex_bulk.actions.registry import REGISTRY
from webex_bulk.error_handling import Reason
from webex_bulk.models import EntityType


async def test_workspace_create_unchanged_update(tmp_path: Path) -> None:
    """Created on Webex Calling; unchanged with no write (line read via numbers); a new
    extension is PUT with the number kept."""
    async with environment(tmp_path, paris_tenant()) as env:
        row = workspace_row("Lobby", extension="2000", phone_number="+33142685301")
        created = await run_one(env.context(), row)
        assert summary([created]) == [("success", "created")]
        await env.reset_counts()
        same = await run_one(env.context(), row)
        assert summary([same]) == [("success", "unchanged")]
        assert writes(await env.counts()) == 0
        changed = await run_one(env.context(), workspace_row("lobby", extension="2001"))
        assert summary([changed]) == [("success", "updated")]
        assert changed.detail == "updated: extension"
        [lobby] = (await env.state("workspaces"))["workspaces"]
        assert lobby["calling_type"] == "webexCalling"
        assert lobby["line"]["extension"] == "2001"
        assert lobby["line"]["number"] == "+33142685301"


async def test_workspace_prepare_lists_workspaces_and_lines(tmp_path: Path) -> None:
    """With several rows, the re-run costs the listings only: no lookup per row, no write."""
    async with environment(tmp_path, paris_tenant()) as env:
        rows = [workspace_row(f"Desk {i}", line=i + 2, extension=str(2100 + i)) for i in range(6)]
        await run_rows(env.context(), rows)
        await env.reset_counts()
        again = await run_rows(env.context(), rows)
        assert summary(again) == [("success", "unchanged")] * 6
        counts = await env.counts()
        assert writes(counts) == 0
        assert counts["total"] <= 3  # workspaces, workspace lines, the location


async def test_workspace_unknown_outcome_gives_one_workspace(tmp_path: Path) -> None:
    """A committed create answered with a 5xx is found by lookup; no duplicate."""
    async with environment(tmp_path, paris_tenant()) as env:
        faulty = FaultOnce(env, "POST", "/workspaces", error_after_commit_probability=1.0)
        row = workspace_row("Lobby", extension="2000")
        outcome = await run_one(env.context(faulty), row)
        assert faulty.fired == 1
        assert summary([outcome]) == [("success", "created")]
        assert (await env.side("creates"))["duplicates"] == {}


async def test_workspace_of_unknown_location() -> None:
    """A workspace of a location that exists nowhere: ``unknown_reference``."""
    async with environment() as env:
        row = workspace_row("Lobby", location="Atlantis", extension="2000")
        outcome = await run_one(env.context(), row)
        assert outcome.reason is Reason.UNKNOWN_REFERENCE


# -- devices --------------------------------------------------------------------------------

MAC = "AABBCCDDEE01"


async def test_device_create_unchanged_for_user_and_workspace(tmp_path: Path) -> None:
    """Devices are added for a user and for a workspace; the same rows again send no write."""
    async with environment(tmp_path, paris_tenant()) as env:
        await run_one(env.context(), user_row("ada@example.com", extension="1234"))
        await run_one(env.context(), workspace_row("Lobby", extension="2000"))
        rows = [
            device_row(MAC, "ada@example.com", line=2),
            device_row("AABBCCDDEE02", "Lobby", line=3, model="Cisco 8865"),
        ]
        created = await run_rows(env.context(), rows)
        assert summary(created) == [("success", "created")] * 2
        devices = {d["mac"]: d for d in (await env.state("devices"))["devices"]}
        assert devices["AABBCCDDEE02"]["model"] == "DMS Cisco 8865"
        await env.reset_counts()
        again = await run_rows(env.context(), rows)
        assert summary(again) == [("success", "unchanged")] * 2
        assert writes(await env.counts()) == 0


async def test_device_owned_by_someone_else_is_out_of_scope(tmp_path: Path) -> None:
    """A MAC already on another owner is ``pending`` ``out_of_scope``; nothing is moved."""
    async with environment(tmp_path, paris_tenant()) as env:
        await run_one(env.context(), user_row("ada@example.com", extension="1234"))
        await run_one(env.context(), user_row("bob@example.com", extension="1235"))
        await run_one(env.context(), device_row(MAC, "ada@example.com"))
        outcome = await run_one(env.context(), device_row(MAC, "bob@example.com"))
        assert outcome.reason is Reason.OUT_OF_SCOPE
        assert "another owner" in outcome.detail


async def test_device_model_not_supported_is_out_of_scope(tmp_path: Path) -> None:
    """A model outside ``supportedDevices`` is ``out_of_scope`` without a write."""
    async with environment(tmp_path, paris_tenant()) as env:
        row = device_row(MAC, "ada@example.com", model="Polycom VVX 450")
        outcome = await run_one(env.context(), row)
        assert outcome.reason is Reason.OUT_OF_SCOPE
        assert "supported devices" in outcome.detail
        assert writes(await env.counts()) == 0


async def test_device_of_unknown_owner_is_rejected(tmp_path: Path) -> None:
    """An owner found nowhere is ``unknown_reference`` naming it."""
    async with environment(tmp_path, paris_tenant()) as env:
        outcome = await run_one(env.context(), device_row(MAC, "nobody@example.com"))
        assert outcome.reason is Reason.UNKNOWN_REFERENCE
        assert "nobody@example.com" in outcome.detail
        lobby = await run_one(env.context(), device_row(MAC, "Ghost Room", location=PARIS))
        assert lobby.reason is Reason.UNKNOWN_REFERENCE


async def test_device_group_key_is_the_owner() -> None:
    """Rows of one owner share a group key (case-insensitive); other owners do not."""
    action = REGISTRY[EntityType.DEVICE]
    first = action.group_key(device_row("AABBCCDDEE01", "ada@example.com"))
    second = action.group_key(device_row("AABBCCDDEE02", "ada@example.com"))
    room = action.group_key(device_row("AABBCCDDEE03", "Lobby"))
    assert first == second
    assert first != room
    assert room == action.group_key(device_row("AABBCCDDEE04", "LOBBY", location="paris hq"))


async def test_device_unknown_outcome_gives_one_device(tmp_path: Path) -> None:
    """A committed device add answered by a dropped connection is found by MAC; no duplicate."""
    async with environment(tmp_path, paris_tenant()) as env:
        await run_one(env.context(), user_row("ada@example.com", extension="1234"))
        faulty = FaultOnce(env, "POST", "/devices", drop_after_probability=1.0)
        outcome = await run_one(env.context(faulty), device_row(MAC, "ada@example.com"))
        assert faulty.fired == 1
        assert summary([outcome]) == [("success", "created")]
        assert route_count(await env.counts(), "POST /v1/devices") == 1


async def test_workspace_with_devices_keeps_its_line_and_says_what_to_do(tmp_path: Path) -> None:
    """A workspace with a phone whose row changes the line ends pending ``out_of_scope`` with
    the manual step, before any PUT; the same row with its line unchanged stays unchanged."""
    async with environment(tmp_path, paris_tenant()) as env:
        ctx = env.context()
        assert (await run_one(ctx, workspace_row("Lobby", extension="2000"))).action is not None
        phone = device_row("00:1B:54:A1:01:03", "Lobby", model="DMS Cisco 6821")
        assert summary([await run_one(ctx, phone)]) == [("success", "created")]
        await env.reset_counts()
        changed = await run_one(env.context(), workspace_row("Lobby", extension="2001"))
        same = await run_one(env.context(), workspace_row("Lobby", extension="2000"))
        counts = await env.counts()
        [lobby] = (await env.state("workspaces"))["workspaces"]
    assert changed.reason is Reason.OUT_OF_SCOPE
    assert "with devices" in changed.detail
    assert "Control Hub" in changed.detail
    assert summary([same]) == [("success", "unchanged")]
    assert writes(counts) == 0
    assert lobby["line"]["extension"] == "2000"


async def test_a_device_added_after_the_lookup_meets_webexs_refusal(tmp_path: Path) -> None:
    """A phone added between the decision and the PUT: Webex's 400 ends the row the same way,
    pending ``out_of_scope`` with the manual step, not a raw ``api_rejected``."""
    async with environment(tmp_path, paris_tenant()) as env:
        ctx = env.context()
        await run_one(ctx, workspace_row("Lobby", extension="2000"))
        actions = REGISTRY[EntityType.WORKSPACE]
        row = workspace_row("Lobby", extension="2001")
        decision = await actions.decide(ctx, row)
        phone = device_row("00:1B:54:A1:01:03", "Lobby", model="DMS Cisco 6821")
        assert summary([await run_one(ctx, phone)]) == [("success", "created")]
        with pytest.raises(RowFailure) as refused:
            await actions.execute(ctx, row, decision)
    assert refused.value.reason is Reason.OUT_OF_SCOPE
    assert "Webex said" in refused.value.detail
    assert "Control Hub" in refused.value.detail
