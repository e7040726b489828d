"""The engine's commands as an admin types them: run, plan, preflight, status and their exit codes.

The simulator runs as its own process; the CLI talks to it over real HTTP on 127.0.0.1.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from webex_bulk.cli.commands import main
from webex_bulk.engine import stop_note, window_seconds
from webex_bulk.simulator import SimulatorProcess, simulator_process
from webex_bulk.state import RunLock

EXAMPLE = Path(__file__).parents[1] / "examples" / "tenant.csv"


@pytest.fixture(scope="module")
def sim() -> Iterator[SimulatorProcess]:
    """One simulator process for the commands of this module."""
    with simulator_process() as process:
        yield process


def invoke(sim: SimulatorProcess, tmp_path: Path, *args: str, token: str | None = None) -> Result:
    """Run ``webex-bulk ARGS`` against the simulator with a token in the environment."""
    env = {
        "WEBEX_TOKEN": token if token is not None else sim.token,
        "WEBEX_BULK_BASE_URL": sim.base_url,
        "WEBEX_BULK_RUNS_ROOT": str(tmp_path / "runs"),
        "WEBEX_BULK_BACKOFF_BASE": "0",
        "WEBEX_BULK_RATE": "500",
    }
    return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)


def test_plan_run_plan_status_on_the_example(sim: SimulatorProcess, tmp_path: Path) -> None:
    """plan --detailed-exitcode says changes (2), run ends with bad rows (3), then nothing (0)."""
    sim.side("reset", {})
    before = invoke(sim, tmp_path, "plan", "--detailed-exitcode", str(EXAMPLE))
    run = invoke(sim, tmp_path, "run", str(EXAMPLE))
    after = invoke(sim, tmp_path, "plan", "--detailed-exitcode", str(EXAMPLE))
    status = invoke(sim, tmp_path, "status")
    assert before.exit_code == 2, before.output
    assert "create 89" in before.output
    assert run.exit_code == 3, run.output
    assert "success 89" in run.output
    assert after.exit_code == 0, after.output
    assert "unchanged 89" in after.output
    assert json.loads(status.output)["counts"]["success"] == 89


def test_preflight_prints_a_checklist_and_passes(sim: SimulatorProcess, tmp_path: Path) -> None:
    """preflight checks the token, scopes and licenses and exits 0 on a healthy tenant; the
    example's device models are all supported (a virtual line is no device without a model)."""
    result = invoke(sim, tmp_path, "preflight", str(EXAMPLE))
    assert result.exit_code == 0, result.output
    assert "[ok]   token: works for admin@example.com" in result.output
    assert "[FAIL]" not in result.output
    assert "[ok]   device models" in result.output


def test_a_refused_token_is_fatal_with_exit_1(sim: SimulatorProcess, tmp_path: Path) -> None:
    """A token the API refuses stops the run before any write, with exit 1 and no traceback."""
    result = invoke(sim, tmp_path, "run", str(EXAMPLE), token="not-a-valid-token")
    assert result.exit_code == 1
    assert "token" in result.output
    assert "Traceback" not in result.output
    assert "not-a-valid-token" not in result.output


def test_no_token_at_all_is_a_clear_error(tmp_path: Path) -> None:
    """Without any token the run says which variables to set, exit 1."""
    env = {"WEBEX_TOKEN": "", "WEBEX_BULK_TOKEN": "", "WEBEX_BULK_TOKEN_FILE": ""}
    result = CliRunner().invoke(main, ["run", str(EXAMPLE)], env=env)
    assert result.exit_code == 1
    assert "WEBEX_TOKEN" in result.output


def test_a_locked_run_directory_exits_1(sim: SimulatorProcess, tmp_path: Path) -> None:
    """A second run on a locked run directory exits 1 and names the holder."""
    run_dir = tmp_path / "held"
    run_dir.mkdir()
    with RunLock(run_dir):
        result = invoke(sim, tmp_path, "run", str(EXAMPLE), "--run-dir", str(run_dir))
    assert result.exit_code == 1
    assert "locked" in result.output


def test_limit_runs_a_canary_of_the_first_rows(sim: SimulatorProcess, tmp_path: Path) -> None:
    """--limit 5 gives outcomes to the first five rows only; the full run does the rest."""
    sim.side("reset", {})
    canary = invoke(sim, tmp_path, "run", str(EXAMPLE), "--limit", "5")
    full = invoke(sim, tmp_path, "run", str(EXAMPLE))
    assert canary.exit_code == 0, canary.output
    assert "success 5" in canary.output
    assert full.exit_code == 3
    assert "success 89" in full.output


def test_only_runs_the_named_entity_types(sim: SimulatorProcess, tmp_path: Path) -> None:
    """--only location creates the three valid locations of the example and nothing else."""
    sim.side("reset", {})
    result = invoke(sim, tmp_path, "run", str(EXAMPLE), "--only", "location")
    counts = sim.side("counts")
    creates = sim.side("creates")
    assert result.exit_code == 3, result.output  # the example has one bad location row
    assert "success 3  rejected 1  pending 0" in result.output
    assert creates["locations"] == {"San Jose HQ": 1, "Santa Clara Lab": 1, "London Office": 1}
    writes = {route: n for route, n in counts["by_route"].items() if not route.startswith("GET")}
    # each location: the location itself, then its calling settings; nothing of another type
    assert writes == {"POST /v1/locations": 3, "POST /v1/telephony/config/locations": 3}
    assert counts["writes"] == 6


def test_no_create_people_reaches_plan_and_run(sim: SimulatorProcess, tmp_path: Path) -> None:
    """plan and run --no-create-people leave an absent person to the directory: pending
    not_in_directory in both, exit 3 for the run, no person created."""
    sim.side("reset", {})
    path = tmp_path / "directory-only.csv"
    path.write_text(
        "entity_type,name,time_zone,address1,city,state,postal_code,country,email,first_name,"
        "last_name,location,extension\n"
        "location,Austin,America/Chicago,1 Congress Ave,Austin,TX,78701,US,,,,,\n"
        "user,,,,,,,,new.hire@example.com,New,Hire,Austin,4001\n",
        encoding="utf-8",
    )
    plan = invoke(sim, tmp_path, "plan", "--no-create-people", str(path))
    run = invoke(sim, tmp_path, "run", "--no-create-people", str(path))
    assert plan.exit_code == 0, plan.output
    assert "plan: create 1, pending 1" in plan.output
    assert run.exit_code == 3, run.output
    assert "success 1  rejected 0  pending 1" in run.output
    assert sim.side("creates")["people"] == {}


def test_bad_only_value_is_a_usage_error(sim: SimulatorProcess, tmp_path: Path) -> None:
    """--only with an unknown type is a usage error naming the type (exit 64)."""
    result = invoke(sim, tmp_path, "run", str(EXAMPLE), "--only", "usr")
    assert result.exit_code == 64
    assert "usr" in result.output


@pytest.mark.parametrize(
    ("deadline", "duration", "expected"),
    [
        (None, "8h", 8 * 3600),
        (None, "1h30m", 5400),
        ("06:00", None, 3600),  # now is 05:00
        ("04:00", None, 23 * 3600),  # already past today: tomorrow
        ("06:00", "10m", 600),  # the earlier wins
        (None, None, None),
    ],
)
def test_window_seconds(deadline: str | None, duration: str | None, expected: float) -> None:
    """--deadline and --max-duration become seconds left; the earlier of the two wins."""
    now = datetime.datetime(2026, 1, 1, 5, 0)
    assert window_seconds(deadline, duration, now) == expected


@pytest.mark.parametrize(("deadline", "duration"), [("6am", None), (None, "8 hours")])
def test_window_seconds_refuses_unreadable_values(
    deadline: str | None, duration: str | None
) -> None:
    """An unreadable --deadline or --max-duration is an error saying how to write it."""
    with pytest.raises(ValueError, match="write it"):
        window_seconds(deadline, duration, datetime.datetime(2026, 1, 1))


def test_the_stop_time_is_said_and_a_past_deadline_means_tomorrow() -> None:
    """--deadline 04:00 at 05:00 stops at 04:00 tomorrow, and the note says so."""
    now = datetime.datetime(2026, 1, 1, 5, 0)
    later = stop_note("06:00", window_seconds("06:00", None, now) or 0, now)
    past = stop_note("04:00", window_seconds("04:00", None, now) or 0, now)
    assert later == "the run stops by 2026-01-01 06:00 local time"
    assert past == (
        "the run stops by 2026-01-02 04:00 local time (04:00 has already passed today, so tomorrow)"
    )


def test_a_run_with_a_time_window_logs_its_stop_time(sim: SimulatorProcess, tmp_path: Path) -> None:
    """run --max-duration logs run.window with the resolved stop time before the first row."""
    sim.side("reset", {})
    result = invoke(
        sim, tmp_path, "run", str(EXAMPLE), "--only", "location", "--max-duration", "8h"
    )
    assert result.exit_code == 3, result.output
    assert "run.window" in result.stderr
    assert "the run stops by" in result.stderr


def test_run_refuses_the_plan_of_another_file_in_one_line(
    sim: SimulatorProcess, tmp_path: Path
) -> None:
    """plan --out then run --plan with an edited file: exit 1, one line naming --plan, no write."""
    sim.side("reset", {})
    saved = tmp_path / "plan.json"
    planned = invoke(sim, tmp_path, "plan", "--out", str(saved), str(EXAMPLE))
    edited = tmp_path / "edited.csv"
    edited.write_text(EXAMPLE.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    refused = invoke(sim, tmp_path, "run", "--plan", str(saved), str(edited))
    assert planned.exit_code == 0, planned.output
    assert f"plan saved: {saved}" in planned.output
    assert "changes (field: now → planned):" in planned.output
    assert refused.exit_code == 1, refused.output
    message = [line for line in refused.output.splitlines() if "--plan" in line]
    assert message == [
        line for line in refused.output.splitlines() if line.startswith("webex-bulk: ")
    ]
    assert "another input file" in message[0]
    assert "Traceback" not in refused.output
    assert sim.side("counts")["writes"] == 0
