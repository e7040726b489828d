"""One row compared with its remote object: per compared column the remote value read and the
row's, and which columns differ. What ``plan`` shows (old → new) and ``run --plan`` checks.

Pure: no network, no clock.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import attrs


@attrs.define
class Compared:
    """The columns compared so far, in order; ``fields`` are those that differ."""

    old: dict[str, str] = attrs.Factory(dict)  # column → the remote value, canonical
    new: dict[str, str] = attrs.Factory(dict)  # column → the row's value
    fields: list[str] = attrs.Factory(list)

    def text(self, column: str, wanted: str, remote: str) -> Compared:
        """Compare one managed value; an empty wanted value is not managed (not compared)."""
        if wanted:
            self.mark(column, wanted, remote, differs=wanted != remote)
        return self

    def mark(self, column: str, wanted: str, remote: str, *, differs: bool) -> Compared:
        """Record a compared column whose difference the caller decided (sets, schedules)."""
        self.old[column] = remote
        self.new[column] = wanted
        if differs and column not in self.fields:
            self.fields.append(column)
        return self

    def extend(self, other: Compared) -> Compared:
        """Add the columns another comparison of the same row recorded."""
        for column in other.old:
            self.mark(column, other.new[column], other.old[column], differs=False)
        for column in other.fields:
            if column not in self.fields:
                self.fields.append(column)
        return self

    @property
    def differing(self) -> tuple[str, ...]:
        """The differing columns, in the order compared."""
        return tuple(self.fields)


#: How an empty value reads in ``_old`` / ``_new`` (none held, or none wanted).
EMPTY = '""'


def member_labels(items: Any) -> str:
    """A remote member list as one cell a person reads: each member's e-mail, else its display
    name, else its first and last name, else its id; sorted, ``;``-joined."""
    labels = set()
    for item in items if isinstance(items, list) else ():
        if not isinstance(item, Mapping):
            labels.add(str(item))
            continue
        names = " ".join(str(item.get(key) or "") for key in ("firstName", "lastName")).strip()
        label = item.get("email") or item.get("displayName") or names or item.get("id")
        labels.add(str(label or ""))
    return ";".join(sorted(labels - {""}))


def pairs(values: Mapping[str, str], columns: Iterable[str]) -> str:
    """``column=value | column=value`` for the columns given (an empty value reads ``""``)."""
    return " | ".join(f"{column}={values.get(column) or EMPTY}" for column in columns)
