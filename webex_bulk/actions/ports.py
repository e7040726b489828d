"""What the actions need of the HTTP client (one request, the pages of a listing) and of the run
directory (intents). ``webex_bulk.http``'s ``WebexClient`` is one client; the tests pass fakes.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import Any, Protocol


class ResponseLike(Protocol):
    """What the actions read of a response."""

    @property
    def status(self) -> int:
        """The HTTP status (2xx)."""
        ...

    @property
    def body(self) -> Any:
        """The parsed JSON body, or None."""
        ...

    @property
    def tracking_id(self) -> str:
        """The tracking id Webex echoed."""
        ...


class ApiClient(Protocol):
    """The calls the actions make."""

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
    ) -> ResponseLike:
        """One API call relative to the base URL; raises the ``RequestError`` family."""
        ...

    def pages(
        self, path: str, *, params: Mapping[str, Any] | None = None, items_key: str = "items"
    ) -> AsyncIterator[list[dict[str, Any]]]:
        """The pages of a listing, following next links and offsets."""
        ...


class Intents(Protocol):
    """Where a row keeps a remote job it started until it sees the job end (``state``'s
    ``IntentLog`` in a run; a plain map for ``plan`` and the tests)."""

    def recall(self, key: str) -> str:
        """The value kept under ``key``; "" when none."""
        ...

    def record(self, key: str, value: str) -> None:
        """Keep ``value`` under ``key`` ("" forgets it); durable when this returns."""
        ...


class MemoryIntents:
    """Intents that live as long as the run (nothing survives a crash)."""

    def __init__(self) -> None:
        self._values: dict[str, str] = {}

    def recall(self, key: str) -> str:
        """The value kept under ``key``; "" when none."""
        return self._values.get(key, "")

    def record(self, key: str, value: str) -> None:
        """Keep ``value`` under ``key`` ("" forgets it)."""
        if value:
            self._values[key] = value
        else:
            self._values.pop(key, None)
