"""Member resolution for the call features: a user by e-mail, else a workspace or a virtual line
of the row's location by its display name, each as its remote id. Reads only."""

from __future__ import annotations

from collections.abc import Sequence

import attrs

from webex_bulk.actions import lookups, virtual_line_lookup
from webex_bulk.actions.context import ActionContext
from webex_bulk.actions.failure import RowFailure
from webex_bulk.error_handling import Reason
from webex_bulk.input import member_keys
from webex_bulk.models import Row


@attrs.frozen
class Resolved:
    """Members as remote ids, in CSV order; ``waiting`` when some exist only in the file."""

    ids: tuple[str, ...]
    waiting: bool


#: ``member_id`` of a user found in the tenant who has no Webex Calling (no calling location).
NOT_CALLING = "-"


async def member_id(ctx: ActionContext, location_id: str, member: str, *, fresh: bool) -> str:
    """A member's remote id: a person by e-mail, else a workspace, else a virtual line of the
    location; "" when none exists, ``NOT_CALLING`` for a user without Webex Calling."""
    if "@" in member:
        person = await lookups.find_person(ctx, member, fresh=fresh)
        if person is None:
            return ""
        return str(person["id"]) if person.get("locationId") else NOT_CALLING
    workspace = await lookups.find_workspace(ctx, location_id, member)
    if workspace is not None:
        return str(workspace["id"])
    virtual = await virtual_line_lookup.find_virtual_line(ctx, location_id, member)
    return str(virtual["id"]) if virtual else ""


async def resolve(
    ctx: ActionContext,
    row: Row,
    location_id: str,
    members: Sequence[str],
    *,
    planning: bool,
    column: str = "members",
) -> Resolved:
    """The members' ids: the one rule of ``run`` and ``plan``. A member found nowhere →
    ``unknown_reference``, and so is a user without Webex Calling (the API refuses both); in
    ``plan`` a member that a row of the file creates (or enables) is only ``waiting``."""
    ids: list[str] = []
    waiting = False
    for member in members:
        found = await member_id(ctx, location_id, member, fresh=False)
        if found == NOT_CALLING and not planning:
            # This run may have just enabled the user: the listing is older than that.
            found = await member_id(ctx, location_id, member, fresh=True)
        if found and found != NOT_CALLING:
            if found not in ids:
                ids.append(found)
            continue
        if planning and any(
            key in ctx.file_keys for key in member_keys(member, row.get("location"))
        ):
            waiting = True
            continue
        raise RowFailure(
            Reason.UNKNOWN_REFERENCE, _missing(ctx, row, location_id, member, column, found)
        )
    return Resolved(tuple(ids), waiting)


def _missing(
    ctx: ActionContext, row: Row, location_id: str, member: str, column: str, found: str
) -> str:
    if found == NOT_CALLING:
        return (
            f"{column}: {member!r} is a user without Webex Calling: give the user a calling "
            "license and location (a user row of this file does), then run again"
        )
    return (
        f"{column}: {member!r} is neither a user nor a workspace or virtual line of location "
        f"{row.get('location')!r} in the tenant or in this run"
        f"{lookups.member_hint(ctx, location_id, member)}"
    )


def split(row: Row, column: str) -> tuple[str, ...]:
    """A ``;``-joined member column of the row (``originators``, ``targets``, …) as a tuple."""
    return tuple(part for part in row.get(column).split(";") if part)
