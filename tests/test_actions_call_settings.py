"""Users' and workspaces' own call settings against the simulator over real HTTP: set on create,
unchanged re-runs read without writing, each column updated alone, ``off`` versus an empty cell,
refusals known from the read, ``plan``, and no settings request for rows without settings."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from test_actions_support import (
    Env,
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

from webex_bulk.actions.registry import REGISTRY
from webex_bulk.error_handling import Reason
from webex_bulk.models import EntityType

ADA = "ada@example.com"
#: Every settings column of a user row, with values that differ from a new user's defaults.
ALL_SETTINGS = {
    "voicemail": "on",
    "voicemail_rings": "5",
    "voicemail_email_copy": ADA,
    "forward_always": "off",
    "forward_busy": "+33142685399",
    "forward_no_answer": "2001",
    "do_not_disturb": "on",
    "call_waiting": "off",
    "caller_id": "direct_line",
}
PERSON_FEATURES = "/v1/people/{personId}/features/"
SPACE_FEATURES = "/v1/workspaces/{workspaceId}/features/"


async def read(env: Env, owner: str, group: str) -> Any:
    """One settings group as the simulator holds it."""
    return (await env.client.request("GET", f"/{owner}/features/{group}")).body


def settings_requests(counts: dict[str, Any], method: str) -> int:
    """Requests of one method on any settings route."""
    return sum(
        count
        for route, count in counts["by_route"].items()
        if route.startswith(method) and "/features/" in route
    )


async def test_user_created_with_settings_then_unchanged(tmp_path: Path) -> None:
    """A new user's filled settings are written after the create; the same row again reads
    each group once and writes nothing."""
    async with environment(tmp_path, paris_tenant()) as env:
        row = user_row(ADA, extension="1234", phone_number="+33142685300", **ALL_SETTINGS)
        created = await run_one(env.context(), row)
        assert summary([created]) == [("success", "created")]
        owner = f"people/{created.remote_id}"
        voicemail = await read(env, owner, "voicemail")
        assert voicemail["sendUnansweredCalls"]["numberOfRings"] == 5
        assert voicemail["emailCopyOfMessage"] == {"enabled": True, "emailId": ADA}
        forwarding = (await read(env, owner, "callForwarding"))["callForwarding"]
        assert forwarding["busy"]["destination"] == "+33142685399"
        assert (forwarding["noAnswer"]["enabled"], forwarding["noAnswer"]["destination"]) == (
            True,
            "2001",
        )
        assert forwarding["always"]["enabled"] is False
        assert (await read(env, owner, "doNotDisturb"))["enabled"] is True
        assert (await read(env, owner, "callWaiting"))["enabled"] is False
        await env.reset_counts()
        again = await run_one(env.context(), row)
        assert summary([again]) == [("success", "unchanged")]
        counts = await env.counts()
        assert writes(counts) == 0
        assert settings_requests(counts, "GET") == 5


@pytest.mark.parametrize(
    ("column", "value", "group", "check"),
    [
        ("voicemail", "off", "voicemail", lambda body: body["enabled"] is False),
        (
            "voicemail_rings",
            "7",
            "voicemail",
            lambda body: body["sendUnansweredCalls"]["numberOfRings"] == 7,
        ),
        (
            "voicemail_email_copy",
            "off",
            "voicemail",
            lambda body: body["emailCopyOfMessage"]["enabled"] is False,
        ),
        (
            "forward_always",
            "+33142685398",
            "callForwarding",
            lambda body: body["callForwarding"]["always"]["destination"] == "+33142685398",
        ),
        (
            "forward_busy",
            "off",
            "callForwarding",
            lambda body: body["callForwarding"]["busy"]["enabled"] is False,
        ),
        (
            "forward_no_answer",
            "2002",
            "callForwarding",
            lambda body: body["callForwarding"]["noAnswer"]["destination"] == "2002",
        ),
        ("do_not_disturb", "off", "doNotDisturb", lambda body: body["enabled"] is False),
        ("call_waiting", "on", "callWaiting", lambda body: body["enabled"] is True),
        (
            "caller_id",
            "+33142685302",
            "callerId",
            lambda body: (body["selected"], body["customNumber"]) == ("CUSTOM", "+33142685302"),
        ),
    ],
)
async def test_each_setting_is_updated_alone(
    tmp_path: Path, column: str, value: str, group: str, check: Any
) -> None:
    """Changing one settings column costs one PUT of its group; the others stay as they were."""
    async with environment(tmp_path, paris_tenant()) as env:
        base = {"extension": "1234", "phone_number": "+33142685300", **ALL_SETTINGS}
        created = await run_one(env.context(), user_row(ADA, **base))
        owner = f"people/{created.remote_id}"
        await env.reset_counts()
        changed = await run_one(env.context(), user_row(ADA, **{**base, column: value}))
        assert summary([changed]) == [("success", "updated")]
        assert changed.detail == f"updated: {column}"
        counts = await env.counts()
        assert writes(counts) == 1
        assert route_count(counts, f"PUT {PERSON_FEATURES}{group}") == 1
        assert check(await read(env, owner, group))
        assert (await read(env, owner, "doNotDisturb"))["enabled"] is (column != "do_not_disturb")


async def test_empty_cells_leave_settings_and_off_turns_them_off(tmp_path: Path) -> None:
    """An empty forwarding cell is not managed; ``off`` turns that rule off and keeps the rest."""
    async with environment(tmp_path, paris_tenant()) as env:
        both = {"forward_busy": "2001", "forward_no_answer": "2002"}
        created = await run_one(env.context(), user_row(ADA, extension="1234", **both))
        owner = f"people/{created.remote_id}"
        await env.reset_counts()
        untouched = await run_one(env.context(), user_row(ADA, extension="1234"))
        assert summary([untouched]) == [("success", "unchanged")]
        assert settings_requests(await env.counts(), "GET") == 0
        off = await run_one(env.context(), user_row(ADA, extension="1234", forward_busy="off"))
        assert off.detail == "updated: forward_busy"
        forwarding = (await read(env, owner, "callForwarding"))["callForwarding"]
        assert forwarding["busy"]["enabled"] is False
        assert (forwarding["noAnswer"]["enabled"], forwarding["noAnswer"]["destination"]) == (
            True,
            "2002",
        )


async def test_a_caller_id_the_user_cannot_show_is_refused_before_any_write(
    tmp_path: Path,
) -> None:
    """``direct_line`` for a user without a phone number ends ``invalid_value`` saying what to
    do, after the read and before any write; with the number in the row it is set."""
    async with environment(tmp_path, paris_tenant()) as env:
        await run_one(env.context(), user_row(ADA, extension="1234"))
        await env.reset_counts()
        row = user_row(ADA, extension="1234", caller_id="direct_line", call_waiting="off")
        refused = await run_one(env.context(), row)
        assert refused.reason is Reason.INVALID_VALUE
        assert "give phone_number or choose location_number" in refused.detail
        assert writes(await env.counts()) == 0
        with_number = user_row(
            ADA, extension="1234", phone_number="+33142685301", caller_id="direct_line"
        )
        done = await run_one(env.context(), with_number)
        assert done.detail == "updated: phone_number, caller_id"
        caller_id = await read(env, f"people/{done.remote_id}", "callerId")
        assert (caller_id["selected"], caller_id["directNumber"]) == ("DIRECT_LINE", "+33142685301")


async def test_a_user_given_calling_by_the_row_gets_its_settings(tmp_path: Path) -> None:
    """A person without calling is licensed first, then the settings are read and written."""
    tenant = paris_tenant(
        people=[
            {"email": ADA, "firstName": "Ada", "lastName": "Tester", "displayName": "Ada Tester"}
        ]
    )
    async with environment(tmp_path, tenant) as env:
        row = user_row(ADA, extension="1234", do_not_disturb="on")
        licensed = await run_one(env.context(), row)
        assert summary([licensed]) == [("success", "updated")]
        dnd = await read(env, f"people/{licensed.remote_id}", "doNotDisturb")
        assert dnd["enabled"] is True
        await env.reset_counts()
        again = await run_one(env.context(), row)
        assert summary([again]) == [("success", "unchanged")]
        assert writes(await env.counts()) == 0


async def test_plan_lists_each_differing_setting_and_writes_nothing(tmp_path: Path) -> None:
    """``plan`` reads the filled groups and names every differing settings column."""
    async with environment(tmp_path, paris_tenant()) as env:
        await run_one(env.context(), user_row(ADA, extension="1234"))
        await env.reset_counts()
        row = user_row(
            ADA, extension="1234", call_waiting="on", do_not_disturb="on", forward_busy="2001"
        )
        item = await REGISTRY[EntityType.USER].plan(env.context(), row)
        assert item.change is not None
        assert (item.change.kind, item.change.fields) == (
            "update",
            ("forward_busy", "do_not_disturb"),
        )
        assert writes(await env.counts()) == 0


async def test_workspace_settings_create_unchanged_update(tmp_path: Path) -> None:
    """A workspace gets forwarding, call waiting and caller id after its create; a re-run only
    reads; a changed setting is one PUT and no workspace PUT."""
    async with environment(tmp_path, paris_tenant()) as env:
        values = {"forward_always": "2001", "call_waiting": "off", "caller_id": "+33142685302"}
        row = workspace_row("Lobby", extension="2000", **values)
        created = await run_one(env.context(), row)
        assert summary([created]) == [("success", "created")]
        owner = f"workspaces/{created.remote_id}"
        always = (await read(env, owner, "callForwarding"))["callForwarding"]["always"]
        assert (always["enabled"], always["destination"]) == (True, "2001")
        assert (await read(env, owner, "callerId"))["customNumber"] == "+33142685302"
        await env.reset_counts()
        same = await run_one(env.context(), row)
        assert summary([same]) == [("success", "unchanged")]
        assert writes(await env.counts()) == 0
        await env.reset_counts()
        changed = await run_one(
            env.context(), workspace_row("Lobby", extension="2000", call_waiting="on")
        )
        assert changed.detail == "updated: call_waiting"
        counts = await env.counts()
        assert writes(counts) == 1
        assert route_count(counts, f"PUT {SPACE_FEATURES}callWaiting") == 1


async def test_rows_without_settings_send_no_settings_request(tmp_path: Path) -> None:
    """A fresh import of users and workspaces without settings columns stays at about one
    request per row: no settings route is read or written."""
    async with environment(tmp_path, paris_tenant()) as env:
        users = [
            user_row(f"u{i}@example.com", line=i + 2, extension=str(4000 + i)) for i in range(40)
        ]
        await env.reset_counts()
        outcomes = await run_rows(env.context(), users)
        assert summary(outcomes) == [("success", "created")] * 40
        counts = await env.counts()
        assert settings_requests(counts, "GET") + settings_requests(counts, "PUT") == 0
        assert counts["total"] / 40 <= 1.1
