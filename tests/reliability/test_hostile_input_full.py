"""Hostile input files at full size: a 200k-row valid file, 200k rows that all fail, a 10 MB
line in several shapes, a quote left open deep in a big file. Each ends as a file-level error
before any API call, or as per-row rejections with rows in = rows out — never a silent loss —
and the peak memory of the process stays bounded.

Peak RSS is measured in a child process, as the ``VmHWM`` of its own address space (its
``ru_maxrss`` would start at the size of the forked test process).
"""

from __future__ import annotations

import csv
import itertools
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest
from support import aside

from reliability import invariants
from reliability.conftest import FULL, scale
from webex_bulk.config import Settings
from webex_bulk.error_handling import InputFileError, Reason
from webex_bulk.input.data_pipeline import read_rows, scan
from webex_bulk.models import Outcome, Row
from webex_bulk.simulator import simulator_process

pytestmark = pytest.mark.timeout(1200)

HEADER = "entity_type,email,first_name,last_name,location,extension,title,notes"
#: Peak RSS allowed to any child here (DESIGN §14: 200k rows in well under 300 MB).
RSS_LIMIT_MB = 300
#: A 10 MB line at full size, 1 MB in make test.
LONG_LINE = scale(1_000_000, 10_000_000)
#: Runs the CLI and writes its own peak RSS (MB) to the file named by the first argument.
MEASURED = (
    "import atexit, sys\n"
    "out = sys.argv.pop(1)\n"
    "def peak():\n"
    "    status = open('/proc/self/status').read().split('VmHWM:')[1]\n"
    "    open(out, 'w').write(str(int(status.split()[0]) / 1024))\n"
    "atexit.register(peak)\n"
    "sys.argv[0] = 'webex-bulk'\n"
    "from webex_bulk.cli.commands import main\n"
    "main()\n"
)


def user(n: int) -> str:
    """A valid user line, unique by n."""
    return f"user,user{n:06d}@example.com,Ana,Lee,HQ,{100_000 + n},Agent,"


def write_lines(path: Path, lines: Iterator[str]) -> Path:
    """Write lines (LF-ended) without holding them all in memory."""
    with path.open("w", encoding="utf-8", newline="") as handle:
        for line in lines:
            handle.write(line + "\n")
    return path


def with_header(lines: Iterable[str]) -> Iterator[str]:
    """The header line, then ``lines``."""
    return itertools.chain([HEADER], lines)


def clean_env(**more: str) -> dict[str, str]:
    """The environment of a child: no inherited ``WEBEX_BULK_*`` switches."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WEBEX_BULK_", "WEBEX_TOKEN"))}
    env.update(more)
    return env


def measured_cli(
    tmp_path: Path, *args: str, env: dict[str, str] | None = None
) -> tuple[subprocess.CompletedProcess[str], float]:
    """Run ``webex-bulk ARGS`` in a child; its result and its peak RSS in MB."""
    rss_file = tmp_path / f"rss-{len(list(tmp_path.glob('rss-*')))}.txt"
    done = subprocess.run(
        [sys.executable, "-c", MEASURED, str(rss_file), *args],
        env=env or clean_env(),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=1100,
    )
    assert "Traceback" not in done.stderr, done.stderr[-3000:]
    return done, float(rss_file.read_text())


def report_rows(stdout: str) -> int:
    """The row count ``validate`` prints on its first line."""
    found = re.search(r": (\d+) rows", stdout)
    assert found, stdout
    return int(found.group(1))


def output_count(folder: Path, status: str) -> int:
    """Data rows of ``rejected.csv`` / ``pending.csv`` written by ``validate --out``."""
    path = folder / f"{status}.csv"
    if not path.exists():
        return 0
    with path.open(encoding="utf-8", newline="") as handle:
        return sum(1 for _ in csv.reader(handle)) - 1


def test_a_200k_row_valid_file_validates_in_bounded_memory(tmp_path: Path, figures: Any) -> None:
    """Every row of a 200k-row valid file is counted valid (rows in = rows out), nothing is
    rejected, and the peak RSS stays under 300 MB — no more than 1.5× that of a file ten times
    smaller plus 60 MB (memory grows with the keys remembered, not with the rows read)."""
    rows = scale(5_000, 200_000)
    small = write_lines(tmp_path / "small.csv", with_header(map(user, range(rows // 10))))
    big = write_lines(tmp_path / "big.csv", with_header(map(user, range(rows))))
    done_small, rss_small = measured_cli(tmp_path, "validate", str(small), "--out", "o1")
    done, rss = measured_cli(tmp_path, "validate", str(big), "--out", "o2")
    assert done_small.returncode == 0
    assert done.returncode == 0, done.stdout[-2000:]
    assert report_rows(done.stdout) == rows
    assert output_count(tmp_path / "o2", "rejected") == 0
    assert rss < RSS_LIMIT_MB
    assert rss <= 1.5 * rss_small + 60
    figures(rows=rows, peak_rss_mb=round(rss, 1), peak_rss_mb_tenth=round(rss_small, 1))


def hostile_mix(rows: int) -> Iterator[str]:
    """Rows that each fail a different way (and some valid ones), spread through the file."""
    yield HEADER
    for n in range(rows):
        kind = n % 8
        if kind == 0:
            yield user(n)
        elif kind == 1:
            yield f"user,bad{n}@@example.com,Ana,Lee,HQ,{100_000 + n},,"  # invalid e-mail
        elif kind == 2:
            yield user(n) + ",extra,cells"  # more cells than the header
        elif kind == 3:
            yield f"user,short{n}@example.com"  # missing trailing cells
        elif kind == 4:
            yield user(n - 4)  # an exact duplicate of an earlier row
        elif kind == 5:
            yield f"gizmo,g{n}@example.com,,,,,,"  # unknown entity type
        elif kind == 6:
            yield f'user,q{n}@example.com,"An"a,Lee,HQ,{100_000 + n},,'  # stray quote
        else:
            yield f"user,long{n}@example.com,Ana,Lee,HQ,{100_000 + n},{'x' * 2000},"


def test_200k_hostile_rows_are_all_accounted_for(tmp_path: Path, figures: Any) -> None:
    """A file of 200k rows failing in seven different ways: validate reports every row, and
    the rejected rows it writes plus the valid ones equal the rows in."""
    rows = scale(4_000, 200_000)
    path = write_lines(tmp_path / "mix.csv", hostile_mix(rows))
    done, rss = measured_cli(tmp_path, "validate", str(path), "--out", "out")
    assert done.returncode == 3
    assert report_rows(done.stdout) == rows
    rejected = output_count(tmp_path / "out", "rejected")
    valid = re.search(r"^total\s+(\d+)\s+(\d+)", done.stdout, re.MULTILINE)
    assert valid, done.stdout
    assert int(valid.group(1)) == rows
    assert rejected + int(valid.group(2)) == rows
    for reason in (
        "invalid_email",
        "malformed_row",
        "missing_field",
        "duplicate_row",
        "unknown_entity_type",
        "field_too_long",
    ):
        assert reason in done.stdout
    assert rss < RSS_LIMIT_MB
    figures(rows=rows, rejected=rejected, peak_rss_mb=round(rss, 1))


def rejected_run_file(path: Path, rows: int) -> Path:
    """``rows`` user rows that are all rejected before any API call (bad e-mail addresses)."""
    lines = (f"user,bad{n}@@x.example,Ana,Lee,HQ,{100_000 + n},," for n in range(rows))
    return write_lines(path, with_header(lines))


def test_a_run_of_200k_rejected_rows_writes_every_one_without_an_api_write(
    tmp_path: Path, figures: Any
) -> None:
    """``webex-bulk run`` on 200k rows that all fail validation: every row is journaled and
    written to rejected.csv exactly once (I1), the tenant gets no write, and the run's peak
    RSS stays under 300 MB."""
    rows = scale(3_000, 200_000)
    path = rejected_run_file(tmp_path / "rejected-all.csv", rows)
    with simulator_process() as sim:
        env = clean_env(
            WEBEX_TOKEN=sim.token,
            WEBEX_BULK_BASE_URL=sim.base_url,
            WEBEX_BULK_RUNS_ROOT=str(tmp_path / "runs"),
        )
        done, rss = measured_cli(tmp_path, "run", str(path), "--run-dir", "rundir", env=env)
        counts = sim.side("counts")
    assert done.returncode == 3, done.stderr[-2000:]
    assert counts["writes"] == 0
    invariants.check_i1(tmp_path / "rundir", path)
    summary = json.loads((tmp_path / "rundir" / "summary.json").read_text())
    assert summary["by_status"] == {"success": 0, "rejected": rows, "pending": 0}
    assert rss < RSS_LIMIT_MB
    figures(rows=rows, peak_rss_mb=round(rss, 1), api_requests=counts["total"])


# -- one very long line ----------------------------------------------------------------------


def long_line_files(tmp_path: Path) -> dict[str, Path]:
    """Files whose one long line is a cell, a header, a run of delimiters, or an open quote."""
    files = {
        "long cell": [HEADER, user(1), user(2)[:-1] + "x" * LONG_LINE, user(3)],
        "long header": ["entity_type," + "y" * LONG_LINE],
        "cells": [HEADER, user(1), "user" + ",x" * (LONG_LINE // 2), user(3)],
        "empty cells": [HEADER, user(1), "user" + "," * LONG_LINE, user(3)],
        "open quote": [HEADER, user(1), 'user,"' + "z" * LONG_LINE, user(3)],
        "no line end": None,
    }
    paths = {}
    for name, lines in files.items():
        path = tmp_path / (name.replace(" ", "_") + ".csv")
        if lines is None:
            path.write_text(HEADER + "\n" + user(1)[:-1] + "w" * LONG_LINE, encoding="utf-8")
        else:
            write_lines(path, iter(lines))
        paths[name] = path
    return paths


EXPECTED = {
    "long cell": [None, Reason.FIELD_TOO_LONG, None],
    "cells": [None, Reason.MALFORMED_ROW, None],
    # Empty cells past the header are tolerated (Excel pads rows), but not 10 MB of them: the
    # line is cut at read time and its last cell marked, an extra cell that is not empty.
    "empty cells": [None, Reason.MALFORMED_ROW, None],
    "no line end": [Reason.FIELD_TOO_LONG],
}


@pytest.mark.parametrize(
    "shape", ["long cell", "long header", "cells", "empty cells", "open quote", "no line end"]
)
def test_a_10mb_line_is_a_row_rejection_or_a_file_error(
    shape: str, tmp_path: Path, figures: Any
) -> None:
    """A 10 MB line ends as per-row rejections (rows in = rows out) or a file-level error that
    names its line — and reading it stays under the memory bound."""
    path = long_line_files(tmp_path)[shape]
    settings = Settings()
    if shape in EXPECTED:
        source = scan(path, settings)
        items = list(read_rows(source, settings))
        assert len(items) == source.row_count == len(EXPECTED[shape])
        reasons = [item.reason if isinstance(item, Outcome) else None for item in items]
        assert reasons == EXPECTED[shape]
        assert all(isinstance(item, Row | Outcome) for item in items)
    else:
        with pytest.raises(InputFileError) as caught:
            scan(path, settings)
        assert str(caught.value).startswith(f"{path}:{caught.value.line}: ")
        assert caught.value.line == (1 if shape == "long header" else 3)
    if not FULL:
        return  # the memory of a 1 MB line proves little; make torture measures the 10 MB one
    done, rss = measured_cli(tmp_path, "validate", str(path))
    assert done.returncode == (3 if shape in EXPECTED else 1)
    assert rss < RSS_LIMIT_MB
    figures(line_bytes=LONG_LINE, peak_rss_mb=round(rss, 1), exit_code=done.returncode)


@pytest.mark.parametrize("shape", ["long header", "open quote"])
async def test_file_level_errors_stop_before_any_api_call(
    shape: str, simulator: Any, run_engine: Any, tmp_path: Path
) -> None:
    """The engine refuses a file with a file-level error before it sends a single request."""
    path = long_line_files(tmp_path)[shape]
    async with simulator() as sim:
        with pytest.raises(InputFileError):
            await run_engine(sim, path)
        counts = await aside(sim, "counts")
    assert counts["total"] == 0


def test_a_quote_left_open_deep_in_a_big_file_is_found_at_its_line(
    tmp_path: Path, figures: Any
) -> None:
    """An unclosed quote at row 150,001 of 200k stops the file with an error naming that
    line (not the end of the file), in bounded memory."""
    rows = scale(5_000, 200_000)
    at = rows * 3 // 4
    lines = (
        f'user,u{n}@example.com,"Ana,Lee,HQ,{100_000 + n},,' if n == at else user(n)
        for n in range(rows)
    )
    path = write_lines(tmp_path / "open.csv", with_header(lines))
    with pytest.raises(InputFileError) as caught:
        scan(path, Settings())
    assert caught.value.line == at + 2
    done, rss = measured_cli(tmp_path, "validate", str(path))
    assert done.returncode == 1
    assert f"{path}:{at + 2}:" in done.stderr
    assert rss < RSS_LIMIT_MB
    figures(rows=rows, error_line=at + 2, peak_rss_mb=round(rss, 1), full=FULL)
