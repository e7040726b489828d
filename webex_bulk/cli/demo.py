"""``webex-bulk demo``: the example tenant against an embedded simulator, twice.

Top layer beside ``cli``: it starts the simulator in-process, the only place besides ``cli``
where engine and simulator meet.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import TextIO

import attrs

from webex_bulk.config import Settings
from webex_bulk.credentials import Credentials
from webex_bulk.engine import RunRequest, RunResult, StopControl, run_file
from webex_bulk.simulator import Latency, SimConfig, running_simulator

# Package data beside this module, so the demo runs from any install (examples/tenant.csv in a
# checkout links here).
EXAMPLE = Path(__file__).resolve().parent / "tenant.csv"

#: A tenant that behaves like a busy real one: ~80 ms answers, a rate limit the engine's
#: 10 requests/s sometimes bumps into, and a few 5xx and 429s along the way.
DEMO_TENANT = SimConfig(
    seed=42,
    latency={"default": Latency(median=0.08, p99=0.4)},
    rate_limit=12.0,
    rate_burst=4,
    retry_after=1.0,
    error_probability={"GET": 0.02, "PUT": 0.02},
    error_statuses=(502, 503),
)


@attrs.frozen
class DemoResult:
    """The two runs of the demo and the simulator's write counts."""

    first: RunResult
    second: RunResult
    writes_first: int
    writes_second: int


async def run_demo(
    out: TextIO, stop: StopControl, input_path: Path = EXAMPLE, keep: Path | None = None
) -> DemoResult:
    """Run the example twice against a fresh simulated tenant and show what each run did."""
    workdir = keep or Path(tempfile.mkdtemp(prefix="webex-bulk-demo-"))
    async with running_simulator(DEMO_TENANT) as sim:
        settings = Settings(base_url=sim.base_url, runs_root=str(workdir / "runs"))
        request = RunRequest(input_path, settings, Credentials(access_token=sim.token))
        say(out, f"simulated tenant at {sim.base_url} (latency, rate limit 12/s, a few 5xx)")
        say(out, f"run 1: provisioning {input_path.name} …")
        first = await run_file(request, stop, out)
        writes_first = sim.simulator.requests.writes
        if stop.stopped:
            return DemoResult(first, first, writes_first, 0)
        say(out, "run 2: the same file again, from scratch (--fresh): nothing should change …")
        second = await run_file(attrs.evolve(request, fresh=True), stop, out)
        writes_second = sim.simulator.requests.writes - writes_first
    report(out, first, second, writes_first, writes_second)
    if keep is None:
        say(out, f"(outputs kept in {workdir}; remove it when done)")
    return DemoResult(first, second, writes_first, writes_second)


def report(
    out: TextIO, first: RunResult, second: RunResult, writes_first: int, writes_second: int
) -> None:
    """The demo's closing lines: outcomes, requests, and the zero-write proof."""
    counts = first.summary["by_status"]
    say(out, "")
    say(
        out,
        f"run 1: {counts['success']} success, {counts['rejected']} rejected, "
        f"{counts['pending']} pending; {first.summary['requests']} requests, "
        f"{writes_first} writes, {first.summary['rate_limited']} 429s, "
        f"{first.summary['retries']} retries, {first.summary['duration_seconds']} s",
    )
    unchanged = second.summary["by_status"]["success"]
    say(
        out,
        f"run 2: {unchanged} rows unchanged; {second.summary['requests']} requests, "
        f"{writes_second} writes",
    )
    say(out, f"outputs of run 1: {_archived(first.run_dir)}")
    say(out, f"outputs of run 2: {second.run_dir}")
    say(out, "  rejected.csv holds the example's deliberately bad rows: fix them, run them again.")


def _archived(run_dir: Path) -> str:
    """Run 1's directory was set aside by run 2's --fresh; name where it went."""
    moved = sorted(run_dir.parent.glob(f"{run_dir.name}.*"))
    return str(moved[-1]) if moved else str(run_dir)


def say(out: TextIO, line: str) -> None:
    """One line of the demo's narration."""
    out.write(line + "\n")
    out.flush()
