"""Schedules, hunt groups, call queues and auto attendants."""

from __future__ import annotations

from .builders import (
    add_numbers,
    auto_attendant_body,
    hunt_group_body,
    make_location,
    make_user,
    queue_body,
    schedule_body,
)
from .conftest import Api

CONFIG = "/telephony/config"


async def test_schedule_lifecycle(api: Api) -> None:
    """A schedule is created (201 {id}), listed, read with events, renamed (200) and deleted."""
    location = await make_location(api)
    base = f"{CONFIG}/locations/{location}/schedules"
    created = await api.post(base, schedule_body("Office"))
    assert created.status == 201
    schedule_id = created.body["id"]
    listed = (await api.get(base)).body["schedules"]
    assert [(s["name"], s["type"], s["locationName"]) for s in listed] == [
        ("Office", "businessHours", "HQ")
    ]
    detail = (await api.get(f"{base}/businessHours/{schedule_id}")).body
    assert detail["events"][0]["name"] == "weekdays"
    assert detail["events"][0]["id"]
    assert (await api.get(f"{base}/holidays/{schedule_id}")).status == 404
    event = {**schedule_body("x")["events"][0], "newName": "workdays"}
    renamed = await api.put(
        f"{base}/businessHours/{schedule_id}", {"name": "Main Office", "events": [event]}
    )
    assert (renamed.status, renamed.body) == (200, {"id": schedule_id})
    detail = (await api.get(f"{base}/businessHours/{schedule_id}")).body
    assert (detail["name"], detail["events"][0]["name"]) == ("Main Office", "workdays")
    assert (await api.delete(f"{base}/businessHours/{schedule_id}")).status == 204


async def test_schedule_rules(api: Api) -> None:
    """Duplicate names are 409; a bad type, a missing event field or bad dates are 400."""
    location = await make_location(api)
    base = f"{CONFIG}/locations/{location}/schedules"
    await api.post(base, schedule_body("Office"))
    assert (await api.post(base, schedule_body("Office", "holidays"))).status == 409
    assert (await api.post(base, schedule_body("Other", "weekly"))).status == 400
    body = schedule_body("Other")
    del body["events"][0]["startDate"]
    missing = await api.post(base, body)
    assert (missing.status, missing.body["errorCode"]) == (400, 25008)
    body = schedule_body("Other")
    body["events"][0]["endDate"] = "2023-12-31"
    assert (await api.post(base, body)).status == 400


async def test_hunt_group_lifecycle(api: Api) -> None:
    """A hunt group is created (200 {id}), shown with agent details, updated and deleted."""
    location = await make_location(api)
    ann = await make_user(api, "ann@example.com", location, extension="1001")
    bob = await make_user(api, "bob@example.com", location, extension="1002")
    created = await api.post(
        f"{CONFIG}/locations/{location}/huntGroups", hunt_group_body("Sales", "5001", [ann["id"]])
    )
    assert created.status == 200
    path = f"{CONFIG}/locations/{location}/huntGroups/{created.body['id']}"
    detail = (await api.get(path)).body
    assert detail["callPolicies"]["policy"] == "CIRCULAR"
    agent = detail["agents"][0]
    assert (agent["id"], agent["type"], agent["firstName"], agent["extension"]) == (
        ann["id"],
        "PEOPLE",
        "Ann",
        "1001",
    )
    update = {
        "agents": [{"id": bob["id"]}],
        "callPolicies": {**detail["callPolicies"], "policy": "REGULAR"},
    }
    assert (await api.put(path, update)).status == 204
    detail = (await api.get(path)).body
    assert [a["id"] for a in detail["agents"]] == [bob["id"]]
    assert detail["callPolicies"]["policy"] == "REGULAR"
    assert (await api.delete(path)).status == 204
    assert (await api.get(path)).status == 404


async def test_feature_rules(api: Api) -> None:
    """Unknown agents, taken extensions and missing lines are refused; names are unique."""
    location = await make_location(api)
    ann = await make_user(api, "ann@example.com", location, extension="1001")
    base = f"{CONFIG}/locations/{location}/huntGroups"
    unknown = await api.post(base, hunt_group_body("Sales", "5001", ["nobody"]))
    assert (unknown.status, unknown.body["errorCode"]) == (400, 25231)
    taken = await api.post(base, hunt_group_body("Sales", "1001", [ann["id"]]))
    assert (taken.status, taken.body["errorCode"]) == (409, 25224)
    no_line = hunt_group_body("Sales", "", [ann["id"]])
    del no_line["extension"]
    assert (await api.post(base, no_line)).status == 400
    assert (await api.post(base, hunt_group_body("Sales", "5001", [ann["id"]]))).status == 200
    assert (await api.post(base, hunt_group_body("Sales", "5002", [ann["id"]]))).status == 409
    no_policy = hunt_group_body("Support", "5003", [ann["id"]])
    del no_policy["callPolicies"]["noAnswer"]
    assert (await api.post(base, no_policy)).status == 400


async def test_feature_lists_filter_by_name_prefix(api: Api) -> None:
    """The org-wide lists filter name by case-insensitive prefix, and by location and number."""
    hq = await make_location(api, "HQ")
    branch = await make_location(api, "Branch")
    ann = await make_user(api, "ann@example.com", hq, extension="1001")
    await add_numbers(api, branch, "+12025550100")
    await api.post(
        f"{CONFIG}/locations/{hq}/huntGroups", hunt_group_body("Sales East", "5001", [ann["id"]])
    )
    body = hunt_group_body("Sales West", "5001", [ann["id"]])
    body["phoneNumber"] = "+12025550100"
    await api.post(f"{CONFIG}/locations/{branch}/huntGroups", body)
    await api.post(
        f"{CONFIG}/locations/{hq}/huntGroups", hunt_group_body("Presales", "5002", [ann["id"]])
    )
    names = lambda answer: sorted(item["name"] for item in answer.body["huntGroups"])  # noqa: E731
    assert names(await api.get(f"{CONFIG}/huntGroups", name="sales")) == [
        "Sales East",
        "Sales West",
    ]
    assert names(await api.get(f"{CONFIG}/huntGroups", locationId=branch)) == ["Sales West"]
    assert names(await api.get(f"{CONFIG}/huntGroups", phoneNumber="+12025550100")) == [
        "Sales West"
    ]
    listed = (await api.get(f"{CONFIG}/huntGroups", name="Sales East")).body["huntGroups"][0]
    assert (listed["locationName"], listed["extension"], listed["enabled"]) == ("HQ", "5001", True)


async def test_call_queue_lifecycle(api: Api) -> None:
    """A call queue is created (200 {id}), shows its queue size and agents, and is listed."""
    location = await make_location(api)
    ann = await make_user(api, "ann@example.com", location, extension="1001")
    created = await api.post(
        f"{CONFIG}/locations/{location}/queues", queue_body("Support", "6001", [ann["id"]], 25)
    )
    assert created.status == 200
    path = f"{CONFIG}/locations/{location}/queues/{created.body['id']}"
    detail = (await api.get(path)).body
    assert detail["queueSettings"]["queueSize"] == 25
    assert detail["callPolicies"]["callBounce"]["alertAgentMaxSeconds"] == 30
    assert [a["id"] for a in detail["agents"]] == [ann["id"]]
    listed = (await api.get(f"{CONFIG}/queues")).body["queues"]
    assert listed[0]["hasCxEssentials"] is False
    assert (await api.put(path, {"agents": []})).status == 400  # queueSettings is required on PUT
    update = {"queueSettings": {**detail["queueSettings"], "queueSize": 5}, "agents": []}
    assert (await api.put(path, update)).status == 204
    detail = (await api.get(path)).body
    assert (detail["queueSettings"]["queueSize"], detail["agents"]) == (5, [])


async def test_auto_attendant_needs_business_schedule(api: Api) -> None:
    """An auto attendant (201 {id}) must name a businessHours schedule of its location."""
    location = await make_location(api)
    base = f"{CONFIG}/locations/{location}/autoAttendants"
    missing = await api.post(base, auto_attendant_body("Main", "7001", "Office"))
    assert (missing.status, missing.body["errorCode"]) == (400, 25232)
    await api.post(
        f"{CONFIG}/locations/{location}/schedules", schedule_body("Holidays", "holidays")
    )
    wrong_type = await api.post(base, auto_attendant_body("Main", "7001", "Holidays"))
    assert wrong_type.status == 400
    await api.post(f"{CONFIG}/locations/{location}/schedules", schedule_body("Office"))
    created = await api.post(base, auto_attendant_body("Main", "7001", "Office"))
    assert created.status == 201
    detail = (await api.get(f"{base}/{created.body['id']}")).body
    assert (detail["businessSchedule"], detail["extension"]) == ("Office", "7001")
    schedules = f"{CONFIG}/locations/{location}/schedules"
    office = next(s for s in (await api.get(schedules)).body["schedules"] if s["name"] == "Office")
    in_use = await api.delete(f"{schedules}/businessHours/{office['id']}")
    assert in_use.status == 409
    listed = (await api.get(f"{CONFIG}/autoAttendants")).body["autoAttendants"]
    assert listed[0]["tollFreeNumber"] is False


async def test_deleting_a_person_removes_it_from_agents(api: Api) -> None:
    """A deleted person is no longer an agent of any hunt group."""
    location = await make_location(api)
    ann = await make_user(api, "ann@example.com", location, extension="1001")
    created = await api.post(
        f"{CONFIG}/locations/{location}/huntGroups", hunt_group_body("Sales", "5001", [ann["id"]])
    )
    await api.delete(f"/people/{ann['id']}")
    detail = (await api.get(f"{CONFIG}/locations/{location}/huntGroups/{created.body['id']}")).body
    assert detail["agents"] == []


async def test_feature_in_other_location_is_404(api: Api) -> None:
    """A feature is only found under its own location."""
    hq = await make_location(api, "HQ")
    branch = await make_location(api, "Branch")
    ann = await make_user(api, "ann@example.com", hq, extension="1001")
    created = await api.post(
        f"{CONFIG}/locations/{hq}/huntGroups", hunt_group_body("Sales", "5001", [ann["id"]])
    )
    assert (
        await api.get(f"{CONFIG}/locations/{branch}/huntGroups/{created.body['id']}")
    ).status == 404
