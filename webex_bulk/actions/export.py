"""Reading the tenant for ``export``: per entity type, the listing its objects come from, the
detail GET where a listing lacks fields, and the converter to a row (``EXPORTS``).

Reads only, page by page: rows are yielded as pages arrive and only ``ExportNames`` is held.
Adding a type to export is a converter in ``export_rows`` and one entry in ``EXPORTS``.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from typing import Any

import attrs

from webex_bulk.actions import export_rows as rows
from webex_bulk.actions import export_settings
from webex_bulk.actions.call_parks import CallParkActions, CallParkExtensionActions
from webex_bulk.actions.compare import canonical_text, fold
from webex_bulk.actions.context import NUMBERS_PATH, ActionContext
from webex_bulk.actions.export_rows import Cells, ExportNames
from webex_bulk.actions.features import (
    AutoAttendantActions,
    CallQueueActions,
    FeatureActions,
    HuntGroupActions,
)
from webex_bulk.actions.inventory import Item
from webex_bulk.actions.lookups import schedules_path
from webex_bulk.actions.paging import PagingGroupActions
from webex_bulk.actions.pickups import CallPickupActions
from webex_bulk.actions.virtual_lines import VirtualLineActions
from webex_bulk.actions.voicemail_groups import VoicemailGroupActions
from webex_bulk.actions.workspaces import NUMBERS_PAGE
from webex_bulk.error_handling import ApiError, ConfigError
from webex_bulk.models import EntityType

Pages = Callable[["TenantReader"], AsyncIterator[Sequence[Item]]]
Step = Callable[["TenantReader"], Awaitable[None]]


@attrs.frozen
class ExportKind:
    """How one entity type is read for ``export``."""

    entity_type: EntityType
    pages: Pages  # the listing of the whole kind, page by page
    convert: Callable[[Item, ExportNames], Cells | None]
    #: the detail GET of one listed object, when the listing lacks fields (one request each;
    #: None for an object whose listing has them all)
    detail: Callable[[Item], str | None] | None = None
    #: what rows of this type need read first (license kinds, workspace lines, device models)
    prepare: Step | None = None
    #: files what rows of other types name by id (a member's e-mail, an owner's name)
    remember: Callable[[Item, ExportNames], None] | None = None
    #: types whose ``remember`` must have seen every object before this type's rows
    needs: tuple[EntityType, ...] = ()


class TenantReader:
    """One export's reads: the names it holds and the rows of each type, streamed."""

    def __init__(
        self, ctx: ActionContext, *, location: str | None = None, with_settings: bool = False
    ) -> None:
        self.ctx = ctx
        self.with_settings = with_settings  # users' and workspaces' call settings too
        self.names = ExportNames(region=ctx.settings.default_region)
        self.skipped: Counter[str] = Counter()  # objects webex-bulk does not provision, by type
        self._location = location
        self._location_id: str | None = None
        self._remembered: set[EntityType] = set()

    @property
    def location_id(self) -> str | None:
        """The id of the ``--location`` the export is limited to (None: every location)."""
        return self._location_id

    async def start(self) -> None:
        """Read the calling locations, whose names every row uses; resolve ``--location``."""
        calling: set[str] = set()
        async for page in self.ctx.pages_of(self.ctx.calling_locations):
            calling.update(str(item.get("id")) for item in page)
        async for page in self.ctx.pages_of(self.ctx.locations):
            for item in page:
                if str(item.get("id")) in calling:
                    self.names.locations[str(item["id"])] = canonical_text(item.get("name"))
        if self._location is not None:
            wanted = fold(self._location)
            found = [i for i, name in self.names.locations.items() if fold(name) == wanted]
            if len(found) != 1:
                known = ", ".join(sorted(self.names.locations.values())[:10]) or "none"
                raise ConfigError(
                    "location",
                    "--location",
                    f"{self._location!r} is not a calling location of the org (known: {known})",
                )
            self._location_id = found[0]

    async def rows(self, entity_type: EntityType) -> AsyncIterator[Cells]:
        """The rows of one type in listing order, as their pages arrive."""
        kind = EXPORTS[entity_type]
        for needed in kind.needs:
            await self._remember_all(needed)
        if kind.prepare is not None:
            await kind.prepare(self)
        converted = self._converted(kind)
        if self.with_settings and entity_type in export_settings.OWNERS:
            converted = export_settings.with_settings(self.ctx, entity_type, converted)
        async for _item, cells in converted:
            yield cells
        self._remembered.add(entity_type)

    async def _converted(self, kind: ExportKind) -> AsyncIterator[tuple[Item, Cells]]:
        """Each object of a kind in the export's location with its row; counts the others."""
        async for item in self._items(kind):
            if not self._in_location(kind.entity_type, item):
                continue
            cells = kind.convert(item, self.names)
            if cells is None:
                self.skipped[kind.entity_type.value] += 1
                continue
            yield item, cells

    async def _remember_all(self, entity_type: EntityType) -> None:
        """List a type only to file its names, when its rows are not exported (``--only``)."""
        if entity_type in self._remembered:
            return
        kind = EXPORTS[entity_type]
        async for _item in self._items(kind):
            pass
        self._remembered.add(entity_type)

    async def _items(self, kind: ExportKind) -> AsyncIterator[Item]:
        """Every object of a kind, with its details when the listing lacks fields."""
        async for page in kind.pages(self):
            items: list[Item | None] = list(page)
            if kind.detail is not None:
                items = await self._details(kind.detail, page)
            for item in items:
                if item is None:
                    continue
                if kind.remember is not None:
                    kind.remember(item, self.names)
                yield item

    async def _details(
        self, path: Callable[[Item], str | None], page: Sequence[Item]
    ) -> list[Item | None]:
        """The details of a page's objects, ``concurrency`` at a time, in page order: the
        listing's fields stay, the details add what it lacks. An object deleted since it was
        listed (404) is None."""
        gate = asyncio.Semaphore(max(1, self.ctx.settings.workers))

        async def one(item: Item) -> Item | None:
            where = path(item)
            if where is None:
                return item
            async with gate:
                try:
                    response = await self.ctx.client.request("GET", where, params=self.ctx.query())
                except ApiError as exc:
                    if exc.status == 404:
                        return None
                    raise
            body = response.body if isinstance(response.body, Mapping) else {}
            return {**body, **item}

        return list(await asyncio.gather(*(one(item) for item in page)))

    def _in_location(self, entity_type: EntityType, item: Item) -> bool:
        if self._location_id is None:
            return True
        if entity_type is EntityType.LOCATION:
            return str(item.get("id")) == self._location_id
        location = item.get("location")
        found = item.get("locationId") or (
            location.get("id") if isinstance(location, Mapping) else None
        )
        if not found and entity_type is EntityType.DEVICE:
            owner = str(item.get("workspaceId") or "")
            found = self.names.workspaces.get(owner, ("", ""))[0]
        return str(found or "") == self._location_id


# -- the listings and the steps of each type ---------------------------------------------------


def _per_location(
    path_of: Callable[[str], str], items_key: str, keep: Callable[[Item], bool] = lambda _: True
) -> Pages:
    """A kind the API lists per location only (schedules, call parks, call pickups): one
    listing per calling location (only the ``--location`` one when given), ``concurrency``
    locations at a time; their objects come as one page, in location order, so that their
    detail GETs run together too."""

    async def listing(reader: TenantReader, location_id: str) -> list[Item]:
        found: list[Item] = []
        pages = reader.ctx.client.pages(
            path_of(location_id), params=reader.ctx.query(), items_key=items_key
        )
        async for page in pages:
            found += [{**item, "locationId": location_id} for item in page if keep(item)]
        return found

    async def pages(reader: TenantReader) -> AsyncIterator[Sequence[Item]]:
        wanted = [key for key in reader.names.locations if reader.location_id in (None, key)]
        step = max(1, reader.ctx.settings.workers)
        for start in range(0, len(wanted), step):
            batch = wanted[start : start + step]
            async with asyncio.TaskGroup() as group:  # a failure cancels the others
                listed = [group.create_task(listing(reader, key)) for key in batch]
            yield [item for task in listed for item in task.result()]

    return pages


_schedule_pages = _per_location(
    schedules_path, "schedules", lambda item: item.get("type", "businessHours") == "businessHours"
)


def _schedule_detail(item: Item) -> str:
    return f"{schedules_path(str(item['locationId']))}/businessHours/{item['id']}"


async def _read_license_kinds(reader: TenantReader) -> None:
    pool = await reader.ctx.licenses()
    for kind in ("professional", "basic"):
        for license_id in pool.ids_of_kind(kind):
            reader.names.license_kinds[license_id] = kind


async def _read_workspace_lines(reader: TenantReader) -> None:
    """The lines of every workspace, from the numbers API (the workspace object lacks them)."""
    params = reader.ctx.query({"ownerType": "PLACE", "max": NUMBERS_PAGE})
    async for page in reader.ctx.client.pages(
        NUMBERS_PATH, params=params, items_key="phoneNumbers"
    ):
        for entry in page:
            owner = entry.get("owner")
            if not isinstance(owner, Mapping) or not owner.get("id"):
                continue
            line = reader.names.lines.setdefault(str(owner["id"]), {})
            for key in ("extension", "phoneNumber"):
                if entry.get(key) and key not in line:
                    line[key] = str(entry[key])


async def _read_models(reader: TenantReader) -> None:
    reader.names.models = await reader.ctx.supported_devices()


def _remember_person(item: Item, names: ExportNames) -> None:
    """A calling user (a location with calling) is filed under its id, by its first e-mail."""
    emails = item.get("emails") or ()
    if emails and str(item.get("locationId") or "") in names.locations:
        names.people[str(item["id"])] = str(emails[0]).lower()


def _remember_workspace(item: Item, names: ExportNames) -> None:
    location_id = str(item.get("locationId") or "")
    calling = item.get("calling")
    on_calling = isinstance(calling, Mapping) and calling.get("type") == "webexCalling"
    if on_calling and location_id in names.locations:
        name = canonical_text(item.get("displayName"))
        names.workspaces[str(item["id"])] = (location_id, name)
        names.workspace_names.add((location_id, fold(name)))


def _remember_virtual_line(item: Item, names: ExportNames) -> None:
    location = item.get("location")
    location_id = str(location.get("id") if isinstance(location, Mapping) else "")
    if location_id in names.locations:
        names.virtual_lines[str(item["id"])] = (
            location_id,
            canonical_text(item.get("displayName")),
        )


def _virtual_line_detail(item: Item) -> str | None:
    """The spec's listing of virtual lines has no display name (the key of a row): one GET for
    each that lacks it."""
    if item.get("displayName"):
        return None
    return VirtualLineActions().item_path("", str(item["id"]))


def _listed(inventory: Callable[[ActionContext], Any]) -> Pages:
    """The pages of one of the run's inventory listings."""
    return lambda reader: reader.ctx.pages_of(inventory(reader.ctx))


#: The kinds whose rows name members (users, workspaces, virtual lines) by id.
_MEMBERS = (EntityType.USER, EntityType.WORKSPACE, EntityType.VIRTUAL_LINE)


def _feature(
    actions: FeatureActions,
    convert: Callable[[Item, ExportNames], Cells | None],
    needs: tuple[EntityType, ...] = _MEMBERS,
) -> ExportKind:
    """A call feature listed org-wide: the listing, then one detail GET each (members, policy,
    queue size, schedule, notifications are only in the details)."""
    return ExportKind(
        actions.entity_type,
        _listed(lambda ctx: ctx.features(actions.list_path, actions.list_key)),
        convert,
        detail=lambda item: actions.item_path(str(item.get("locationId")), str(item["id"])),
        needs=needs,
    )


def _per_location_feature(
    actions: FeatureActions, convert: Callable[[Item, ExportNames], Cells | None]
) -> ExportKind:
    """A call feature listed per location only (call parks, call pickups): one listing per
    location, then one detail GET each (members, recall)."""
    return ExportKind(
        actions.entity_type,
        _per_location(actions.item_path, actions.list_key),
        convert,
        detail=lambda item: actions.item_path(str(item["locationId"]), str(item["id"])),
        needs=_MEMBERS,
    )


_PARK_EXTENSIONS = CallParkExtensionActions()

EXPORTS: Mapping[EntityType, ExportKind] = {
    kind.entity_type: kind
    for kind in (
        ExportKind(EntityType.LOCATION, _listed(lambda ctx: ctx.locations), rows.location_row),
        ExportKind(EntityType.NUMBER, _listed(lambda ctx: ctx.numbers), rows.number_row),
        ExportKind(
            EntityType.SCHEDULE, _schedule_pages, rows.schedule_row, detail=_schedule_detail
        ),
        ExportKind(
            EntityType.USER,
            _listed(lambda ctx: ctx.people),
            rows.user_row,
            prepare=_read_license_kinds,
            remember=_remember_person,
        ),
        ExportKind(
            EntityType.WORKSPACE,
            _listed(lambda ctx: ctx.workspaces),
            rows.workspace_row,
            prepare=_read_workspace_lines,
            remember=_remember_workspace,
        ),
        _feature(HuntGroupActions(), rows.hunt_group_row),
        _feature(CallQueueActions(), rows.call_queue_row),
        _feature(AutoAttendantActions(), rows.auto_attendant_row, needs=()),
        ExportKind(
            EntityType.VIRTUAL_LINE,
            _listed(lambda ctx: ctx.virtual_lines),
            rows.virtual_line_row,
            detail=_virtual_line_detail,
            remember=_remember_virtual_line,
        ),
        ExportKind(
            EntityType.CALL_PARK_EXTENSION,
            _listed(
                lambda ctx: ctx.features(_PARK_EXTENSIONS.list_path, _PARK_EXTENSIONS.list_key)
            ),
            rows.call_park_extension_row,
        ),
        _per_location_feature(CallParkActions(), rows.call_park_row),
        _per_location_feature(CallPickupActions(), rows.call_pickup_row),
        _feature(PagingGroupActions(), rows.paging_group_row),
        _feature(VoicemailGroupActions(), rows.voicemail_group_row, needs=()),
        ExportKind(
            EntityType.DEVICE,
            _listed(lambda ctx: ctx.devices),
            rows.device_row,
            prepare=_read_models,
            needs=(EntityType.USER, EntityType.WORKSPACE),
        ),
    )
}
