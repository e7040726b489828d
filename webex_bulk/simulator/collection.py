"""An ordered store of one record type: lookup by key, creation order, stable cursor positions,
groups (e.g. by location) and the eventual-consistency window of new objects.

Positions never move: a removed record leaves a hole, so a cursor stays valid across deletes.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

R = TypeVar("R")


class Collection(Generic[R]):
    """Records by key in creation order; ``group_of`` names the group a record is listed under."""

    def __init__(self, group_of: Callable[[R], str] | None = None) -> None:
        self._records: dict[str, R] = {}
        self._position: dict[str, int] = {}
        self._order: list[str | None] = []
        self._group_of = group_of
        self._groups: dict[str, list[int]] = {}
        self._hidden_until: dict[str, float] = {}

    def __len__(self) -> int:
        return len(self._records)

    def __contains__(self, key: str) -> bool:
        return key in self._records

    def get(self, key: str) -> R | None:
        """The record stored under ``key``, or None."""
        return self._records.get(key)

    def values(self) -> Iterator[R]:
        """Every record, in creation order."""
        return iter(self._records.values())

    def add(self, key: str, record: R, hidden_until: float = 0.0) -> None:
        """Store a new record; list results leave it out until the clock passes ``hidden_until``."""
        if key in self._records:
            raise KeyError(f"duplicate key {key!r}")
        position = len(self._order)
        self._order.append(key)
        self._position[key] = position
        self._records[key] = record
        if self._group_of is not None:
            self._groups.setdefault(self._group_of(record), []).append(position)
        if hidden_until:
            self._hidden_until[key] = hidden_until

    def replace(self, key: str, record: R) -> None:
        """Store a new version of an existing record, moving it to its new group if that changed."""
        old = self._records[key]
        self._records[key] = record
        if self._group_of is None:
            return
        before, after = self._group_of(old), self._group_of(record)
        if before != after:
            position = self._position[key]
            members = self._groups[before]
            del members[bisect.bisect_left(members, position)]
            bisect.insort(self._groups.setdefault(after, []), position)

    def remove(self, key: str) -> R:
        """Remove a record and return it."""
        record = self._records.pop(key)
        self._order[self._position.pop(key)] = None
        self._hidden_until.pop(key, None)
        return record

    def visible(self, key: str, now: float) -> bool:
        """Whether list and search results show the record at time ``now``."""
        until = self._hidden_until.get(key)
        if until is None:
            return True
        if now >= until:
            del self._hidden_until[key]
            return True
        return False

    def entries(self, after: int = -1, group: str | None = None) -> Iterator[tuple[int, R]]:
        """``(position, record)`` in creation order after position ``after``, optionally of one
        group only."""
        order = self._order
        records = self._records
        if group is None:
            positions: Iterator[int] = iter(range(after + 1, len(order)))
        else:
            members = self._groups.get(group, [])
            start = bisect.bisect_right(members, after)
            positions = (members[index] for index in range(start, len(members)))
        for position in positions:
            key = order[position]
            if key is not None:
                yield position, records[key]

    def entries_of(
        self, keys: Iterator[str] | list[str], after: int = -1
    ) -> Iterator[tuple[int, R]]:
        """``(position, record)`` of those keys that exist, in creation order after ``after``."""
        positions = sorted(self._position[key] for key in keys if key in self._position)
        for position in positions:
            key = self._order[position]
            if position > after and key is not None:
                yield position, self._records[key]
