"""The journal: one CRC-sealed line per terminal row, and the reading of its longest valid prefix.

Encodes and decodes entries and never raises for damaged content; it does not choose the
committed state (``checkpoint``) nor decide a row's fate.
"""

from __future__ import annotations

import json
import os
import sys
import zlib
from pathlib import Path
from typing import Any

import attrs
import cattrs

from webex_bulk.error_handling import Action, Reason, Status
from webex_bulk.models import Outcome
from webex_bulk.state.persistence import canonical_json, first_error, storage

JOURNAL_FILE = "journal.jsonl"
#: The longest journal line read; a longer one is damage (a real line is well under 64 KiB, as
#: cells are capped at read time and ``detail`` at ``MAX_DETAIL`` characters).
MAX_LINE_BYTES = 1 << 20
#: The longest ``detail`` a journal entry keeps (the output CSVs keep the whole sentence).
MAX_DETAIL = 4000


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
class DoneRow:
    """A row already terminal in the journal: a resumed run does not process it again."""

    key: str
    status: Status
    reason: Reason | None
    remote_id: str
    entity_type: str = ""
    action: Action | None = None


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
        detail=outcome.detail[:MAX_DETAIL],
        action=outcome.action,
        remote_id=outcome.remote_id,
        tracking_id=outcome.tracking_id,
        crc=0,
    )
    fields = converter.unstructure(entry)
    del fields["crc"]
    return attrs.evolve(entry, crc=zlib.crc32(canonical_json(fields)))


def reseal_entry(converter: cattrs.Converter, entry: JournalEntry, seq: int) -> JournalEntry:
    """The same outcome under another sequence number, sealed again (a compacted journal)."""
    fields = converter.unstructure(attrs.evolve(entry, seq=seq, crc=0))
    del fields["crc"]
    return attrs.evolve(entry, seq=seq, crc=zlib.crc32(canonical_json(fields)))


def encode_entry(converter: cattrs.Converter, entry: JournalEntry) -> bytes:
    """One journal line: canonical JSON of the entry (crc included) and a newline."""
    return canonical_json(converter.unstructure(entry)) + b"\n"


def decode_entry(converter: cattrs.Converter, raw: bytes) -> JournalEntry:
    """Read one journal line; ValueError says why it is not a valid entry."""
    if not raw.endswith(b"\n"):
        raise ValueError("torn line (no line end)")
    try:
        fields = json.loads(raw)
    except (ValueError, RecursionError):  # RecursionError: a line of deeply nested brackets
        raise ValueError("not JSON") from None
    if not isinstance(fields, dict):
        raise ValueError("not a JSON object")
    if any(isinstance(value, dict | list) for value in fields.values()):
        raise ValueError("not a flat record")
    crc = fields.pop("crc", None)
    if type(crc) is not int or zlib.crc32(canonical_json(fields)) != crc:
        raise ValueError("CRC mismatch")
    fields["crc"] = crc
    try:
        entry: JournalEntry = converter.structure(fields, JournalEntry)
    except (ValueError, TypeError, KeyError, cattrs.BaseValidationError) as exc:
        raise ValueError(f"bad record: {first_error(exc)}") from None
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
        # The sequence number goes back with them: a checkpoint built from this prefix must
        # name its last kept entry, or the next appended line would leave a gap.
        self.last_seq -= len(self.lines[count:])
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
        while raw := handle.readline(MAX_LINE_BYTES + 1):
            if len(raw) > MAX_LINE_BYTES:
                prefix.size = offset
                prefix.problem = (
                    f"line {len(prefix.lines) + 1} is longer than {MAX_LINE_BYTES} bytes"
                )
                return _finish_size(prefix, handle, limit)
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
    rest = max(0, os.fstat(handle.fileno()).st_size - prefix.size)
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
