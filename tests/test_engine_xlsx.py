"""The engine runs a workbook as it runs the CSV: same outcomes per row, zero writes on a re-run."""

from __future__ import annotations

import csv
from pathlib import Path

from openpyxl import Workbook
from support import aside

EXAMPLE = Path(__file__).parents[1] / "examples" / "tenant.csv"


def as_workbook(source: Path, target: Path) -> Path:
    """The CSV's physical lines as sheet rows (text cells), so line numbers match."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    with source.open(encoding="utf-8", newline="") as handle:
        for number, cells in enumerate(csv.reader(handle), start=1):
            for column, text in enumerate(cells, start=1):
                if text:
                    sheet.cell(row=number, column=column, value=text)
    book.save(target)
    return target


def outcomes(run) -> dict[str, tuple[str, str, str]]:  # type: ignore[no-untyped-def]
    """Each output row by line: status, reason, action."""
    return {
        row["_line"]: (row["_status"], row["_reason"], row["_action"])
        for status in ("success", "rejected", "pending")
        for row in run.rows(status)
    }


async def test_workbook_run_matches_the_csv_run_and_reruns_without_writes(
    simulator, run_engine, tmp_path: Path
) -> None:
    """The example tenant as .xlsx ends like the CSV, row by row; a second run writes nothing."""
    workbook = as_workbook(EXAMPLE, tmp_path / "tenant.xlsx")
    async with simulator() as sim:
        from_csv = await run_engine(sim, EXAMPLE)
    async with simulator() as sim:
        from_xlsx = await run_engine(sim, workbook)
        first = outcomes(from_xlsx)  # read now: --fresh reuses the run directory's path
        before = await aside(sim, "counts")
        again = await run_engine(sim, workbook, fresh=True)
        after = await aside(sim, "counts")
    assert first == outcomes(from_csv)
    assert from_xlsx.exit_code == from_csv.exit_code
    assert after["writes"] == before["writes"]
    assert {row["_action"] for row in again.rows("success")} == {"unchanged"}
