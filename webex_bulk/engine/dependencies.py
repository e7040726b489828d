"""The dependency rule: a row whose prerequisite ended without success waits, pending.

One rule for the run and the plan. A key counts as done when any row with it succeeded (later
duplicates of a key are rejected rows, and must not block what depends on the first one).
"""

from __future__ import annotations

from webex_bulk.error_handling import Reason
from webex_bulk.input import dependencies
from webex_bulk.models import Outcome, Row


class Dependencies:
    """Which keys ended in success so far; answers whether a row may go ahead."""

    def __init__(self) -> None:
        self._ok: dict[str, bool] = {}

    def record(self, key: str, ok: bool) -> None:
        """A row with this key reached its end (``ok``: success, or a planned change)."""
        self._ok[key] = self._ok.get(key, False) or ok

    def blocked(self, row: Row) -> Outcome | None:
        """The row's pending outcome when a prerequisite ended without success, else None."""
        for key in dependencies(row):
            if self._ok.get(key) is False:
                return Outcome.failed(
                    row, Reason.DEPENDENCY_FAILED, f"{key} did not end in success"
                )
        return None
