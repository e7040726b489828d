"""The run directory's durable state: run.json, the run lock, the journal and the checkpoint.

Reads and repairs them on resume (longest valid prefix, truncation to the committed offsets) and
commits checkpoints atomically. Never decides a row's fate and never appends outcomes itself.
"""

from __future__ import annotations

import contextlib
import csv
import datetime
import errno
import json
import logging
import os
import socket
import sys
import time
import uuid
import zlib
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import attrs
import cattrs

from webex_bulk.error_handling import Action, LockError, Reason, StateError, Status, StorageError
from webex_bulk.models import Outcome

log = logging.getLogger("webex_bulk.state_store")

RUN_FILE = "run.json"
JOURNAL_FILE = "journal.jsonl"
CHECKPOINT_FILE = "checkpoint.json"
PREVIOUS_FILE = "checkpoint.json.prev"
SUMMARY_FILE = "summary.json"
EVENTS_FILE = "events.log"
LOCK_FILE = "run.lock"
TEMP_SUFFIX = ".tmp"
#: The output CSV of each terminal state.
OUTPUT_FILES: Mapping[Status, str] = {s: f"{s.value}.csv" for s in Status}
#: The keys of ``Checkpoint.offsets``: the journal, then one per output CSV.
OFFSET_KEYS: tuple[str, ...] = ("journal", *(s.value for s in Status))
#: The files a run leaves behind (moved aside together by ``open_run(fresh=True)``).
RUN_FILES: tuple[str, ...] = (
    RUN_FILE,
    JOURNAL_FILE,
    *OUTPUT_FILES.values(),
    CHECKPOINT_FILE,
    PREVIOUS_FILE,
    SUMMARY_FILE,
)
_LINE_COLUMN = "_line"  # the output column naming an input line (writers.OUTPUT_COLUMNS[0])
_UTF8_BOM = "\ufeff"
_UNREADABLE_LOCK_GRACE = 10.0  # seconds a lock file may stay empty while its creator writes it
# Tells this process from an earlier one that had the same pid (pid 1 in a restarted container).
_PROCESS_ID = uuid.uuid4().hex


# ---------------------------------------------------------------------------------------------
# Persisted records


@attrs.frozen
class RunInfo:
    """What ``run.json`` says about a run directory: which file, which tenant, which run."""

    input_path: str
    input_sha256: str
    version: str
    started: str
    fingerprint: dict[str, Any]
    run_id: str


@attrs.frozen
class Checkpoint:
    """The committed state: byte offsets of the journal and CSVs, counts, last finished phase."""

    run_id: str
    seq: int
    offsets: Mapping[str, int]
    counts: Mapping[str, int]
    phase: str


@attrs.frozen
class JournalEntry:
    """One line of ``journal.jsonl``: the terminal outcome of one input row."""

    seq: int
    run_id: str
    line: int
    key: str
    entity_type: str
    status: Status
    reason: Reason | None
    detail: str
    action: Action | None
    remote_id: str
    tracking_id: str
    crc: int


@attrs.frozen
class LockHolder:
    """What the lock file says about the run that holds the directory."""

    pid: int
    host: str
    started: str
    token: str  # this lock instance
    process: str = ""  # this process instance (``_PROCESS_ID``)

    def describe(self) -> str:
        """The holder in words, for error messages."""
        return f"pid {self.pid} on host {self.host} (since {self.started})"


@attrs.frozen
class DoneRow:
    """A row already terminal in the journal: a resumed run does not process it again."""

    key: str
    status: Status
    reason: Reason | None
    remote_id: str
    entity_type: str = ""
    action: Action | None = None


@attrs.frozen
class ResumeState:
    """What ``open_run`` found: the run, its committed checkpoint, the rows already done."""

    run_info: RunInfo | None
    checkpoint: Checkpoint | None
    done: Mapping[int, DoneRow]
    notes: tuple[str, ...]


def make_converter() -> cattrs.Converter:
    """The one converter of the persisted records (journal lines, checkpoint, run info, lock).

    Numbers and strings are structured strictly (no ``"5"`` → 5), so a damaged record is
    refused instead of being read as something else.
    """
    converter = cattrs.Converter()
    converter.register_structure_hook(int, _strict(int))
    converter.register_structure_hook(str, _strict(str))
    return converter


def _strict(kind: type[Any]) -> Any:
    """A hook that takes only values of exactly ``kind``; subclasses (enums) are built from it."""

    def structure(value: Any, target: type[Any]) -> Any:
        if type(value) is not kind:
            raise TypeError(f"expected {kind.__name__}, got {type(value).__name__}")
        return value if target is kind else target(value)

    return structure


def canonical_json(value: Any) -> bytes:
    """Deterministic ASCII JSON: sorted keys, no spaces; the bytes the CRC is computed over."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def _decode(converter: cattrs.Converter, data: bytes, kind: type[Any]) -> Any:
    """Structure a JSON document or raise ValueError naming what is wrong."""
    try:
        return converter.structure(json.loads(data), kind)
    except (ValueError, TypeError, KeyError, cattrs.BaseValidationError) as exc:
        raise ValueError(_first_error(exc)) from None


def _first_error(exc: BaseException) -> str:
    if isinstance(exc, cattrs.BaseValidationError) and exc.exceptions:
        return _first_error(exc.exceptions[0])
    if isinstance(exc, UnicodeDecodeError):
        return "not UTF-8"
    if isinstance(exc, KeyError):
        return f"missing field {exc.args[0]!r}"
    return str(exc) or type(exc).__name__


# ---------------------------------------------------------------------------------------------
# File primitives: every OSError becomes a StorageError naming the file and the operation


@contextlib.contextmanager
def storage(path: Path, operation: str) -> Iterator[None]:
    """Translate an ``OSError`` of one file operation into a ``StorageError``."""
    try:
        yield
    except OSError as exc:
        cause = exc.strerror or str(exc) or type(exc).__name__
        raise StorageError(str(path), operation, cause) from exc


def fsync_dir(directory: Path) -> None:
    """Make renames and new files in ``directory`` durable."""
    with storage(directory, "fsync"):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        except OSError as exc:
            # Some file systems cannot fsync a directory at all; that is not a failed write.
            if exc.errno not in (errno.EINVAL, errno.ENOTSUP, errno.EBADF):
                raise
        finally:
            os.close(fd)


def write_atomic(path: Path, data: bytes, *, sync_dir: bool = True) -> None:
    """Replace ``path`` with ``data`` all at once: temp file, fsync, rename, fsync the directory.

    On failure the old file is untouched and ``StorageError`` is raised (an fsync is never retried).
    """
    tmp = path.with_name(path.name + TEMP_SUFFIX)
    try:
        with storage(tmp, "write"), open(tmp, "wb") as handle:
            handle.write(data)
            handle.flush()
            with storage(tmp, "fsync"):
                os.fsync(handle.fileno())
        with storage(path, "rename"):
            os.replace(tmp, path)
    except StorageError:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    if sync_dir:
        fsync_dir(path.parent)


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0


# ---------------------------------------------------------------------------------------------
# Journal


def new_journal_entry(
    converter: cattrs.Converter, seq: int, run_id: str, outcome: Outcome
) -> JournalEntry:
    """The journal entry of one outcome, sealed with its CRC32."""
    entry = JournalEntry(
        seq=seq,
        run_id=run_id,
        line=outcome.line,
        key=outcome.key,
        entity_type=outcome.entity_type,
        status=outcome.status,
        reason=outcome.reason,
        detail=outcome.detail,
        action=outcome.action,
        remote_id=outcome.remote_id,
        tracking_id=outcome.tracking_id,
        crc=0,
    )
    fields = converter.unstructure(entry)
    del fields["crc"]
    return attrs.evolve(entry, crc=zlib.crc32(canonical_json(fields)))


def encode_entry(converter: cattrs.Converter, entry: JournalEntry) -> bytes:
    """One journal line: canonical JSON of the entry (crc included) and a newline."""
    return canonical_json(converter.unstructure(entry)) + b"\n"


def decode_entry(converter: cattrs.Converter, raw: bytes) -> JournalEntry:
    """Read one journal line; ValueError says why it is not a valid entry."""
    if not raw.endswith(b"\n"):
        raise ValueError("torn line (no line end)")
    try:
        fields = json.loads(raw)
    except ValueError:
        raise ValueError("not JSON") from None
    if not isinstance(fields, dict):
        raise ValueError("not a JSON object")
    crc = fields.pop("crc", None)
    if type(crc) is not int or zlib.crc32(canonical_json(fields)) != crc:
        raise ValueError("CRC mismatch")
    fields["crc"] = crc
    try:
        entry: JournalEntry = converter.structure(fields, JournalEntry)
    except (ValueError, TypeError, KeyError, cattrs.BaseValidationError) as exc:
        raise ValueError(f"bad record: {_first_error(exc)}") from None
    return entry


@attrs.define
class JournalPrefix:
    """The longest valid prefix of a journal, in file order."""

    done: dict[int, DoneRow] = attrs.Factory(dict)
    lines: list[int] = attrs.Factory(list)  # input line of each valid entry
    ends: list[int] = attrs.Factory(list)  # byte offset just after each valid entry
    last_seq: int = 0
    size: int = 0  # bytes read (up to the limit)
    problem: str = ""  # why reading stopped before ``size`` ('' when all was valid)

    @property
    def end(self) -> int:
        """Byte offset just after the last valid entry."""
        return self.ends[-1] if self.ends else 0

    def keep(self, count: int) -> None:
        """Forget every entry after the first ``count``."""
        for line in self.lines[count:]:
            del self.done[line]
        del self.lines[count:]
        del self.ends[count:]


def read_journal(
    path: Path, converter: cattrs.Converter, run_id: str, *, limit: int | None = None
) -> JournalPrefix:
    """Read the valid prefix of the journal, up to ``limit`` bytes.

    Stops at the first torn line, bad CRC, sequence gap, line of another run, or repeated input
    line; ``problem`` names it. Never raises for damaged content.
    """
    prefix = JournalPrefix()
    if not path.exists():
        return prefix
    with storage(path, "read"), open(path, "rb") as handle:
        offset = 0
        for raw in handle:
            if limit is not None and offset + len(raw) > limit:
                prefix.size = limit
                if offset < limit:
                    prefix.problem = f"line {len(prefix.lines) + 1} runs past the committed end"
                return prefix
            problem = _accept(prefix, converter, run_id, raw, offset)
            offset += len(raw)
            prefix.size = offset
            if problem:
                prefix.problem = f"line {len(prefix.lines) + 1}: {problem}"
                return _finish_size(prefix, handle, limit)
    return prefix


def _finish_size(prefix: JournalPrefix, handle: Any, limit: int | None) -> JournalPrefix:
    """After a bad line, count the rest of the file so the note can say how much is dropped."""
    rest = len(handle.read())
    prefix.size += rest if limit is None else min(rest, max(0, limit - prefix.size))
    return prefix


def _accept(
    prefix: JournalPrefix, converter: cattrs.Converter, run_id: str, raw: bytes, offset: int
) -> str:
    try:
        entry = decode_entry(converter, raw)
    except ValueError as exc:
        return str(exc)
    if entry.run_id != run_id:
        return f"written by another run ({entry.run_id})"
    if entry.seq != prefix.last_seq + 1:
        return f"sequence gap (expected {prefix.last_seq + 1}, found {entry.seq})"
    if entry.line in prefix.done:
        return f"input line {entry.line} appears a second time"
    prefix.done[entry.line] = DoneRow(
        key=entry.key,
        status=entry.status,
        reason=entry.reason,
        remote_id=entry.remote_id,
        entity_type=sys.intern(entry.entity_type),  # a handful of values over 200k rows
        action=entry.action,
    )
    prefix.lines.append(entry.line)
    prefix.ends.append(offset + len(raw))
    prefix.last_seq = entry.seq
    return ""


# ---------------------------------------------------------------------------------------------
# Checkpoint


def encode_checkpoint(converter: cattrs.Converter, checkpoint: Checkpoint) -> bytes:
    """The checkpoint file's bytes (indented JSON, deterministic)."""
    text = json.dumps(converter.unstructure(checkpoint), sort_keys=True, indent=2)
    return text.encode() + b"\n"


def write_checkpoint(
    run_dir: Path,
    converter: cattrs.Converter,
    checkpoint: Checkpoint,
    previous: Checkpoint | None,
) -> None:
    """Commit ``checkpoint`` atomically; ``previous`` (the one it replaces) becomes ``.prev``.

    Order: ``.prev`` is rewritten first (it then equals the current file), then the checkpoint.
    A crash or error anywhere leaves a valid checkpoint: the old one or the new one.
    """
    if previous is not None:
        write_atomic(
            run_dir / PREVIOUS_FILE, encode_checkpoint(converter, previous), sync_dir=False
        )
    write_atomic(run_dir / CHECKPOINT_FILE, encode_checkpoint(converter, checkpoint))


def read_checkpoint(path: Path, converter: cattrs.Converter) -> Checkpoint:
    """Read one checkpoint file; ValueError (or OSError) says why it cannot be used."""
    data = path.read_bytes()
    if not data.strip():
        raise ValueError("empty file")
    checkpoint: Checkpoint = _decode(converter, data, Checkpoint)
    if set(checkpoint.offsets) != set(OFFSET_KEYS):
        raise ValueError(f"offsets must name exactly {', '.join(OFFSET_KEYS)}")
    if any(v < 0 for v in (*checkpoint.offsets.values(), checkpoint.seq)):
        raise ValueError("negative offset or sequence number")
    return checkpoint


def empty_checkpoint(run_id: str) -> Checkpoint:
    """The checkpoint of a run that has committed nothing yet."""
    return Checkpoint(
        run_id=run_id,
        seq=0,
        offsets=dict.fromkeys(OFFSET_KEYS, 0),
        counts={s.value: 0 for s in Status},
        phase="",
    )


def count_statuses(done: Mapping[int, DoneRow]) -> dict[str, int]:
    """Rows per terminal state."""
    counts = {s.value: 0 for s in Status}
    for row in done.values():
        counts[row.status.value] += 1
    return counts


# ---------------------------------------------------------------------------------------------
# Run lock


class RunLock:
    """Exclusive use of a run directory: an O_EXCL lock file holding pid, host and start time.

    A second run gets ``LockError`` naming the holder. A lock left by a dead process of this host
    (or by an earlier process that had our pid, as in a restarted container) is taken over.
    """

    def __init__(self, run_dir: Path) -> None:
        self.path = run_dir / LOCK_FILE
        self.notes: list[str] = []
        self._converter = make_converter()
        self._mine: LockHolder | None = None

    def __enter__(self) -> RunLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()

    def acquire(self) -> None:
        """Take the lock or raise ``LockError`` naming the holder."""
        with storage(self.path.parent, "create directory"):
            self.path.parent.mkdir(parents=True, exist_ok=True)
        me = LockHolder(
            pid=os.getpid(),
            host=socket.gethostname(),
            started=datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
            token=uuid.uuid4().hex,
            process=_PROCESS_ID,
        )
        data = canonical_json(self._converter.unstructure(me)) + b"\n"
        for _ in range(3):  # bounded: each pass either wins, fails, or clears one stale lock
            if self._create(data):
                self._mine = me
                return
            raw, holder = self._read()
            if raw is None:
                continue  # released between our create and our read: try again
            stale = _stale_reason(holder, me, self.path)
            if stale is None:
                raise LockError(str(self.path), holder.describe() if holder else "unknown")
            if self._take_over(raw):
                note = f"took over a stale lock {self.path}: {stale}"
                self.notes.append(note)
                log.warning("lock.stale", extra={"event_fields": {"path": str(self.path)}})
        raise LockError(str(self.path), "another run starting at the same moment")

    def release(self) -> None:
        """Remove the lock file if it is still ours."""
        if self._mine is None:
            return
        _, holder = self._read()
        if holder is not None and holder.token == self._mine.token:
            with contextlib.suppress(OSError):
                self.path.unlink()
        self._mine = None

    def _create(self, data: bytes) -> bool:
        with storage(self.path, "create"):
            try:
                fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            except FileExistsError:
                return False
            try:
                os.write(fd, data)
                os.fsync(fd)
            finally:
                os.close(fd)
        return True

    def _read(self) -> tuple[bytes | None, LockHolder | None]:
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return None, None
        except OSError:
            return b"", None
        try:
            holder: LockHolder = _decode(self._converter, raw, LockHolder)
        except ValueError:
            return raw, None
        return raw, holder

    def _take_over(self, raw: bytes) -> bool:
        """Move the stale lock aside; put it back if it changed meanwhile (another run won)."""
        aside = self.path.with_name(f"{self.path.name}.stale-{uuid.uuid4().hex[:8]}")
        try:
            os.rename(self.path, aside)
        except FileNotFoundError:
            return False
        with storage(aside, "read"):
            moved = aside.read_bytes()
        if moved != raw:
            with contextlib.suppress(FileExistsError):
                os.link(aside, self.path)
        aside.unlink()
        return moved == raw


def read_lock_holder(run_dir: Path) -> LockHolder | None:
    """Who holds the run directory's lock, if anyone (reads only; never takes the lock)."""
    try:
        raw = (run_dir / LOCK_FILE).read_bytes()
        holder: LockHolder = _decode(make_converter(), raw, LockHolder)
    except (OSError, ValueError):
        return None
    return holder


def pid_alive(pid: int) -> bool:
    """Whether a process with this pid exists on this host."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # exists but belongs to someone else (EPERM), or unknowable: assume alive
    return True


def _stale_reason(holder: LockHolder | None, me: LockHolder, path: Path) -> str | None:
    if holder is None:
        try:
            age = time.time() - path.stat().st_mtime
        except OSError:
            return None
        return f"unreadable lock file, {age:.0f} s old" if age > _UNREADABLE_LOCK_GRACE else None
    if holder.host != me.host:
        return None  # another host: its processes cannot be checked from here
    if holder.pid == me.pid:
        if holder.process == me.process:
            return None  # this very process holds it: a second run in one process is refused too
        return f"it names our pid {me.pid} but an earlier process (a restarted container)"
    if not pid_alive(holder.pid):
        return f"{holder.describe()} is no longer running"
    return None


# ---------------------------------------------------------------------------------------------
# Opening a run directory


def default_run_dir(input_path: Path, input_sha256: str, runs_root: Path) -> Path:
    """``runs/<input-stem>-<sha256[:12]>``: the same file always resumes in the same place."""
    return runs_root / f"{input_path.stem}-{input_sha256[:12]}"


def open_run(run_dir: Path, info: RunInfo, *, fresh: bool) -> ResumeState:
    """Create the run directory or resume it; the caller holds the ``RunLock``.

    Resume: read the checkpoint (``.prev`` when it is unusable; neither → rebuild from the
    journal's valid lines and the CSVs), truncate the journal and CSVs to the committed offsets,
    commit that state again, and report the journal's rows as done. A changed input file or
    tenant fingerprint raises ``StateError``. ``fresh`` moves an existing run aside first.
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
        old_id = _decode(converter, (run_dir / RUN_FILE).read_bytes(), RunInfo).run_id
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
        holding = [n for n in (JOURNAL_FILE, *OUTPUT_FILES.values()) if _size(run_dir / n)]
        if holding:
            raise StateError(
                f"{path} is missing but {', '.join(holding)} already hold outcomes of an unknown "
                "run — use --fresh to start a new run (the old files are kept aside)"
            )
        write_atomic(path, json.dumps(converter.unstructure(info), indent=2).encode() + b"\n")
        return info
    try:
        with storage(path, "read"):
            stored: RunInfo = _decode(converter, path.read_bytes(), RunInfo)
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
            notes.append(f"{name} not used: {_first_error(exc)}")
            continue
        _note_uncommitted(run_dir, checkpoint, notes)
        return checkpoint, prefix
    return _rebuild(run_dir, converter, run_id, notes)


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
        offset = checkpoint.offsets[status.value]
        if offset and not _ends_a_line(run_dir / name, offset):
            raise ValueError(f"{name} is shorter than its committed {offset} bytes or torn there")
    return prefix


def _ends_a_line(path: Path, offset: int) -> bool:
    try:
        with open(path, "rb") as handle:
            handle.seek(offset - 1)
            return handle.read(1) == b"\n"
    except OSError:
        return False


def _note_uncommitted(run_dir: Path, checkpoint: Checkpoint, notes: list[str]) -> None:
    for key, name in (("journal", JOURNAL_FILE), *((s.value, n) for s, n in OUTPUT_FILES.items())):
        extra = _size(run_dir / name) - checkpoint.offsets[key]
        if extra > 0:
            notes.append(
                f"{name}: dropped {extra} bytes written after the last commit; those rows run again"
            )


def _truncate(run_dir: Path, offsets: Mapping[str, int]) -> None:
    for key, name in (("journal", JOURNAL_FILE), *((s.value, n) for s, n in OUTPUT_FILES.items())):
        path = run_dir / name
        if _size(path) > offsets[key]:
            with storage(path, "truncate"), open(path, "r+b") as handle:
                handle.truncate(offsets[key])
                handle.flush()
                os.fsync(handle.fileno())


# ---------------------------------------------------------------------------------------------
# Rebuild when no checkpoint is usable: journal ∩ CSVs


def _rebuild(
    run_dir: Path, converter: cattrs.Converter, run_id: str, notes: list[str]
) -> tuple[Checkpoint, JournalPrefix]:
    """Offsets from the journal's valid lines and the CSV rows that match them, in order."""
    prefix = read_journal(run_dir / JOURNAL_FILE, converter, run_id)
    sizes = {name: _size(run_dir / name) for name in (JOURNAL_FILE, *OUTPUT_FILES.values())}
    if any(sizes.values()):
        notes.append("no usable checkpoint: rebuilt the committed state from the journal")
    if prefix.problem:
        dropped = prefix.size - prefix.end
        notes.append(f"{JOURNAL_FILE}: dropped {dropped} bytes from {prefix.problem}")
    rows = {status: _scan_csv(run_dir / name) for status, name in OUTPUT_FILES.items()}
    matched = {status: _matching(prefix, status, rows[status][0]) for status in Status}
    keep = _kept_entries(prefix, matched)
    if keep < len(prefix.lines):
        line = prefix.lines[keep]
        notes.append(
            f"{JOURNAL_FILE}: dropped {len(prefix.lines) - keep} entries from input line {line} "
            "on, whose rows are missing from the output files; those rows run again"
        )
        prefix.keep(keep)
    offsets = {"journal": prefix.end}
    for status, name in OUTPUT_FILES.items():
        count = sum(1 for line in prefix.lines if prefix.done[line].status == status)
        ends, problem = rows[status][1], rows[status][2]
        offsets[status.value] = ends[count - 1] if count else 0
        cut = len(ends) - count
        if cut > 0 or (problem and sizes[name]):
            why = f" ({problem})" if problem else ""
            notes.append(f"{name}: cut {cut} rows not in the journal{why}; those rows run again")
    checkpoint = Checkpoint(
        run_id=run_id,
        seq=prefix.last_seq,
        offsets=offsets,
        counts=count_statuses(prefix.done),
        phase="",
    )
    return checkpoint, prefix


def _matching(prefix: JournalPrefix, status: Status, csv_lines: list[int]) -> int:
    """How many leading CSV rows match the journal's entries of that status, in order."""
    matched = 0
    for line in prefix.lines:
        if prefix.done[line].status != status:
            continue
        if matched >= len(csv_lines) or csv_lines[matched] != line:
            break
        matched += 1
    return matched


def _kept_entries(prefix: JournalPrefix, matched: Mapping[Status, int]) -> int:
    """The longest journal prefix whose every entry has its row in the right CSV."""
    seen = dict.fromkeys(Status, 0)
    for index, line in enumerate(prefix.lines):
        status = prefix.done[line].status
        if seen[status] >= matched[status]:
            return index
        seen[status] += 1
    return len(prefix.lines)


def _scan_csv(path: Path) -> tuple[list[int], list[int], str]:
    """Input line and end offset of each complete row of an output CSV, and why reading stopped."""
    lines: list[int] = []
    ends: list[int] = []
    if not path.exists():
        return lines, ends, ""
    consumed = 0
    last_raw = b""

    def pieces(handle: Any) -> Iterator[str]:
        nonlocal consumed, last_raw
        for raw in handle:
            text = raw.decode("utf-8")
            if consumed == 0:
                text = text.removeprefix(_UTF8_BOM)
            consumed += len(raw)
            last_raw = raw
            yield text

    with storage(path, "read"), open(path, "rb") as handle:
        reader = csv.reader(pieces(handle), strict=True)
        try:
            header = next(reader, None)
            if header is None or not last_raw.endswith(b"\n") or _LINE_COLUMN not in header:
                return [], [], "no complete header" if consumed else ""
            column = header.index(_LINE_COLUMN)
            for record in reader:
                if not last_raw.endswith(b"\n") or len(record) != len(header):
                    return lines, ends, f"torn row after input line {lines[-1] if lines else '-'}"
                if not record[column].isdigit():
                    return lines, ends, f"row with a bad {_LINE_COLUMN} {record[column]!r}"
                lines.append(int(record[column]))
                ends.append(consumed)
        except (csv.Error, UnicodeDecodeError) as exc:
            return lines, ends, f"unreadable row after {len(lines)} rows ({exc})"
    return lines, ends, ""


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
        info = _decode(converter, (run_dir / RUN_FILE).read_bytes(), RunInfo)
        status["run"] = converter.unstructure(info)
    except (OSError, ValueError) as exc:
        status["run"] = None
        notes.append(f"{RUN_FILE} unreadable: {_first_error(exc)}")
    status.update(_status_checkpoint(run_dir, converter, notes))
    holder = read_lock_holder(run_dir)
    alive = holder is not None and (holder.host != socket.gethostname() or pid_alive(holder.pid))
    status["running"] = alive
    status["holder"] = holder.describe() if holder is not None and alive else None
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
            notes.append(f"{name} unreadable: {_first_error(exc)}")
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
        return json.loads(path.read_bytes())
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        notes.append(f"{path.name} unreadable: {_first_error(exc)}")
        return None
