"""A row's end found by a step rather than by an HTTP error, and the one-match rule of lookups."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from webex_bulk.error_handling import Reason, WebexBulkError


class RowFailure(WebexBulkError):
    """A row ends rejected or pending for a reason found by a step (not an HTTP error)."""

    def __init__(self, reason: Reason, detail: str, remote_id: str = "") -> None:
        super().__init__(reason, detail, remote_id)
        self.reason = reason
        self.detail = detail
        self.remote_id = remote_id

    def __str__(self) -> str:
        return f"{self.reason.value}: {self.detail}"


def one(items: list[Mapping[str, Any]], what: str) -> Mapping[str, Any] | None:
    """The single match of a lookup; several → ``ambiguous_match`` naming how many."""
    if len(items) > 1:
        ids = ", ".join(str(item.get("id", "?")) for item in items[:3])
        raise RowFailure(Reason.AMBIGUOUS_MATCH, f"{len(items)} remote objects match {what}: {ids}")
    return items[0] if items else None
