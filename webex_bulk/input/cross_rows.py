"""The cross-row rules of the first pass: duplicates, conflicting duplicates, a number or an
extension given to two owners. Bottom layer: memory-lean hashes, no I/O but a ``stat``, no clock.
"""

from __future__ import annotations

from array import array
from collections.abc import Mapping
from pathlib import Path

import attrs

from webex_bulk.error_handling import InputFileError, Reason
from webex_bulk.models import EntityType, Row

#: Entity types that own a phone number or an extension (a ``number`` row only adds one).
_OWNERS = frozenset(
    {
        EntityType.USER,
        EntityType.WORKSPACE,
        EntityType.HUNT_GROUP,
        EntityType.CALL_QUEUE,
        EntityType.AUTO_ATTENDANT,
        EntityType.VIRTUAL_LINE,
        EntityType.CALL_PARK_EXTENSION,
        EntityType.PAGING_GROUP,
        EntityType.VOICEMAIL_GROUP,
    }
)
_KEY, _NUMBER, _EXTENSION = 0, 1, 2
_LOW32 = 0xFFFF_FFFF
_BUCKETS = 256


def _hash(value: object, bits: int) -> int:
    # The interpreter's own (SipHash) hash: the verdicts live only as long as the process.
    return hash(value) & ((1 << bits) - 1)


def _content_hash(row: Row) -> int:
    return _hash((tuple(sorted(row.values.items())), row.members), 32)


@attrs.frozen
class CrossRows:
    """What the first pass learned across rows: the verdicts of the cross-row rules (only for
    the rows they reject), the country of each location of the file, and the file's stamp."""

    verdicts: Mapping[int, tuple[Reason, int]]  # line → (reason, another line involved)
    size: int
    mtime_ns: int
    regions: Mapping[str, str] = attrs.field(factory=dict)  # location name, case-folded → ISO

    def verdict(self, line: int) -> tuple[Reason, int] | None:
        """The cross-row rejection of the row on ``line``, if any."""
        return self.verdicts.get(line)

    def check_unchanged(self, path: Path) -> None:
        """Refuse to read a file that changed since ``scan``: its verdicts would not fit it."""
        stat = path.stat()
        if (stat.st_size, stat.st_mtime_ns) != (self.size, self.mtime_ns):
            raise InputFileError(
                str(path), 1, "the file changed while it was being read", "run the command again"
            )


class Collector:
    """The first pass's memory: 16 bytes per key, number and extension-in-location.

    Each entry is a 64-bit hash of what must be unique (its kind in the low 2 bits) and
    ``line << 32 | tag`` (tag: a 32-bit hash of the content, or of the owner's key), appended to
    one of 256 flat arrays by the hash's top byte. ``finish`` finds the repeats one array at a
    time, so a dict never holds more than a 256th of the file: a dict of ints would cost ~8×.
    """

    def __init__(self) -> None:
        self._buckets = [array("Q") for _ in range(_BUCKETS)]

    def add(self, row: Row) -> None:
        """Remember what the cross-row rules need of one valid row."""
        values, line = row.values, row.line
        self._put(_KEY, row.key, line, _content_hash(row))
        if row.entity_type in _OWNERS:
            owner = _hash(row.key, 32)
            number, extension = values.get("phone_number"), values.get("extension")
            if number:
                self._put(_NUMBER, number, line, owner)
            if extension:
                place = (values.get("location", "").casefold(), extension)
                self._put(_EXTENSION, place, line, owner)

    def _put(self, kind: int, unique: object, line: int, tag: int) -> None:
        key = _hash((kind, unique), 64) & ~3 | kind
        bucket = self._buckets[key >> 56]
        bucket.append(key)
        bucket.append(line << 32 | tag)

    def _groups(self) -> tuple[list[list[tuple[int, int]]], ...]:
        """The entries that share a hash, per kind, each group in file order."""
        found: tuple[list[list[tuple[int, int]]], ...] = ([], [], [])
        for index, bucket in enumerate(self._buckets):
            first: dict[int, int] = {}
            repeated: dict[int, list[tuple[int, int]]] = {}
            for position in range(0, len(bucket), 2):
                key, value = bucket[position], bucket[position + 1]
                stored = first.setdefault(key, value)
                if stored != value:  # values differ by their line: the key was seen before
                    group = repeated.setdefault(key, [(stored >> 32, stored & _LOW32)])
                    group.append((value >> 32, value & _LOW32))
            for key, group in repeated.items():
                found[key & 3].append(group)
            self._buckets[index] = array("Q")  # release as we go
        return found

    def finish(self, path: Path, regions: Mapping[str, str]) -> CrossRows:
        """Resolve the groups into verdicts; the entries are released on the way."""
        keys, numbers, extensions = self._groups()
        verdicts: dict[int, tuple[Reason, int]] = {}
        for group in keys:
            _key_verdicts(group, verdicts)
        for group in numbers:
            _owner_verdicts(group, Reason.NUMBER_CONFLICT, verdicts)
        for group in extensions:
            _owner_verdicts(group, Reason.EXTENSION_CONFLICT, verdicts)
        stat = path.stat()
        return CrossRows(verdicts, stat.st_size, stat.st_mtime_ns, regions)


def _key_verdicts(group: list[tuple[int, int]], verdicts: dict[int, tuple[Reason, int]]) -> None:
    """Rows with one key: identical → later ones ``duplicate_row``; else all conflicting."""
    first_line, first_content = group[0]
    if all(content == first_content for _, content in group):
        for line, _ in group[1:]:
            verdicts[line] = (Reason.DUPLICATE_ROW, first_line)
        return
    for line, _ in group:
        verdicts[line] = (
            Reason.CONFLICTING_DUPLICATE,
            group[1][0] if line == first_line else first_line,
        )


def _owner_verdicts(
    group: list[tuple[int, int]], reason: Reason, verdicts: dict[int, tuple[Reason, int]]
) -> None:
    """One number (or extension) given to two owners or more → every such row rejected."""
    if len({owner for _, owner in group}) < 2:
        return
    for line, owner in group:
        other = next(other_line for other_line, tag in group if tag != owner)
        verdicts.setdefault(line, (reason, other))
