"""Moving calling users through the engine against the simulator over real HTTP: ``plan`` shows
the move, ``run`` moves the user with its line through the move-users job, a refused move ends
``rejected`` with the job's reason, and a busy org is waited out."""

from __future__ import annotations

import asyncio
import csv
from pathlib import Path
from typing import Any

import aiohttp
from support import (
    MOVE_HEADER,
    MOVE_JOB,
    MOVE_JOBS,
    FakeClock,
    aside,
    move_tenant,
    person_state,
    until,
    write_csv,
)

from webex_bulk.simulator import SimConfig, running_simulator

#: Engine settings of these tests: short polls, a bounded wait.
POLLING = {"move_poll_interval": 0.01, "move_wait": 60.0}


def location_ids(state: dict[str, Any]) -> dict[str, str]:
    """Location name → id in a ``/_sim/state`` dump."""
    return {location["name"]: location["id"] for location in state["locations"]}


async def test_plan_shows_the_move_and_run_moves_the_user_once(
    simulator, run_engine, run_plan, tmp_path: Path
) -> None:
    """``plan`` lists the row as a move from HQ to Branch; ``run`` validates, starts one job,
    polls it and the user ends in Branch with the row's extension and its own number; the
    second run sends no write."""
    csv_path = write_csv(
        tmp_path / "move.csv",
        f"""
        {MOVE_HEADER}
        user,ann@example.com,Ann,Example,Branch,2002,
        """,
    )
    tenant = move_tenant(tmp_path / "tenant.json")
    async with simulator(tenant_file=tenant, move_job_seconds=0.0) as sim:
        plan = await run_plan(sim, csv_path)
        with plan.path.open(encoding="utf-8-sig", newline="") as handle:
            [planned] = list(csv.DictReader(handle))
        assert (planned["_plan"], planned["_fields"]) == ("move", "location;extension")
        assert planned["_detail"] == "from 'HQ' to 'Branch'"
        first = await run_engine(sim, csv_path, **POLLING)
        [row] = first.rows("success")  # before the next pass sets the files aside
        counts = await aside(sim, "counts")
        creates = await aside(sim, "creates")
        state = await aside(sim, "state?types=locations,people,numbers")
        again = await run_engine(sim, csv_path, **POLLING)
        after = await aside(sim, "counts")
    assert row["_action"] == "updated"
    assert row["_detail"].startswith("moved ann@example.com from 'HQ' to 'Branch'")
    assert counts["by_route"][f"POST {MOVE_JOBS}"] == 2  # validate, then the move
    assert counts["by_route"][f"GET {MOVE_JOB}"] >= 1
    assert list(creates["moveJobs"].values()) == [1]
    branch = location_ids(state)["Branch"]
    ann = next(person for person in state["people"] if person["email"] == "ann@example.com")
    assert ann["line"] == {"location_id": branch, "extension": "2002", "number": "+13125550101"}
    number = next(n for n in state["numbers"] if n["number"] == "+13125550101")
    assert number["location_id"] == branch
    [unchanged] = again.rows("success")
    assert unchanged["_action"] == "unchanged"
    assert after["writes"] == counts["writes"]


async def test_a_move_refused_by_validation_ends_rejected_with_the_jobs_reason(
    simulator, run_engine, tmp_path: Path
) -> None:
    """Moving Ann to Branch on an extension Bob holds there: validation refuses (4202), the row
    ends ``rejected`` ``move_refused`` with that message, and no job is started."""
    csv_path = write_csv(
        tmp_path / "refused.csv",
        f"""
        {MOVE_HEADER}
        user,ann@example.com,Ann,Example,Branch,2001,
        """,
    )
    tenant = move_tenant(tmp_path / "tenant.json")
    async with simulator(tenant_file=tenant, move_job_seconds=0.0) as sim:
        run = await run_engine(sim, csv_path, **POLLING)
        creates = await aside(sim, "creates")
        ann = await person_state(sim, "ann@example.com")
        state = await aside(sim, "state?types=locations")
    [row] = run.rows("rejected")
    assert row["_reason"] == "move_refused"
    assert "[Error 4202]" in row["_detail"]
    assert "from 'HQ' to 'Branch'" in row["_detail"]
    assert creates["moveJobs"] == {}
    assert ann["line"]["location_id"] == location_ids(state)["HQ"]


async def test_a_busy_org_is_waited_out_then_the_user_moves(run_engine, tmp_path: Path) -> None:
    """While another move-users job runs (started outside the run), the start answers 409; the
    row waits and tries again, and moves once the other job has ended."""
    clock = FakeClock()  # the simulator's clock: jobs end only when the test moves it
    csv_path = write_csv(
        tmp_path / "busy.csv",
        f"""
        {MOVE_HEADER}
        user,ann@example.com,Ann,Example,Branch,1001,
        """,
    )
    config = SimConfig(tenant_file=move_tenant(tmp_path / "tenant.json"), move_job_seconds=60.0)
    async with running_simulator(config, clock=clock) as sim:
        state = await aside(sim, "state?types=locations,people")
        branch = location_ids(state)["Branch"]
        cy = next(person["id"] for person in state["people"] if person["email"] == "cy@example.com")
        body = {"usersList": [{"locationId": branch, "validate": False, "users": [{"userId": cy}]}]}
        async with (
            aiohttp.ClientSession(headers=sim.headers) as session,
            session.post(f"{sim.root_url}{MOVE_JOBS}", json=body) as answer,
        ):
            assert answer.status == 201

        async def end_the_jobs() -> None:
            async def refused() -> bool:
                return (await aside(sim, "counts"))["by_status"].get("409", 0) >= 1

            await until(refused, "a 409 for the second job")
            clock.advance(61)  # the other job ends

            async def started() -> bool:
                return len((await aside(sim, "state?types=moveJobs"))["moveJobs"]) == 2

            await until(started, "the row's own job")
            clock.advance(61)

        run, _ = await asyncio.gather(run_engine(sim, csv_path, **POLLING), end_the_jobs())
        creates = await aside(sim, "creates")
        ann = await person_state(sim, "ann@example.com")
        counts = await aside(sim, "counts")
    [row] = run.rows("success")
    assert row["_detail"].startswith("moved ann@example.com from 'HQ' to 'Branch'")
    assert ann["line"]["location_id"] == branch
    assert sorted(creates["moveJobs"].values()) == [1, 1]  # Cy's job and Ann's, one each
    # Cy's start; Ann's validation and refused start (at least once), then both again.
    assert counts["by_route"][f"POST {MOVE_JOBS}"] >= 5
    assert counts["by_status"]["409"] >= 1
