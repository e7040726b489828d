"""The run-wide context of the actions: the client, the settings and the caches of remote objects.

Caches are filled by inventory listings (``prepare``), by lookups and by this run's creates; they
never send a write. One context per run, shared by all workers of one event loop.
"""

from __future__ import annotations

import asyncio
import pickle
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable, Collection, Iterable, Mapping
from typing import Any, Protocol

from webex_bulk.actions import bodies as helpers
from webex_bulk.config import Settings
from webex_bulk.error_handling import Reason, WebexBulkError

Item = Mapping[str, Any]


class ResponseLike(Protocol):
    """What the actions read of a response (``connection_client.Response``)."""

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
    """The part of ``connection_client.WebexClient`` the actions use."""

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        form: Mapping[str, str] | None = None,
    ) -> ResponseLike:
        """One API call relative to the base URL; raises the ``RequestError`` family."""
        ...

    def pages(
        self, path: str, *, params: Mapping[str, Any] | None = None, items_key: str = "items"
    ) -> AsyncIterator[list[dict[str, Any]]]:
        """The pages of a listing, following next links and offsets."""
        ...


class RowFailure(WebexBulkError):
    """A row ends rejected or pending for a reason found by a step (not an HTTP error)."""

    def __init__(self, reason: Reason, detail: str, remote_id: str = "") -> None:
        super().__init__(reason, detail, remote_id)
        self.reason = reason
        self.detail = detail
        self.remote_id = remote_id

    def __str__(self) -> str:
        return f"{self.reason.value}: {self.detail}"


class Inventory:
    """Remote objects of one type by key. ``complete`` once the whole type was listed: a key
    missing from a complete inventory is absent remotely, without a request.

    Objects are kept packed (pickled, then deflated against the first object of the inventory,
    which shares its keys and most ids with the others): a person takes about 0.3 kB instead of
    3 kB as dicts, so 200k users stay well under 300 MB. Every read unpacks a fresh copy.
    """

    def __init__(self) -> None:
        self.complete = False
        self._items: dict[str, list[tuple[Any, bytes]]] = {}  # key → [(id, packed object)]
        self._zdict: bytes | None = None

    def get(self, key: str) -> list[Item] | None:
        """The objects under ``key``; ``[]`` when certainly absent; None when not known."""
        found = self._items.get(key)
        if found is not None:
            return [self._unpack(packed) for _, packed in found]
        return [] if self.complete else None

    def put(self, key: str, items: Iterable[Item]) -> None:
        """Record the result of a lookup of ``key``."""
        self._items[key] = [self._pack(item) for item in items]

    def add(self, key: str, item: Item) -> None:
        """Record one object (listed, found or created), replacing one with the same id."""
        entry = self._pack(item)
        current = [old for old in self._items.get(key, []) if old[0] != entry[0]]
        self._items[key] = [*current, entry]

    def values(self) -> list[Item]:
        """Every object known."""
        return [self._unpack(packed) for entries in self._items.values() for _, packed in entries]

    def _pack(self, item: Item) -> tuple[Any, bytes]:
        raw = pickle.dumps(item, pickle.HIGHEST_PROTOCOL)
        if self._zdict is None:
            self._zdict = raw
        packer = zlib.compressobj(1, zlib.DEFLATED, -15, zdict=self._zdict)
        return item.get("id"), packer.compress(raw) + packer.flush()

    def _unpack(self, packed: bytes) -> Item:
        assert self._zdict is not None  # set by the first _pack
        unpacker = zlib.decompressobj(-15, zdict=self._zdict)
        item: Item = pickle.loads(unpacker.decompress(packed) + unpacker.flush())
        return item


def one(items: list[Item], what: str) -> Item | None:
    """The single match of a lookup; several → ``ambiguous_match`` naming how many."""
    if len(items) > 1:
        ids = ", ".join(str(item.get("id", "?")) for item in items[:3])
        raise RowFailure(Reason.AMBIGUOUS_MATCH, f"{len(items)} remote objects match {what}: {ids}")
    return items[0] if items else None


class ActionContext:
    """One per run, shared by all workers: the client, the settings and the caches of lookups."""

    def __init__(
        self,
        client: ApiClient,
        settings: Settings,
        *,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        file_keys: Collection[str] = (),
    ) -> None:
        self.client = client
        self.settings = settings
        self.sleep = sleep
        #: Keys of the input file's rows; ``plan`` treats a reference to one as "will exist".
        self.file_keys: frozenset[str] = frozenset(file_keys)
        self.locations = Inventory()  # fold(name) → /locations objects
        self.calling_locations = Inventory()  # location id → telephony location
        self.people = Inventory()  # email → Person (callingData)
        self.workspaces = Inventory()  # location id + "/" + fold(name) → Workspace
        self.schedules = Inventory()  # location id + "/" + fold(name) → businessHours schedule
        self.schedules_listed: set[str] = set()  # location ids whose schedules were listed
        self.features: dict[str, Inventory] = {}  # list path → (location id/fold(name) → item)
        self.numbers = Inventory()  # E.164 → telephony number
        self.owner_lines = Inventory()  # owner id → its number/extension rows (numbers API)
        self.devices = Inventory()  # MAC → device
        self.licenses: list[Item] | None = None
        self.license_reserved: dict[str, int] = {}
        self.supported_devices: list[Item] | None = None
        self.pstn: dict[str, str] = {}  # location id → PSTN connection type
        self._flights: dict[str, asyncio.Future[Any]] = {}

    def query(self, params: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Query parameters with ``orgId`` where the API wants it."""
        return helpers.org_query(self.settings, params)

    def body(self, body: Mapping[str, Any]) -> dict[str, Any]:
        """A JSON body with ``orgId`` (people, licenses, workspaces POST/PUT/PATCH)."""
        return helpers.org_body(self.settings, body)

    def feature_inventory(self, path: str) -> Inventory:
        """The inventory of one feature list path."""
        return self.features.setdefault(path, Inventory())

    async def once(self, key: str, fetch: Callable[[], Awaitable[Any]]) -> Any:
        """Run ``fetch`` once for concurrent callers asking the same ``key`` (single flight).

        The result is not kept: callers cache it themselves. A failure reaches every waiter; when
        the fetching task is cancelled, a waiter that is not cancelled itself fetches anew.
        """
        pending = self._flights.get(key)
        if pending is not None:
            try:
                return await asyncio.shield(pending)
            except asyncio.CancelledError:
                task = asyncio.current_task()
                if not pending.cancelled() or (task is not None and task.cancelling()):
                    raise
                return await self.once(key, fetch)
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
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

    async def list_pages(
        self, path: str, params: Mapping[str, Any], items_key: str, max_pages: int
    ) -> list[Item] | None:
        """Every item of a listing, or None when it needs more than ``max_pages`` pages."""
        items: list[Item] = []
        pages = self.client.pages(path, params=self.query(params), items_key=items_key)
        count = 0
        try:
            async for page in pages:
                count += 1
                if count > max_pages:
                    return None
                items.extend(page)
        finally:
            close = getattr(pages, "aclose", None)
            if close is not None:
                await close()
        return items


def page_budget(row_count: int) -> int:
    """How many list pages an inventory may cost: half the per-row lookups it replaces.

    Below two rows a lookup per row is never dearer than a listing, so nothing is listed.
    """
    return row_count // 2
