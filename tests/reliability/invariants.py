"""The invariants every reliability test checks, as plain functions that raise ``AssertionError``.

I1 every input row is in exactly one output, once; I2 no natural key was created twice; I3 every
object made for the file maps to a row that names it; I4 outcomes equal an uninterrupted run's;
I5 a further run of the same file sends no write.
"""

from __future__ import annotations

import csv
import json
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs

from webex_bulk.config import Settings
from webex_bulk.input.data_pipeline import read_rows, scan
from webex_bulk.state.journal import JOURNAL_FILE, read_journal
from webex_bulk.state.persistence import make_converter
from webex_bulk.state.run_dir import RUN_FILE

STATUSES = ("success", "rejected", "pending")

#: ``/_sim/state`` lists whose records are tenant objects, and the field that identifies each.
OBJECT_LISTS: Mapping[str, str] = {
    "locations": "id",
    "people": "id",
    "workspaces": "id",
    "numbers": "number",
    "schedules": "id",
    "features": "id",
    "devices": "id",
}


@attrs.frozen
class RowOutcome:
    """A row's outcome as the output CSVs show it; ``action`` and ``remote_id`` are not compared
    by I4 (a row adopted after a crash is ``unchanged`` where an uninterrupted run says
    ``created``, and ids differ between tenants)."""

    line: int
    key: str
    status: str
    reason: str
    action: str
    remote_id: str

    @property
    def verdict(self) -> tuple[str, str, str]:
        """What I4 compares: key, status and reason."""
        return (self.key, self.status, self.reason)


def input_lines(input_path: Path) -> set[int]:
    """The line numbers of every row of an input file (valid or not)."""
    settings = Settings()
    return {item.line for item in read_rows(scan(input_path, settings), settings)}


def output_rows(run_dir: Path) -> dict[str, list[dict[str, str]]]:
    """The rows of ``success.csv``, ``rejected.csv`` and ``pending.csv`` (absent file: none)."""
    rows: dict[str, list[dict[str, str]]] = {}
    for status in STATUSES:
        path = run_dir / f"{status}.csv"
        if not path.exists() or path.stat().st_size == 0:
            rows[status] = []
            continue
        with path.open(encoding="utf-8-sig", newline="") as handle:
            rows[status] = list(csv.DictReader(handle))
    return rows


def outcomes(run_dir: Path) -> dict[int, RowOutcome]:
    """Every row outcome of a run directory by input line (the last one if a line repeats)."""
    found: dict[int, RowOutcome] = {}
    for status, rows in output_rows(run_dir).items():
        for row in rows:
            line = int(row["_line"])
            found[line] = RowOutcome(
                line, row["_key"], status, row["_reason"], row["_action"], row["_remote_id"]
            )
    return found


def journal_lines(run_dir: Path) -> dict[int, str]:
    """Input line → status of every entry in the journal's valid prefix."""
    run_id = json.loads((run_dir / RUN_FILE).read_text(encoding="utf-8"))["run_id"]
    prefix = read_journal(run_dir / JOURNAL_FILE, make_converter(), run_id)
    return {line: done.status.value for line, done in prefix.done.items()}


def check_i1(run_dir: Path, input_path: Path, *, complete: bool = True) -> None:
    """I1: each input row appears once, in exactly one output, and the journal agrees.

    ``complete=False`` (a run that was stopped) only requires *at most* once.
    """
    wanted = input_lines(input_path)
    seen: Counter[int] = Counter()
    where: dict[int, str] = {}
    for status, rows in output_rows(run_dir).items():
        for row in rows:
            line = int(row["_line"])
            seen[line] += 1
            where[line] = status
    repeated = sorted(line for line, count in seen.items() if count > 1)
    assert not repeated, f"I1: input lines in the outputs more than once: {repeated[:20]}"
    unknown = sorted(set(seen) - wanted)
    assert not unknown, f"I1: output rows for lines not in the input: {unknown[:20]}"
    if complete:
        missing = sorted(wanted - set(seen))
        assert not missing, f"I1: {len(missing)} input lines in no output: {missing[:20]}"
    journal = journal_lines(run_dir)
    assert journal == where, (
        "I1: journal and outputs disagree: "
        f"{sorted(set(journal.items()) ^ set(where.items()))[:20]}"
    )


def check_i2(creates: Mapping[str, Any]) -> None:
    """I2: the simulator's create ledger (``/_sim/creates``) holds no natural key twice."""
    assert not creates.get("duplicates"), f"I2: duplicate creates: {creates['duplicates']}"
    for kind, counts in creates.items():
        if kind == "duplicates":
            continue
        twice = {key: count for key, count in counts.items() if count != 1}
        assert not twice, f"I2: {kind} created more than once: {twice}"


def object_ids(state: Mapping[str, Any]) -> dict[str, str]:
    """Id (numbers: the number) → kind of every tenant object of a ``/_sim/state`` answer."""
    found: dict[str, str] = {}
    for kind, field in OBJECT_LISTS.items():
        for record in state.get(kind, ()):
            found[str(record[field])] = kind
    return found


def check_i3(
    state: Mapping[str, Any], run_dir: Path, *, baseline: Mapping[str, Any] | None = None
) -> None:
    """I3: every object the run made (in ``state``, not in ``baseline``) is the remote id of a
    ``success`` row or of a ``pending`` row; and every ``success`` row names an existing object.
    """
    held = object_ids(state)
    before = set(object_ids(baseline)) if baseline is not None else set()
    rows = output_rows(run_dir)
    named = {row["_remote_id"] for status in ("success", "pending") for row in rows[status]} - {""}
    made = {object_id: kind for object_id, kind in held.items() if object_id not in before}
    orphans = {object_id: kind for object_id, kind in made.items() if object_id not in named}
    assert not orphans, f"I3: {len(orphans)} objects no row names: {list(orphans.items())[:10]}"
    lost = [
        (row["_line"], row["_key"])
        for row in rows["success"]
        if row["_remote_id"] and row["_remote_id"] not in held
    ]
    assert not lost, f"I3: success rows naming no object of the tenant: {lost[:10]}"


def check_i4(run_dir: Path, reference_dir: Path) -> None:
    """I4: each row's key, status and reason equal those of an uninterrupted reference run."""
    got = {line: outcome.verdict for line, outcome in outcomes(run_dir).items()}
    want = {line: outcome.verdict for line, outcome in outcomes(reference_dir).items()}
    differ = sorted(
        (line, got.get(line), want.get(line))
        for line in set(got) | set(want)
        if got.get(line) != want.get(line)
    )
    assert not differ, f"I4: {len(differ)} rows differ from the reference run: {differ[:10]}"


def writes(counts: Mapping[str, Any]) -> int:
    """Writes the simulator received, from a ``/_sim/counts`` answer."""
    return int(counts["writes"])


def check_i5(
    counts_before: Mapping[str, Any],
    counts_after: Mapping[str, Any],
    run_dir: Path | None = None,
) -> None:
    """I5: the further run between the two ``/_sim/counts`` answers sent no write; with its run
    directory, every success row of it is also ``unchanged``."""
    sent = writes(counts_after) - writes(counts_before)
    assert sent == 0, f"I5: a further run of the same file sent {sent} writes"
    if run_dir is not None:
        actions = Counter(row["_action"] for row in output_rows(run_dir)["success"])
        assert set(actions) <= {"unchanged"}, f"I5: the further run changed rows: {actions}"
