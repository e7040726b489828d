"""Creating a virtual line under the tenant's rules (a calling location, a free line, a display
name unique per location), shared by the API and the tenant file. No HTTP here."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from webex_bulk.simulator.errors import Code, bad_request, conflict
from webex_bulk.simulator.ids import VIRTUAL_LINE
from webex_bulk.simulator.records import OWNER_VIRTUAL_LINE, Line, Location, Owner, VirtualLine
from webex_bulk.simulator.tenant import Tenant, timestamp


def check_display_free(tenant: Tenant, location_id: str, display: str) -> None:
    """400 for an empty display name, 409 for one the location already has."""
    if not display.strip():
        raise bad_request("displayName must not be empty.", Code.INVALID_VALUE, telephony=True)
    if (location_id, display) in tenant.virtual_line_by_name:
        raise conflict(f"The name {display} is already in use.", Code.NAME_IN_USE, telephony=True)


def create_virtual_line(
    tenant: Tenant,
    location: Location,
    names: tuple[str, str, str],
    line: Line,
    settings: Mapping[str, Any],
    hidden_until: float = 0.0,
) -> VirtualLine:
    """Add a virtual line named ``(first, last, display)`` holding ``line`` of ``location``."""
    first, last, display = names
    display = display or f"{first} {last}"
    check_display_free(tenant, location.id, display)
    line_id = tenant.mint.id(VIRTUAL_LINE)
    owner = Owner(OWNER_VIRTUAL_LINE, line_id)
    tenant.lines.check(owner, line, location)
    virtual = VirtualLine(
        id=line_id,
        first_name=first,
        last_name=last,
        display_name=display,
        line=line,
        created=timestamp(),
        settings=dict(settings),
    )
    tenant.virtual_lines.add(line_id, virtual, hidden_until)
    tenant.virtual_line_by_name[(location.id, display)] = line_id
    tenant.lines.assign(owner, line)
    return virtual
