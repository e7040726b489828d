"""One enormous cell or header line (50 MB in ``make torture``, 5 MB in ``make test``): the row
is rejected as soon as its cell passes ``max_cell``, in bounded memory, and the outputs hold
the cell cut at ``max_cell`` characters with the ``…[cut]`` mark — never the whole cell.

Peak RSS is measured in the child process (``VmHWM``), as in ``test_hostile_input_full``.
"""

from __future__ import annotations

import csv
import hashlib
import sys
from pathlib import Path
from typing import Any

import pytest

from reliability import invariants
from reliability.conftest import scale
from reliability.test_hostile_input_full import clean_env, measured_cli
from webex_bulk.config import Settings
from webex_bulk.error_handling import InputFileError
from webex_bulk.input.data_pipeline import read_rows, scan
from webex_bulk.input.line_feed import CUT_MARK, MAX_HEADER_BYTES
from webex_bulk.models import Outcome
from webex_bulk.simulator import simulator_process

pytestmark = pytest.mark.timeout(600)
CELL = scale(5_000_000, 50_000_000)
#: Peak RSS allowed: the interpreter and its imports take ~50 MB; a held cell would add 10×.
RSS_LIMIT_MB = 150
HEADER = "entity_type,email,first_name,last_name,location,extension,notes"
MAX_CELL = Settings().max_cell
csv.field_size_limit(sys.maxsize)  # the test reads back what it wrote, whatever its size


def huge_cell_file(path: Path) -> Path:
    """Three users; the second one's ``notes`` cell is ``CELL`` characters long."""
    with path.open("w", encoding="utf-8", newline="") as handle:
        handle.write(HEADER + "\n")
        handle.write("user,a@example.com,Ana,Lee,HQ,1001,\n")
        handle.write("user,b@example.com,Bo,Li,HQ,1002,")
        for _ in range(CELL // 1_000_000):
            handle.write("n" * 1_000_000)
        handle.write("\nuser,c@example.com,Cy,Ng,HQ,1003,\n")
    return path


def rejected_notes(path: Path) -> dict[str, str]:
    """The ``notes`` cell of each row of a ``rejected.csv``, by input line."""
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return {row["_line"]: row["notes"] for row in csv.DictReader(handle)}


def test_validate_cuts_a_huge_cell_in_bounded_memory(tmp_path: Path, figures: Any) -> None:
    """``validate --out``: the huge row is rejected, its cell written cut and marked."""
    path = huge_cell_file(tmp_path / "cell.csv")
    done, rss = measured_cli(tmp_path, "validate", str(path), "--out", "out")
    assert done.returncode == 3, done.stderr[-2000:]
    assert "field_too_long" in done.stdout
    assert rejected_notes(tmp_path / "out" / "rejected.csv") == {"3": "n" * MAX_CELL + CUT_MARK}
    assert (tmp_path / "out" / "rejected.csv").stat().st_size < 8 * MAX_CELL
    assert rss < RSS_LIMIT_MB
    figures(cell_bytes=CELL, validate_peak_rss_mb=round(rss, 1))


def test_run_cuts_a_huge_cell_in_bounded_memory(tmp_path: Path, figures: Any) -> None:
    """``run``: rows in = rows out, the huge row rejected and cut in ``rejected.csv``."""
    path = huge_cell_file(tmp_path / "cell.csv")
    with simulator_process() as sim:
        env = clean_env(WEBEX_TOKEN=sim.token, WEBEX_BULK_BASE_URL=sim.base_url)
        done, rss = measured_cli(tmp_path, "run", str(path), "--run-dir", "run", env=env)
    assert done.returncode == 3, done.stderr[-2000:]
    invariants.check_i1(tmp_path / "run", path)
    assert rejected_notes(tmp_path / "run" / "rejected.csv")["3"] == "n" * MAX_CELL + CUT_MARK
    assert rss < RSS_LIMIT_MB
    figures(cell_bytes=CELL, run_peak_rss_mb=round(rss, 1))


def test_a_huge_header_line_is_one_error_line_and_no_output(tmp_path: Path) -> None:
    """A header line of ``CELL`` bytes: exit 1, one line naming line 1, no output written."""
    path = tmp_path / "header.csv"
    path.write_text("entity_type,email," + "h" * CELL + "\nuser,a@example.com,x\n")
    done, rss = measured_cli(tmp_path, "validate", str(path), "--out", "out")
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [done.stderr.strip()]
    assert done.stderr.startswith(f"{path}:1: ")
    assert not (tmp_path / "out").exists()
    assert rss < RSS_LIMIT_MB


# -- the line bound, without a process -------------------------------------------------------


def rows_of(path: Path) -> list[tuple[int, str]]:
    """``(line, reason or "valid")`` of every row of a file, as ``validate`` sees them."""
    settings = Settings()
    items = read_rows(scan(path, settings), settings)
    return [
        (item.line, item.reason.value if isinstance(item, Outcome) and item.reason else "valid")
        for item in items
    ]


@pytest.mark.parametrize("end", ["\n", "\r\n"])
def test_rows_after_a_cut_line_keep_their_line_numbers_and_the_hash_is_exact(
    end: str, tmp_path: Path
) -> None:
    """LF or CRLF: the cut row is rejected, the next rows are valid at their own lines, and
    the file's sha256 covers the skipped bytes too."""
    path = tmp_path / "ends.csv"
    long_cell = "n" * 3_000_000
    lines = [
        HEADER,
        "user,a@example.com,A,B,HQ,1001,",
        f"user,b@example.com,A,B,HQ,1002,{long_cell}",
    ]
    lines += [f"user,c{n}@example.com,A,B,HQ,{1003 + n}," for n in range(3)]
    path.write_bytes(end.join(lines).encode() + end.encode())
    assert rows_of(path) == [
        (2, "valid"),
        (3, "field_too_long"),
        (4, "valid"),
        (5, "valid"),
        (6, "valid"),
    ]
    assert scan(path, Settings()).sha256 == hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_file_of_lone_crs_longer_than_the_line_bound_reads_every_row(tmp_path: Path) -> None:
    """Old Mac line ends (CR only) over many times the line bound: every row at its line."""
    path = tmp_path / "mac.csv"
    rows = [f"user,u{n}@example.com,A,B,HQ,{20_000 + n}," for n in range(40_000)]
    path.write_bytes("\r".join([HEADER, *rows]).encode() + b"\r")
    assert path.stat().st_size > MAX_HEADER_BYTES > 4 * (2 * MAX_CELL + 3) * 4 * 8
    found = rows_of(path)
    assert [line for line, _ in found] == list(range(2, 40_002))
    assert {reason for _, reason in found} == {"valid"}


def test_a_cut_line_in_a_file_of_lone_crs_is_one_file_error(tmp_path: Path) -> None:
    """A line past the bound in a CR-only file: a file error naming the line and the fix."""
    path = tmp_path / "mac-long.csv"
    lines = [
        HEADER,
        "user,a@example.com,A,B,HQ,1001," + "n" * 3_000_000,
        "user,b@example.com,A,B,HQ,1002,",
    ]
    path.write_bytes("\r".join(lines).encode() + b"\r")
    with pytest.raises(InputFileError, match="lone CR") as caught:
        scan(path, Settings())
    assert caught.value.line == 2


def test_a_quoted_huge_cell_closed_on_its_line_is_a_row_rejection(tmp_path: Path) -> None:
    """A quoted cell of 3 MB whose quote closes on its line: that row is ``field_too_long``."""
    path = tmp_path / "quoted.csv"
    cell = '"' + 'say ""hi"" ' * 300_000 + '"'
    path.write_text(
        f"{HEADER}\nuser,a@example.com,A,B,HQ,1001,{cell}\nuser,b@example.com,A,B,HQ,1002,\n"
    )
    assert rows_of(path) == [(2, "field_too_long"), (3, "valid")]
