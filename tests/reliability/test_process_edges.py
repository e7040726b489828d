"""The real ``webex-bulk`` process at its edges: Ctrl-C while it is still importing, a stdout
whose reader went away, and paths it cannot write (a read-only mount, a path under a file).

Each ends with the documented exit code and at most one line on stderr — never a traceback.
A read-only directory is a read-only bind mount in a private mount namespace (``unshare``) where
the machine allows one, else the immutable attribute (root), else the file mode; the
path-under-a-file cases need neither.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import shutil
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from reliability import invariants
from reliability.engine_process import CHILD_TIMEOUT, COMMAND, child_env, reset, sim_config
from reliability.mixed_file import write_mixed_file
from webex_bulk.simulator import SimulatorProcess, simulator_process

pytestmark = pytest.mark.timeout(300)
ROWS = 60
#: A ``sitecustomize`` that sends this process SIGINT when it starts importing one module, so
#: the signal lands inside the import, every time (a timer would hit it one try in two).
INTERRUPT_AT_IMPORT = """
import importlib.abc, os, signal, sys

class _InterruptAt(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == os.environ["INTERRUPT_AT"]:
            os.kill(os.getpid(), signal.SIGINT)
        return None

sys.meta_path.insert(0, _InterruptAt())
"""


@pytest.fixture(scope="module")
def sim() -> Iterator[SimulatorProcess]:
    """One simulator process for the module."""
    with simulator_process(sim_config(61)) as process:
        yield process


def webex_bulk(
    *args: str, env: dict[str, str] | None = None, wrap: list[str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the installed command to its end (bounded); its exit code, stdout and stderr.

    The child starts with Ctrl-C's default action, as from a terminal, even when this test
    runs in the background (where the shell ignores SIGINT and Python then keeps ignoring it).
    """
    return subprocess.run(
        [*(wrap or []), str(COMMAND), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=CHILD_TIMEOUT,
        check=False,
        preexec_fn=_default_ctrl_c,
    )


def _default_ctrl_c() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def one_clean_line(stderr: str) -> str:
    """stderr holds exactly one line and no traceback; that line."""
    assert "Traceback" not in stderr, stderr[-3000:]
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr[-3000:]
    return lines[0]


# -- Ctrl-C while the command is still importing ---------------------------------------------


@pytest.mark.parametrize(
    ("module", "args"),
    [
        # imported by every start
        ("webex_bulk.cli.commands", ["--version"]),
        ("webex_bulk.input.normalise", ["--version"]),
        ("click", ["--version"]),
        # imported by the command that needs them, once it runs (the engine, the server)
        ("webex_bulk.engine.executor", ["demo"]),
        ("aiohttp", ["demo"]),
    ],
)
def test_ctrl_c_while_the_command_imports_exits_130_without_a_traceback(
    module: str, args: list[str], tmp_path: Path
) -> None:
    """SIGINT during the import of ``module`` ends the process with 130 and one line."""
    (tmp_path / "sitecustomize.py").write_text(INTERRUPT_AT_IMPORT)
    env = {**os.environ, "PYTHONPATH": str(tmp_path), "INTERRUPT_AT": module}
    done = webex_bulk(*args, env=env)
    assert done.returncode == 130
    assert one_clean_line(done.stderr) == "webex-bulk: interrupted"


# -- stdout closed by its reader -------------------------------------------------------------


def test_a_closed_stdout_does_not_change_the_exit_code_of_a_run(
    sim: SimulatorProcess, tmp_path: Path
) -> None:
    """``run … | head -c0``: stdout's reader is gone before the first write; the run still
    writes every row and ``summary.json``, and exits 3 like the same run on a terminal."""
    csv_path = write_mixed_file(tmp_path / "pipe.csv", ROWS, seed=61)
    reset(sim)
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone: every write to stdout is EPIPE
    try:
        process = subprocess.Popen(
            [str(COMMAND), "run", str(csv_path), "--run-dir", str(tmp_path / "run")],
            env=child_env(sim),
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
        )
    finally:
        os.close(write_end)
    _, stderr = process.communicate(timeout=CHILD_TIMEOUT)
    assert "Traceback" not in stderr, stderr[-3000:]
    assert process.returncode == 3, stderr[-3000:]
    invariants.check_i1(tmp_path / "run", csv_path)
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert sum(summary["by_status"].values()) == len(invariants.input_lines(csv_path))


def test_a_reader_that_takes_one_byte_and_leaves_does_not_change_the_exit_code(
    tmp_path: Path,
) -> None:
    """``validate FILE | head -c1``: exit 3 (rows rejected), as with the whole output read."""
    csv_path = write_mixed_file(tmp_path / "head.csv", ROWS, seed=62)
    with subprocess.Popen(
        [str(COMMAND), "validate", str(csv_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    ) as process:
        assert process.stdout is not None
        assert process.stderr is not None
        assert process.stdout.read(1)
        process.stdout.close()
        stderr = process.stderr.read().decode()
        assert process.wait(timeout=CHILD_TIMEOUT) == 3
    assert "Traceback" not in stderr


# -- paths the command cannot write ----------------------------------------------------------


def readonly_wrap(path: Path) -> list[str]:
    """A command prefix that runs the rest with ``path`` mounted read-only (a private mount
    namespace: nothing changes for other processes)."""
    script = 'mount --bind "$0" "$0" && mount -o remount,bind,ro "$0" "$0" && exec "$@"'
    return ["unshare", "-rm", "sh", "-c", script, str(path)]


@functools.cache
def can_mount_read_only(probe: Path) -> bool:
    """Whether this machine lets a process mount a directory read-only in its own namespace."""
    if shutil.which("unshare") is None:
        return False
    done = subprocess.run(
        [*readonly_wrap(probe), "sh", "-c", f'! touch "{probe}/x" 2>/dev/null'],
        capture_output=True,
        check=False,
        timeout=60,
    )
    return done.returncode == 0


@contextlib.contextmanager
def unwritable(path: Path) -> Iterator[list[str]]:
    """Make ``path`` a directory no process of this test can write into; the command prefix
    that sees it so. A read-only mount where the machine allows one (``unshare``); else the
    immutable attribute (``chattr +i``, which binds root too); else the file mode (which binds
    everyone but root). Undone on exit."""
    probe = path.parent / ".mount-probe"
    probe.mkdir(exist_ok=True)
    if can_mount_read_only(probe):
        yield readonly_wrap(path)
        return
    immutable = os.geteuid() == 0 and shutil.which("chattr") is not None
    if immutable:
        subprocess.run(["chattr", "+i", str(path)], check=True, timeout=60)
    else:
        path.chmod(0o555)
    try:
        yield []
    finally:
        if immutable:
            subprocess.run(["chattr", "-i", str(path)], check=True, timeout=60)
        else:
            path.chmod(0o755)


def test_validate_out_under_a_file_is_one_line_naming_the_path(tmp_path: Path) -> None:
    """``validate --out`` a path under a regular file: exit 1, one line naming the path."""
    csv_path = write_mixed_file(tmp_path / "v.csv", ROWS, seed=63)
    (tmp_path / "a-file").write_text("")
    done = webex_bulk("validate", str(csv_path), "--out", str(tmp_path / "a-file" / "out"))
    assert done.returncode == 1
    assert str(tmp_path / "a-file") in one_clean_line(done.stderr)


def test_a_run_directory_under_a_file_is_one_line_naming_the_path(
    sim: SimulatorProcess, tmp_path: Path
) -> None:
    """``run --run-dir`` a path under a regular file: exit 1, one line naming the path."""
    csv_path = write_mixed_file(tmp_path / "r.csv", ROWS, seed=64)
    (tmp_path / "a-file").write_text("")
    run_dir = tmp_path / "a-file" / "run"
    done = webex_bulk("run", str(csv_path), "--run-dir", str(run_dir), env=child_env(sim))
    assert done.returncode == 1
    line = one_clean_line(done.stderr)
    assert str(tmp_path / "a-file") in line
    assert "writable" in line


def test_validate_out_into_a_read_only_directory_is_one_line_naming_the_path(
    tmp_path: Path,
) -> None:
    """``validate --out`` into a read-only directory: exit 1, one line naming the file."""
    csv_path = write_mixed_file(tmp_path / "v.csv", ROWS, seed=65)
    out = tmp_path / "out"
    out.mkdir()
    with unwritable(out) as wrap:
        done = webex_bulk("validate", str(csv_path), "--out", str(out), wrap=wrap)
    assert done.returncode == 1
    assert str(out) in one_clean_line(done.stderr)
    assert list(out.iterdir()) == []


def test_a_new_run_directory_in_a_read_only_directory_is_one_line_naming_the_path(
    sim: SimulatorProcess, tmp_path: Path
) -> None:
    """``run`` whose run directory would be created on a read-only mount: exit 1, one line."""
    csv_path = write_mixed_file(tmp_path / "n.csv", ROWS, seed=66)
    root = tmp_path / "runs"
    root.mkdir()
    run_dir = root / "run"
    done = webex_bulk(
        "run",
        str(csv_path),
        "--run-dir",
        str(run_dir),
        env=child_env(sim),
        wrap=readonly_wrap(root),
    )
    assert done.returncode == 1
    assert str(run_dir) in one_clean_line(done.stderr)


def state_files(run_dir: Path) -> dict[str, bytes]:
    """The run directory's files but its log (a file mode or attribute on the directory lets
    an existing ``events.log`` take lines; a read-only mount does not)."""
    return {p.name: p.read_bytes() for p in run_dir.iterdir() if p.name != "events.log"}


def test_resuming_in_a_read_only_run_directory_is_one_line_and_changes_nothing(
    sim: SimulatorProcess, tmp_path: Path
) -> None:
    """A run directory made read-only after a stopped run: the same command exits 1 with one
    line naming a file in it; made writable again, the same command finishes every row."""
    csv_path = write_mixed_file(tmp_path / "ro.csv", ROWS, seed=67)
    run_dir = tmp_path / "run"
    env = child_env(sim)
    reset(sim)
    first = webex_bulk("run", str(csv_path), "--run-dir", str(run_dir), "--limit", "5", env=env)
    assert first.returncode in (0, 3), first.stderr[-2000:]
    before = state_files(run_dir)
    with unwritable(run_dir) as wrap:
        done = webex_bulk(
            "run", str(csv_path), "--run-dir", str(run_dir), "--limit", "5", env=env, wrap=wrap
        )
    assert done.returncode == 1
    assert str(run_dir) in one_clean_line(done.stderr)
    assert state_files(run_dir) == before
    again = webex_bulk("run", str(csv_path), "--run-dir", str(run_dir), "--limit", "5", env=env)
    assert again.returncode in (0, 3), again.stderr[-2000:]
    assert len(invariants.outcomes(run_dir)) == 5
