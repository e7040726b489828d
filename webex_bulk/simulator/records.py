"""The tenant's objects as frozen records; an update replaces the record (``attrs.evolve``).

Nested settings taken from request bodies (call policies, menus, events) are kept as the JSON
values they arrived as and are never mutated in place: an update stores a new value.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

#: Owner types of a calling line, as the numbers API spells them.
OWNER_PEOPLE = "PEOPLE"
OWNER_PLACE = "PLACE"
OWNER_VIRTUAL_LINE = "VIRTUAL_LINE"
FEATURE_KINDS = ("HUNT_GROUP", "CALL_QUEUE", "AUTO_ATTENDANT")
#: Location features of the second family, stored as ``Feature`` records like the first.
GROUP_KINDS = ("CALL_PARK_EXTENSION", "CALL_PARK", "CALL_PICKUP", "PAGING_GROUP", "VOICEMAIL_GROUP")


@attrs.frozen
class Owner:
    """Who holds a line: a person, a workspace (``PLACE``) or a feature, by type and id."""

    type: str
    id: str


@attrs.frozen
class Line:
    """A calling line: its location plus an extension and/or a phone number ("" when absent)."""

    location_id: str
    extension: str = ""
    number: str = ""


@attrs.frozen
class Address:
    """A location's postal address."""

    address1: str
    city: str
    state: str
    postal_code: str
    country: str
    address2: str = ""


@attrs.frozen
class Org:
    """The organisation the token belongs to."""

    id: str
    uuid: str
    name: str
    created: str


@attrs.frozen
class License:
    """A license subscription line; ``kind`` is its calling use (``professional``, ``basic``,
    ``workspace``) or "" for a non-calling license. Consumption is counted by the tenant."""

    id: str
    name: str
    code: str
    total: int
    kind: str = ""


@attrs.frozen
class Location:
    """A location, its calling settings and the PSTN type that serves it."""

    id: str
    name: str
    time_zone: str
    preferred_language: str
    announcement_language: str
    address: Address
    created: str
    latitude: str = ""
    longitude: str = ""
    notes: str = ""
    calling: bool = False
    pstn: str = "LOCAL_GATEWAY"
    routing_prefix: str = ""
    main_number: str = ""


@attrs.frozen
class Person:
    """A person; ``line`` is set only for a calling user."""

    id: str
    email: str
    display_name: str
    created: str
    modified: str
    first_name: str = ""
    last_name: str = ""
    licenses: tuple[str, ...] = ()
    line: Line | None = None
    other_numbers: tuple[Mapping[str, Any], ...] = ()
    optional: Mapping[str, Any] = attrs.field(factory=dict)


@attrs.frozen
class Workspace:
    """A workspace; ``line`` and ``license_id`` are set when its calling type is webexCalling."""

    id: str
    display_name: str
    created: str
    location_id: str = ""
    calling_type: str = "freeCalling"
    line: Line | None = None
    license_id: str = ""
    supported_devices: str = "collaborationDevices"
    optional: Mapping[str, Any] = attrs.field(factory=dict)


@attrs.frozen
class PhoneNumber:
    """A number of a location's inventory, and the owner it is assigned to, if any."""

    number: str
    location_id: str
    state: str = "ACTIVE"
    owner: Owner | None = None


@attrs.frozen
class Agent:
    """A member of a location feature: a calling person, workspace or virtual line."""

    id: str
    weight: str = ""
    skill_level: int | None = None


@attrs.frozen
class Feature:
    """A location feature (hunt group, call queue, auto attendant, call park (extension), call
    pickup, paging group, voicemail group). ``agents`` are its members (a paging group's targets),
    ``settings`` holds the remaining body fields; a secret (a voicemail group passcode) is kept
    apart so no answer can carry it by accident."""

    id: str
    kind: str
    location_id: str
    name: str
    line: Line
    agents: tuple[Agent, ...] = ()
    settings: Mapping[str, Any] = attrs.field(factory=dict)
    secret: str = attrs.field(default="", repr=False)


@attrs.frozen
class VirtualLine:
    """A virtual line: a calling line of a location with a name, owned by no person."""

    id: str
    first_name: str
    last_name: str
    display_name: str
    line: Line
    created: str
    settings: Mapping[str, Any] = attrs.field(factory=dict)

    @property
    def location_id(self) -> str:
        """The location of its line."""
        return self.line.location_id


@attrs.frozen
class ActivationCode:
    """A device activation code minted for a person or workspace, valid until ``expires``
    (the server's monotonic clock; ``expiry_time`` is the same instant as Webex writes it)."""

    code: str
    owner: Owner
    model: str
    expires: float
    expiry_time: str


@attrs.frozen
class Schedule:
    """A location schedule (``businessHours`` or ``holidays``) and its events (with ids)."""

    id: str
    location_id: str
    type: str
    name: str
    events: tuple[Mapping[str, Any], ...] = ()


@attrs.frozen
class Device:
    """A calling device, registered by MAC (12 upper-case hex digits) to one owner; or, with no
    MAC and ``activating``, the phone an activation code was minted for, awaiting activation."""

    id: str
    mac: str
    model: str
    product: str
    owner: Owner
    location_id: str
    created: str
    activating: bool = False
