"""``plan``: the rows of a run compared with the tenant, without a write.

Uses the session of every command (scan, run directory, client, preflight) and the actions'
read-only ``plan``; the dependency rule is the run's own.
"""

from __future__ import annotations

import asyncio
import collections
import datetime
import itertools
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, TextIO

import attrs

from webex_bulk.actions import REGISTRY, ActionContext
from webex_bulk.config import Settings
from webex_bulk.engine.batch_iterator import PHASES, Phase, RowSelection
from webex_bulk.engine.dependencies import Dependencies
from webex_bulk.engine.saved_plan import SavedPlan, current_org, planned_row
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
from webex_bulk.input import InputFile, mask_secrets, scan
from webex_bulk.models import Outcome, Row
from webex_bulk.state import (
    carried_codes,
    csv_table,
    output_columns,
    read_activation_codes,
    row_cells,
)

PLAN_FILE = "plan.csv"
PLAN_COLUMNS = (
    "_line",
    "_key",
    "_plan",
    "_fields",
    "_reason",
    "_detail",
    "_remote_id",
    "_old",
    "_new",
)
#: How an empty value reads in ``_old`` / ``_new`` and in the terminal (none held, none wanted).
EMPTY = '""'

#: Changed rows the terminal summary shows with their fields (plan.csv holds every row).
PREVIEW_ROWS = 20

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
    preview: tuple[str, ...] = ()  # the first changed rows, old → new per field (terminal)
    saved: Path | None = None  # --out: the saved plan


@attrs.frozen
class Verdict:
    """What the plan says of one row: ``create``, ``update``, ``move``, ``unchanged``, or its
    end state."""

    plan: str
    fields: tuple[str, ...] = ()
    reason: Reason | None = None
    detail: str = ""
    remote_id: str = ""
    #: every compared column's remote value (``old``) and the row's (``new``), secrets masked
    old: Mapping[str, str] = attrs.field(factory=dict, eq=False)
    new: Mapping[str, str] = attrs.field(factory=dict, eq=False)

    @classmethod
    def ended(cls, outcome: Outcome) -> Verdict:
        """A row that would end without a change: rejected, pending, or already the same."""
        return cls(outcome.status.value, (), outcome.reason, outcome.detail)

    def cells(self) -> tuple[str, ...]:
        """The verdict's ``_plan`` … ``_new`` cells: old and new of the differing fields."""
        reason = self.reason.value if self.reason else ""
        old, new = pairs(self.old, self.fields), pairs(self.new, self.fields)
        return (self.plan, ";".join(self.fields), reason, self.detail, self.remote_id, old, new)

    def changes(self) -> list[tuple[str, str, str]]:
        """``(field, old, new)`` of each differing field."""
        return [
            (field, self.old.get(field) or EMPTY, self.new.get(field) or EMPTY)
            for field in self.fields
        ]


def pairs(values: Mapping[str, str], fields: Sequence[str]) -> str:
    """``field=value | field=value`` (one cell of plan.csv; an empty value reads ``""``)."""
    return " | ".join(f"{field}={values.get(field) or EMPTY}" for field in fields)


class Planner:
    """Decides create / update / move / unchanged per row without sending a write."""

    def __init__(self, context: ActionContext, saved: SavedPlan | None = None) -> None:
        self.context = context
        self.saved = saved  # --out: every row's decision and the remote values it read
        self._dependencies = Dependencies()
        self.counts: collections.Counter[str] = collections.Counter()
        self.by_reason: collections.Counter[str] = collections.Counter()
        self.by_type: dict[str, collections.Counter[str]] = collections.defaultdict(
            collections.Counter
        )
        self.preview: list[str] = []  # the first PREVIEW_ROWS changed rows, a few lines each
        self.shown = 0

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
        item = await REGISTRY[row.entity_type].plan(self.context, row)
        if item.change is None:
            outcome = item.outcome
            assert outcome is not None  # a PlanItem holds a change or an outcome
            self._dependencies.record(row.key, ok=False)
            return self._count(Verdict.ended(outcome), row.entity_type.value)
        change = item.change
        # The object will exist (or be as the row says): rows that name it may go ahead.
        self._dependencies.record(row.key, ok=True)
        self.context.file_keys.add(row.key)
        verdict = Verdict(
            change.kind,
            tuple(change.fields),
            detail=change.detail,
            remote_id=change.remote_id,
            old=mask_secrets(change.old),
            new=mask_secrets(change.new),
        )
        return self._count(verdict, row.entity_type.value)

    def record(self, line: int, verdict: Verdict) -> None:
        """File the row's decision in the saved plan (with ``--out``)."""
        if self.saved is not None:
            entry = planned_row(verdict.plan, verdict.remote_id, verdict.old, verdict.fields)
            self.saved.add(line, entry)

    def show(self, line: int, key: str, verdict: Verdict) -> None:
        """Add a changed row to the terminal preview while it holds fewer than PREVIEW_ROWS."""
        if verdict.plan not in ("create", "update", "move") or self.shown >= PREVIEW_ROWS:
            return
        self.shown += 1
        self.preview.append(f"  line {line} {key}: {verdict.plan}")
        self.preview.extend(
            f"      {field}: {old} → {new}" for field, old, new in verdict.changes()
        )

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
        saved = None
        if request.plan_out is not None:
            saved = SavedPlan(source.sha256, await current_org(client, settings.org_id))
        now = datetime.datetime.now(datetime.UTC)
        carried = carried_codes(run_dir, settings.fingerprint(), now)
        codes = [*carried, *read_activation_codes(run_dir)]
        context = ActionContext(client=client, settings=settings, activation_codes=codes)
        planner = Planner(context, saved)
        path = run_dir / PLAN_FILE
        with csv_table(path, (*columns, *PLAN_COLUMNS)) as write:
            for outcome in selection.pre_api_outcomes():
                verdict = planner.pre_api(outcome)
                planner.record(outcome.line, verdict)
                write(row_cells(columns, outcome.cells, outcome.line, outcome.key, verdict.cells()))
            for phase in PHASES:
                await _plan_phase(planner, selection, phase, columns, write, settings)
        if client.stats.writes:
            raise AssertionError(f"plan sent {client.stats.writes} writes")  # a bug, never data
    if saved is not None and request.plan_out is not None:
        saved.save(request.plan_out)
    changes = sum(planner.counts[kind] for kind in ("create", "update", "move"))
    code = ExitCode.CHANGES_PENDING if changes else ExitCode.OK
    return PlanResult(
        code,
        path,
        dict(planner.counts),
        dict(sorted(planner.by_reason.items())),
        {kind: dict(counts) for kind, counts in sorted(planner.by_type.items())},
        http_figures(client.stats),
        _preview(planner, changes),
        request.plan_out,
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
            planner.show(row.line, row.key, verdict)
            planner.record(row.line, verdict)
            write(row_cells(columns, row.cells, row.line, row.key, verdict.cells()))


def _preview(planner: Planner, changes: int) -> tuple[str, ...]:
    """The terminal's list of changes: the first rows with their fields, then how many more."""
    if not changes:
        return ()
    more = changes - planner.shown
    tail = [f"  … and {more} more changed rows: see plan.csv"] if more > 0 else []
    return ("changes (field: now → planned):", *planner.preview, *tail)
