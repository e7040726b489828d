"""kill -9 torture: ``webex-bulk run`` on a mixed file of every entity type, faults on, is killed
with SIGKILL at seeded points — after the k-th committed outcome, and at a random moment by the
wall clock — then run again, until it finishes. The simulator is its own process, so the tenant
keeps every change a killed run made. Afterwards I1–I5 hold.
"""

from __future__ import annotations

import random
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import attrs
import pytest

from reliability.conftest import scale
from reliability.engine_process import (
    CHILD_TIMEOUT,
    SETTINGS,
    adopted,
    check_all,
    child_log,
    committed,
    reset,
    run_child,
    run_in_process,
    sim_config,
    start_child,
)
from reliability.mixed_file import write_mixed_file
from webex_bulk.simulator import SimulatorProcess, simulator_process

#: Full size runs for minutes; the small one stays within the default timeout.
pytestmark = pytest.mark.timeout(scale(120, 1800))
ROWS = scale(500, 5000)
KILLS = scale(5, 25)
SEED = 7
#: Simulator latency: enough that a run lasts long enough to be killed at a random moment.
LATENCY = {"default": {"median": 0.004, "p99": 0.02}}
#: How often the parent looks at the checkpoint while waiting for a run to make progress.
POLL = 0.01
#: A commit may hold this many outcomes (checkpoint_every, and a burst at a phase end).
COMMIT_SPAN = 3 * int(SETTINGS["checkpoint_every"])


@attrs.frozen
class Kill:
    """One kill: how it was aimed, and what the run directory had committed when it landed."""

    mode: str  # "committed" (after the k-th outcome), "clock" (a random moment), "clock-capped"
    aimed: float  # the outcome count, or the seconds after the run's first new commit
    committed: int


def kill_after_committed(
    sim: SimulatorProcess, input_path: Path, run_dir: Path, target: int
) -> Kill:
    """Run until the first commit reaching ``target`` outcomes; there the run SIGKILLs itself."""
    status = run_child(
        sim, input_path, run_dir, point="kill_after_committed", at=target, total=ROWS
    )
    assert status == -signal.SIGKILL, f"not killed (exit {status}):\n{child_log(run_dir)}"
    return Kill("committed", target, committed(run_dir))


def kill_by_clock(sim: SimulatorProcess, input_path: Path, run_dir: Path, delay: float) -> Kill:
    """Start a run; once it has committed something new, SIGKILL it ``delay`` s later — or as
    soon as it is about to finish, should it get there first (the kill must land mid-run)."""
    before = committed(run_dir)
    process = start_child(sim, input_path, run_dir)
    deadline = time.monotonic() + CHILD_TIMEOUT
    fire_at: float | None = None
    capped = False
    while True:  # bounded by the child timeout
        now = time.monotonic()
        assert now < deadline, f"no progress:\n{child_log(run_dir)}"
        done = committed(run_dir)
        if fire_at is None and done > before:
            fire_at = now + delay
        if fire_at is not None and (now >= fire_at or done >= ROWS - COMMIT_SPAN):
            capped = now < fire_at
            break
        try:
            status = process.wait(timeout=POLL)
        except subprocess.TimeoutExpired:
            continue
        raise AssertionError(
            f"the run ended (exit {status}) before the kill:\n{child_log(run_dir)}"
        )
    process.send_signal(signal.SIGKILL)
    status = process.wait(timeout=CHILD_TIMEOUT)
    assert status == -signal.SIGKILL, f"finished before the kill landed (exit {status})"
    return Kill("clock-capped" if capped else "clock", round(delay, 3), committed(run_dir))


def test_kill9_at_seeded_points_then_resume_keeps_every_invariant(
    tmp_path: Path, figures: Any
) -> None:
    """Killed with -9 again and again at seeded points, the run still ends with I1–I5."""
    started = time.monotonic()
    rng = random.Random(f"kill9:{SEED}")
    input_path = write_mixed_file(tmp_path / "tenant.csv", ROWS, seed=SEED)
    with simulator_process(sim_config(SEED, latency=LATENCY)) as sim:
        reset(sim)
        began = time.monotonic()
        reference = run_in_process(sim, input_path, tmp_path / "reference")
        reference_seconds = time.monotonic() - began
        assert not adopted(reference.run_dir)
        baseline = reset(sim)
        run_dir = tmp_path / "run"
        modes = ["committed", "clock"] * (KILLS // 2) + ["committed"] * (KILLS % 2)
        rng.shuffle(modes)
        kills: list[Kill] = []
        for index, mode in enumerate(modes):
            done = committed(run_dir)
            # Aim inside the rows still to do, leaving room for the kills after this one.
            room = max(1, (ROWS - COMMIT_SPAN - done) // (KILLS - index))
            if mode == "committed":
                kill = kill_after_committed(sim, input_path, run_dir, done + rng.randint(1, room))
            else:
                seconds = reference_seconds * room / ROWS
                kill = kill_by_clock(sim, input_path, run_dir, rng.uniform(0.0, seconds))
            assert 0 < kill.committed < ROWS, f"kill {index} did not land mid-run: {kill}"
            kills.append(kill)
        status = run_child(sim, input_path, run_dir)
        assert status == 3, child_log(run_dir)
        checked = check_all(sim, input_path, run_dir, reference.run_dir, baseline)
    assert len(kills) == KILLS
    figures(
        kills=len(kills),
        by_clock=sum(kill.mode.startswith("clock") for kill in kills),
        clock_capped=sum(kill.mode == "clock-capped" for kill in kills),
        committed_at_kills=[kill.committed for kill in kills],
        adopted=len(adopted(run_dir)),
        reference_seconds=round(reference_seconds, 2),
        seconds=round(time.monotonic() - started, 2),
        **checked,
    )
