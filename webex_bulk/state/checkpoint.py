"""The checkpoint: the committed byte offsets and counts, their atomic commit and strict reading.

Also rebuilds the committed state from the journal and the output CSVs when no checkpoint is
usable. Chooses nothing on its own: ``state_store.open_run`` decides which state a resume uses.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Collection, Iterator, Mapping
from pathlib import Path
from typing import Any

import attrs
import cattrs

from webex_bulk.error_handling import Status
from webex_bulk.state.journal import JOURNAL_FILE, DoneRow, JournalPrefix, read_journal
from webex_bulk.state.persistence import (
    decode_record,
    file_size,
    read_record_bytes,
    storage,
    write_atomic,
)

CHECKPOINT_FILE = "checkpoint.json"
PREVIOUS_FILE = "checkpoint.json.prev"
#: The output CSV of each terminal state.
OUTPUT_FILES: Mapping[Status, str] = {s: f"{s.value}.csv" for s in Status}
#: The keys of ``Checkpoint.offsets``: the journal, then one per output CSV.
OFFSET_KEYS: tuple[str, ...] = ("journal", *(s.value for s in Status))
_LINE_COLUMN = "_line"  # the output column naming an input line (writers.OUTPUT_COLUMNS[0])
_UTF8_BOM = "\ufeff"
#: The longest output CSV line the rebuild reads; a longer one is damage, and the rows from it
#: on run again (a real line is at most ``max_cell`` characters per column).
MAX_CSV_LINE_BYTES = 16 << 20


@attrs.frozen
class Checkpoint:
    """The committed state: byte offsets of the journal and CSVs, counts, last finished phase."""

    run_id: str
    seq: int
    offsets: Mapping[str, int]
    counts: Mapping[str, int]
    phase: str


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
    data = read_record_bytes(path)
    if not data.strip():
        raise ValueError("empty file")
    checkpoint: Checkpoint = decode_record(converter, data, Checkpoint)
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
# Rebuild when no checkpoint is usable: journal ∩ CSVs


def rebuild_checkpoint(
    run_dir: Path, converter: cattrs.Converter, run_id: str, notes: list[str]
) -> tuple[Checkpoint, JournalPrefix]:
    """Offsets from the journal's valid lines and the CSV rows that match them, in order.

    Used when no checkpoint is usable; ``notes`` gets a sentence for everything dropped.
    """
    prefix = read_journal(run_dir / JOURNAL_FILE, converter, run_id)
    sizes = {name: file_size(run_dir / name) for name in (JOURNAL_FILE, *OUTPUT_FILES.values())}
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


def output_mismatch(path: Path, prefix: JournalPrefix, status: Status, offset: int) -> str:
    """Why an output CSV does not hold exactly the journal's rows of ``status`` up to its
    committed ``offset``, in order ('' when it does). Reads the whole file, never raises for
    damaged content: a row changed in the middle is found, not only a torn end."""
    if offset and not _ends_a_line(path, offset):
        return f"{path.name} is shorter than its committed {offset} bytes or torn there"
    wanted = [line for line in prefix.lines if prefix.done[line].status == status]
    if not wanted:  # at most the header is committed (the writer may write it up front)
        return "" if offset == 0 or _is_header(path, offset) else f"{path.name}: damaged header"
    lines, ends, problem = _scan_csv(path)
    if lines[: len(wanted)] != wanted:
        why = f" ({problem})" if problem else ""
        return f"{path.name} does not hold the journal's {status.value} rows in order{why}"
    if ends[len(wanted) - 1] != offset:
        end = ends[len(wanted) - 1]
        return f"{path.name}: its committed rows end at byte {end}, the checkpoint says {offset}"
    return ""


def rows_without(path: Path, offset: int, drop: Collection[int]) -> bytes:
    """An output CSV's committed bytes (up to ``offset``) without the rows of input lines
    ``drop``; the header and every other row unchanged, in order."""
    lines, ends, _ = _scan_csv(path)
    with storage(path, "read"), open(path, "rb") as handle:
        data = handle.read(offset)
    if not data:
        return data
    start = data.index(b"\n") + 1  # output headers are column names: one physical line
    pieces = [data[:start]]
    for line, end in zip(lines, ends, strict=True):
        if end > offset:
            break
        if line not in drop:
            pieces.append(data[start:end])
        start = end
    return b"".join(pieces)


def _ends_a_line(path: Path, offset: int) -> bool:
    try:
        with open(path, "rb") as handle:
            handle.seek(offset - 1)
            return handle.read(1) == b"\n"
    except OSError:
        return False


def _is_header(path: Path, size: int) -> bool:
    """Whether the first ``size`` bytes of an output CSV are its header line, and only that."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(min(size, MAX_CSV_LINE_BYTES))
    except OSError:
        return False
    return len(head) == size and head.count(b"\n") == 1 and _LINE_COLUMN.encode() in head


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
        while raw := handle.readline(MAX_CSV_LINE_BYTES + 1):
            if len(raw) > MAX_CSV_LINE_BYTES:
                raise csv.Error(f"a line longer than {MAX_CSV_LINE_BYTES} bytes")
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
