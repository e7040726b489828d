"""The tenant: one org's objects, their lookup indexes and the cross-object facts routes need.

Holds state and answers questions about it; the per-API rules live in the ``routes_*`` modules,
the line and license rules in ``lines`` and ``licensing``. No HTTP here.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator, Mapping
from typing import Any

from webex_bulk.simulator.collection import Collection
from webex_bulk.simulator.errors import not_found
from webex_bulk.simulator.ids import PEOPLE, IdMint, decode_id, encode_id
from webex_bulk.simulator.licensing import LicensePool
from webex_bulk.simulator.lines import LinePlan
from webex_bulk.simulator.records import (
    FEATURE_KINDS,
    GROUP_KINDS,
    OWNER_PEOPLE,
    OWNER_PLACE,
    OWNER_VIRTUAL_LINE,
    ActivationCode,
    Device,
    Feature,
    License,
    Line,
    Location,
    Org,
    Owner,
    Person,
    Schedule,
    VirtualLine,
    Workspace,
)


def timestamp() -> str:
    """The current UTC time as Webex writes it: ``2024-05-01T12:00:00.000Z``."""
    now = datetime.datetime.now(datetime.UTC)
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"


def _person_group(person: Person) -> str:
    return person.line.location_id if person.line else ""


class Tenant:
    """An org with its licenses, locations, people, workspaces, numbers, schedules, features and
    devices, plus indexes by natural key (email, location name, MAC, feature and schedule name)."""

    def __init__(self, org: Org, licenses: list[License], mint: IdMint) -> None:
        self.org = org
        self.mint = mint
        self.licenses = LicensePool(licenses)
        self.lines = LinePlan()
        self.locations: Collection[Location] = Collection()
        self.people: Collection[Person] = Collection(_person_group)
        self.workspaces: Collection[Workspace] = Collection(lambda space: space.location_id)
        self.schedules: Collection[Schedule] = Collection(lambda schedule: schedule.location_id)
        self.features: dict[str, Collection[Feature]] = {
            kind: Collection(lambda feature: feature.location_id)
            for kind in (*FEATURE_KINDS, *GROUP_KINDS)
        }
        self.virtual_lines: Collection[VirtualLine] = Collection(lambda line: line.location_id)
        self.devices: Collection[Device] = Collection()
        #: Call settings written by PUT, by owner id then setting name (defaults are not stored).
        self.call_settings: dict[str, dict[str, Mapping[str, Any]]] = {}
        self.activation_codes: dict[str, ActivationCode] = {}
        #: When a new calling user's SIP address appears (server clock), while it is pending.
        self.sip_ready: dict[str, float] = {}
        self.admin_id = ""
        self.location_by_name: dict[str, str] = {}
        self.person_by_email: dict[str, str] = {}
        self.device_by_mac: dict[str, str] = {}
        self.feature_by_name: dict[tuple[str, str, str], str] = {}
        self.schedule_by_name: dict[tuple[str, str], str] = {}
        self.virtual_line_by_name: dict[tuple[str, str], str] = {}

    @property
    def sip_domain(self) -> str:
        """The domain of the org's calling SIP addresses."""
        return f"{self.org.uuid[:8]}.calls.webex.example"

    # Lookups that answer 404.

    def location(self, location_id: str, *, telephony: bool = False) -> Location:
        """The location with this id; 404 when there is none."""
        location = self.locations.get(location_id)
        if location is None:
            raise not_found("location", telephony=telephony)
        return location

    def calling_location(self, location_id: str) -> Location:
        """A calling-enabled location; 404 for an unknown id or a location without calling."""
        location = self.locations.get(location_id)
        if location is None or not location.calling:
            raise not_found("location", telephony=True)
        return location

    def person(self, person_id: str) -> Person:
        """The person with this id (a bare uuid is accepted too); 404 when there is none."""
        person = self.people.get(person_id)
        if person is None and decode_id(person_id) is None:
            person = self.people.get(encode_id(PEOPLE, person_id))
        if person is None:
            raise not_found("person")
        return person

    def workspace(self, workspace_id: str) -> Workspace:
        """The workspace with this id; 404 when there is none."""
        workspace = self.workspaces.get(workspace_id)
        if workspace is None:
            raise not_found("workspace")
        return workspace

    def virtual_line(self, line_id: str) -> VirtualLine:
        """The virtual line with this id; 404 when there is none."""
        line = self.virtual_lines.get(line_id)
        if line is None:
            raise not_found("virtual line", telephony=True)
        return line

    def feature(self, kind: str, location_id: str, feature_id: str) -> Feature:
        """A feature of a location; 404 when it does not exist there."""
        feature = self.features[kind].get(feature_id)
        if feature is None or feature.location_id != location_id:
            raise not_found(kind.lower().replace("_", " "), telephony=True)
        return feature

    # Owners of lines.

    def owner_line(self, owner: Owner) -> Line | None:
        """The line an owner holds, if the owner exists and has one."""
        if owner.type == OWNER_PEOPLE:
            person = self.people.get(owner.id)
            return person.line if person else None
        if owner.type == OWNER_PLACE:
            workspace = self.workspaces.get(owner.id)
            return workspace.line if workspace else None
        if owner.type == OWNER_VIRTUAL_LINE:
            virtual = self.virtual_lines.get(owner.id)
            return virtual.line if virtual else None
        feature = self.features[owner.type].get(owner.id)
        return feature.line if feature else None

    def owner_names(self, owner: Owner) -> tuple[str, str]:
        """``(firstName, lastName)`` shown for an owner in number and agent lists."""
        if owner.type == OWNER_PEOPLE:
            person = self.people.get(owner.id)
            return (person.first_name, person.last_name) if person else ("", "")
        if owner.type == OWNER_PLACE:
            workspace = self.workspaces.get(owner.id)
            return (workspace.display_name, "") if workspace else ("", "")
        if owner.type == OWNER_VIRTUAL_LINE:
            virtual = self.virtual_lines.get(owner.id)
            return (virtual.first_name, virtual.last_name) if virtual else ("", "")
        feature = self.features[owner.type].get(owner.id)
        return (feature.name, "") if feature else ("", "")

    def calling_owner(self, member_id: str) -> Owner | None:
        """The person, workspace or virtual line with this id when it has a calling line."""
        person = self.people.get(member_id)
        if person is not None:
            return Owner(OWNER_PEOPLE, person.id) if person.line else None
        workspace = self.workspaces.get(member_id)
        if workspace is not None and workspace.line is not None:
            return Owner(OWNER_PLACE, workspace.id)
        if member_id in self.virtual_lines:
            return Owner(OWNER_VIRTUAL_LINE, member_id)
        return None

    def owner_by_id(self, owner_id: str) -> Owner | None:
        """The person, workspace or feature with this id, as a line owner."""
        if owner_id in self.people:
            return Owner(OWNER_PEOPLE, owner_id)
        if owner_id in self.workspaces:
            return Owner(OWNER_PLACE, owner_id)
        if owner_id in self.virtual_lines:
            return Owner(OWNER_VIRTUAL_LINE, owner_id)
        for kind, collection in self.features.items():
            if owner_id in collection:
                return Owner(kind, owner_id)
        return None

    def all_features(self) -> Iterator[Feature]:
        """Every hunt group, call queue and auto attendant."""
        for kind in FEATURE_KINDS:
            yield from self.features[kind].values()

    def group_features(self, kind: str) -> Iterator[Feature]:
        """Every call park extension, call park, call pickup, paging group or voicemail group
        of one kind."""
        return self.features[kind].values()
