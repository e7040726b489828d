"""The formula-injection guard: which cells are escaped, exact round trips, CSV read-back."""

from __future__ import annotations

import asyncio
import csv
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from webex_bulk.config import Settings
from webex_bulk.error_handling import Action, Status
from webex_bulk.input import OUTPUT_COLUMNS, escape_cell, unescape_cell
from webex_bulk.models import Outcome
from webex_bulk.state.run_dir import ResumeState, RunInfo, open_run
from webex_bulk.state.writers import OutcomeWriter, PhaseDone

# CSV output is UTF-8, which cannot hold lone surrogates: cells are any other text.
cells = st.text(st.characters(exclude_categories=["Cs"]), max_size=30)
formula_starts = st.sampled_from(["=", "+", "-", "@", "\t", "\r", "'"])


@pytest.mark.parametrize(
    ("cell", "escaped"),
    [
        ("=SUM(A1:A9)", "'=SUM(A1:A9)"),
        ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
        ("-2+3", "'-2+3"),
        ("@SUM(1)", "'@SUM(1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("+123456", "'+123456"),  # 6 digits: too short for E.164
        ("+0123456789", "'+0123456789"),  # E.164 never starts with 0
        ("+1234567890123456", "'+1234567890123456"),  # 16 digits: too long
        ("+1 408 555 0100", "'+1 408 555 0100"),  # spaces: not E.164
        ("'=x", "''=x"),  # an already-quoted formula keeps its quote
        ("''", "'''"),
    ],
)
def test_formula_cells_get_a_leading_quote(cell: str, escaped: str) -> None:
    """Cells a spreadsheet would evaluate get a leading quote; unescaping gives them back."""
    assert escape_cell(cell) == escaped
    assert unescape_cell(escaped) == cell


@pytest.mark.parametrize(
    "cell",
    [
        "+14085550100",
        "+1408555010",
        "+442071838750",
        "plain text",
        "",
        "a=b",
        "user@example.com",
        "'quoted",
        "'",
    ],
)
def test_safe_cells_are_untouched(cell: str) -> None:
    """E.164 numbers, plain text and a lone leading quote are written as they are."""
    assert escape_cell(cell) == cell
    assert unescape_cell(cell) == cell


@given(cells)
def test_unescape_undoes_escape(cell: str) -> None:
    """unescape(escape(x)) == x for every text."""
    assert unescape_cell(escape_cell(cell)) == cell


@given(formula_starts, cells)
def test_escaped_cells_never_start_a_formula(start: str, rest: str) -> None:
    """After escaping, a cell starts with a formula character only when it is an E.164 number."""
    escaped = escape_cell(start + rest)
    if escaped[:1] in {"=", "+", "-", "@", "\t", "\r"}:
        assert escaped.startswith("+")
        assert escaped[1:].isdigit()
        assert 8 <= len(escaped) - 1 <= 15


@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(cells, cells), min_size=1, max_size=8), cells)
def test_written_rows_read_back_with_csv_to_the_same_cells(
    rows: list[tuple[str, str]], detail: str
) -> None:
    """Rows written by the writer and read with csv give back every cell and column exactly."""
    header = ("entity_type", "name")
    info = RunInfo("in.csv", "00" * 32, "0.1.0", "t", {}, "r")
    with tempfile.TemporaryDirectory() as folder:
        run_dir = Path(folder)
        resume = open_run(run_dir, info, fresh=False)
        outcomes = [
            Outcome(
                line=index + 2,
                entity_type="user",
                key=f"user:{index}",
                status=Status.SUCCESS,
                cells={"entity_type": kind, "name": name},
                detail=detail,
                action=Action.UNCHANGED,
            )
            for index, (kind, name) in enumerate(rows)
        ]
        asyncio.run(_write(run_dir, header, resume, outcomes))
        with (run_dir / "success.csv").open(newline="", encoding="utf-8-sig") as handle:
            read = list(csv.reader(handle))
    assert read[0] == [*header, *OUTPUT_COLUMNS]
    assert len(read) == len(rows) + 1
    for (kind, name), line in zip(rows, read[1:], strict=True):
        assert len(line) == len(header) + len(OUTPUT_COLUMNS)
        assert [unescape_cell(cell) for cell in line[:2]] == [kind, name]
        assert unescape_cell(line[len(header) + 4]) == detail


async def _write(
    run_dir: Path, header: tuple[str, ...], resume: ResumeState, outcomes: list[Outcome]
) -> None:
    writer = OutcomeWriter(run_dir, header, Settings(), "r", resume)
    queue: asyncio.Queue[Outcome | PhaseDone | None] = asyncio.Queue()
    for outcome in outcomes:
        queue.put_nowait(outcome)
    queue.put_nowait(None)
    await writer.run(queue)
