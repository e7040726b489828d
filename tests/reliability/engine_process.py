"""Run the engine against a simulator process: as a child process that may be killed (the real
``webex-bulk`` command, or ``crash_runner.py``), or in this process for the checks after.

Also the settings and faults the crash tests share, and ``check_all`` (I1–I5 in one call).
"""

from __future__ import annotations

import asyncio
import io
import json
import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from reliability import invariants
from webex_bulk.config import Settings
from webex_bulk.credentials import Credentials
from webex_bulk.engine import RunRequest, RunResult, StopControl, run_file
from webex_bulk.simulator import SimConfig, SimulatorProcess
from webex_bulk.state.checkpoint import CHECKPOINT_FILE, PREVIOUS_FILE

RUNNER = Path(__file__).with_name("crash_runner.py")
COMMAND = Path(sys.executable).with_name("webex-bulk")
#: Seconds any child run may take before the test fails (a hang is a finding, not a wait).
CHILD_TIMEOUT = 300.0

#: Engine settings of the crash tests: no real waits, frequent commits, a generous retry budget
#: (faults are frequent here; a budget cut would make outcomes depend on timing).
SETTINGS: Mapping[str, Any] = {
    "rate": 1000.0,
    "concurrency": 8,
    "backoff_base": 0.0,
    "backoff_cap": 0.0,
    "consistency_wait": 0.0,
    "retry_after_default": 0.05,
    "retry_budget": 1.0,
    "breaker_cooldown": 0.05,
    "checkpoint_every": 10,
    "checkpoint_interval": 0.05,
    "shutdown_grace": 1.0,
    "read_timeout": 5.0,
    "log_level": "warning",
}

#: Faults that every run survives with the same final outcomes: failed GETs (retried), writes
#: committed then answered with a 5xx, a dropped connection or a 400 ("400 but created").
#: Faults *before* a write commits are left out on purpose: the contract re-sends a create once,
#: so two in a row end the row ``retries_exhausted`` — a legitimate outcome, but one that
#: depends on the fault sequence and would blur I4. 423/429 are left to the rate-limit tests:
#: each one slows the adaptive rate, which makes run lengths (and clock kills) erratic.
FAULTS: Mapping[str, Any] = {
    "error_probability": {"GET": 0.02},
    "drop_after_probability": 0.01,
    "error_after_commit_probability": 0.01,
    "created_400_probability": 0.02,
}


def sim_config(seed: int, **knobs: Any) -> SimConfig:
    """The simulator knobs of the crash tests: ``FAULTS`` with this seed, plus ``knobs``."""
    return SimConfig(seed=seed, **{**FAULTS, **knobs})


def child_env(sim: SimulatorProcess, **settings: Any) -> dict[str, str]:
    """The environment of a child run: the token, ``SETTINGS`` (+ overrides) as variables.

    Inherited ``WEBEX_BULK_*`` variables are dropped so a developer's own settings cannot change
    what the child run does.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("WEBEX_BULK_")}
    env["WEBEX_TOKEN"] = sim.token
    env["WEBEX_BULK_BASE_URL"] = sim.base_url
    for key, value in {**SETTINGS, **settings}.items():
        env[f"WEBEX_BULK_{key.upper()}"] = str(value)
    return env


def start_child(
    sim: SimulatorProcess,
    input_path: Path,
    run_dir: Path,
    *,
    point: str | None = None,
    at: int = 0,
    note: Path | None = None,
    total: int | None = None,
    error: str | None = None,
    flags: tuple[str, ...] = (),
    **settings: Any,
) -> subprocess.Popen[bytes]:
    """Start ``webex-bulk run`` as a child process (through ``crash_runner.py`` with a point;
    ``error`` names an errno the point raises instead of crashing; ``flags`` go to ``run``)."""
    command = ["run", str(input_path), "--run-dir", str(run_dir), *flags]
    if point is None:
        args = [str(COMMAND), *command]
    else:
        args = [sys.executable, str(RUNNER), "--point", point, "--at", str(at)]
        args += ["--note", str(note)] if note is not None else []
        args += ["--total", str(total)] if total is not None else []
        args += ["--errno", error] if error is not None else []
        args += ["--", *command]
    log = run_dir.parent / f"{run_dir.name}.child.log"
    with log.open("ab") as handle:
        return subprocess.Popen(
            args, env=child_env(sim, **settings), stdout=handle, stderr=subprocess.STDOUT
        )


def run_child(sim: SimulatorProcess, input_path: Path, run_dir: Path, **options: Any) -> int:
    """Run a child to its end; its exit status (``-9`` when killed by SIGKILL)."""
    process = start_child(sim, input_path, run_dir, **options)
    return process.wait(timeout=CHILD_TIMEOUT)


def child_log(run_dir: Path) -> str:
    """The combined output of the child runs of ``run_dir`` (for failure messages)."""
    log = run_dir.parent / f"{run_dir.name}.child.log"
    return log.read_text(errors="replace")[-3000:] if log.exists() else ""


def run_in_process(
    sim: SimulatorProcess, input_path: Path, run_dir: Path, **settings: Any
) -> RunResult:
    """Run the engine to its end in this process (no crash here: checks and reference runs)."""
    values = {**SETTINGS, "base_url": sim.base_url, **settings}
    request = RunRequest(
        input_path=input_path,
        settings=Settings(**values),
        credentials=Credentials(access_token=sim.token),
        run_dir=run_dir,
    )
    return asyncio.run(run_file(request, StopControl(), io.StringIO()))


def committed(run_dir: Path) -> int:
    """Outcomes the run directory has committed (the checkpoint's counts; 0 when none)."""
    for name in (CHECKPOINT_FILE, PREVIOUS_FILE):
        try:
            counts = json.loads((run_dir / name).read_text(encoding="utf-8"))["counts"]
        except (OSError, ValueError, KeyError):
            continue
        return int(sum(counts.values()))
    return 0


def reset(sim: SimulatorProcess) -> dict[str, Any]:
    """Give the simulator a fresh tenant, counters and fault stream; the tenant's state."""
    sim.side("reset", {})
    return dict(sim.side("state"))


def adopted(run_dir: Path) -> list[invariants.RowOutcome]:
    """Success rows that found their object already there (``unchanged``/``updated``): on a
    tenant that started empty, objects a crashed run made and a resumed run adopted."""
    return [
        outcome
        for outcome in invariants.outcomes(run_dir).values()
        if outcome.status == "success" and outcome.action in {"unchanged", "updated"}
    ]


def check_all(
    sim: SimulatorProcess,
    input_path: Path,
    run_dir: Path,
    reference_dir: Path,
    baseline: Mapping[str, Any],
) -> dict[str, int]:
    """I1–I5 on a finished run directory; figures of the check (rows, writes of the re-run)."""
    invariants.check_i1(run_dir, input_path)
    creates = sim.side("creates")
    invariants.check_i2(creates)
    invariants.check_i3(sim.side("state"), run_dir, baseline=baseline)
    invariants.check_i4(run_dir, reference_dir)
    before = sim.side("counts")
    again = run_in_process(sim, input_path, run_dir.with_name(run_dir.name + "-again"))
    after = sim.side("counts")
    invariants.check_i5(before, after, again.run_dir)
    duplicates = sum(
        count - 1
        for kind, counts in creates.items()
        if kind != "duplicates"
        for count in counts.values()
    )
    return {"rows": len(invariants.outcomes(run_dir)), "duplicates": duplicates}
