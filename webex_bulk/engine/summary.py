"""The counts of a run, its ``summary.json`` record, its text for a person, and its exit code.

Counts by status, reason and entity type survive a resume: rows done in an earlier run are
counted from their journal entry, with the entity type the journal carries.
"""

from __future__ import annotations

import collections
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from webex_bulk.error_handling import ExitCode, Reason, Status
from webex_bulk.http import ClientStats


class Tally:
    """Counts of outcomes by status, reason and entity type, across resumes."""

    def __init__(self) -> None:
        self.by_status: collections.Counter[Status] = collections.Counter()
        self.by_reason: collections.Counter[str] = collections.Counter()
        self.by_type: dict[str, collections.Counter[str]] = collections.defaultdict(
            collections.Counter
        )
        #: (entity type, status, reason or "") → rows: the metrics file's labels.
        self.by_all: collections.Counter[tuple[str, str, str]] = collections.Counter()

    def add(self, entity_type: str, status: Status, reason: Reason | None) -> None:
        """Count one terminal row."""
        self.by_status[status] += 1
        if reason:
            self.by_reason[reason.value] += 1
        self.by_type[entity_type][status.value] += 1
        self.by_all[(entity_type, status.value, reason.value if reason else "")] += 1

    def exit_code(self, stopped: ExitCode | None) -> ExitCode:
        """The exit code of a run that ended without a fatal error (DESIGN §13)."""
        if stopped is not None:
            return stopped
        issues = self.by_status[Status.REJECTED] + self.by_status[Status.PENDING]
        return ExitCode.ROWS_FAILED if issues else ExitCode.OK

    def as_dict(self) -> dict[str, Any]:
        """The counts as plain JSON values."""
        return {
            "by_status": {s.value: self.by_status[s] for s in Status},
            "by_reason": dict(sorted(self.by_reason.items())),
            "by_entity_type": {t: dict(c) for t, c in sorted(self.by_type.items())},
        }


def build_summary(
    tally: Tally, stats: ClientStats, duration: float, stopped: str
) -> dict[str, Any]:
    """What ``summary.json`` holds: the counts, the duration, why it stopped, the HTTP figures."""
    return {
        **tally.as_dict(),
        "duration_seconds": round(duration, 3),
        "stopped": stopped or None,
        **http_figures(stats),
    }


def http_figures(stats: ClientStats) -> dict[str, Any]:
    """The client's figures of a command: requests, writes, 429s, retries, breaker trips."""
    return {
        "requests": stats.requests,
        "writes": stats.writes,
        "rate_limited": stats.rate_limited,
        "retries": stats.retries,
        "breaker_trips": stats.breaker_trips,
        "by_http_status": {str(k): v for k, v in sorted(stats.by_status.items())},
    }


def render_summary(summary: Mapping[str, Any], run_dir: Path) -> str:
    """The end-of-run summary for a person: counts, requests, where the outputs are."""
    by_status = summary.get("by_status", {})
    lines = [
        "",
        "summary: " + "  ".join(f"{k} {v}" for k, v in by_status.items()),
        f"  requests {summary.get('requests', 0)} (writes {summary.get('writes', 0)}), "
        f"429s {summary.get('rate_limited', 0)}, retries {summary.get('retries', 0)}, "
        f"breaker trips {summary.get('breaker_trips', 0)}, "
        f"{summary.get('duration_seconds', 0)} s",
    ]
    if summary.get("by_reason"):
        reasons = ", ".join(f"{k} {v}" for k, v in summary["by_reason"].items())
        lines.append(f"  reasons: {reasons}")
    if summary.get("stopped"):
        lines.append(f"  stopped: {summary['stopped']} — run the same command again to resume")
    lines.append(f"  outputs: {run_dir}/ (success.csv, rejected.csv, pending.csv, summary.json)")
    return "\n".join(lines)
