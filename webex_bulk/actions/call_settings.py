"""A user's or workspace's own call settings (voicemail, forwarding, do not disturb, call
waiting, caller id) as steps: each group a row fills is read once (GET) and written (PUT) only
when it differs. ``people.py`` and ``workspaces.py`` call it once the owner has a line.
"""

from __future__ import annotations

from typing import Any, Literal

import attrs

from webex_bulk.actions import settings_bodies
from webex_bulk.actions.compared import Compared
from webex_bulk.actions.context import ActionContext
from webex_bulk.actions.failure import RowFailure
from webex_bulk.actions.inventory import Item
from webex_bulk.error_handling import Reason
from webex_bulk.input import SETTINGS_COLUMNS, SETTINGS_GROUPS, WORKSPACE_SETTINGS_GROUPS
from webex_bulk.input import filled_settings_groups as filled_groups
from webex_bulk.models import Row

#: The key of ``Decision.refs`` that holds the groups ``compare`` read (group → GET answer).
READINGS = "call_settings"
COLUMNS = frozenset(SETTINGS_COLUMNS)


@attrs.frozen
class Owner:
    """Whose settings: a person or a workspace, by id."""

    kind: Literal["people", "workspaces"]
    id: str

    @property
    def groups(self) -> tuple[str, ...]:
        """The settings groups the API offers this kind of owner."""
        return WORKSPACE_SETTINGS_GROUPS if self.kind == "workspaces" else tuple(SETTINGS_GROUPS)

    def path(self, group: str) -> str:
        """``/people/{id}/features/{group}`` or ``/workspaces/{id}/features/{group}``."""
        return f"/{self.kind}/{self.id}/features/{group}"


def manages(row: Row) -> bool:
    """Whether the row fills any settings column (a row that does not costs no request here)."""
    return any(row.values.get(column) for column in SETTINGS_COLUMNS)


def other_fields(fields: tuple[str, ...]) -> list[str]:
    """The differing fields that are not settings columns (what the owner's own PUT carries)."""
    return [field for field in fields if field not in COLUMNS]


async def compare(ctx: ActionContext, row: Row, owner: Owner, refs: dict[str, Any]) -> Compared:
    """Read each group the row fills (one GET each) and compare each filled column with it.

    What was read is kept in ``refs[READINGS]`` for ``apply``. A change Webex would refuse and
    the GET already tells (a caller id the owner has no number for, more rings than its
    maximum) ends the row ``invalid_value`` before any write; a value already held is never
    refused (an export of the tenant, run again, stays unchanged).
    """
    readings: dict[str, Item] = {}
    compared = Compared()
    region = ctx.settings.default_region
    for group in filled_groups(row.values, owner.groups):
        response = await ctx.client.request("GET", owner.path(group), params=ctx.query())
        remote: Item = response.body if isinstance(response.body, dict) else {}
        differing = settings_bodies.differing(group, row, remote, region)
        # A phone number the row gives is written before the settings.
        problem = differing and settings_bodies.refusal(
            group, row, remote, direct_line_coming=bool(row.get("phone_number"))
        )
        if problem:
            raise RowFailure(Reason.INVALID_VALUE, problem, remote_id=owner.id)
        readings[group] = remote
        held = settings_bodies.remote_cells(group, remote, region)
        for column in SETTINGS_GROUPS[group]:
            compared.text(column, row.get(column), held[column])
    refs[READINGS] = readings
    return compared


async def apply(
    ctx: ActionContext, row: Row, owner: Owner, refs: dict[str, Any] | None = None
) -> tuple[str, ...]:
    """PUT each group that differs; returns the columns written.

    Uses what ``compare`` read when the row was decided; an owner that had no line then (just
    created, or given calling by this row) is read now. A row without settings costs nothing.
    """
    if not manages(row):
        return ()
    refs = {} if refs is None else refs
    if READINGS not in refs:
        await compare(ctx, row, owner, refs)
    written: list[str] = []
    for group, remote in refs[READINGS].items():
        fields = settings_bodies.differing(group, row, remote, ctx.settings.default_region)
        if not fields:
            continue
        body = settings_bodies.put_body(group, row, remote)
        await ctx.client.request("PUT", owner.path(group), params=ctx.query(), json=body)
        written += fields
    return tuple(written)
