"""kill -9 while ``webex-bulk run`` polls its move-users job, then the same command again: the
resumed run polls the job the killed one started (one job in all) and the user ends moved. The
simulator is its own process, so the job runs on while no run is there.
"""

from __future__ import annotations

import csv
import signal
from pathlib import Path

import pytest
from support import MOVE_HEADER, MOVE_JOB, MOVE_JOBS, move_tenant, until_sync, write_csv

from reliability.engine_process import CHILD_TIMEOUT, child_log, start_child
from webex_bulk.simulator import SimConfig, simulator_process

pytestmark = pytest.mark.timeout(180)

#: Child settings: quick polls, and a wait far longer than the test, so only the kill ends it.
POLLING = {"move_poll_interval": 0.05, "move_wait": 3600.0}


def test_kill9_while_polling_then_resume_polls_the_same_job(tmp_path: Path) -> None:
    """A run killed with -9 while it polls its move job leaves the job id behind; the resumed
    run neither validates nor starts again, polls that job to its end, and the row succeeds."""
    csv_path = write_csv(
        tmp_path / "move.csv",
        f"""
        {MOVE_HEADER}
        user,ann@example.com,Ann,Example,Branch,2002,
        """,
    )
    config = SimConfig(tenant_file=move_tenant(tmp_path / "tenant.json"), move_job_seconds=3600.0)
    run_dir = tmp_path / "run"
    with simulator_process(config) as sim:

        def polls() -> int:
            return int(sim.side("counts")["by_route"].get(f"GET {MOVE_JOB}", 0))

        killed = start_child(sim, csv_path, run_dir, **POLLING)
        until_sync(lambda: polls() >= 2, "the killed run polling its job")
        killed.send_signal(signal.SIGKILL)
        assert killed.wait(timeout=CHILD_TIMEOUT) == -signal.SIGKILL
        before = sim.side("counts")["by_route"]
        [job] = sim.side("state?types=moveJobs")["moveJobs"]
        assert job["status"] in {"STARTING", "STARTED"}

        resumed = start_child(sim, csv_path, run_dir, **POLLING)
        polled_before = polls()
        until_sync(lambda: polls() > polled_before, "the resumed run polling the job")
        assert [job["id"]] == sim.side("moveJobs/finish", {})["finished"]
        assert resumed.wait(timeout=CHILD_TIMEOUT) == 0, child_log(run_dir)
        after = sim.side("counts")["by_route"]
        creates = sim.side("creates")
        state = sim.side("state?types=people,locations,moveJobs")
    assert after[f"POST {MOVE_JOBS}"] == before[f"POST {MOVE_JOBS}"] == 2  # validate, start
    assert list(creates["moveJobs"].values()) == [1]
    assert [one["id"] for one in state["moveJobs"]] == [job["id"]]
    branch = next(loc["id"] for loc in state["locations"] if loc["name"] == "Branch")
    ann = next(person for person in state["people"] if person["email"] == "ann@example.com")
    assert (ann["line"]["location_id"], ann["line"]["extension"]) == (branch, "2002")
    with (run_dir / "success.csv").open(encoding="utf-8-sig", newline="") as handle:
        [row] = list(csv.DictReader(handle))
    assert job["id"] in row["_detail"]
