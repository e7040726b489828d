"""What webex-bulk does per entity type: one ``EntityActions`` per type, by ``REGISTRY``."""

from __future__ import annotations

from collections.abc import Mapping

from webex_bulk.actions.base import EntityActions
from webex_bulk.actions.call_parks import CallParkActions, CallParkExtensionActions
from webex_bulk.actions.devices import DeviceActions
from webex_bulk.actions.features import AutoAttendantActions, CallQueueActions, HuntGroupActions
from webex_bulk.actions.locations import LocationActions, ScheduleActions
from webex_bulk.actions.numbers import NumberActions
from webex_bulk.actions.paging import PagingGroupActions
from webex_bulk.actions.people import UserActions
from webex_bulk.actions.pickups import CallPickupActions
from webex_bulk.actions.virtual_lines import VirtualLineActions
from webex_bulk.actions.voicemail_groups import VoicemailGroupActions
from webex_bulk.actions.workspaces import WorkspaceActions
from webex_bulk.models import EntityType

REGISTRY: Mapping[EntityType, EntityActions] = {
    action.entity_type: action
    for action in (
        LocationActions(),
        NumberActions(),
        ScheduleActions(),
        UserActions(),
        WorkspaceActions(),
        HuntGroupActions(),
        CallQueueActions(),
        AutoAttendantActions(),
        DeviceActions(),
        VirtualLineActions(),
        CallParkExtensionActions(),
        CallParkActions(),
        CallPickupActions(),
        PagingGroupActions(),
        VoicemailGroupActions(),
    )
}
