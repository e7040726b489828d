"""The engine end to end against the simulator over real HTTP: outcomes, idempotency, plan."""

from __future__ import annotations

import collections
from pathlib import Path

from support import aside, write_csv

from webex_bulk.config import Settings
from webex_bulk.input.data_pipeline import read_rows, scan

EXAMPLE = Path(__file__).parents[1] / "examples" / "tenant.csv"


def lines_in_outputs(run) -> collections.Counter[int]:  # type: ignore[no-untyped-def]
    """How often each input line appears across success, rejected and pending."""
    seen: collections.Counter[int] = collections.Counter()
    for status in ("success", "rejected", "pending"):
        seen.update(int(row["_line"]) for row in run.rows(status))
    return seen


def input_lines(path: Path) -> set[int]:
    """The line numbers of every row of an input file."""
    settings = Settings()
    return {item.line for item in read_rows(scan(path, settings), settings)}


async def test_example_tenant_provisions_every_valid_row(simulator, run_engine) -> None:
    """The example tenant ends with each row in exactly one output and no duplicate object."""
    async with simulator() as sim:
        run = await run_engine(sim, EXAMPLE)
        creates = await aside(sim, "creates")
    seen = lines_in_outputs(run)
    assert set(seen) == input_lines(EXAMPLE)
    assert set(seen.values()) == {1}
    assert run.exit_code == 3  # the example holds deliberately bad rows
    assert len(run.rows("success")) == 89
    assert {row["_reason"] for row in run.rows("pending")} == {"out_of_scope"}
    assert creates["duplicates"] == {}
    assert len(creates["people"]) == 39


async def test_concurrency_sized_from_latency_provisions_the_same_rows(
    simulator, run_engine
) -> None:
    """Without --concurrency (64 workers, requests in flight sized from the latency) the example
    tenant ends exactly as with pinned workers: every row once, no duplicate object."""
    async with simulator() as sim:
        run = await run_engine(sim, EXAMPLE, concurrency="auto")
        creates = await aside(sim, "creates")
    assert set(lines_in_outputs(run).values()) == {1}
    assert len(run.rows("success")) == 89
    assert creates["duplicates"] == {}
    assert len(creates["people"]) == 39


async def test_rerun_of_a_provisioned_file_sends_zero_writes(simulator, run_engine) -> None:
    """A fresh run of an already provisioned file finds every row unchanged and writes nothing."""
    async with simulator() as sim:
        first = await run_engine(sim, EXAMPLE)
        before = await aside(sim, "counts")
        second = await run_engine(sim, EXAMPLE, fresh=True)
        after = await aside(sim, "counts")
    assert after["writes"] == before["writes"]
    assert len(second.rows("success")) == len(first.rows("success"))
    assert {row["_action"] for row in second.rows("success")} == {"unchanged"}


async def test_resuming_a_completed_run_sends_nothing(simulator, run_engine) -> None:
    """Running the same command after it completed resumes a finished run: no request at all."""
    async with simulator() as sim:
        await run_engine(sim, EXAMPLE)
        before = await aside(sim, "counts")
        again = await run_engine(sim, EXAMPLE)
        after = await aside(sim, "counts")
    # Preflight reads only; not a single row request.
    assert after["writes"] == before["writes"]
    assert again.exit_code == 3
    assert set(lines_in_outputs(again).values()) == {1}


async def test_plan_lists_creates_on_an_empty_tenant_and_nothing_after(
    simulator, run_engine, run_plan
) -> None:
    """Plan on an empty tenant reports creates (exit 2); after a run, nothing (exit 0); no write."""
    async with simulator() as sim:
        empty = await run_plan(sim, EXAMPLE)
        after_plan = await aside(sim, "counts")
        await run_engine(sim, EXAMPLE)
        before = await aside(sim, "counts")
        done = await run_plan(sim, EXAMPLE)
        after = await aside(sim, "counts")
    assert after_plan["writes"] == 0
    assert empty.exit_code == 2
    assert empty.counts["create"] == 89
    assert done.exit_code == 0
    assert done.counts["unchanged"] == 89
    assert after["writes"] == before["writes"]


async def test_update_changes_only_the_differing_rows(simulator, run_engine, tmp_path) -> None:
    """A changed title updates that user only; every other row stays unchanged."""
    async with simulator() as sim:
        await run_engine(sim, EXAMPLE)
        text = EXAMPLE.read_text(encoding="utf-8")
        changed = tmp_path / "changed.csv"
        row = next(line for line in text.splitlines() if line.startswith("user,"))
        fields = row.split(",")
        fields[11] = "Chief Changer"  # title
        changed.write_text(text.replace(row, ",".join(fields)), encoding="utf-8")
        run = await run_engine(sim, changed)
    actions = collections.Counter(r["_action"] for r in run.rows("success"))
    assert actions == {"unchanged": 88, "updated": 1}


async def test_dependency_failure_skips_dependent_rows_without_requests(
    simulator, run_engine, tmp_path
) -> None:
    """Users of a location that failed end pending dependency_failed and cost no request."""
    csv_path = write_csv(
        tmp_path / "dep.csv",
        """
        entity_type,name,time_zone,address1,city,state,postal_code,country,email,first_name,last_name,location,extension
        location,Bad Place,Europe/Nowhere,1 Road,Town,ST,12345,US,,,,,
        user,,,,,,,,a@example.com,Ann,Lee,Bad Place,2001
        user,,,,,,,,b@example.com,Bo,Kim,Bad Place,2002
        """,
    )
    async with simulator() as sim:
        run = await run_engine(sim, csv_path)
        counts = await aside(sim, "counts")
    pending = run.rows("pending")
    assert {r["_reason"] for r in pending} == {"dependency_failed"}
    assert len(pending) == 2
    assert "location:bad place" in pending[0]["_detail"]
    assert counts["writes"] == 0
    assert not any("people" in route and "POST" in route for route in counts["by_route"])


async def test_a_resumed_summary_counts_rows_under_their_entity_type(
    simulator, run_engine, tmp_path
) -> None:
    """Rows done in an earlier run count under their journal's entity type, a blank one too."""
    csv_path = write_csv(
        tmp_path / "blank.csv",
        """
        entity_type,name,time_zone,address1,city,state,postal_code,country
        location,Blank Lab,America/New_York,1 Main St,Boston,MA,02110,US
        ,Nameless,America/New_York,2 Main St,Boston,MA,02110,US
        """,
    )
    async with simulator() as sim:
        first = await run_engine(sim, csv_path)
        resumed = await run_engine(sim, csv_path)
    by_type = first.result.summary["by_entity_type"]
    assert by_type == {"": {"rejected": 1}, "location": {"success": 1}}
    assert resumed.result.summary["by_entity_type"] == by_type


async def test_plan_and_run_agree_when_a_duplicate_of_a_prerequisite_is_rejected(
    simulator, run_engine, run_plan, tmp_path
) -> None:
    """A rejected duplicate of a location blocks neither the run nor the plan of its users."""
    csv_path = write_csv(
        tmp_path / "dup.csv",
        """
        entity_type,name,time_zone,address1,city,state,postal_code,country,email,first_name,last_name,location,extension
        location,Twice,America/New_York,1 Main St,Boston,MA,02110,US,,,,,
        location,Twice,America/New_York,1 Main St,Boston,MA,02110,US,,,,,
        user,,,,,,,,t@example.com,Tia,Ode,Twice,2001
        """,
    )
    async with simulator() as sim:
        plan = await run_plan(sim, csv_path)
        run = await run_engine(sim, csv_path)
    assert plan.counts == {"rejected": 1, "create": 2}
    assert [r["_reason"] for r in run.rows("rejected")] == ["duplicate_row"]
    assert len(run.rows("success")) == 2
