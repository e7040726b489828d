"""What the actions need of the HTTP client: one request, and the pages of a listing.

``webex_bulk.http``'s ``WebexClient`` is one; the tests pass recorders and fakes.
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
