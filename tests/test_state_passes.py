"""Passes of a run directory: transient pending rows reopened on resume, complete ones archived."""

from __future__ import annotations

import asyncio
import csv
import json
from collections.abc import Sequence
from pathlib import Path

import attrs

from webex_bulk.config import Settings
from webex_bulk.error_handling import TRANSIENT_PENDING_REASONS, Action, Reason, Status
from webex_bulk.models import Outcome
from webex_bulk.state.run_dir import ResumeState, RunInfo, open_run
from webex_bulk.state.writers import OutcomeWriter, PhaseDone

HEADER = ("entity_type", "name")
INFO = RunInfo(
    input_path="tenant.csv",
    input_sha256="cd" * 32,
    version="0.1.0",
    started="2030-01-01T00:00:00+00:00",
    fingerprint={"base_url": "https://webexapis.com/v1", "org_id": None},
    run_id="pass-a",
)
#: Line → reason of the pending rows; every other line of 2..9 succeeds.
PENDING = {
    3: Reason.RETRIES_EXHAUSTED,
    5: Reason.OUT_OF_SCOPE,
    7: Reason.DEPENDENCY_FAILED,
    8: Reason.NOT_IN_DIRECTORY,
}
LAST_PHASE = "device"


def outcome(line: int) -> Outcome:
    """Line's outcome: pending with its ``PENDING`` reason, else success, cells needing quotes."""
    reason = PENDING.get(line)
    return Outcome(
        line=line,
        entity_type="user",
        key=f"user:u{line}@example.com",
        status=Status.PENDING if reason else Status.SUCCESS,
        cells={"entity_type": "user", "name": f"name {line},\nsecond line"},
        reason=reason,
        detail="",
        action=None if reason else Action.CREATED,
    )


def write(run_dir: Path, resume: ResumeState, lines: Sequence[int], phase: str) -> None:
    """Run the writer over these rows' outcomes, then commit ``phase`` as finished."""

    async def main() -> None:
        settings = Settings(checkpoint_every=3, checkpoint_interval=3600.0)
        run_id = resume.run_info.run_id if resume.run_info else INFO.run_id
        writer = OutcomeWriter(run_dir, HEADER, settings, run_id, resume, clock=lambda: 0.0)
        queue: asyncio.Queue[Outcome | PhaseDone | None] = asyncio.Queue(maxsize=4)

        async def produce() -> None:
            for line in lines:
                await queue.put(outcome(line))
            await queue.put(PhaseDone(phase))
            await queue.put(None)

        await asyncio.gather(writer.run(queue), produce())

    asyncio.run(main())


def reopen(run_dir: Path, info: RunInfo = INFO, keep_runs: int = 10) -> ResumeState:
    """``open_run`` as the engine calls it."""
    return open_run(
        run_dir,
        info,
        fresh=False,
        complete_phase=LAST_PHASE,
        keep_runs=keep_runs,
        retry_reasons=TRANSIENT_PENDING_REASONS,
    )


def pending_lines(run_dir: Path) -> list[int]:
    """The input lines in ``pending.csv``."""
    with (run_dir / "pending.csv").open(newline="", encoding="utf-8-sig") as handle:
        return [int(row["_line"]) for row in csv.DictReader(handle)]


def test_an_incomplete_resume_retries_transient_pending_rows_only(tmp_path: Path) -> None:
    """Resuming an incomplete pass reopens retries_exhausted, dependency_failed and
    not_in_directory rows, not out_of_scope; the rewritten files verify on the next resume,
    each row once."""
    write(tmp_path, reopen(tmp_path), range(2, 10), phase="user")
    resume = reopen(tmp_path)
    assert sorted(resume.done) == [2, 4, 5, 6, 9]
    assert resume.done[5].reason is Reason.OUT_OF_SCOPE
    assert pending_lines(tmp_path) == [5]
    assert any("3 pending rows" in note for note in resume.notes)
    write(tmp_path, resume, [3, 7, 8], phase=LAST_PHASE)
    again = reopen(tmp_path)  # complete now: a new pass, the old one archived as it was
    assert again.done == {}
    archived = next((tmp_path / "archive").iterdir())
    with (archived / "pending.csv").open(newline="", encoding="utf-8-sig") as handle:
        assert [row["_line"] for row in csv.DictReader(handle)] == ["5", "3", "7", "8"]
    assert not any("not used" in note for note in resume.notes + again.notes)


def test_a_complete_pass_starts_the_next_and_old_passes_are_pruned(tmp_path: Path) -> None:
    """Each complete pass is archived; the same command starts pass n+1; keep_runs bounds them."""
    for number in range(1, 5):
        info = attrs.evolve(INFO, run_id=f"run-{number}")
        resume = reopen(tmp_path, info, keep_runs=3)
        assert resume.run_info is not None
        assert resume.run_info.pass_number == number
        assert resume.done == {}
        write(tmp_path, resume, range(2, 10), phase=LAST_PHASE)
    passes = sorted(p.name for p in (tmp_path / "archive").iterdir())
    assert passes == ["pass-0002-run-2", "pass-0003-run-3"]
    run = json.loads((tmp_path / "run.json").read_text())
    assert run["pass_number"] == 4
    assert run["run_id"] == "run-4"
