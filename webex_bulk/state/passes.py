"""Passes of one run directory: a complete pass set aside for the next, old passes pruned, and
the transient ``pending`` rows of an incomplete pass opened again so that its resume retries them.

Called by ``run_dir.open_run`` under the run lock; decides no row's fate.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Collection, Iterable
from pathlib import Path

import cattrs

from webex_bulk.error_handling import Reason, Status
from webex_bulk.state.checkpoint import (
    OUTPUT_FILES,
    Checkpoint,
    count_statuses,
    rows_without,
)
from webex_bulk.state.journal import (
    JOURNAL_FILE,
    JournalPrefix,
    decode_entry,
    encode_entry,
    read_journal,
    reseal_entry,
)
from webex_bulk.state.persistence import fsync_dir, storage, write_atomic

ARCHIVE_DIR = "archive"
_PASS_PREFIX = "pass-"


def archive_pass(
    run_dir: Path, files: Iterable[str], pass_number: int, run_id: str, keep_runs: int
) -> list[str]:
    """Move a complete pass's files to ``archive/pass-NNNN-<run id>``; keep ``keep_runs`` passes
    in all (this new one included), removing the oldest archived ones."""
    target = run_dir / ARCHIVE_DIR / f"{_PASS_PREFIX}{pass_number:04d}-{run_id}"
    with storage(target, "create directory"):
        target.mkdir(parents=True, exist_ok=True)
    for name in files:
        if (run_dir / name).exists():
            with storage(run_dir / name, "rename"):
                os.replace(run_dir / name, target / name)
    fsync_dir(run_dir)
    notes = [
        f"pass {pass_number} was complete: its files are kept in {target}; pass "
        f"{pass_number + 1} looks every row up again"
    ]
    passes = sorted(p for p in (run_dir / ARCHIVE_DIR).iterdir() if p.name.startswith(_PASS_PREFIX))
    for old in passes[: max(0, len(passes) - (keep_runs - 1))]:
        with storage(old, "remove"):
            shutil.rmtree(old)
        notes.append(f"removed {old.name}: more than keep_runs={keep_runs} passes")
    return notes


def reopen_transient(
    run_dir: Path,
    converter: cattrs.Converter,
    checkpoint: Checkpoint,
    prefix: JournalPrefix,
    reasons: Collection[Reason],
) -> tuple[Checkpoint, JournalPrefix, list[str]]:
    """Drop the committed outcomes of ``pending`` rows with one of ``reasons`` from the journal
    and ``pending.csv`` so that the resume runs those rows again.

    Both files are rewritten atomically, the journal first; the caller commits the returned
    checkpoint. A crash in between leaves files that no checkpoint fits: the next resume
    rebuilds from the journal and runs the rows it cannot match again, which is safe.
    """
    retry = {
        line
        for line in prefix.lines
        if prefix.done[line].status is Status.PENDING and prefix.done[line].reason in reasons
    }
    if not retry:
        return checkpoint, prefix, []
    journal = run_dir / JOURNAL_FILE
    with storage(journal, "read"), open(journal, "rb") as handle:
        committed = handle.read(checkpoint.offsets["journal"])
    kept: list[bytes] = []
    for raw in committed.splitlines(keepends=True):
        entry = decode_entry(converter, raw)
        if entry.line not in retry:
            kept.append(encode_entry(converter, reseal_entry(converter, entry, len(kept) + 1)))
    new_journal = b"".join(kept)
    pending = run_dir / OUTPUT_FILES[Status.PENDING]
    new_pending = rows_without(pending, checkpoint.offsets[Status.PENDING.value], retry)
    write_atomic(journal, new_journal)
    write_atomic(pending, new_pending)
    offsets = {
        **checkpoint.offsets,
        "journal": len(new_journal),
        Status.PENDING.value: len(new_pending),
    }
    reread = read_journal(journal, converter, checkpoint.run_id, limit=len(new_journal))
    reopened = Checkpoint(
        run_id=checkpoint.run_id,
        seq=reread.last_seq,
        offsets=offsets,
        counts=count_statuses(reread.done),
        phase=checkpoint.phase,
    )
    note = (
        f"{len(retry)} pending rows ({', '.join(sorted(r.value for r in reasons))}) "
        "run again in this resume"
    )
    return reopened, reread, [note]
