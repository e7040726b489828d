"""The nightly job's story through the ``webex-bulk`` command against a simulator process.

Night 1 is killed with SIGKILL in a container; night 2 (another container) takes over its lock
and finishes with a transient pending row; night 3, on the same file, reconciles a drift of the
tenant and retries that row.
"""

from __future__ import annotations

import csv
import datetime
import json
import math
import socket
from pathlib import Path
from typing import Any

from click.testing import CliRunner
from prometheus_client.parser import text_string_to_metric_families

from reliability.engine_process import child_log, run_child
from webex_bulk.cli.commands import main
from webex_bulk.simulator import SimConfig, SimulatorProcess, simulator_process

COLUMNS = "entity_type,name,state,time_zone,address1,city,postal_code,country"
#: Six locations; the last one already exists in the tenant with another address.
LOCATIONS = [
    ("Night Harbor", "100 Pier Road"),
    ("Night Summit", "200 Ridge Road"),
    ("Night Valley", "300 Creek Road"),
    ("Night Meadow", "400 Field Road"),
    ("Night Canyon", "500 Gorge Road"),
    ("Night Depot", "600 Rail Road"),
]
EXISTING = ("Night Depot", "1 Old Road")  # makes its row an update (a PUT)
DRIFT = ("Night Harbor", "999 Drifted Road")  # a change made by hand in the tenant after night 2
#: Settings of every night: one worker and a commit per outcome, so the kill lands mid-run.
NIGHT = {"concurrency": 1, "checkpoint_every": 1}


def location_file(path: Path, rows: list[tuple[str, str]]) -> Path:
    """An input file of locations in California with these names and first address lines."""
    lines = [COLUMNS] + [
        f"location,{name},CA,America/Los_Angeles,{address},San Jose,95134,US"
        for name, address in rows
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def as_another_container(run_dir: Path) -> dict[str, Any]:
    """Rewrite night 1's lock as its container left it: another hostname, the lease run out."""
    lock = run_dir / "run.lock"
    record = json.loads(lock.read_text(encoding="utf-8"))
    past = datetime.datetime.now(datetime.UTC) - datetime.timedelta(hours=20)
    record |= {
        "host": "webex-bulk-nightly-28471-x7k2p",
        "heartbeat": past.isoformat(timespec="seconds"),
        "expires": (past + datetime.timedelta(minutes=2)).isoformat(timespec="seconds"),
    }
    lock.write_text(json.dumps(record), encoding="utf-8")
    return record


def status_of(run_dir: Path) -> dict[str, Any]:
    """``webex-bulk status RUN_DIR`` as JSON."""
    result = CliRunner().invoke(main, ["status", str(run_dir)], catch_exceptions=False)
    document: dict[str, Any] = json.loads(result.output)
    return document


def rows_of(run_dir: Path, status: str) -> dict[str, dict[str, str]]:
    """The rows of one output CSV by location name."""
    with (run_dir / f"{status}.csv").open(newline="", encoding="utf-8-sig") as handle:
        return {row["name"]: row for row in csv.DictReader(handle)}


def writes(sim: SimulatorProcess) -> dict[str, int]:
    """Write requests the simulator has answered, by route."""
    by_route = sim.side("counts")["by_route"]
    return {route: n for route, n in by_route.items() if not route.startswith("GET")}


def metrics_flags(run_dir: Path) -> tuple[str, ...]:
    """``--metrics-file`` beside the run directory, as a textfile collector would read it."""
    return ("--metrics-file", str(run_dir.parent / "webex_bulk.prom"))


def check_metrics(run_dir: Path, night: int, exit_code: int) -> None:
    """The night's metrics file parses as Prometheus text; a night that ended records its exit
    code and stopped running, a killed one was last written while running."""
    text = (run_dir.parent / "webex_bulk.prom").read_text(encoding="utf-8")
    samples = {
        sample.name: sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if not sample.labels
    }
    if exit_code < 0:  # killed: no end was written
        assert samples["webex_bulk_running"] == 1, night
        assert math.isnan(samples["webex_bulk_exit_code"]), night
        return
    assert samples["webex_bulk_running"] == 0, night
    assert samples["webex_bulk_exit_code"] == exit_code, night
    assert samples["webex_bulk_last_success_timestamp_seconds"] > 0, night


def test_three_nights_kill_takeover_reconcile(tmp_path: Path) -> None:
    """Night 1 killed by SIGKILL in a container, night 2 takes over and ends 3 with a transient
    pending row, night 3 reconciles a drift and retries that row, ending 0."""
    nightly = location_file(tmp_path / "nightly.csv", LOCATIONS)
    run_dir = tmp_path / "nightly"
    with simulator_process(SimConfig(seed=13)) as sim:
        sim.side("reset", {})
        seeded = run_child(sim, location_file(tmp_path / "seed.csv", [EXISTING]), tmp_path / "s")
        assert seeded == 0, child_log(tmp_path / "s")

        # From now until night 3 every update answers 503: the existing location's row ends
        # pending (retries_exhausted), a transient reason; creates are POSTs and go through.
        sim.side("config", {"error_probability": {"PUT": 1.0}, "error_statuses": [503]})
        night1 = run_child(
            sim,
            nightly,
            run_dir,
            point="kill_after_committed",
            at=1,
            total=6,
            flags=metrics_flags(run_dir),
            **NIGHT,
        )
        assert night1 == -9, child_log(run_dir)
        check_metrics(run_dir, 1, night1)
        assert 1 <= status_of(run_dir)["done"] < 6
        assert status_of(run_dir)["lock"] == "stale"  # this host: the pid is gone
        left = as_another_container(run_dir)
        assert left["host"] != socket.gethostname()
        assert status_of(run_dir)["lock"] == "stale"  # another host: the lease ran out

        night2 = run_child(sim, nightly, run_dir, flags=metrics_flags(run_dir), **NIGHT)
        assert night2 == 3, child_log(run_dir)
        check_metrics(run_dir, 2, night2)
        assert "lock.stale" in child_log(run_dir) or "took over" in child_log(run_dir)
        pending = rows_of(run_dir, "pending")
        assert list(pending) == [EXISTING[0]]
        assert pending[EXISTING[0]]["_reason"] == "retries_exhausted"
        assert len(rows_of(run_dir, "success")) == 5
        assert not (run_dir / "run.lock").exists()

        sim.side("config", {"error_probability": {"PUT": 0.0}})  # nested maps merge by key
        drifted = run_child(sim, location_file(tmp_path / "drift.csv", [DRIFT]), tmp_path / "d")
        assert drifted == 0, child_log(tmp_path / "d")
        before = writes(sim)

        night3 = run_child(sim, nightly, run_dir, flags=metrics_flags(run_dir), **NIGHT)
        assert night3 == 0, child_log(run_dir)
        check_metrics(run_dir, 3, night3)
        after = writes(sim)
        sent = {route: n - before.get(route, 0) for route, n in after.items()}
        sent = {route: n for route, n in sent.items() if n}
        success = rows_of(run_dir, "success")
        assert len(success) == 6
        assert {name for name, row in success.items() if row["_action"] == "updated"} == {
            DRIFT[0],
            EXISTING[0],
        }
        assert sum(n for route, n in sent.items() if route.startswith("PUT")) == 2, sent
        assert not any(route.startswith("POST /v1/locations") for route in sent), sent
        previous = sorted((run_dir / "archive").iterdir())
        assert [p.name.split("-")[1] for p in previous] == ["0001"]
        assert (previous[0] / "pending.csv").read_text(encoding="utf-8").count("Night Depot") == 1
        final = status_of(run_dir)
        assert final["run"]["pass_number"] == 2
        assert final["lock"] is None
