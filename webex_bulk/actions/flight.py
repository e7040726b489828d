"""Single flight: concurrent callers asking for the same key share one fetch.

Owns no cache: callers keep the result themselves (an ``Inventory``, the ``LicensePool``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")


class SingleFlight:
    """The fetches in flight, by key; one per cache, all on one event loop."""

    def __init__(self) -> None:
        self._flights: dict[str, asyncio.Future[object]] = {}

    async def once(self, key: str, fetch: Callable[[], Awaitable[T]]) -> T:
        """Run ``fetch`` once for concurrent callers asking the same ``key``.

        The result is not kept. A failure reaches every waiter; when the fetching task is
        cancelled, a waiter that is not cancelled itself fetches anew.
        """
        pending = self._flights.get(key)
        if pending is not None:
            try:
                shared = await asyncio.shield(pending)
            except asyncio.CancelledError:
                task = asyncio.current_task()
                if not pending.cancelled() or (task is not None and task.cancelling()):
                    raise
                return await self.once(key, fetch)
            return shared  # type: ignore[return-value]  # the flight of this key fetches a T
        future: asyncio.Future[object] = asyncio.get_running_loop().create_future()
        self._flights[key] = future
        try:
            result = await fetch()
        except asyncio.CancelledError:
            future.cancel()
            raise
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # mark retrieved: the waiters, if any, re-raise it themselves
            raise
        else:
            future.set_result(result)
            return result
        finally:
            del self._flights[key]
