"""Virtual lines found by display name although Cisco's listing does not carry it, against the
simulator over real HTTP: re-runs write nothing, members resolve, and each row costs what
``docs/actions_registry.md`` says."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from test_actions_support import (
    PARIS,
    environment,
    feature_row,
    make_row,
    paris_tenant,
    run_one,
    run_rows,
    summary,
    writes,
)

from webex_bulk.actions.registry import REGISTRY
from webex_bulk.models import EntityType, Row

ROWS = 20
LIST = "GET /v1/telephony/config/virtualLines"
DETAILS = "GET /v1/telephony/config/virtualLines/{virtualLineId}"


def line_row(first: str, last: str, extension: str, display: str = "", line: int = 2) -> Row:
    """A virtual line row of Paris HQ; its display name defaults to "first last"."""
    display = display or f"{first} {last}"
    values = {
        "display_name": display,
        "location": PARIS,
        "first_name": first,
        "last_name": last,
        "extension": extension,
    }
    key = f"virtual_line:{PARIS.casefold()}/{display.casefold()}"
    return make_row(EntityType.VIRTUAL_LINE, key, values, line)


def seeded(first: str, last: str, extension: str, display: str = "") -> dict[str, Any]:
    """A virtual line of the tenant file."""
    spec = {"firstName": first, "lastName": last, "location": PARIS, "extension": extension}
    return {**spec, "displayName": display} if display else spec


def lines(*, renamed: bool) -> list[Row]:
    """``ROWS`` rows; with ``renamed`` every display name differs from "first last"."""
    return [
        line_row(f"Line{i}", "Desk", str(3000 + i), f"Desk {i}" if renamed else "", line=i + 2)
        for i in range(ROWS)
    ]


def route(counts: dict[str, Any], name: str) -> int:
    """Requests the simulator saw on one route."""
    return int(counts["by_route"].get(name, 0))


async def test_requests_per_row_fresh_and_rerun_from_the_listing(tmp_path: Path) -> None:
    """20 rows listed once: a fresh import costs a POST per row and the two listings; a re-run
    reads each line's details once (the lookup's read is the comparison's) and writes nothing."""
    async with environment(tmp_path, paris_tenant()) as env:
        rows = lines(renamed=False)
        await env.reset_counts()
        assert summary(await run_rows(env.context(), rows)) == [("success", "created")] * ROWS
        fresh = await env.counts()
        assert (fresh["total"], writes(fresh)) == (ROWS + 2, ROWS)
        await env.reset_counts()
        assert summary(await run_rows(env.context(), rows)) == [("success", "unchanged")] * ROWS
        rerun = await env.counts()
        assert writes(rerun) == 0
        assert (route(rerun, DETAILS), rerun["total"]) == (ROWS, ROWS + 2)


async def test_renamed_lines_fall_back_to_the_lookup_by_name(tmp_path: Path) -> None:
    """Display names unlike "first last": a fresh import into an empty location still costs no
    lookup; a re-run looks each row up by name once, then reads its details once."""
    async with environment(tmp_path, paris_tenant()) as env:
        rows = lines(renamed=True)
        await env.reset_counts()
        assert summary(await run_rows(env.context(), rows)) == [("success", "created")] * ROWS
        assert (await env.counts())["total"] == ROWS + 2
        await env.reset_counts()
        assert summary(await run_rows(env.context(), rows)) == [("success", "unchanged")] * ROWS
        rerun = await env.counts()
        assert writes(rerun) == 0
        assert (route(rerun, LIST), route(rerun, DETAILS)) == (ROWS + 1, ROWS)
        assert rerun["total"] == 2 * ROWS + 2


async def test_single_row_lookup_by_name(tmp_path: Path) -> None:
    """One row, nothing listed: found by the owner-name filter and confirmed by its details, two
    requests besides the location's lookup, and no write."""
    tenant = paris_tenant(virtualLines=[seeded("Front", "Desk", "2001", "Night Line")])
    async with environment(tmp_path, tenant) as env:
        await env.reset_counts()
        row = line_row("Front", "Desk", "2001", "Night Line")
        assert summary([await run_one(env.context(), row)]) == [("success", "unchanged")]
        counts = await env.counts()
        assert (route(counts, LIST), route(counts, DETAILS), counts["total"]) == (1, 1, 3)


async def test_first_and_last_names_spelling_another_display_name(tmp_path: Path) -> None:
    """A line whose first and last names spell the wanted display name is only the likeliest
    candidate: its details say otherwise, and the line that bears the name is found."""
    decoy = seeded("Night", "Line", "2001", "Reception")
    wanted = seeded("Front", "Desk", "2002", "Night Line")
    async with environment(tmp_path, paris_tenant(virtualLines=[decoy, wanted])) as env:
        rows = [
            line_row("Front", "Desk", "2002", "Night Line"),
            line_row("Night", "Line", "2001", "Reception", line=3),
        ]
        await env.reset_counts()
        outcomes = await run_rows(env.context(), rows)
        assert summary(outcomes) == [("success", "unchanged")] * 2
        assert writes(await env.counts()) == 0
        state = await env.state("virtualLines")
        ids = {line["display_name"]: line["id"] for line in state["virtualLines"]}
        assert [o.remote_id for o in outcomes] == [ids["Night Line"], ids["Reception"]]


async def test_hunt_group_members_found_by_display_name(tmp_path: Path) -> None:
    """Hunt groups name virtual lines by display name, one as "first last" and one renamed,
    through the run's listing: the agents are those lines, and a re-run writes nothing."""
    plain = seeded("Front", "Desk", "2001")
    renamed = seeded("Back", "Office", "2002", "Night Line")
    async with environment(tmp_path, paris_tenant(virtualLines=[plain, renamed])) as env:
        rows = [
            feature_row(
                EntityType.HUNT_GROUP, "Sales", 2, members=("Front Desk",), extension="5001"
            ),
            feature_row(
                EntityType.HUNT_GROUP, "Night", 3, members=("Night Line",), extension="5002"
            ),
        ]
        assert summary(await run_rows(env.context(), rows)) == [("success", "created")] * 2
        state = await env.state("features,virtualLines")
        ids = {line["display_name"]: line["id"] for line in state["virtualLines"]}
        agents = {
            feature["name"]: [agent["id"] for agent in feature["agents"]]
            for feature in state["features"]
        }
        assert agents == {"Sales": [ids["Front Desk"]], "Night": [ids["Night Line"]]}
        await env.reset_counts()
        assert summary(await run_rows(env.context(), rows)) == [("success", "unchanged")] * 2
        assert writes(await env.counts()) == 0


async def test_a_listed_line_gone_before_its_details_is_absent(tmp_path: Path) -> None:
    """A line listed by the run but deleted before its details are read (404) is not found:
    the row creates it again instead of failing."""
    tenant = paris_tenant(virtualLines=[seeded("Front", "Desk", "2001")])
    async with environment(tmp_path, tenant) as env:
        ctx = env.context()
        await REGISTRY[EntityType.VIRTUAL_LINE].prepare(ctx, ROWS)
        [listed] = (await env.state("virtualLines"))["virtualLines"]
        await env.client.request("DELETE", f"/telephony/config/virtualLines/{listed['id']}")
        row = line_row("Front", "Desk", "2001")
        outcome = await run_one(ctx, row, prepare=False)
        assert summary([outcome]) == [("success", "created")]
        assert outcome.remote_id != listed["id"]
