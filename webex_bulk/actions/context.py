"""The run-wide context of the actions: the client, the settings and the inventories of remote
objects, each owned by an ``Inventory`` (or the ``LicensePool``) that knows how it is listed.

Inventories are filled by listings, by lookups and by this run's creates; they never send a
write. One context per run, shared by all workers of one event loop.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Collection, Iterable, Mapping
from typing import Any, TypeVar

from webex_bulk.actions import bodies
from webex_bulk.actions.code_ledger import Clock, CodeLedger, utc_now
from webex_bulk.actions.compare import canonical_e164, canonical_mac, fold
from webex_bulk.actions.flight import SingleFlight
from webex_bulk.actions.inventory import Inventory, Item, Listing
from webex_bulk.actions.licenses import LicensePool, read_licenses
from webex_bulk.actions.ports import ApiClient, Intents, MemoryIntents
from webex_bulk.config import Settings
from webex_bulk.models import ActivationCode, Outcome, Row

T = TypeVar("T")

#: The approved plan's check of one row's decision (``run --plan``): an outcome holds it back.
Approve = Callable[[Row, Any], Outcome | None]

#: Page sizes of the inventory listings (the API caps: people with calling data 100).
PEOPLE_PAGE = 100
LOCATIONS_PAGE = 1000
WORKSPACES_PAGE = 1000
DEVICES_PAGE = 1000
FEATURES_PAGE = 2000
NUMBERS_PATH = "/telephony/config/numbers"
UNLIMITED = 1 << 30


def location_key(location_id: str, name: str) -> str:
    """The inventory key of an object named ``name`` inside a location."""
    return f"{location_id}/{fold(name)}"


def located_id(item: Item) -> str:
    """The location id of a remote item (``locationId``, or ``location.id``)."""
    location = item.get("location")
    inner = location.get("id") if isinstance(location, Mapping) else None
    return str(item.get("locationId") or inner or "")


def device_keys(device: Item) -> list[str]:
    """A device is filed under its MAC (when it has one) and under ``owner:<id>``."""
    mac = canonical_mac(device.get("mac"))
    owner = device.get("personId") or device.get("workspaceId")
    return [*([mac] if mac else []), *([owner_key(str(owner))] if owner else [])]


def owner_key(owner_id: str) -> str:
    """The inventory key of an owner's devices."""
    return f"owner:{owner_id}"


#: The inventory key of a location's listed virtual lines whose display name is not known yet
#: (Cisco's listing does not carry it): ``UNNAMED + location id``.
UNNAMED = "unnamed:"


def virtual_line_keys(item: Item) -> list[str]:
    """A virtual line is filed under its display name in its location, or with the location's
    unnamed ones when the listing lacks the display name."""
    display = item.get("displayName")
    location_id = located_id(item)
    return [location_key(location_id, str(display)) if display else UNNAMED + location_id]


def person_keys(person: Item) -> Iterable[str]:
    """A person is filed under each of its e-mails."""
    return [str(email).lower() for email in person.get("emails") or ()]


class ActionContext:
    """One per run, shared by all workers: the client, the settings and the inventories."""

    def __init__(
        self,
        client: ApiClient,
        settings: Settings,
        *,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        file_keys: Collection[str] = (),
        approve: Approve | None = None,
        intents: Intents | None = None,
        activation_codes: Iterable[ActivationCode] = (),
        clock: Clock = utc_now,
    ) -> None:
        self.client = client
        self.settings = settings
        self.sleep = sleep
        #: ``run --plan``: given a row and its decision, the outcome that holds the row back
        #: (the plan did not make that decision), or None to go ahead.
        self.approve = approve
        #: Remote jobs rows started and have not seen end (a move-users job id per move).
        self.intents: Intents = intents if intents is not None else MemoryIntents()
        #: Webex runs one move-users job per org at a time: this run starts them one by one.
        self.move_lock = asyncio.Lock()
        #: Keys of the input file's rows that ``plan`` found will exist (planned creates and
        #: changes): a reference to one is "will exist". ``plan`` adds them as it goes.
        self.file_keys: set[str] = set(file_keys)
        region = settings.default_region

        def listed(path: str, items_key: str, params: Mapping[str, Any], keys: Any) -> Inventory:
            return Inventory(Listing(path, items_key, params, keys), self.list_pages)

        #: fold(name) → /locations objects
        self.locations = listed(
            "/locations", "items", {"max": LOCATIONS_PAGE}, lambda item: [fold(item.get("name"))]
        )
        #: location id → its telephony location (present = calling enabled)
        self.calling_locations = listed(
            "/telephony/config/locations", "locations", {}, lambda item: [str(item.get("id"))]
        )
        #: e-mail → Person (callingData)
        self.people = listed(
            "/people", "items", {"callingData": "true", "max": PEOPLE_PAGE}, person_keys
        )
        #: location id + "/" + fold(name) → Workspace
        self.workspaces = listed(
            "/workspaces",
            "items",
            {"max": WORKSPACES_PAGE},
            lambda item: [location_key(str(item.get("locationId")), str(item.get("displayName")))],
        )
        #: E.164 → telephony number
        self.numbers = listed(
            NUMBERS_PATH,
            "phoneNumbers",
            {"numberType": "NUMBER"},
            lambda item: (
                [canonical_e164(item["phoneNumber"], region)] if item.get("phoneNumber") else []
            ),
        )
        #: MAC → device, and ``owner:<person or workspace id>`` → that owner's devices
        self.devices = listed("/devices", "items", {"max": DEVICES_PAGE}, device_keys)
        #: location id + "/" + fold(display name) → virtual line; UNNAMED + location id → its
        #: listed virtual lines whose display name is still to be read from their details
        self.virtual_lines = listed(
            "/telephony/config/virtualLines",
            "virtualLines",
            {"max": FEATURES_PAGE},
            virtual_line_keys,
        )
        #: virtual line id → its display name, once read from its details
        self.virtual_line_names: dict[str, str] = {}
        #: virtual line id → the details a lookup read, handed once to the row's comparison
        self.virtual_line_details: dict[str, Item] = {}
        self.schedules = Inventory()  # location id → its business-hours schedules
        self.owner_lines = Inventory()  # owner id → its number/extension rows (numbers API)
        self._features: dict[str, Inventory] = {}  # list path → (location_key → feature)
        self._unlisted: dict[str, Inventory] = {}  # kind → (location_key → feature)
        self.pstn: dict[str, str] = {}  # location id → PSTN connection type
        self.pstn_readable = True  # False once a PSTN read was refused (403): check skipped
        self._licenses: LicensePool | None = None
        self._supported_devices: list[Item] | None = None
        #: the codes the run directory handed out (``activation_codes.csv``) and this run's
        self.activation_codes = CodeLedger(activation_codes, clock)
        self._flights = SingleFlight()

    def query(self, params: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Query parameters with ``orgId`` where the API wants it."""
        return bodies.org_query(self.settings, params)

    def body(self, body: Mapping[str, Any]) -> dict[str, Any]:
        """A JSON body with ``orgId`` (people, licenses, workspaces POST/PUT/PATCH)."""
        return bodies.org_body(self.settings, body)

    def features(self, path: str, items_key: str) -> Inventory:
        """The inventory of one call-feature kind, by its org-wide list path."""
        if path not in self._features:
            self._features[path] = Inventory(
                Listing(
                    path,
                    items_key,
                    {"max": FEATURES_PAGE},
                    lambda item: [location_key(str(item.get("locationId")), str(item.get("name")))],
                ),
                self.list_pages,
            )
        return self._features[path]

    def unlisted(self, kind: str) -> Inventory:
        """The inventory of a kind the API lists per location only (call parks, call pickups):
        filled by lookups and by this run's creates."""
        return self._unlisted.setdefault(kind, Inventory())

    async def licenses(self) -> LicensePool:
        """The org's licenses (``GET /licenses``), read once per run; reservations live here."""
        if self._licenses is None:
            self._licenses = await self.once(
                "licenses", lambda: read_licenses(self.client, self.query())
            )
        return self._licenses

    async def supported_devices(self) -> list[Item]:
        """``GET /telephony/config/supportedDevices``, read once per run."""
        if self._supported_devices is None:
            self._supported_devices = await self.once("supportedDevices", self._fetch_supported)
        return self._supported_devices

    async def _fetch_supported(self) -> list[Item]:
        response = await self.client.request(
            "GET", "/telephony/config/supportedDevices", params=self.query()
        )
        body = response.body if isinstance(response.body, dict) else {}
        return [item for item in body.get("devices") or [] if isinstance(item, dict)]

    async def once(self, key: str, fetch: Callable[[], Awaitable[T]]) -> T:
        """Run ``fetch`` once for concurrent callers asking the same ``key`` (single flight)."""
        return await self._flights.once(key, fetch)

    async def list_every(self, path: str, params: Mapping[str, Any], items_key: str) -> list[Item]:
        """Every item of a listing, however many pages (a lookup by filter)."""
        return await self.list_pages(path, params, items_key, UNLIMITED) or []

    def pages_of(self, inventory: Inventory) -> AsyncIterator[list[dict[str, Any]]]:
        """The pages of an inventory's whole-kind listing as they arrive, none of them kept
        (``export`` streams them; a run's ``list_all`` keeps them)."""
        listing = inventory.listing
        if listing is None:
            raise ValueError("this inventory is filled key by key: it has no listing")
        return self.client.pages(
            listing.path, params=self.query(listing.params), items_key=listing.items_key
        )

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
