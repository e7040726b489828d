"""The shared frozen records: entity types, input rows and row outcomes.

Bottom layer: plain values only; no I/O, no clock.
"""

from __future__ import annotations

import datetime
import enum
from collections.abc import Mapping

import attrs

from webex_bulk.error_handling import Action, Reason, Status


class EntityType(enum.StrEnum):
    """The entity types the tool provisions, in their CSV spelling."""

    LOCATION = "location"
    NUMBER = "number"
    SCHEDULE = "schedule"
    USER = "user"
    WORKSPACE = "workspace"
    HUNT_GROUP = "hunt_group"
    CALL_QUEUE = "call_queue"
    AUTO_ATTENDANT = "auto_attendant"
    DEVICE = "device"
    CALL_PARK_EXTENSION = "call_park_extension"
    CALL_PARK = "call_park"
    CALL_PICKUP = "call_pickup"
    PAGING_GROUP = "paging_group"
    VOICEMAIL_GROUP = "voicemail_group"
    VIRTUAL_LINE = "virtual_line"


#: Recognised entity types that a person must provision by hand, with the manual step.
OUT_OF_SCOPE_TYPES: Mapping[str, str] = {
    "trunk": "create the trunk in Control Hub (Calling › Call Routing › Trunk)",
    "route_group": "create the route group in Control Hub (Calling › Call Routing)",
    "route_list": "create the route list in Control Hub (Calling › Call Routing)",
    "dial_plan": "create the dial plan in Control Hub (Calling › Call Routing › Dial Plan)",
    "pstn_connection": "choose the location's PSTN connection in Control Hub (Calling › Locations)",
    "number_port": "open a number port order with your PSTN provider or in Control Hub",
    "emergency_address": "set the emergency address in Control Hub (Calling › Locations › RedSky)",
}


@attrs.frozen
class Row:
    """One valid, normalised input row.

    ``values`` holds the normalised cells of the entity's columns (an absent key means the cell
    was empty); ``members`` the normalised member list of hunt groups and call queues; ``cells``
    the row's original cells by (normalised) header, carried unchanged to the output files.
    """

    line: int
    entity_type: EntityType
    key: str
    values: Mapping[str, str]
    cells: Mapping[str, str]
    members: tuple[str, ...] = ()

    def get(self, column: str, default: str = "") -> str:
        """The normalised value of a column, or ``default`` when the cell was empty."""
        return self.values.get(column, default)


@attrs.frozen
class ActivationCode:
    """A device activation code minted for the ``device`` row on input line ``line``.

    The code is secret-ish: only ``activation_codes.csv`` holds it (never a log, the journal or
    another output), so it stays out of ``repr``. ``expiry`` is ISO 8601 as Webex wrote it.
    """

    line: int
    owner: str
    location: str
    model: str
    code: str = attrs.field(repr=False)
    expiry: str

    @property
    def expires_at(self) -> datetime.datetime | None:
        """``expiry`` as an aware datetime (UTC when it names no zone); None when unreadable."""
        try:
            moment = datetime.datetime.fromisoformat(self.expiry)
        except ValueError:
            return None
        return moment if moment.tzinfo else moment.replace(tzinfo=datetime.UTC)


@attrs.frozen
class Outcome:
    """The terminal fate of one input row; exactly one per row, ever.

    ``activation_code`` rides along to the writer, which puts it in ``activation_codes.csv``
    only; every other output of the outcome leaves it out.
    """

    line: int
    entity_type: str
    key: str
    status: Status
    cells: Mapping[str, str]
    reason: Reason | None = None
    detail: str = ""
    action: Action | None = None
    remote_id: str = ""
    tracking_id: str = ""
    activation_code: ActivationCode | None = attrs.field(default=None, repr=False)

    @classmethod
    def success(
        cls, row: Row, action: Action, remote_id: str, tracking_id: str = "", detail: str = ""
    ) -> Outcome:
        """A row that now matches the tenant."""
        return cls(
            line=row.line,
            entity_type=row.entity_type.value,
            key=row.key,
            status=Status.SUCCESS,
            cells=row.cells,
            action=action,
            remote_id=remote_id,
            tracking_id=tracking_id,
            detail=detail,
        )

    @classmethod
    def failed(
        cls, row: Row, reason: Reason, detail: str, remote_id: str = "", tracking_id: str = ""
    ) -> Outcome:
        """A row that ends rejected or pending, by its reason."""
        return cls(
            line=row.line,
            entity_type=row.entity_type.value,
            key=row.key,
            status=reason.status,
            cells=row.cells,
            reason=reason,
            detail=detail,
            remote_id=remote_id,
            tracking_id=tracking_id,
        )
