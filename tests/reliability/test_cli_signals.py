"""Signals to a real ``webex-bulk run`` process (DESIGN §9, §13): SIGTERM mid-run exits 143,
SIGINT 130, a second SIGTERM cuts the grace period short even with requests hanging; each
stop commits what ended, and running the same command again finishes every row once (I1) with
nothing created twice (I2) and every object named by a row (I3).

The simulator runs as its own process, so its tenant is the one the next run finds.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from support import until_sync

from reliability import invariants
from reliability.conftest import scale
from reliability.mixed_file import write_mixed_file
from webex_bulk.simulator import SimConfig, SimulatorProcess, simulator_process

pytestmark = pytest.mark.timeout(600)


COMMAND = Path(sys.executable).with_name("webex-bulk")
#: A child that has not ended this long after its signal has hung.
EXIT_BOUND = 60.0


@pytest.fixture(scope="module")
def sim() -> Iterator[SimulatorProcess]:
    """One simulator process for the module (tests reset its tenant and knobs)."""
    config = SimConfig(seed=51, latency={"default": {"median": 0.01, "p99": 0.02}})
    with simulator_process(config) as process:
        yield process


def fresh_tenant(sim: SimulatorProcess) -> dict[str, Any]:
    """Reset the simulator (tenant, counters, faults); the starting tenant's state."""
    sim.side("config", {"stall_probability": 0.0})
    sim.side("reset", {})
    return dict(sim.side("state"))


def env_for(sim: SimulatorProcess, **settings: str) -> dict[str, str]:
    """The child's environment: the token, quick settings, no inherited ``WEBEX_BULK_*``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WEBEX_BULK_", "WEBEX_TOKEN"))}
    env.update(
        WEBEX_TOKEN=sim.token,
        WEBEX_BULK_BASE_URL=sim.base_url,
        WEBEX_BULK_CONCURRENCY="2",
        WEBEX_BULK_RATE="500",
        WEBEX_BULK_BACKOFF_BASE="0",
        WEBEX_BULK_CONSISTENCY_WAIT="0",
        WEBEX_BULK_CHECKPOINT_INTERVAL="0.05",
        WEBEX_BULK_LOG_FORMAT="json",
        **settings,
    )
    return env


class Child:
    """``webex-bulk run FILE --run-dir DIR`` as a child process; its output goes to files so
    the test can read the log while it runs."""

    def __init__(self, csv_path: Path, run_dir: Path, env: Mapping[str, str]) -> None:
        folder = run_dir.parent
        self.out_path = folder / f"{run_dir.name}.{len(list(folder.glob('*.out')))}.out"
        self.err_path = self.out_path.with_suffix(".err")
        with self.out_path.open("w") as out, self.err_path.open("w") as err:
            self.process = subprocess.Popen(
                [str(COMMAND), "run", str(csv_path), "--run-dir", str(run_dir)],
                env=dict(env),
                stdout=out,
                stderr=err,
            )

    def logged(self, event: str) -> bool:
        """Whether the child's stderr log holds ``event`` yet."""
        return f'"event": "{event}"' in self.err_path.read_text(encoding="utf-8")

    def finish(self) -> tuple[int, str, str]:
        """Wait (bounded) for the child; its exit code, stdout and stderr."""
        try:
            code = self.process.wait(timeout=EXIT_BOUND)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise
        out = self.out_path.read_text(encoding="utf-8")
        err = self.err_path.read_text(encoding="utf-8")
        assert "Traceback" not in err, err[-3000:]
        return code, out, err


def wait_for_writes(sim: SimulatorProcess, writes: int, child: Child) -> None:
    """Poll the simulator's write count (bounded) until it reaches ``writes``."""

    def reached() -> bool:
        if sim.side("counts")["writes"] >= writes:
            return True
        assert child.process.poll() is None, "the run ended before it could be interrupted"
        return False

    until_sync(reached, f"{writes} writes")


def rerun(csv_path: Path, run_dir: Path, env: Mapping[str, str]) -> tuple[int, str, str]:
    """The same command again, to its end."""
    return Child(csv_path, run_dir, env).finish()


@pytest.mark.parametrize(
    ("signum", "code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130), (signal.SIGHUP, 129)]
)
def test_a_signal_mid_run_exits_with_its_code_and_the_same_command_finishes(
    signum: signal.Signals, code: int, sim: SimulatorProcess, tmp_path: Path, figures: Any
) -> None:
    """A signal while rows are being written: the run commits what ended and exits 143
    (SIGTERM), 130 (SIGINT) or 129 (SIGHUP) with some rows still open; the same command then
    finishes every row exactly once and nothing was created twice."""
    rows = scale(120, 2000)
    csv_path = write_mixed_file(tmp_path / "signal.csv", rows, seed=51)
    run_dir = tmp_path / "run"
    baseline = fresh_tenant(sim)
    env = env_for(sim)
    child = Child(csv_path, run_dir, env)
    wait_for_writes(sim, rows // 8, child)
    child.process.send_signal(signum)
    stopped, out, _ = child.finish()
    done_first = len(invariants.outcomes(run_dir))
    invariants.check_i1(run_dir, csv_path, complete=False)
    again, out_again, _ = rerun(csv_path, run_dir, env)
    creates = sim.side("creates")
    state = sim.side("state")
    assert stopped == code
    assert f"stopped: interrupted by {signum.name}" in out
    assert 0 < done_first < rows
    assert again == 3, out_again  # the mixed file has rejected and out-of-scope rows
    invariants.check_i1(run_dir, csv_path)
    invariants.check_i2(creates)
    invariants.check_i3(state, run_dir, baseline=baseline)
    figures(rows=rows, rows_before_signal=done_first, exit_code=stopped)


def test_a_second_sigterm_skips_the_grace_even_with_requests_hanging(
    sim: SimulatorProcess, tmp_path: Path, figures: Any
) -> None:
    """With every answer held for 10 minutes and a grace of 10 minutes, one SIGTERM would
    wait; a second one cancels the hanging rows at once: exit 143 with the commit intact. The
    writes those rows sent were applied, so the next run adopts them instead of creating them
    again."""
    rows = scale(120, 2000)
    csv_path = write_mixed_file(tmp_path / "hang.csv", rows, seed=52)
    run_dir = tmp_path / "run"
    baseline = fresh_tenant(sim)
    env = env_for(sim, WEBEX_BULK_SHUTDOWN_GRACE="600", WEBEX_BULK_READ_TIMEOUT="600")
    child = Child(csv_path, run_dir, env)
    wait_for_writes(sim, rows // 8, child)
    sim.side("config", {"stall_probability": 1.0, "stall_seconds": 600})
    hanging = sim.side("counts")["total"]
    for _ in range(3000):  # bounded: until the workers' next requests hang
        if sim.side("counts")["total"] > hanging:
            break
        time.sleep(0.01)
    child.process.send_signal(signal.SIGTERM)
    for _ in range(3000):  # bounded: until the first signal was handled (two pending
        if child.logged("run.signal"):  # signals of one kind may merge into one)
            break
        time.sleep(0.01)
    child.process.send_signal(signal.SIGTERM)
    stopped, out, _ = child.finish()
    invariants.check_i1(run_dir, csv_path, complete=False)
    sim.side("config", {"stall_probability": 0.0})
    again, out_again, _ = rerun(csv_path, run_dir, env)
    creates = sim.side("creates")
    state = sim.side("state")
    assert stopped == 143
    assert "interrupted by SIGTERM" in out
    assert again == 3, out_again
    invariants.check_i1(run_dir, csv_path)
    invariants.check_i2(creates)
    invariants.check_i3(state, run_dir, baseline=baseline)
    figures(rows=rows, exit_code=stopped)
