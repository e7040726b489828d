"""plan and run --plan against the simulator over real HTTP: old → new per field, what run would
refuse, and a saved plan applied exactly (a row changed since the plan is held as plan_stale)."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from support import aside, write_csv

from webex_bulk.engine import StopControl
from webex_bulk.error_handling import ConfigError, ExitCode, StateError
from webex_bulk.simulator import RunningSimulator

HEADER = (
    "entity_type,name,email,first_name,last_name,location,extension,members,state,time_zone,"
    "address1,city,postal_code,country"
)
HQ = "location,Paris HQ,,,,,,,CA,America/Los_Angeles,1 Main St,{city},95134,US"
LAB = "location,Lab,,,,,,,CA,America/Los_Angeles,2 Main St,{city},95134,US"
ANN = "user,,ann@example.com,Ann,Lee,Paris HQ,{extension},,,,,,,"


def tenant_file(tmp_path: Path, name: str, *rows: str) -> Path:
    """An input file of a header and rows."""
    return write_csv(tmp_path / name, "\n".join((HEADER, *rows)))


def plan_rows(path: Path) -> dict[str, dict[str, str]]:
    """plan.csv's rows by key."""
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return {row["_key"]: row for row in csv.DictReader(handle)}


async def put(sim: RunningSimulator, path: str, body: dict[str, Any]) -> None:
    """Change an object in the tenant as another admin would, through the API."""
    async with (
        aiohttp.ClientSession(headers=sim.headers) as session,
        session.put(f"{sim.base_url}{path}", json=body) as answer,
    ):
        assert answer.status < 300, await answer.text()


def city_of(sim: RunningSimulator, name: str) -> str:
    """The city the tenant holds for a location."""
    state = sim.state
    return state.location(state.location_by_name[name]).address.city


async def test_plan_shows_old_and_new_of_each_changed_field(
    simulator, run_engine, run_plan, tmp_path
) -> None:
    """An update's plan row says each differing field's current and planned value, in plan.csv's
    _old/_new cells and in the terminal's list of changes."""
    first = tenant_file(
        tmp_path, "v1.csv", HQ.format(city="San Jose"), ANN.format(extension="1001")
    )
    second = tenant_file(
        tmp_path, "v2.csv", HQ.format(city="Santa Clara"), ANN.format(extension="1002")
    )
    async with simulator() as sim:
        await run_engine(sim, first)
        plan = await run_plan(sim, second)
    rows = plan_rows(plan.path)
    assert rows["location:paris hq"]["_plan"] == "update"
    assert rows["location:paris hq"]["_old"] == "city=San Jose"
    assert rows["location:paris hq"]["_new"] == "city=Santa Clara"
    assert rows["user:ann@example.com"]["_old"] == "extension=1001"
    assert rows["user:ann@example.com"]["_new"] == "extension=1002"
    assert "      city: San Jose → Santa Clara" in plan.preview
    assert "      extension: 1001 → 1002" in plan.preview


async def test_plan_rejects_a_member_who_exists_nowhere(simulator, run_engine, run_plan, tmp_path):
    """A hunt group of a location the file creates, naming a member neither in the tenant nor in
    the file, plans as rejected unknown_reference, as run ends it."""
    path = write_csv(
        tmp_path / "hunt.csv",
        f"""
        {HEADER}
        {HQ.format(city="San Jose")}
        {ANN.format(extension="1001")}
        hunt_group,Sales,,,,Paris HQ,2001,ann@example.com;ghost@example.com,,,,,,
        hunt_group,Support,,,,Paris HQ,2002,ann@example.com,,,,,,
        """,
    )
    async with simulator() as sim:
        plan = await run_plan(sim, path)
        run = await run_engine(sim, path)
    rows = plan_rows(plan.path)
    assert rows["hunt_group:paris hq/sales"]["_plan"] == "rejected"
    assert rows["hunt_group:paris hq/sales"]["_reason"] == "unknown_reference"
    assert "ghost@example.com" in rows["hunt_group:paris hq/sales"]["_detail"]
    assert rows["hunt_group:paris hq/support"]["_plan"] == "create"
    assert [row["_reason"] for row in run.rows("rejected")] == ["unknown_reference"]


async def test_plan_and_run_reject_a_member_without_calling(
    simulator, run_engine, run_plan, tmp_path
) -> None:
    """A member who is a user of the org without Webex Calling is unknown_reference in plan and
    in run alike, and run sends no create for the hunt group."""
    path = write_csv(
        tmp_path / "nocalling.csv",
        f"""
        {HEADER}
        {HQ.format(city="San Jose")}
        hunt_group,Sales,,,,Paris HQ,2001,bob@example.com,,,,,,
        """,
    )
    async with simulator() as sim:
        await run_engine(sim, tenant_file(tmp_path, "loc.csv", HQ.format(city="San Jose")))
        async with (
            aiohttp.ClientSession(headers=sim.headers) as session,
            session.post(
                f"{sim.base_url}/people",
                json={"emails": ["bob@example.com"], "firstName": "Bob", "lastName": "Roe"},
            ) as answer,
        ):
            assert answer.status < 300, await answer.text()
        plan = await run_plan(sim, path)
        run = await run_engine(sim, path)
        creates = await aside(sim, "creates")
    verdict = plan_rows(plan.path)["hunt_group:paris hq/sales"]
    assert (verdict["_plan"], verdict["_reason"]) == ("rejected", "unknown_reference")
    assert "without Webex Calling" in verdict["_detail"]
    assert [row["_reason"] for row in run.rows("rejected")] == ["unknown_reference"]
    assert not creates.get("huntGroups")


async def test_run_with_a_plan_holds_a_row_changed_since_as_plan_stale(
    simulator, run_engine, run_plan, tmp_path
) -> None:
    """run --plan applies the planned updates, leaves a location changed in the tenant after the
    plan as it is (pending plan_stale), and writes nothing for rows the plan said unchanged."""
    first = tenant_file(
        tmp_path,
        "v1.csv",
        HQ.format(city="San Jose"),
        LAB.format(city="San Jose"),
        ANN.format(extension="1001"),
    )
    second = tenant_file(
        tmp_path,
        "v2.csv",
        HQ.format(city="Santa Clara"),
        LAB.format(city="Santa Clara"),
        ANN.format(extension="1001"),
    )
    saved = tmp_path / "plan.json"
    async with simulator() as sim:
        await run_engine(sim, first)
        plan = await run_plan(sim, second, plan_out=saved)
        lab_id = sim.state.location_by_name["Lab"]
        await put(sim, f"/locations/{lab_id}", {"address": {"city": "Campbell"}})
        before = await aside(sim, "counts")
        run = await run_engine(sim, second, plan_in=saved)
        after = await aside(sim, "counts")
        hq_city, lab_city = city_of(sim, "Paris HQ"), city_of(sim, "Lab")
    assert plan.counts == {"update": 2, "unchanged": 1}
    document = json.loads(saved.read_text(encoding="utf-8"))
    assert {row["plan"] for row in document["rows"]} == {"update", "unchanged"}
    pending = run.rows("pending")
    assert [(row["_key"], row["_reason"]) for row in pending] == [("location:lab", "plan_stale")]
    assert "Campbell" in pending[0]["_detail"]
    actions = {row["_key"]: row["_action"] for row in run.rows("success")}
    assert actions == {"location:paris hq": "updated", "user:ann@example.com": "unchanged"}
    assert (hq_city, lab_city) == ("Santa Clara", "Campbell")
    assert after["writes"] - before["writes"] == 1  # the one planned update, nothing else


async def test_an_unfinished_run_of_a_plan_resumes_only_with_that_plan(
    simulator, run_engine, run_plan, tmp_path
) -> None:
    """A run --plan stopped before its end refuses to resume without the plan (the rest would
    be written ungated) and resumes with it, writing only the planned change."""
    first = tenant_file(tmp_path, "v1.csv", HQ.format(city="San Jose"), LAB.format(city="San Jose"))
    second = tenant_file(
        tmp_path, "v2.csv", HQ.format(city="Santa Clara"), LAB.format(city="San Jose")
    )
    saved = tmp_path / "plan.json"
    async with simulator() as sim:
        await run_engine(sim, first)
        await run_plan(sim, second, plan_out=saved)
        stop = StopControl()
        stop.request("stopped before the first row", ExitCode.SIGTERM)
        stopped = await run_engine(sim, second, plan_in=saved, stop=stop)
        before = await aside(sim, "counts")
        with pytest.raises(StateError, match="unfinished run applying the saved plan"):
            await run_engine(sim, second)
        resumed = await run_engine(sim, second, plan_in=saved)
        after = await aside(sim, "counts")
    assert stopped.exit_code == ExitCode.SIGTERM
    assert resumed.exit_code == ExitCode.OK
    assert after["writes"] - before["writes"] == 1  # the planned update of Paris HQ alone


async def test_run_refuses_a_plan_of_another_file(simulator, run_engine, run_plan, tmp_path):
    """A plan made from another input file is refused before any request, naming --plan."""
    planned = tenant_file(tmp_path, "v1.csv", HQ.format(city="San Jose"))
    other = tenant_file(tmp_path, "v2.csv", HQ.format(city="Santa Clara"))
    saved = tmp_path / "plan.json"
    async with simulator() as sim:
        await run_plan(sim, planned, plan_out=saved)
        before = await aside(sim, "counts")
        with pytest.raises(ConfigError, match="another input file") as refused:
            await run_engine(sim, other, plan_in=saved)
        after = await aside(sim, "counts")
    assert refused.value.key == "--plan"
    assert after["writes"] == before["writes"] == 0


async def test_run_refuses_a_plan_for_another_org(simulator, run_engine, run_plan, tmp_path):
    """A plan made for another org is refused before any write (the token's org differs)."""
    path = tenant_file(tmp_path, "v1.csv", HQ.format(city="San Jose"))
    saved = tmp_path / "plan.json"
    async with simulator() as sim:
        await run_plan(sim, path, plan_out=saved)
        document = json.loads(saved.read_text(encoding="utf-8"))
        document["org_id"] = "another-org"
        saved.write_text(json.dumps(document), encoding="utf-8")
        with pytest.raises(ConfigError, match="made for org 'another-org'"):
            await run_engine(sim, path, plan_in=saved)
        after = await aside(sim, "counts")
    assert after["writes"] == 0


async def test_plan_checks_a_row_of_a_location_the_file_creates_as_run_does(
    simulator, run_engine, run_plan, tmp_path
) -> None:
    """A user of a new location whose e-mail is a calling user elsewhere plans a move from
    where it is (run's rule), not a create, and run then moves it."""
    first = tenant_file(
        tmp_path, "v1.csv", HQ.format(city="San Jose"), ANN.format(extension="1001")
    )
    moved = write_csv(
        tmp_path / "moved.csv",
        f"""
        {HEADER}
        {LAB.format(city="San Jose")}
        user,,ann@example.com,Ann,Lee,Lab,1001,,,,,,,
        """,
    )
    async with simulator() as sim:
        await run_engine(sim, first)
        plan = await run_plan(sim, moved)
        run = await run_engine(sim, moved)
    verdict = plan_rows(plan.path)["user:ann@example.com"]
    assert (verdict["_plan"], verdict["_fields"].split(";")[0]) == ("move", "location")
    assert verdict["_new"].startswith("location=Lab")
    [moved] = [row for row in run.rows("success") if row["_key"] == "user:ann@example.com"]
    assert moved["_detail"].startswith("moved ann@example.com")


async def test_a_planned_create_found_made_by_someone_else_is_held(
    simulator, run_engine, run_plan, tmp_path
) -> None:
    """A location the plan would create, created by another admin before run --plan, ends
    pending plan_stale and keeps what that admin wrote."""
    path = tenant_file(tmp_path, "v1.csv", HQ.format(city="San Jose"))
    saved = tmp_path / "plan.json"
    body = {
        "name": "Paris HQ",
        "timeZone": "America/Los_Angeles",
        "preferredLanguage": "en_us",
        "announcementLanguage": "en_us",
        "address": {
            "address1": "9 Other St",
            "city": "Campbell",
            "state": "CA",
            "postalCode": "95008",
            "country": "US",
        },
    }
    async with simulator() as sim:
        plan = await run_plan(sim, path, plan_out=saved)
        async with (
            aiohttp.ClientSession(headers=sim.headers) as session,
            session.post(f"{sim.base_url}/locations", json=body) as answer,
        ):
            assert answer.status < 300, await answer.text()
        run = await run_engine(sim, path, plan_in=saved)
        city = city_of(sim, "Paris HQ")
    assert plan.counts == {"create": 1}
    assert [(row["_key"], row["_reason"]) for row in run.rows("pending")] == [
        ("location:paris hq", "plan_stale")
    ]
    assert city == "Campbell"


async def test_a_saved_plan_holds_no_secret(simulator, run_engine, run_plan, tmp_path) -> None:
    """plan.json of a voicemail group update carries its compared values, never the passcode."""
    header = "entity_type,name,location,extension,passcode,notification_email"
    first = tenant_file(tmp_path, "loc.csv", HQ.format(city="San Jose"))
    group = write_csv(
        tmp_path / "vm.csv",
        f"""
        {header}
        voicemail_group,Support VM,Paris HQ,4501,739182,
        """,
    )
    changed = write_csv(
        tmp_path / "vm2.csv",
        f"""
        {header}
        voicemail_group,Support VM,Paris HQ,4502,739182,
        """,
    )
    saved = tmp_path / "plan.json"
    async with simulator() as sim:
        await run_engine(sim, first)
        await run_engine(sim, group)
        plan = await run_plan(sim, changed, plan_out=saved)
    text = saved.read_text(encoding="utf-8")
    assert plan.counts == {"update": 1}
    assert "4501" in text
    assert "739182" not in text
    assert "739182" not in plan.path.read_text(encoding="utf-8")
