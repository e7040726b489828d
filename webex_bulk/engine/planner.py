"""``plan`` and ``preflight``: the rows of a run compared with the tenant, without a write.

Uses the executor's wiring (scan, run directory, client) and the actions' read-only ``plan``.
"""

from __future__ import annotations

import asyncio
import collections
import csv
import itertools
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, TextIO

import attrs

from webex_bulk.actions import REGISTRY, ActionContext
from webex_bulk.config import Settings
from webex_bulk.engine.batch_iterator import PHASES, Phase, RowSelection
from webex_bulk.engine.executor import RunRequest, open_client, resolve_run_dir
from webex_bulk.engine.preflight import Check, raise_on_failure, run_checks
from webex_bulk.error_handling import Reason
from webex_bulk.input.data_pipeline import dependencies, scan
from webex_bulk.models import Outcome, Row
from webex_bulk.state.writers import escape_cell

PLAN_COLUMNS = ("_line", "_key", "_plan", "_fields", "_reason", "_detail", "_remote_id")


@attrs.frozen
class PlanResult:
    """How a plan ended: counts per verdict and where plan.csv is."""

    exit_code: int
    path: Path
    counts: Mapping[str, int]


class Planner:
    """Decides create / update / unchanged per row without sending a write."""

    def __init__(self, context: ActionContext, settings: Settings) -> None:
        self.context = context
        self._settings = settings
        self._creates: set[str] = set()
        self._failed: set[str] = set()
        self.counts: collections.Counter[str] = collections.Counter()

    def pre_api(self, outcome: Outcome) -> tuple[str, ...]:
        """A row that ends before any API call: rejected or pending."""
        self._failed.add(outcome.key)
        return self._record(outcome.status.value, (), outcome.reason, outcome.detail, "")

    async def row(self, row: Row) -> tuple[str, ...]:
        """The verdict of one valid row."""
        deps = dependencies(row)
        blocked = next((k for k in deps if k in self._failed), None)
        if blocked is not None:
            self._failed.add(row.key)
            detail = f"{blocked} did not end in success"
            return self._record("pending", (), Reason.DEPENDENCY_FAILED, detail, "")
        waiting = next((k for k in deps if k in self._creates), None)
        if waiting is not None:
            self._creates.add(row.key)
            return self._record("create", (), None, f"after {waiting} is created", "")
        item = await REGISTRY[row.entity_type].plan(self.context, row)
        if item.change is None:
            outcome = item.outcome
            assert outcome is not None  # a PlanItem holds a change or an outcome
            self._failed.add(row.key)
            return self._record(outcome.status.value, (), outcome.reason, outcome.detail, "")
        if item.change.kind == "create":
            self._creates.add(row.key)
        change = item.change
        return self._record(change.kind, change.fields, None, "", change.remote_id)

    def _record(
        self,
        verdict: str,
        fields: Sequence[str],
        reason: str | None,
        detail: str,
        remote_id: str,
    ) -> tuple[str, ...]:
        self.counts[verdict] += 1
        return (verdict, ";".join(fields), reason or "", detail, remote_id)


async def plan_file(request: RunRequest, out: TextIO) -> PlanResult:
    """Compare the file with the tenant and write ``plan.csv``; sends no write."""
    settings = request.settings
    source = scan(request.input_path, settings)
    run_dir = resolve_run_dir(attrs.evolve(request, fresh=False), source)
    selection = RowSelection(source, settings, request.caps)
    async with open_client(settings, request.credentials, uuid.uuid4().hex[:12]) as client:
        checks = await run_checks(client, source, selection, run_dir, settings.org_id)
        for check in checks:
            print(check.line(), file=out)
        raise_on_failure(checks)
        planner = Planner(ActionContext(client=client, settings=settings), settings)
        path = run_dir / "plan.csv"
        with path.open("w", newline="", encoding="utf-8") as handle:
            table = csv.writer(handle)
            table.writerow([*source.header, *PLAN_COLUMNS])
            for outcome in selection.pre_api_outcomes():
                verdict = planner.pre_api(outcome)
                table.writerow(_plan_line(source.header, outcome.cells, outcome, verdict))
            for phase in PHASES:
                await _plan_phase(planner, selection, phase, source.header, table, settings)
        if client.stats.writes:
            raise AssertionError(f"plan sent {client.stats.writes} writes")  # a bug, never data
    changes = planner.counts["create"] + planner.counts["update"]
    return PlanResult(2 if changes else 0, path, dict(planner.counts))


async def _plan_phase(
    planner: Planner,
    selection: RowSelection,
    phase: Phase,
    header: Sequence[str],
    table: Any,
    settings: Settings,
) -> None:
    for entity_type in phase.types:
        count = selection.count_type(entity_type)
        if count:
            await REGISTRY[entity_type].prepare(planner.context, count)
    chunk: list[Row] = []
    rows = selection.phase_rows(phase)
    while True:
        chunk = list(itertools.islice(rows, settings.concurrency * 4))
        if not chunk:
            return
        verdicts = await asyncio.gather(*(planner.row(row) for row in chunk))
        for row, verdict in zip(chunk, verdicts, strict=True):
            table.writerow(_plan_line(header, row.cells, row, verdict))


def _plan_line(
    header: Sequence[str], cells: Mapping[str, str], item: Row | Outcome, verdict: tuple[str, ...]
) -> list[str]:
    values = [escape_cell(cells.get(column, "")) for column in header]
    return [*values, str(item.line), item.key, *(escape_cell(v) for v in verdict)]


async def preflight_file(request: RunRequest) -> list[Check]:
    """The preflight checklist for one input file, reads only."""
    settings = request.settings
    source = scan(request.input_path, settings)
    run_dir = resolve_run_dir(attrs.evolve(request, fresh=False), source)
    selection = RowSelection(source, settings, request.caps)
    async with open_client(settings, request.credentials, uuid.uuid4().hex[:12]) as client:
        return await run_checks(client, source, selection, run_dir, settings.org_id)
