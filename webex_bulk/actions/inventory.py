"""The run's knowledge of one kind of remote object: listed once when that is cheaper than a
lookup per row, otherwise looked up key by key; objects this run writes are added to it.

Reads only: an inventory never sends a write.
"""

from __future__ import annotations

import pickle
import zlib
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any

import attrs

from webex_bulk.actions.flight import SingleFlight

Item = Mapping[str, Any]
#: ``ActionContext.list_pages``: every item of a listing, or None past a budget of pages.
Lister = Callable[[str, Mapping[str, Any], str, int], Awaitable[list[Item] | None]]
Fetch = Callable[[], Awaitable[list[Item]]]


def page_budget(row_count: int) -> int:
    """How many list pages an inventory may cost: half the per-row lookups it replaces.

    Below two rows a lookup per row is never dearer than a listing, so nothing is listed.
    """
    return row_count // 2


@attrs.frozen
class Listing:
    """How the whole kind is listed and under which keys a listed object is filed."""

    path: str
    items_key: str
    params: Mapping[str, Any]
    keys: Callable[[Item], Iterable[str]]


class Inventory:
    """Remote objects of one kind by key. ``complete`` once the whole kind was listed: a key
    missing from a complete inventory is absent remotely, without a request.

    Objects are kept packed (pickled, then deflated against the first object of the inventory,
    which shares its keys and most ids with the others): a person takes about 0.3 kB instead of
    3 kB as dicts, so 200k users stay well under 300 MB. Every read unpacks a fresh copy.
    """

    def __init__(self, listing: Listing | None = None, lister: Lister | None = None) -> None:
        self.complete = False
        self._listing = listing
        self._lister = lister
        self._flights = SingleFlight()
        self._items: dict[str, list[tuple[Any, bytes]]] = {}  # key → [(id, packed object)]
        self._zdict: bytes | None = None

    @property
    def listing(self) -> Listing | None:
        """How the whole kind is listed; None for an inventory filled key by key."""
        return self._listing

    async def list_all(self, row_count: int) -> bool:
        """List the whole kind once, when cheaper than ``row_count`` lookups; True when the
        inventory is complete (listed now or before)."""
        budget = page_budget(row_count)
        if self.complete or budget < 1 or self._listing is None or self._lister is None:
            return self.complete
        listing = self._listing
        items = await self._lister(listing.path, listing.params, listing.items_key, budget)
        if items is None:
            return False
        for item in items:
            for key in listing.keys(item):
                self.add(key, item)
        self.complete = True
        return True

    async def lookup(self, key: str, fetch: Fetch, *, fresh: bool = False) -> list[Item]:
        """The objects under ``key``: known ones, else ``fetch`` (once for concurrent callers),
        remembered. ``fresh`` asks the tenant again (reconciliation after an unknown outcome)."""
        found = None if fresh else self.get(key)
        if found is None:
            found = await self._flights.once(key, fetch)
            self.put(key, found)
        return found

    def get(self, key: str) -> list[Item] | None:
        """The objects under ``key``; ``[]`` when certainly absent; None when not known."""
        found = self._items.get(key)
        if found is not None:
            return [self._unpack(packed) for _, packed in found]
        return [] if self.complete else None

    def recorded(self, key: str) -> list[Item] | None:
        """The objects recorded under ``key`` (``[]``: looked up and absent); None when nothing
        was recorded under it, complete or not."""
        found = self._items.get(key)
        return None if found is None else [self._unpack(packed) for _, packed in found]

    def put(self, key: str, items: Iterable[Item]) -> None:
        """Record the result of a lookup of ``key``."""
        self._items[key] = [self._pack(item) for item in items]

    def add(self, key: str, item: Item) -> None:
        """Record one object (listed, found or created), replacing one with the same id."""
        entry = self._pack(item)
        current = [old for old in self._items.get(key, []) if old[0] != entry[0]]
        self._items[key] = [*current, entry]

    def known_keys(self) -> list[str]:
        """The keys under which objects are known (absent ones left out)."""
        return [key for key, entries in self._items.items() if entries]

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
