"""Voicemail groups of a location: lookup by name → create with every field the API requires,
or PUT what differs. The passcode is a secret: it cannot be read back, so it is sent on create
(and along any other change), and never compared."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from webex_bulk.actions import group_bodies, lookups
from webex_bulk.actions.base import Decision
from webex_bulk.actions.compared import Compared
from webex_bulk.actions.context import ActionContext
from webex_bulk.actions.failure import RowFailure
from webex_bulk.actions.group_feature import GroupFeatureActions
from webex_bulk.actions.inventory import Item
from webex_bulk.error_handling import Reason
from webex_bulk.models import EntityType, Row

NO_PASSCODE = (
    "column passcode: a new voicemail group needs a passcode; outputs never repeat it (they "
    "show ****), so fill it in again"
)


class VoicemailGroupActions(GroupFeatureActions):
    """Voicemail groups: a line, a passcode and a notification e-mail."""

    entity_type = EntityType.VOICEMAIL_GROUP
    path = "voicemailGroups"
    list_key = "voicemailGroups"
    has_members = False

    async def decide(self, ctx: ActionContext, row: Row, *, planning: bool = False) -> Decision:
        """As every feature; a create without a passcode is ``missing_field``."""
        decision = await super().decide(ctx, row, planning=planning)
        if decision.change.kind == "create" and not row.get("passcode"):
            raise RowFailure(Reason.MISSING_FIELD, NO_PASSCODE)
        return decision

    async def references(
        self, ctx: ActionContext, row: Row, location_id: str, *, planning: bool
    ) -> dict[str, Any]:
        """The location's language (the group's prompts follow it)."""
        location = await lookups.find_location(ctx, row.get("location"))
        language = str((location or {}).get("preferredLanguage") or "en_us")
        return {"language": language}

    def compare_details(
        self, row: Row, details: Item, refs: Mapping[str, Any], region: str
    ) -> Compared:
        """Line and notification e-mail."""
        return group_bodies.voicemail_diff(row, details, region)

    def create_body(self, row: Row, refs: Mapping[str, Any]) -> dict[str, Any]:
        """Every field the API requires, with minimal defaults."""
        return group_bodies.voicemail_create_body(row, refs["language"])

    def update_body(
        self, row: Row, details: Item, fields: tuple[str, ...], refs: Mapping[str, Any]
    ) -> dict[str, Any]:
        """The differing fields (and the passcode when the row gives one)."""
        return group_bodies.voicemail_update_body(row, fields)
