"""Every state file × every damage: the next run either finishes with every input row in exactly
one output (I1) and the uninterrupted run's outcomes (I4), or stops with one clear line naming
the file, after which ``--fresh`` finishes — never a traceback, never a run stuck for good.

Files: ``checkpoint.json``, its ``.prev``, ``run.json``, ``journal.jsonl``, the three CSVs and
``run.lock``. Damages: missing, empty, a directory, truncated, garbage, not UTF-8, deeply nested
JSON, huge. ``webex-bulk status`` must read every damaged directory without a traceback too.
"""

from __future__ import annotations

import asyncio
import io
import os
import shutil
import socket
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import attrs
import pytest

from reliability import invariants
from reliability.conftest import scale
from reliability.engine_process import SETTINGS, reset, sim_config
from reliability.mixed_file import write_mixed_file
from webex_bulk.config import Settings
from webex_bulk.credentials import Credentials
from webex_bulk.engine import RunRequest, RunResult, StopControl, run_file
from webex_bulk.error_handling import WebexBulkError
from webex_bulk.simulator import SimulatorProcess, simulator_process
from webex_bulk.state import read_status
from webex_bulk.state.checkpoint import CHECKPOINT_FILE, PREVIOUS_FILE
from webex_bulk.state.journal import JOURNAL_FILE
from webex_bulk.state.lock import LOCK_FILE
from webex_bulk.state.run_dir import RUN_FILE

pytestmark = pytest.mark.timeout(scale(600, 3600))
ROWS = scale(60, 400)
SEED = 21
#: Bytes a "huge" damage adds: past every read bound (1 MiB records and journal lines, 16 MiB
#: CSV lines) at full size; past the record and journal bounds in ``make test``.
HUGE = scale(2 << 20, 64 << 20)
#: Nesting of the "deeply nested" damage: far past the JSON parser's recursion limit.
NESTING = 200_000
FILES = (
    CHECKPOINT_FILE,
    PREVIOUS_FILE,
    RUN_FILE,
    JOURNAL_FILE,
    "success.csv",
    "rejected.csv",
    "pending.csv",
    LOCK_FILE,
)
LINE_FILES = frozenset({JOURNAL_FILE, "success.csv", "rejected.csv", "pending.csv"})


def _middle(data: bytes, filler: Callable[[int], bytes]) -> bytes:
    third = len(data) // 3
    return data[:third] + filler(third) + data[2 * third :]


def _middle_line(data: bytes, line: bytes) -> bytes:
    lines = data.splitlines(keepends=True)
    lines[len(lines) // 2] = line
    return b"".join(lines)


def damage(path: Path, how: str) -> None:
    """Damage one state file in place, the way ``how`` names."""
    data = path.read_bytes() if path.exists() else b""
    if how in {"missing", "directory"}:
        path.unlink(missing_ok=True)
        if how == "directory":
            path.mkdir()
        return
    if how == "empty":
        damaged = b""
    elif how == "truncated":
        damaged = data[: len(data) // 2]
    elif how == "garbage":
        damaged = _middle(data, lambda n: (b"#%&garbage" * (n // 10 + 1))[:n])
    elif how == "not utf-8":
        damaged = _middle(data, lambda n: b"\xff\xfe" * (n // 2 + 1))
    elif how == "nested":
        nested = b"[" * NESTING + b"\n"
        damaged = _middle_line(data, nested) if path.name in LINE_FILES else nested
    else:  # huge: trailing spaces keep a record valid JSON, so only the size bound refuses it
        damaged = data + (b" " if path.name not in LINE_FILES else b"x") * HUGE
    path.write_bytes(damaged)


DAMAGES = ("missing", "empty", "directory", "truncated", "garbage", "not utf-8", "nested", "huge")


@attrs.frozen
class World:
    """A finished run on a simulator whose tenant it provisioned."""

    sim: SimulatorProcess
    input_path: Path
    root: Path
    golden: Path


def run(world: World, run_dir: Path, *, fresh: bool = False) -> RunResult:
    """``webex-bulk run FILE --run-dir DIR [--fresh]`` in this process."""
    request = RunRequest(
        input_path=world.input_path,
        settings=Settings(**{**SETTINGS, "base_url": world.sim.base_url}),
        credentials=Credentials(access_token=world.sim.token),
        run_dir=run_dir,
        fresh=fresh,
    )
    return asyncio.run(run_file(request, StopControl(), io.StringIO()))


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """One simulator process and one finished run of the mixed file."""
    root = tmp_path_factory.mktemp("matrix")
    input_path = write_mixed_file(root / "tenant.csv", ROWS, seed=SEED)
    with simulator_process(sim_config(SEED)) as sim:
        reset(sim)
        placeholder = World(sim, input_path, root, root / "golden")
        golden = run(placeholder, root / "golden").run_dir
        yield attrs.evolve(placeholder, golden=golden)


def left_lock(run_dir: Path) -> Path:
    """A lock file left by a process of this host that no longer runs, a minute old."""
    path = run_dir / LOCK_FILE
    holder = f'{{"host":"{socket.gethostname()}","pid":999999999,"process":"x",'
    path.write_text(holder + '"started":"2030-01-01T00:00:00+00:00","token":"t"}\n')
    return path


@pytest.mark.parametrize("how", DAMAGES)
@pytest.mark.parametrize("name", FILES)
def test_a_damaged_state_file_never_crashes_the_next_run(name: str, how: str, world: World) -> None:
    """Damage one file of a finished run: the next run finishes with every row once and the
    reference outcomes, or stops with a clear error after which ``--fresh`` finishes."""
    run_dir = world.root / f"{name}-{how}".replace(" ", "_")
    shutil.copytree(world.golden, run_dir, ignore=shutil.ignore_patterns(LOCK_FILE))
    if name == LOCK_FILE:
        left_lock(run_dir)
    damage(run_dir / name, how)
    if name == LOCK_FILE and (run_dir / name).exists():
        old = time.time() - 60  # an unreadable lock older than its grace is stale
        os.utime(run_dir / name, (old, old))
    if (run_dir / RUN_FILE).is_file():
        read_status(run_dir)  # what `webex-bulk status` reads: no exception whatever the damage
    try:
        result = run(world, run_dir)
    except WebexBulkError as error:
        message = str(error)
        assert "\n" not in message
        assert name in message or str(run_dir) in message, message
        result = run(world, run_dir, fresh=True)
    assert result.exit_code in (0, 3)
    invariants.check_i1(result.run_dir, world.input_path)
    invariants.check_i2(world.sim.side("creates"))
    invariants.check_i4(result.run_dir, world.golden)
    assert not (result.run_dir / LOCK_FILE).exists()
