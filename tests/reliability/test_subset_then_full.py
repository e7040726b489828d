"""A canary (``--limit``), a type subset (``--only``) or both, then the full command: every row
ends exactly as in an uninterrupted run of the whole file (I4), with nothing created twice (I2).

A subset run ends rows whose dependency it left out (``unknown_reference``,
``dependency_failed``); those outcomes are final for the subset only, so a subset keeps its own
run directory (``runs/<stem>-<sha12>-<scope>``) and a shared ``--run-dir`` is refused.
The input is shuffled so that rows come before the rows they depend on, as in real exports.
"""

from __future__ import annotations

import asyncio
import csv
import io
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs
import pytest

from reliability import invariants
from reliability.conftest import scale
from reliability.engine_process import SETTINGS, reset, sim_config
from reliability.mixed_file import write_mixed_file
from webex_bulk.config import Settings
from webex_bulk.credentials import Credentials
from webex_bulk.engine import Caps, RunRequest, RunResult, StopControl, parse_only, run_file
from webex_bulk.error_handling import StateError
from webex_bulk.simulator import SimulatorProcess, simulator_process

pytestmark = pytest.mark.timeout(scale(300, 1800))
ROWS = scale(100, 400)
SEED = 14
#: (--only, --limit) of each subset run; small size keeps four, full size adds more.
SUBSETS: list[tuple[str | None, int | None]] = [
    (None, 20),
    ("user", None),
    ("user", 10),
    ("location,number", 15),
]
if scale(0, 1):
    SUBSETS += [(None, 1), (None, ROWS // 2), ("workspace,device", None), ("hunt_group", 3)]


@attrs.frozen
class World:
    """A simulator process, the shuffled input file, and an uninterrupted run of it."""

    sim: SimulatorProcess
    input_path: Path
    root: Path
    reference: Path


def shuffled_mixed_file(path: Path, rows: int, seed: int) -> Path:
    """The reliability suite's mixed file with its rows (not its header) in a seeded order."""
    write_mixed_file(path, rows, seed=seed)
    table = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))
    header, body = table[0], table[1:]
    random.Random(seed).shuffle(body)
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle, lineterminator="\n").writerows([header, *body])
    return path


def run(world_sim: SimulatorProcess, input_path: Path, runs_root: Path, **how: Any) -> RunResult:
    """``webex-bulk run`` in this process with ``--only``/``--limit``/``--run-dir`` as given."""
    settings = Settings(**{**SETTINGS, "base_url": world_sim.base_url, "runs_root": str(runs_root)})
    request = RunRequest(
        input_path=input_path,
        settings=settings,
        credentials=Credentials(access_token=world_sim.token),
        caps=Caps(only=parse_only(how.get("only")), limit=how.get("limit")),
        run_dir=how.get("run_dir"),
    )
    return asyncio.run(run_file(request, StopControl(), io.StringIO()))


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """One simulator process; the shuffled file provisioned once on an empty tenant."""
    root = tmp_path_factory.mktemp("subset")
    input_path = shuffled_mixed_file(root / "tenant.csv", ROWS, SEED)
    with simulator_process(sim_config(SEED)) as sim:
        reset(sim)
        reference = run(sim, input_path, root / "reference").run_dir
        yield World(sim, input_path, root, reference)


@pytest.mark.parametrize(("only", "limit"), SUBSETS)
def test_a_subset_run_then_the_full_command_ends_every_row_as_an_uninterrupted_run(
    only: str | None, limit: int | None, world: World, figures: Any
) -> None:
    """``run --only/--limit`` then ``run``: the full run's outcomes equal the reference's."""
    baseline = reset(world.sim)
    runs_root = world.root / f"runs-{only}-{limit}"
    subset = run(world.sim, world.input_path, runs_root, only=only, limit=limit)
    full = run(world.sim, world.input_path, runs_root)
    invariants.check_i1(full.run_dir, world.input_path)
    invariants.check_i2(world.sim.side("creates"))
    invariants.check_i3(world.sim.side("state"), full.run_dir, baseline=baseline)
    invariants.check_i4(full.run_dir, world.reference)
    assert subset.run_dir != full.run_dir
    left_out = [
        outcome
        for outcome in invariants.outcomes(subset.run_dir).values()
        if outcome.reason in {"unknown_reference", "dependency_failed"}
    ]
    figures(
        rows=ROWS,
        subset_rows=len(invariants.outcomes(subset.run_dir)),
        subset_rows_ended_by_what_it_left_out=len(left_out),
    )


def test_a_subset_and_the_full_run_cannot_share_one_run_directory(world: World) -> None:
    """``--limit 20 --run-dir D`` then ``--run-dir D``: refused with a message saying why."""
    reset(world.sim)
    run_dir = world.root / "shared"
    run(world.sim, world.input_path, world.root, limit=20, run_dir=run_dir)
    with pytest.raises(StateError, match="subset limit-20") as caught:
        run(world.sim, world.input_path, world.root, run_dir=run_dir)
    assert "another --run-dir" in str(caught.value)


def test_the_same_subset_command_again_resumes_its_own_directory(world: World) -> None:
    """The same ``--only user --limit 10`` twice: one directory, no write the second time."""
    reset(world.sim)
    runs_root = world.root / "same-subset"
    first = run(world.sim, world.input_path, runs_root, only="user", limit=10)
    before = world.sim.side("counts")
    again = run(world.sim, world.input_path, runs_root, only="user", limit=10)
    assert again.run_dir == first.run_dir
    assert first.run_dir.name.endswith("-only-user-limit-10")
    assert invariants.writes(world.sim.side("counts")) == invariants.writes(before)
