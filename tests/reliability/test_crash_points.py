"""Crash-point matrix: the engine dies at each point of the window where the tenant changed but
the journal has not (and inside recovery), at the 1st–3rd occurrence; a plain resume then
satisfies I1–I5 and adopts the in-flight row by lookup instead of creating it twice.

Each crash is a real process death (``os._exit`` in ``crash_runner.py``) of ``webex-bulk run``
against a simulator process whose tenant survives it. Where a power cut would lose more than a
process crash does, the test applies that loss to the files before resuming: unsynced tails are
torn (``before_fsync``) and an un-fsynced rename is undone (``before_dir_fsync``).
"""

from __future__ import annotations

import json
import random
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs
import pytest

from reliability.conftest import scale
from reliability.crash_runner import CRASH_EXIT, POINTS
from reliability.engine_process import (
    adopted,
    check_all,
    child_log,
    reset,
    run_child,
    run_in_process,
    sim_config,
)
from reliability.invariants import outcomes
from reliability.mixed_file import write_mixed_file
from webex_bulk.simulator import SimulatorProcess, simulator_process
from webex_bulk.state.checkpoint import CHECKPOINT_FILE, OUTPUT_FILES, PREVIOUS_FILE
from webex_bulk.state.journal import JOURNAL_FILE

#: Full size runs for minutes; the small one stays within the default timeout.
pytestmark = pytest.mark.timeout(scale(120, 300))
ROWS = scale(100, 400)
SEED = 11
OCCURRENCES = (1, 2, 3)
CASES = [(point, at) for point in POINTS for at in OCCURRENCES]
#: Points after which the crashed run's last success rows are not committed: resume must adopt.
ADOPTING = frozenset(POINTS) - {"before_send"}


@attrs.frozen
class World:
    """One simulator process, the input file and the uninterrupted reference run."""

    sim: SimulatorProcess
    input_path: Path
    reference_dir: Path
    root: Path


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """A simulator process shared by the matrix, and the reference run of the file on it."""
    root = tmp_path_factory.mktemp("crash-points")
    input_path = write_mixed_file(root / "tenant.csv", ROWS, seed=SEED)
    with simulator_process(sim_config(SEED)) as sim:
        reset(sim)
        reference = run_in_process(sim, input_path, root / "reference")
        assert reference.exit_code == 3  # the file holds rejected and out-of-scope rows
        assert not adopted(reference.run_dir), "an uninterrupted run on an empty tenant adopts"
        yield World(sim, input_path, reference.run_dir, root)


def tear_unsynced_tails(run_dir: Path, rng: random.Random) -> int:
    """What a power cut may do to bytes written after the last fsync: each file past its committed
    offset is cut at a random byte, or its tail becomes zeros. Returns the bytes affected."""
    offsets = json.loads((run_dir / CHECKPOINT_FILE).read_text())["offsets"]
    names = {"journal": JOURNAL_FILE, **{s.value: n for s, n in OUTPUT_FILES.items()}}
    affected = 0
    for key, name in names.items():
        path = run_dir / name
        size = path.stat().st_size if path.exists() else 0
        if size <= offsets[key]:
            continue
        cut = rng.randint(offsets[key], size)
        with path.open("r+b") as handle:
            handle.truncate(cut)
            if rng.random() < 0.5:
                handle.seek(cut)
                handle.write(b"\0" * (size - cut))  # length kept, data lost
        affected += size - cut
    return affected


def lose_checkpoint_rename(run_dir: Path) -> None:
    """What a power cut may do to a rename that was not followed by a directory fsync: the name
    points at the previous commit again (the one ``.prev`` holds)."""
    shutil.copyfile(run_dir / PREVIOUS_FILE, run_dir / CHECKPOINT_FILE)


def in_flight_rows(note: dict[str, Any], run_dir: Path) -> list[Any]:
    """Rows of the run whose key names the object of the write that was in flight."""
    body = note.get("body") or {}
    names = [body.get(field) for field in ("name", "displayName", "mac")]
    names += [(body.get(field) or [None])[0] for field in ("emails", "phoneNumbers")]
    wanted = {str(name).lower() for name in names if name}
    found = []
    for outcome in outcomes(run_dir).values():
        _, _, natural = outcome.key.partition(":")
        tail = natural.rsplit("/", 1)[-1]
        if natural.lower() in wanted or tail.lower() in wanted:
            found.append(outcome)
    return found


@pytest.mark.parametrize(("point", "at"), CASES)
def test_crash_point_then_resume_loses_and_duplicates_nothing(
    world: World, point: str, at: int, figures: Any
) -> None:
    """A crash at this point and occurrence, then a resume: I1–I5 hold, in-flight rows adopted."""
    started = time.monotonic()
    rng = random.Random(f"{SEED}:{point}:{at}")
    baseline = reset(world.sim)
    run_dir = world.root / f"{point}-{at}"
    note = world.root / f"{point}-{at}.note.json"
    torn = 0
    if point == "recovery":
        # First leave a directory that needs repair: appended, unsynced, torn tails.
        status = run_child(world.sim, world.input_path, run_dir, point="before_fsync", at=2)
        assert status == CRASH_EXIT, child_log(run_dir)
        torn = tear_unsynced_tails(run_dir, rng)
    status = run_child(world.sim, world.input_path, run_dir, point=point, at=at, note=note)
    assert status == CRASH_EXIT, f"{point} #{at} was never reached:\n{child_log(run_dir)}"
    if point == "before_fsync":
        torn = tear_unsynced_tails(run_dir, rng)
    if point == "before_dir_fsync":
        lose_checkpoint_rename(run_dir)

    final = run_in_process(world.sim, world.input_path, run_dir)

    assert final.exit_code == 3, child_log(run_dir)
    checked = check_all(world.sim, world.input_path, run_dir, world.reference_dir, baseline)
    adopted_rows = adopted(run_dir)
    if point in ADOPTING:
        assert adopted_rows, "the crashed run's created objects must be found, not created again"
    if point in {"before_send", "after_commit_before_read"}:
        flying = in_flight_rows(json.loads(note.read_text()), run_dir)
        assert flying, f"no row matches the in-flight write {note.read_text()}"
        assert {row.status for row in flying} == {"success"}
        if point == "after_commit_before_read":
            assert {"unchanged", "updated"} & {row.action for row in flying}
    figures(
        point=point,
        occurrence=at,
        adopted=len(adopted_rows),
        torn_bytes=torn,
        seconds=round(time.monotonic() - started, 2),
        **checked,
    )
