"""``plan``: the rows of a run compared with the tenant, without a write.

Uses the session of every command (scan, run directory, client, preflight) and the actions'
read-only ``plan``; the dependency rule is the run's own.
"""

from __future__ import annotations

import asyncio
import collections
import itertools
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, TextIO

import attrs

from webex_bulk.actions import REGISTRY, ActionContext
from webex_bulk.config import Settings
from webex_bulk.engine.batch_iterator import PHASES, Phase, RowSelection
from webex_bulk.engine.dependencies import Dependencies
from webex_bulk.engine.session import (
    RunRequest,
    log_end,
    logged_command,
    new_run_id,
    open_client,
    pass_preflight,
    resolve_run_dir,
)
from webex_bulk.engine.summary import http_figures
from webex_bulk.error_handling import ExitCode, Reason
from webex_bulk.input import InputFile, dependencies, scan
from webex_bulk.models import Outcome, Row
from webex_bulk.state import csv_table, output_columns, row_cells

PLAN_FILE = "plan.csv"
PLAN_COLUMNS = ("_line", "_key", "_plan", "_fields", "_reason", "_detail", "_remote_id")

#: Writes one row of escaped cells to plan.csv.
WriteRow = Callable[[Sequence[str]], None]


@attrs.frozen
class PlanResult:
    """How a plan ended: counts per verdict and where plan.csv is."""

    exit_code: ExitCode
    path: Path
    counts: Mapping[str, int]
    by_reason: Mapping[str, int] = attrs.field(factory=dict)
    by_entity_type: Mapping[str, Mapping[str, int]] = attrs.field(factory=dict)
    http: Mapping[str, Any] = attrs.field(factory=dict)  # the client's figures (no write)


@attrs.frozen
class Verdict:
    """What the plan says of one row: ``create``, ``update``, ``move``, ``unchanged``, or its
    end state."""

    plan: str
    fields: tuple[str, ...] = ()
    reason: Reason | None = None
    detail: str = ""
    remote_id: str = ""

    @classmethod
    def ended(cls, outcome: Outcome) -> Verdict:
        """A row that would end without a change: rejected, pending, or already the same."""
        return cls(outcome.status.value, (), outcome.reason, outcome.detail)

    def cells(self) -> tuple[str, ...]:
        """The verdict's ``_plan`` … ``_remote_id`` cells."""
        reason = self.reason.value if self.reason else ""
        return (self.plan, ";".join(self.fields), reason, self.detail, self.remote_id)


class Planner:
    """Decides create / update / move / unchanged per row without sending a write."""

    def __init__(self, context: ActionContext) -> None:
        self.context = context
        self._dependencies = Dependencies()
        self._creates: set[str] = set()
        self.counts: collections.Counter[str] = collections.Counter()
        self.by_reason: collections.Counter[str] = collections.Counter()
        self.by_type: dict[str, collections.Counter[str]] = collections.defaultdict(
            collections.Counter
        )

    def pre_api(self, outcome: Outcome) -> Verdict:
        """A row that ends before any API call: rejected or pending."""
        self._dependencies.record(outcome.key, ok=False)
        return self._count(Verdict.ended(outcome), outcome.entity_type)

    async def row(self, row: Row) -> Verdict:
        """The verdict of one valid row."""
        blocked = self._dependencies.blocked(row)
        if blocked is not None:
            self._dependencies.record(row.key, ok=False)
            return self._count(Verdict.ended(blocked), row.entity_type.value)
        waiting = next((k for k in dependencies(row) if k in self._creates), None)
        if waiting is not None:
            ended = await REGISTRY[row.entity_type].plan_waiting(self.context, row)
            if ended is not None:
                self._dependencies.record(row.key, ok=False)
                return self._count(Verdict.ended(ended), row.entity_type.value)
            self._planned(row.key, "create")
            verdict = Verdict("create", detail=f"after {waiting} is created")
            return self._count(verdict, row.entity_type.value)
        item = await REGISTRY[row.entity_type].plan(self.context, row)
        if item.change is None:
            outcome = item.outcome
            assert outcome is not None  # a PlanItem holds a change or an outcome
            self._dependencies.record(row.key, ok=False)
            return self._count(Verdict.ended(outcome), row.entity_type.value)
        change = item.change
        self._planned(row.key, change.kind)
        verdict = Verdict(
            change.kind, tuple(change.fields), detail=change.detail, remote_id=change.remote_id
        )
        return self._count(verdict, row.entity_type.value)

    def _planned(self, key: str, kind: str) -> None:
        self._dependencies.record(key, ok=True)
        if kind == "create":
            self._creates.add(key)

    def _count(self, verdict: Verdict, entity_type: str) -> Verdict:
        self.counts[verdict.plan] += 1
        self.by_type[entity_type][verdict.plan] += 1
        if verdict.reason is not None:
            self.by_reason[verdict.reason.value] += 1
        return verdict


async def plan_file(request: RunRequest, out: TextIO) -> PlanResult:
    """Compare the file with the tenant and write ``plan.csv``; sends no write."""
    settings = request.settings
    source = scan(request.input_path, settings)
    run_dir = resolve_run_dir(attrs.evolve(request, fresh=False), source)
    selection = RowSelection(source, settings, request.caps)
    columns = output_columns(source.header)
    with logged_command(request, run_dir, "plan"):
        result = await _plan(request, source, run_dir, selection, columns, out)
        log_end("plan", result.exit_code, **result.counts)
        return result


async def _plan(
    request: RunRequest,
    source: InputFile,
    run_dir: Path,
    selection: RowSelection,
    columns: Sequence[str],
    out: TextIO,
) -> PlanResult:
    settings = request.settings
    async with open_client(settings, request.credentials, new_run_id()) as client:
        await pass_preflight(client, source, selection, run_dir, settings, out)
        planner = Planner(ActionContext(client=client, settings=settings))
        path = run_dir / PLAN_FILE
        with csv_table(path, (*columns, *PLAN_COLUMNS)) as write:
            for outcome in selection.pre_api_outcomes():
                verdict = planner.pre_api(outcome)
                write(row_cells(columns, outcome.cells, outcome.line, outcome.key, verdict.cells()))
            for phase in PHASES:
                await _plan_phase(planner, selection, phase, columns, write, settings)
        if client.stats.writes:
            raise AssertionError(f"plan sent {client.stats.writes} writes")  # a bug, never data
    changes = sum(planner.counts[kind] for kind in ("create", "update", "move"))
    code = ExitCode.CHANGES_PENDING if changes else ExitCode.OK
    return PlanResult(
        code,
        path,
        dict(planner.counts),
        dict(sorted(planner.by_reason.items())),
        {kind: dict(counts) for kind, counts in sorted(planner.by_type.items())},
        http_figures(client.stats),
    )


async def _plan_phase(
    planner: Planner,
    selection: RowSelection,
    phase: Phase,
    columns: Sequence[str],
    write: WriteRow,
    settings: Settings,
) -> None:
    for entity_type in phase.types:
        count = selection.count_type(entity_type)
        if count:
            await REGISTRY[entity_type].prepare(planner.context, count)
    rows = selection.phase_rows(phase)
    while chunk := list(itertools.islice(rows, settings.workers * 4)):
        verdicts = await asyncio.gather(*(planner.row(row) for row in chunk))
        for row, verdict in zip(chunk, verdicts, strict=True):
            write(row_cells(columns, row.cells, row.line, row.key, verdict.cells()))
