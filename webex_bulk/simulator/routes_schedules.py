"""Schedule routes: business-hours and holiday schedules of a calling location, with events."""

from __future__ import annotations

import datetime
import re
from collections.abc import Mapping
from typing import Any

import attrs
from aiohttp import web

from webex_bulk.simulator.answers import json_response, offset_link, offset_page, page_size
from webex_bulk.simulator.bodies import read_json, require, text
from webex_bulk.simulator.errors import Code, bad_request, conflict, not_found
from webex_bulk.simulator.ids import SCHEDULE, SCHEDULE_EVENT
from webex_bulk.simulator.records import Schedule
from webex_bulk.simulator.runtime import Simulator, simulator_of

routes = web.RouteTableDef()

TYPES = ("businessHours", "holidays")
WEEKDAYS = ("sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday")
PAGE = 2000
TIME = re.compile(r"([01][0-9]|2[0-3]):[0-5][0-9]")
#: Required event fields, nested ones only when their parent is present. ``recurWeekly.sunday``
#: is marked required upstream too, an artefact this simulator does not enforce.
EVENT_REQUIRED = (
    "events[].name",
    "events[].startDate",
    "events[].endDate",
    "events[].recurrence.recurYearlyByDate.dayOfMonth",
    "events[].recurrence.recurYearlyByDate.month",
    "events[].recurrence.recurYearlyByDay.day",
    "events[].recurrence.recurYearlyByDay.week",
    "events[].recurrence.recurYearlyByDay.month",
)
CREATE_REQUIRED = ("type", "name", *EVENT_REQUIRED)
UPDATE_REQUIRED = ("name", "events[].newName", *EVENT_REQUIRED)
BASE = "/v1/telephony/config/locations/{locationId}/schedules"


@routes.get(BASE)
async def list_schedules(request: web.Request) -> web.Response:
    """Schedules of a location (``schedules`` key), by name (contains) and type."""
    sim = simulator_of(request)
    location = sim.tenant.calling_location(request.match_info["locationId"])
    needle = request.query.get("name", "").casefold()
    wanted_type = request.query.get("type", "")
    schedules = sim.tenant.schedules
    now = sim.clock()
    matching = (
        schedule
        for _, schedule in schedules.entries(group=location.id)
        if needle in schedule.name.casefold()
        and (not wanted_type or schedule.type == wanted_type)
        and schedules.visible(schedule.id, now)
    )
    size = page_size(request, PAGE, PAGE)
    page, start = offset_page(request, matching, size)
    drop = sim.config.next_link_drops_filters
    headers = offset_link(request, start, size, drop_filters=drop, telephony=True)
    items = [
        {
            "id": schedule.id,
            "name": schedule.name,
            "type": schedule.type,
            "locationName": location.name,
            "locationId": location.id,
        }
        for schedule in page
    ]
    return json_response({"schedules": items}, headers=headers)


@routes.post(BASE)
async def create_schedule(request: web.Request) -> web.Response:
    """Create a schedule (201 ``{id}``); names are unique within a location."""
    sim = simulator_of(request)
    body = await read_json(request)
    location = sim.tenant.calling_location(request.match_info["locationId"])
    require(body, CREATE_REQUIRED, telephony=True)
    schedule_type, name = text(body, "type"), text(body, "name")
    if schedule_type not in TYPES:
        raise bad_request(
            f"Unknown schedule type {schedule_type}.", Code.INVALID_VALUE, telephony=True
        )
    _check_name_free(sim, location.id, name)
    schedule = Schedule(
        id=sim.tenant.mint.id(SCHEDULE),
        location_id=location.id,
        type=schedule_type,
        name=name,
        events=_events(sim, body.get("events") or [], rename=False),
    )
    sim.tenant.schedules.add(schedule.id, schedule, sim.hidden_until())
    sim.tenant.schedule_by_name[(location.id, name)] = schedule.id
    sim.creates.record("schedules", location.id, name)
    return json_response({"id": schedule.id}, status=201)


def _schedule(sim: Simulator, request: web.Request) -> Schedule:
    location = sim.tenant.calling_location(request.match_info["locationId"])
    schedule = sim.tenant.schedules.get(request.match_info["scheduleId"])
    if (
        schedule is None
        or schedule.location_id != location.id
        or schedule.type != request.match_info["type"]
    ):
        raise not_found("schedule", telephony=True)
    return schedule


@routes.get(BASE + "/{type}/{scheduleId}")
async def get_schedule(request: web.Request) -> web.Response:
    """A schedule with its events."""
    schedule = _schedule(simulator_of(request), request)
    body = {
        "id": schedule.id,
        "name": schedule.name,
        "type": schedule.type,
        "events": list(schedule.events),
    }
    return json_response(body)


@routes.put(BASE + "/{type}/{scheduleId}")
async def update_schedule(request: web.Request) -> web.Response:
    """Rename a schedule and/or replace its events (``name`` → ``newName``); 200 ``{id}``."""
    sim = simulator_of(request)
    body = await read_json(request)
    schedule = _schedule(sim, request)
    require(body, UPDATE_REQUIRED, telephony=True)
    name = text(body, "name")
    if name != schedule.name:
        _check_name_free(sim, schedule.location_id, name)
    events = schedule.events
    if body.get("events") is not None:
        events = _events(sim, body["events"], rename=True)
    sim.tenant.schedules.replace(schedule.id, attrs.evolve(schedule, name=name, events=events))
    del sim.tenant.schedule_by_name[(schedule.location_id, schedule.name)]
    sim.tenant.schedule_by_name[(schedule.location_id, name)] = schedule.id
    return json_response({"id": schedule.id})


@routes.delete(BASE + "/{type}/{scheduleId}")
async def delete_schedule(request: web.Request) -> web.Response:
    """Delete a schedule (204); refused while an auto attendant uses it."""
    sim = simulator_of(request)
    schedule = _schedule(sim, request)
    for feature in sim.tenant.features["AUTO_ATTENDANT"].values():
        settings = feature.settings
        if feature.location_id == schedule.location_id and schedule.name in (
            settings.get("businessSchedule"),
            settings.get("holidaySchedule"),
        ):
            raise conflict(
                f"Schedule {schedule.name} is used by auto attendant {feature.name}.",
                Code.SCHEDULE_IN_USE,
                telephony=True,
            )
    sim.tenant.schedules.remove(schedule.id)
    del sim.tenant.schedule_by_name[(schedule.location_id, schedule.name)]
    return web.Response(status=204)


def _check_name_free(sim: Simulator, location_id: str, name: str) -> None:
    if (location_id, name) in sim.tenant.schedule_by_name:
        raise conflict(f"Schedule {name} already exists.", Code.NAME_IN_USE, telephony=True)


def _events(sim: Simulator, events: Any, *, rename: bool) -> tuple[Mapping[str, Any], ...]:
    """Checked events with fresh ids; on update each event's new name is ``newName``."""
    if not isinstance(events, list):
        raise bad_request("events must be a list.", Code.INVALID_VALUE, telephony=True)
    result = []
    for event in events:
        name = text(event, "newName" if rename else "name")
        all_day = bool(event.get("allDayEnabled", False))
        _check_dates(event, all_day)
        stored: dict[str, Any] = {
            "id": sim.tenant.mint.id(SCHEDULE_EVENT),
            "name": name,
            "startDate": text(event, "startDate"),
            "endDate": text(event, "endDate"),
            "allDayEnabled": all_day,
        }
        if not all_day:
            stored["startTime"] = text(event, "startTime")
            stored["endTime"] = text(event, "endTime")
        if isinstance(event.get("recurrence"), dict):
            stored["recurrence"] = _recurrence(event["recurrence"])
        result.append(stored)
    if len({event["name"] for event in result}) != len(result):
        raise bad_request(
            "Event names must be unique within a schedule.", Code.INVALID_VALUE, telephony=True
        )
    return tuple(result)


def _recurrence(recurrence: dict[str, Any]) -> dict[str, Any]:
    """A recurrence as Webex shows it: a weekly rule names all seven days."""
    weekly = recurrence.get("recurWeekly")
    if not isinstance(weekly, dict):
        return dict(recurrence)
    days = {day: bool(weekly.get(day, False)) for day in WEEKDAYS}
    return {**recurrence, "recurWeekly": days}


def _check_dates(event: Mapping[str, Any], all_day: bool) -> None:
    try:
        start = datetime.date.fromisoformat(text(event, "startDate"))
        end = datetime.date.fromisoformat(text(event, "endDate"))
    except ValueError:
        raise bad_request(
            "Event dates must be YYYY-MM-DD.", Code.INVALID_VALUE, telephony=True
        ) from None
    if end < start:
        raise bad_request(
            "An event cannot end before it starts.", Code.INVALID_VALUE, telephony=True
        )
    if all_day:
        return
    times = (text(event, "startTime"), text(event, "endTime"))
    if not all(TIME.fullmatch(value) for value in times):
        raise bad_request(
            "startTime and endTime (HH:MM) are required unless allDayEnabled is true.",
            Code.INVALID_VALUE,
            telephony=True,
        )
    if start == end and times[1] <= times[0]:
        raise bad_request(
            "An event cannot end before it starts.", Code.INVALID_VALUE, telephony=True
        )
