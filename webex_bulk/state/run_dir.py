"""The run directory: run.json, opening and resuming a run, and the read-only status.

On resume it picks the committed state (checkpoint, its ``.prev``, or a rebuild), truncates the
files to it and commits it again. Never decides a row's fate and never appends outcomes itself.
"""

from __future__ import annotations

import json
import os
from collections.abc import Collection, Mapping
from pathlib import Path
from typing import Any

import attrs
import cattrs

from webex_bulk.error_handling import Reason, StateError, Status
from webex_bulk.state.checkpoint import (
    CHECKPOINT_FILE,
    OUTPUT_FILES,
    PREVIOUS_FILE,
    Checkpoint,
    count_statuses,
    output_mismatch,
    read_checkpoint,
    rebuild_checkpoint,
    write_checkpoint,
)
from webex_bulk.state.intents import INTENTS_FILE
from webex_bulk.state.journal import (
    JOURNAL_FILE,
    DoneRow,
    JournalPrefix,
    read_journal,
)
from webex_bulk.state.lock import lock_state
from webex_bulk.state.passes import archive_pass, reopen_transient
from webex_bulk.state.persistence import (
    TEMP_SUFFIX,
    decode_record,
    file_size,
    first_error,
    fsync_dir,
    load_json,
    make_converter,
    read_record_bytes,
    storage,
    write_atomic,
)

RUN_FILE = "run.json"
SUMMARY_FILE = "summary.json"
EVENTS_FILE = "events.log"
#: The files a run leaves behind (moved aside together by ``open_run(fresh=True)``).
RUN_FILES: tuple[str, ...] = (
    RUN_FILE,
    JOURNAL_FILE,
    *OUTPUT_FILES.values(),
    CHECKPOINT_FILE,
    PREVIOUS_FILE,
    SUMMARY_FILE,
    INTENTS_FILE,
)


@attrs.frozen
class RunInfo:
    """What ``run.json`` says about a run directory: which file, which tenant, which run."""

    input_path: str
    input_sha256: str
    version: str
    started: str
    fingerprint: dict[str, Any]
    run_id: str
    #: Which rows the run may touch: "" for the whole file, else e.g. ``limit-20`` or
    #: ``only-user`` (``Caps.scope``). Outcomes of a subset are final for that subset only.
    scope: str = ""
    #: 1 for the first pass over the file; a complete pass makes the same command start the next.
    pass_number: int = 1
    #: ``run --plan``: the SHA-256 of the saved plan the run applies ("" without one); an
    #: unfinished run resumes only with the same plan.
    plan_sha256: str = ""


@attrs.frozen
class ResumeState:
    """What ``open_run`` found: the run, its committed checkpoint, the rows already done."""

    run_info: RunInfo | None
    checkpoint: Checkpoint | None
    done: Mapping[int, DoneRow]
    notes: tuple[str, ...]


# ---------------------------------------------------------------------------------------------
# Opening a run directory


def default_run_dir(input_path: Path, input_sha256: str, runs_root: Path, scope: str = "") -> Path:
    """``runs/<input-stem>-<sha256[:12]>``: the same file always resumes in the same place.

    A subset run (``--limit``, ``--only``) gets its own directory, ``…-<scope>``: a row it ended
    because a row it left out was missing must not stay ended for the whole file's run.
    """
    name = f"{input_path.stem}-{input_sha256[:12]}"
    return runs_root / (f"{name}-{scope}" if scope else name)


def open_run(
    run_dir: Path,
    info: RunInfo,
    *,
    fresh: bool,
    complete_phase: str = "",
    keep_runs: int = 10,
    retry_reasons: Collection[Reason] = (),
) -> ResumeState:
    """Create the run directory or resume it; the caller holds the ``RunLock``.

    Resume: read the checkpoint (``.prev`` when it is unusable; neither → rebuild from the
    journal's valid lines and the CSVs), truncate the journal and CSVs to the committed offsets,
    commit that state again, and report the journal's rows as done. A changed input file or
    tenant fingerprint raises ``StateError``. ``fresh`` moves an existing run aside first.
    A pass whose checkpoint names ``complete_phase`` is archived and a new pass starts (at most
    ``keep_runs`` passes are kept); in an incomplete one, ``pending`` rows of ``retry_reasons``
    are opened again so that they run once more.
    """
    converter = make_converter()
    notes: list[str] = []
    with storage(run_dir, "create directory"):
        run_dir.mkdir(parents=True, exist_ok=True)
    notes += _remove_temp_files(run_dir)
    if fresh:
        notes += _archive(run_dir, converter)
    run_info = _run_info(run_dir, info, converter, notes)
    checkpoint, prefix = _committed_state(run_dir, converter, run_info.run_id, notes)
    _truncate(run_dir, checkpoint.offsets)
    if complete_phase and checkpoint.phase == complete_phase:
        notes += archive_pass(run_dir, RUN_FILES, run_info.pass_number, run_info.run_id, keep_runs)
        next_pass = attrs.evolve(info, pass_number=run_info.pass_number + 1)
        run_info = _run_info(run_dir, next_pass, converter, notes)
        checkpoint, prefix = _committed_state(run_dir, converter, run_info.run_id, notes)
    else:
        _check_same_plan(run_dir / RUN_FILE, run_info, info)
        checkpoint, prefix, reopened = reopen_transient(
            run_dir, converter, checkpoint, prefix, retry_reasons
        )
        notes += reopened
    checkpoint = attrs.evolve(checkpoint, counts=count_statuses(prefix.done))
    # Both files name the state just truncated to, so either one is a valid fallback.
    write_checkpoint(run_dir, converter, checkpoint, previous=checkpoint)
    return ResumeState(run_info, checkpoint, prefix.done, tuple(notes))


def _remove_temp_files(run_dir: Path) -> list[str]:
    notes = []
    for name in RUN_FILES:
        tmp = run_dir / (name + TEMP_SUFFIX)
        if tmp.exists():
            with storage(tmp, "remove"):
                tmp.unlink()
            notes.append(f"removed {tmp.name}, left by an interrupted write")
    return notes


def _archive(run_dir: Path, converter: cattrs.Converter) -> list[str]:
    present = [name for name in RUN_FILES if (run_dir / name).exists()]
    if not present:
        return []
    try:
        old_id = decode_record(converter, read_record_bytes(run_dir / RUN_FILE), RunInfo).run_id
    except (OSError, ValueError):
        old_id = "unknown"
    target = run_dir / "archive" / old_id
    number = 1
    while target.exists():
        number += 1
        target = run_dir / "archive" / f"{old_id}-{number}"
    with storage(target, "create directory"):
        target.mkdir(parents=True)
    for name in present:
        with storage(run_dir / name, "rename"):
            os.replace(run_dir / name, target / name)
    fsync_dir(run_dir)
    return [f"--fresh: moved the previous run's files to {target}"]


def _run_info(
    run_dir: Path, info: RunInfo, converter: cattrs.Converter, notes: list[str]
) -> RunInfo:
    path = run_dir / RUN_FILE
    if not path.exists():
        holding = [n for n in (JOURNAL_FILE, *OUTPUT_FILES.values()) if file_size(run_dir / n)]
        if holding:
            raise StateError(
                f"{path} is missing but {', '.join(holding)} already hold outcomes of an unknown "
                "run — use --fresh to start a new run (the old files are kept aside)"
            )
        write_atomic(path, json.dumps(converter.unstructure(info), indent=2).encode() + b"\n")
        return info
    try:
        with storage(path, "read"):
            stored: RunInfo = decode_record(converter, read_record_bytes(path), RunInfo)
    except ValueError as exc:
        raise StateError(
            f"{path} cannot be read ({exc}) — use --fresh to start a new run "
            "(the old files are kept aside)"
        ) from None
    _check_same_run(path, stored, info)
    if stored.version != info.version:
        notes.append(f"run started with version {stored.version}, resumed with {info.version}")
    return stored


def _check_same_run(path: Path, stored: RunInfo, info: RunInfo) -> None:
    if stored.input_sha256 != info.input_sha256:
        raise StateError(
            f"{path} belongs to another input file ({stored.input_path}, sha256 "
            f"{stored.input_sha256[:12]}…, this file {info.input_sha256[:12]}…): its line numbers "
            "mean other rows — use --fresh, or another --run-dir"
        )
    if stored.scope != info.scope:
        raise StateError(
            f"{path} holds a run of {_scope_words(stored.scope)}, this run is of "
            f"{_scope_words(info.scope)}: outcomes of a subset depend on the rows it left out, "
            "so the two cannot share a directory — use another --run-dir (without --run-dir "
            "each scope gets its own), or --fresh"
        )
    if stored.fingerprint != info.fingerprint:
        changed = sorted(
            key
            for key in set(stored.fingerprint) | set(info.fingerprint)
            if stored.fingerprint.get(key) != info.fingerprint.get(key)
        )
        was = ", ".join(f"{k}={stored.fingerprint.get(k)!r}" for k in changed)
        now = ", ".join(f"{k}={info.fingerprint.get(k)!r}" for k in changed)
        raise StateError(
            f"{path} was started against {was}; this run uses {now}. Resuming would mix two "
            "tenants — run with the original settings, or use --fresh to start a new run "
            "(the old run directory is kept aside)"
        )


def _check_same_plan(path: Path, stored: RunInfo, info: RunInfo) -> None:
    """An unfinished run that applies a saved plan resumes only with that plan: without it the
    rest of the file would be written ungated."""
    if not stored.plan_sha256 or stored.plan_sha256 == info.plan_sha256:
        return
    given = f"another plan (sha256 {info.plan_sha256[:12]}…)" if info.plan_sha256 else "no --plan"
    raise StateError(
        f"{path} holds an unfinished run applying the saved plan with sha256 "
        f"{stored.plan_sha256[:12]}…; this run has {given} — resume with --plan and the same "
        "plan file, or use --fresh to start over (the old run directory is kept aside)"
    )


def _scope_words(scope: str) -> str:
    return f"the subset {scope}" if scope else "the whole file"


def _committed_state(
    run_dir: Path, converter: cattrs.Converter, run_id: str, notes: list[str]
) -> tuple[Checkpoint, JournalPrefix]:
    """The newest usable checkpoint with its journal prefix, or a rebuilt one."""
    for name in (CHECKPOINT_FILE, PREVIOUS_FILE):
        path = run_dir / name
        if not path.exists():
            continue
        try:
            checkpoint = read_checkpoint(path, converter)
            prefix = _verify(run_dir, converter, run_id, checkpoint)
        except (OSError, ValueError) as exc:
            notes.append(f"{name} not used: {first_error(exc)}")
            continue
        _note_uncommitted(run_dir, checkpoint, notes)
        return checkpoint, prefix
    return rebuild_checkpoint(run_dir, converter, run_id, notes)


def _verify(
    run_dir: Path, converter: cattrs.Converter, run_id: str, checkpoint: Checkpoint
) -> JournalPrefix:
    """Check a checkpoint against the files; ValueError says why it does not fit them."""
    if checkpoint.run_id != run_id:
        raise ValueError(f"it belongs to run {checkpoint.run_id}, not {run_id}")
    committed = checkpoint.offsets["journal"]
    prefix = read_journal(run_dir / JOURNAL_FILE, converter, run_id, limit=committed)
    if prefix.end != committed:
        why = prefix.problem or "the file is shorter"
        raise ValueError(f"the journal is damaged before its committed end ({why})")
    if prefix.last_seq != checkpoint.seq:
        raise ValueError(
            f"journal ends at entry {prefix.last_seq}, checkpoint says {checkpoint.seq}"
        )
    for status, name in OUTPUT_FILES.items():
        problem = output_mismatch(run_dir / name, prefix, status, checkpoint.offsets[status.value])
        if problem:
            raise ValueError(problem)
    return prefix


def _note_uncommitted(run_dir: Path, checkpoint: Checkpoint, notes: list[str]) -> None:
    for key, name in (("journal", JOURNAL_FILE), *((s.value, n) for s, n in OUTPUT_FILES.items())):
        extra = file_size(run_dir / name) - checkpoint.offsets[key]
        if extra > 0:
            notes.append(
                f"{name}: dropped {extra} bytes written after the last commit; those rows run again"
            )


def _truncate(run_dir: Path, offsets: Mapping[str, int]) -> None:
    for key, name in (("journal", JOURNAL_FILE), *((s.value, n) for s, n in OUTPUT_FILES.items())):
        path = run_dir / name
        if file_size(path) > offsets[key]:
            with storage(path, "truncate"), open(path, "r+b") as handle:
                handle.truncate(offsets[key])
                handle.flush()
                os.fsync(handle.fileno())


# ---------------------------------------------------------------------------------------------
# Status, read-only


def read_status(run_dir: Path) -> dict[str, Any]:
    """What ``webex-bulk status`` shows: run, counts, phase, lock holder, summary.

    Reads only; safe while a run is writing (the checkpoint is replaced atomically, so it is
    either the old or the new one). Never takes the lock.
    """
    if not (run_dir / RUN_FILE).exists():
        raise StateError(f"{run_dir} holds no run (no {RUN_FILE}) — give the run directory path")
    converter = make_converter()
    notes: list[str] = []
    status: dict[str, Any] = {"run_dir": str(run_dir), "notes": notes}
    try:
        info = decode_record(converter, read_record_bytes(run_dir / RUN_FILE), RunInfo)
        status["run"] = converter.unstructure(info)
    except (OSError, ValueError) as exc:
        status["run"] = None
        notes.append(f"{RUN_FILE} unreadable: {first_error(exc)}")
    status.update(_status_checkpoint(run_dir, converter, notes))
    lock, holder = lock_state(run_dir)
    status["running"] = lock == "running"
    status["lock"] = lock or None  # "running", "stale" (a dead holder: the next run takes over)
    status["holder"] = holder.describe() if holder is not None else None
    status["summary"] = _read_json(run_dir / SUMMARY_FILE, notes)
    return status


def _status_checkpoint(
    run_dir: Path, converter: cattrs.Converter, notes: list[str]
) -> dict[str, Any]:
    for name in (CHECKPOINT_FILE, PREVIOUS_FILE):
        try:
            checkpoint = read_checkpoint(run_dir / name, converter)
        except FileNotFoundError:
            continue
        except (OSError, ValueError) as exc:
            notes.append(f"{name} unreadable: {first_error(exc)}")
            continue
        return {
            "checkpoint": name,
            "counts": dict(checkpoint.counts),
            "done": sum(checkpoint.counts.values()),
            "phase": checkpoint.phase,
            "seq": checkpoint.seq,
        }
    return {
        "checkpoint": None,
        "counts": {s.value: 0 for s in Status},
        "done": 0,
        "phase": "",
        "seq": 0,
    }


def _read_json(path: Path, notes: list[str]) -> Any:
    try:
        return load_json(read_record_bytes(path))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        notes.append(f"{path.name} unreadable: {first_error(exc)}")
        return None
