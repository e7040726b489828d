"""``validate``'s report: rows per entity type and status, rejections per reason with their
first line numbers; its ``--out`` files, written like a run's ``rejected.csv``/``pending.csv``;
and the state of a run as ``status`` reports it.
"""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from webex_bulk.error_handling import ExitCode, Status
from webex_bulk.input import OUTPUT_COLUMNS, InputFile
from webex_bulk.models import EntityType, Outcome
from webex_bulk.state import csv_table, outcome_cells, output_columns

_FIRST_LINES = 5
_FIRST_REJECTIONS = 10


class ValidateReport:
    """Counts of one validation: rows per entity type and status, rejections per reason."""

    def __init__(self) -> None:
        self.by_type: dict[str, Counter[str]] = {}
        self.by_reason: dict[tuple[str, str], list[int]] = {}
        self.reason_counts: Counter[tuple[str, str]] = Counter()
        self.failed = 0
        self.first: list[Outcome] = []

    def add(self, item: Outcome) -> None:
        """Count one pre-API outcome (rejected or pending)."""
        self.failed += 1
        if len(self.first) < _FIRST_REJECTIONS:
            self.first.append(item)
        self.by_type.setdefault(item.entity_type or "(blank)", Counter())[item.status.value] += 1
        reason = (item.status.value, item.reason.value if item.reason else "")
        self.reason_counts[reason] += 1
        lines = self.by_reason.setdefault(reason, [])
        if len(lines) < _FIRST_LINES:
            lines.append(item.line)

    def add_valid(self, source: InputFile) -> None:
        """Count the valid rows: those of the first pass's counts that no outcome ended."""
        for name, rows in source.counts_by_type.items():
            counts = self.by_type.get(name or "(blank)", Counter())
            valid = rows - counts["rejected"] - counts["pending"]
            if valid > 0:
                self.by_type.setdefault(name, Counter())["valid"] += valid

    def counts(self) -> dict[str, Any]:
        """The counts as the JSON document's ``counts``: valid / rejected / pending."""
        by_status: Counter[str] = Counter()
        for counts in self.by_type.values():
            by_status.update(counts)
        by_reason: Counter[str] = Counter()
        for (_status, reason), count in self.reason_counts.items():
            by_reason[reason] += count
        return {
            "by_status": {s: by_status[s] for s in ("valid", "rejected", "pending")},
            "by_reason": dict(sorted(by_reason.items())),
            "by_entity_type": {t: dict(c) for t, c in sorted(self.by_type.items())},
        }

    def render(self, source: InputFile, *, details: bool = False) -> str:
        """The report as text; ``details`` adds the first rejections with their reasons."""
        delimiter = "tab" if source.delimiter == "\t" else source.delimiter
        out = [
            f"{source.path}: {source.row_count} rows · sheet {source.sheet!r}"
            if source.sheet
            else f"{source.path}: {source.row_count} rows · encoding {source.encoding} "
            f"· delimiter {delimiter!r}"
        ]
        out.extend(f"warning: {warning}" for warning in source.warnings)
        out.append("")
        out.append(f"{'entity type':<18}{'rows':>7}{'valid':>7}{'rejected':>10}{'pending':>9}")
        total: Counter[str] = Counter()
        for name in sorted(self.by_type, key=_type_order):
            counts = self.by_type[name]
            total.update(counts)
            out.append(_type_line(name, counts))
        out.append(_type_line("total", total))
        for status in (Status.REJECTED.value, Status.PENDING.value):
            reasons = sorted(r for r in self.reason_counts if r[0] == status)
            if reasons:
                out.append("")
                out.append(f"{status} ({sum(self.reason_counts[r] for r in reasons)}):")
                out.extend(self._reason_line(reason) for reason in reasons)
        if details and self.first:
            more = " (--out DIR writes them all)" if self.failed > len(self.first) else ""
            out.extend(["", f"first {len(self.first)} of {self.failed}{more}:"])
            out.extend(
                f"  line {item.line}  {item.reason.value if item.reason else ''}  {item.detail}"
                for item in self.first
            )
        return "\n".join(out)

    def _reason_line(self, reason: tuple[str, str]) -> str:
        count = self.reason_counts[reason]
        lines = ", ".join(str(line) for line in self.by_reason[reason])
        more = ", …" if count > len(self.by_reason[reason]) else ""
        label = "line" if count == 1 else "lines"
        return f"  {reason[1]:<24}{count:>6}   {label} {lines}{more}"


def _type_order(name: str) -> tuple[int, str]:
    order = [t.value for t in EntityType]
    return (order.index(name), name) if name in order else (len(order), name)


def _type_line(name: str, counts: Counter[str]) -> str:
    rows = counts["valid"] + counts["rejected"] + counts["pending"]
    return f"{name:<18}{rows:>7}{counts['valid']:>7}{counts['rejected']:>10}{counts['pending']:>9}"


@contextlib.contextmanager
def outcome_files(
    out_dir: Path | None, header: Sequence[str]
) -> Iterator[Callable[[Outcome], None]]:
    """A function writing each outcome to ``rejected.csv`` or ``pending.csv`` (or nowhere)."""
    if out_dir is None:
        yield lambda _outcome: None
        return
    out_dir.mkdir(parents=True, exist_ok=True)
    columns = output_columns(header)
    with contextlib.ExitStack() as stack:
        tables = {
            status: stack.enter_context(
                csv_table(out_dir / f"{status.value}.csv", (*columns, *OUTPUT_COLUMNS))
            )
            for status in (Status.REJECTED, Status.PENDING)
        }

        def write(outcome: Outcome) -> None:
            tables[outcome.status](outcome_cells(columns, outcome))

        yield write


#: ``status``: the state of a run and its exit code (README "Exit codes").
RUN_STATES: dict[str, ExitCode] = {
    "complete": ExitCode.OK,
    "complete_with_rejections": ExitCode.ROWS_FAILED,
    "incomplete": ExitCode.STOPPED,
    "running": ExitCode.STOPPED,
    "no_run": ExitCode.NO_RUN,
}


def run_state(status: dict[str, Any]) -> str:
    """Where a run stands, from what ``read_status`` found.

    Complete means its last pass wrote a summary without a stop and counted every row the
    checkpoint holds (a stale summary of an earlier pass does not count).
    """
    if status.get("running"):
        return "running"
    summary = status.get("summary")
    if not isinstance(summary, dict) or summary.get("stopped"):
        return "incomplete"
    by_status = summary.get("by_status") or {}
    if sum(by_status.values()) != status.get("done", 0):
        return "incomplete"
    failed = by_status.get(Status.REJECTED.value, 0) + by_status.get(Status.PENDING.value, 0)
    return "complete_with_rejections" if failed else "complete"
