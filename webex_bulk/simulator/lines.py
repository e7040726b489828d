"""Calling lines: each location's number inventory, the extensions in use per location, and the
rules for taking and releasing a line (numbers unique per org, extensions unique per location).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

import attrs

from webex_bulk.simulator.collection import Collection
from webex_bulk.simulator.errors import ApiError, Code, bad_request
from webex_bulk.simulator.records import Line, Location, Owner, PhoneNumber

E164 = re.compile(r"\+[1-9][0-9]{6,14}")
CALLING_PLAN_PSTN = frozenset({"CISCO_CALLING_PLAN", "INTEGRATED_CCP"})


def check_extension(extension: str) -> None:
    """400 unless the extension is 2–10 digits."""
    if not extension.isdigit() or not extension.isascii():
        raise bad_request(
            "Invalid extension. The extension can only contain characters 0-9.",
            Code.INVALID_EXTENSION,
            telephony=True,
        )
    if not 2 <= len(extension) <= 10:
        raise bad_request(
            "Extension cannot be less than 2 or greater than 10 characters.",
            Code.EXTENSION_LENGTH,
            telephony=True,
        )


def check_number(number: str) -> None:
    """400 unless the number is E.164 (``+`` and 7–15 digits)."""
    if not E164.fullmatch(number):
        raise bad_request(f"Invalid phone number {number}.", Code.INVALID_NUMBER, telephony=True)


def number_in_use(number: str) -> ApiError:
    """409 with the codes Webex sends for a number that is already present or assigned."""
    return ApiError(
        409,
        f"Phone number {number} is already in use.",
        Code.NUMBER_IN_USE,
        telephony=True,
        detail_code=Code.NUMBER_IN_USE_DETAIL,
    )


class LinePlan:
    """Numbers (by E.164, grouped by location) and the extension plan of every location."""

    def __init__(self) -> None:
        self.numbers: Collection[PhoneNumber] = Collection(lambda number: number.location_id)
        self._extensions: dict[tuple[str, str], Owner] = {}
        self._extension_only: dict[str, dict[str, Owner]] = {}

    def check(self, owner: Owner, line: Line, location: Location) -> None:
        """Refuse a line ``owner`` may not take; a line it already holds is fine."""
        if not location.calling:
            raise bad_request(
                f"Location {location.name} is not enabled for Webex Calling.",
                Code.LOCATION_NOT_CALLING,
                telephony=True,
            )
        if not line.extension and not line.number:
            raise bad_request(
                "A phone number or an extension is required.", Code.NEEDS_LINE, telephony=True
            )
        if line.extension:
            check_extension(line.extension)
            holder = self._extensions.get((line.location_id, line.extension))
            if holder is not None and holder != owner:
                raise ApiError(
                    409,
                    f"Extension {line.extension} is already in use in location {location.name}.",
                    Code.EXTENSION_IN_USE,
                    telephony=True,
                )
        if line.number:
            self._check_number_free(owner, line)

    def extension_holder(self, location_id: str, extension: str) -> Owner | None:
        """Who holds an extension in a location, if anyone."""
        return self._extensions.get((location_id, extension))

    def relocate(self, number: str, location_id: str) -> None:
        """Move a number of the inventory to another location (its owner moves with it)."""
        record = self.numbers.get(number)
        if record is not None:
            self.numbers.replace(number, attrs.evolve(record, location_id=location_id))

    def _check_number_free(self, owner: Owner, line: Line) -> None:
        check_number(line.number)
        record = self.numbers.get(line.number)
        if record is None:
            raise bad_request(
                f"Phone number {line.number} is not in the organization's inventory.",
                Code.NUMBER_NOT_FOUND,
                telephony=True,
            )
        if record.location_id != line.location_id:
            raise bad_request(
                f"Phone number {line.number} belongs to another location.",
                Code.NUMBER_IN_OTHER_LOCATION,
                telephony=True,
            )
        if record.owner is not None and record.owner != owner:
            raise number_in_use(line.number)

    def assign(self, owner: Owner, line: Line) -> None:
        """Give ``owner`` the line (call ``check`` first)."""
        if line.extension:
            self._extensions[(line.location_id, line.extension)] = owner
            if not line.number:
                self._extension_only.setdefault(line.location_id, {})[line.extension] = owner
        if line.number:
            record = self.numbers.get(line.number)
            if record is not None:
                self.numbers.replace(line.number, attrs.evolve(record, owner=owner))

    def release(self, owner: Owner, line: Line | None) -> None:
        """Free the extension and number ``owner`` holds."""
        if line is None:
            return
        key = (line.location_id, line.extension)
        if line.extension and self._extensions.get(key) == owner:
            del self._extensions[key]
            self._extension_only.get(line.location_id, {}).pop(line.extension, None)
        record = self.numbers.get(line.number) if line.number else None
        if record is not None and record.owner == owner:
            self.numbers.replace(line.number, attrs.evolve(record, owner=None))

    def move(self, owner: Owner, old: Line | None, new: Line | None) -> None:
        """Replace the line ``owner`` holds (``new`` was checked)."""
        self.release(owner, old)
        if new is not None:
            self.assign(owner, new)

    def extension_only(self, location_id: str | None = None) -> Iterator[tuple[str, str, Owner]]:
        """``(location id, extension, owner)`` of lines that have an extension and no number."""
        if location_id is not None:
            groups: Iterable[tuple[str, dict[str, Owner]]] = [
                (location_id, self._extension_only.get(location_id, {}))
            ]
        else:
            groups = self._extension_only.items()
        for location, extensions in groups:
            for extension, owner in extensions.items():
                yield location, extension, owner

    def add_numbers(
        self,
        location: Location,
        numbers: list[str],
        state: str,
        hidden_until: float = 0.0,
        *,
        from_provider: bool = False,
        ignore_present: bool = False,
    ) -> list[str]:
        """Add numbers to a location's inventory, all or none. Only the PSTN provider adds
        numbers to a location served by Cisco Calling Plan (``from_provider``). With
        ``ignore_present`` a number the location already has is skipped, as the spec says.
        Returns the numbers actually added."""
        if location.pstn in CALLING_PLAN_PSTN and not from_provider:
            raise bad_request(
                f"Numbers of location {location.name} are managed by its PSTN provider "
                f"({location.pstn}); they cannot be added through this API.",
                Code.PSTN_NOT_MANAGEABLE,
                telephony=True,
            )
        new = []
        for number in numbers:
            check_number(number)
            present = self.numbers.get(number)
            if present is not None and not (ignore_present and present.location_id == location.id):
                raise number_in_use(number)
            if present is None:
                new.append(number)
        if len(set(numbers)) != len(numbers):
            raise bad_request(
                "The request lists a number twice.", Code.INVALID_VALUE, telephony=True
            )
        for number in new:
            self.numbers.add(number, PhoneNumber(number, location.id, state), hidden_until)
        return new

    def in_location(self, location: Location, numbers: list[str]) -> list[PhoneNumber]:
        """The inventory records of ``numbers``; 400 when one is not in this location."""
        records = []
        for number in numbers:
            record = self.numbers.get(number)
            if record is None or record.location_id != location.id:
                raise bad_request(
                    f"Phone number {number} is not in location {location.name}.",
                    Code.NUMBER_NOT_FOUND,
                    telephony=True,
                )
            records.append(record)
        return records

    def set_state(self, records: list[PhoneNumber], state: str) -> None:
        """Activate or deactivate numbers; only unassigned numbers can be deactivated."""
        if state == "INACTIVE":
            self._refuse_assigned(records, "deactivated")
        for record in records:
            self.numbers.replace(record.number, attrs.evolve(record, state=state))

    def remove(self, location: Location, records: list[PhoneNumber]) -> None:
        """Remove unassigned numbers other than the main number from the inventory."""
        self._refuse_assigned(records, "removed")
        for record in records:
            if record.number == location.main_number:
                raise bad_request(
                    f"{record.number} is the main number of location {location.name}.",
                    Code.MAIN_NUMBER,
                    telephony=True,
                )
        for record in records:
            self.numbers.remove(record.number)

    @staticmethod
    def _refuse_assigned(records: list[PhoneNumber], verb: str) -> None:
        for record in records:
            if record.owner is not None:
                raise bad_request(
                    f"Phone number {record.number} is assigned and cannot be {verb}.",
                    Code.NUMBER_ASSIGNED,
                    telephony=True,
                )
