"""Locations, calling enablement and the number inventory."""

from __future__ import annotations

from pathlib import Path

from .builders import (
    add_numbers,
    location_body,
    make_location,
    make_user,
    tenant_config,
)
from .conftest import Api, StartSim


async def test_create_location_returns_full_location(api: Api) -> None:
    """POST /locations answers 201 with the whole location, id included."""
    answer = await api.post("/locations", location_body("HQ"))
    assert answer.status == 201
    assert answer.body["name"] == "HQ"
    assert answer.body["address"]["city"] == "Springfield"
    got = await api.get(f"/locations/{answer.body['id']}")
    assert got.body == answer.body


async def test_location_required_fields_and_unique_name(api: Api) -> None:
    """A location body without timeZone or address.city is 400; a name used twice is 409."""
    body = location_body("HQ")
    del body["timeZone"]
    assert (await api.post("/locations", body)).status == 400
    body = location_body("HQ")
    del body["address"]["city"]
    assert (await api.post("/locations", body)).status == 400
    await make_location(api, "HQ", calling=False)
    assert (await api.post("/locations", location_body("HQ"))).status == 409


async def test_location_name_filter_is_case_insensitive_contains(api: Api) -> None:
    """name= matches any location whose name contains it, ignoring case."""
    for name in ("Paris Office", "Old Paris", "London"):
        await make_location(api, name, calling=False)
    answer = await api.get("/locations", name="paris")
    assert sorted(item["name"] for item in answer.body["items"]) == ["Old Paris", "Paris Office"]


async def test_location_cursor_paging(api: Api) -> None:
    """Locations page with a cursor Link when max is smaller than the result."""
    for index in range(3):
        await make_location(api, f"Site {index}", calling=False)
    first = await api.get("/locations", max="2")
    assert len(first.body["items"]) == 2
    link = first.headers["Link"]
    second = await api.call("GET", link[1 : link.index(">")])
    assert [item["name"] for item in second.body["items"]] == ["Site 2"]
    assert "Link" not in second.headers


async def test_update_location_is_204(api: Api) -> None:
    """PUT changes the given fields and answers 204."""
    location = await make_location(api, "HQ")
    answer = await api.put(
        f"/locations/{location}", {"name": "Head Office", "address": {"city": "Paris"}}
    )
    assert answer.status == 204
    got = (await api.get(f"/locations/{location}")).body
    assert (got["name"], got["address"]["city"], got["address"]["state"]) == (
        "Head Office",
        "Paris",
        "IL",
    )


async def test_enable_calling_and_calling_lists(api: Api) -> None:
    """Enabling calling (201 {id}) puts the location in the telephony list and details."""
    plain = await make_location(api, "Plain", calling=False)
    calling = await make_location(api, "Calling")
    listed = (await api.get("/telephony/config/locations")).body["locations"]
    assert [item["id"] for item in listed] == [calling]
    assert (await api.get(f"/telephony/config/locations/{plain}")).status == 404
    details = await api.get(f"/telephony/config/locations/{calling}")
    assert details.body["name"] == "Calling"
    again = await api.post(
        "/telephony/config/locations", {"id": calling, **location_body("Calling")}
    )
    assert again.status == 409


async def test_enable_calling_refuses_long_names(api: Api) -> None:
    """A location name over 80 characters cannot be enabled for calling."""
    name = "L" * 81
    location = await make_location(api, name, calling=False)
    answer = await api.post("/telephony/config/locations", {"id": location, **location_body(name)})
    assert answer.status == 400


async def test_numbers_add_list_and_filters(api: Api) -> None:
    """Added numbers are listed with state, location and mainNumber; filters narrow the list."""
    hq = await make_location(api, "HQ")
    branch = await make_location(api, "Branch")
    await add_numbers(api, hq, "+12025550100", "+12025550101")
    await add_numbers(api, branch, "+12025550200")
    everything = (await api.get("/telephony/config/numbers")).body["phoneNumbers"]
    assert [row["phoneNumber"] for row in everything] == [
        "+12025550100",
        "+12025550101",
        "+12025550200",
    ]
    first = everything[0]
    assert (first["state"], first["mainNumber"], first["location"]["name"]) == (
        "ACTIVE",
        True,
        "HQ",
    )
    only_branch = await api.get("/telephony/config/numbers", locationId=branch)
    assert [row["phoneNumber"] for row in only_branch.body["phoneNumbers"]] == ["+12025550200"]
    one = await api.get("/telephony/config/numbers", phoneNumber="+12025550101")
    assert [row["phoneNumber"] for row in one.body["phoneNumbers"]] == ["+12025550101"]


async def test_numbers_assigned_available_and_extension_only(api: Api) -> None:
    """available= hides assigned numbers; extension-only lines are listed with their owner."""
    location = await make_location(api)
    await add_numbers(api, location, "+12025550100", "+12025550101")
    await make_user(api, "a@example.com", location, extension="1001", number="+12025550100")
    person = await make_user(api, "b@example.com", location, extension="1002")
    free = await api.get("/telephony/config/numbers", available="true")
    assert [row["phoneNumber"] for row in free.body["phoneNumbers"]] == ["+12025550101"]
    by_extension = (await api.get("/telephony/config/numbers", extension="1002")).body
    assert by_extension["phoneNumbers"][0]["owner"]["id"] == person["id"]
    assert "phoneNumber" not in by_extension["phoneNumbers"][0]
    numbers_only = await api.get("/telephony/config/numbers", numberType="NUMBER")
    assert len(numbers_only.body["phoneNumbers"]) == 2


async def test_duplicate_number_is_409(api: Api) -> None:
    """Adding a number that is already in the org answers 409 25223/8363."""
    hq = await make_location(api, "HQ")
    branch = await make_location(api, "Branch")
    await add_numbers(api, hq, "+12025550100")
    answer = await api.post(
        f"/telephony/config/locations/{branch}/numbers", {"phoneNumbers": ["+12025550100"]}
    )
    assert answer.status == 409
    assert (answer.body["errorCode"], answer.body["errors"][0]["errorCode"]) == (25223, 8363)


async def test_numbers_refused_for_cisco_calling_plan(start_sim: StartSim, tmp_path: Path) -> None:
    """A Cisco Calling Plan location's numbers cannot be added through the API."""
    tenant = {
        "locations": [{"name": "CCP", "pstn": "CISCO_CALLING_PLAN", "numbers": ["+12025550100"]}]
    }
    api = await start_sim(tenant_config(tmp_path, tenant))
    location = (await api.get("/locations", name="CCP")).body["items"][0]["id"]
    answer = await api.post(
        f"/telephony/config/locations/{location}/numbers", {"phoneNumbers": ["+12025550101"]}
    )
    assert (answer.status, answer.body["errorCode"]) == (400, 25228)
    seeded = await api.get("/telephony/config/numbers", locationId=location)
    assert [row["phoneNumber"] for row in seeded.body["phoneNumbers"]] == ["+12025550100"]


async def test_activate_deactivate_and_remove(api: Api) -> None:
    """Numbers can be deactivated and activated (204); only unassigned non-main ones removed."""
    location = await make_location(api)
    path = f"/telephony/config/locations/{location}/numbers"
    await add_numbers(api, location, "+12025550100", "+12025550101", "+12025550102")
    await make_user(api, "a@example.com", location, number="+12025550102")
    deactivate = await api.put(path, {"phoneNumbers": ["+12025550101"], "action": "DEACTIVATE"})
    assert deactivate.status == 204
    inactive = await api.get("/telephony/config/numbers", state="INACTIVE")
    assert [row["phoneNumber"] for row in inactive.body["phoneNumbers"]] == ["+12025550101"]
    assert (await api.put(path, {"phoneNumbers": ["+12025550101"]})).status == 204
    assert (
        await api.put(path, {"phoneNumbers": ["+12025550102"], "action": "DEACTIVATE"})
    ).status == 400
    assert (await api.delete(path, {"phoneNumbers": ["+12025550100"]})).status == 400  # main number
    assert (await api.delete(path, {"phoneNumbers": ["+12025550102"]})).status == 400  # assigned
    assert (await api.delete(path, {"phoneNumbers": ["+12025550101"]})).status == 204
    assert (await api.delete(path, {"phoneNumbers": ["+12025550101"]})).status == 400  # gone
    assert (await api.put(path, {"action": "ACTIVATE"})).status == 400  # phoneNumbers required


async def test_numbers_offset_paging(api: Api) -> None:
    """Telephony lists page by start/max with a ';rel="next"' Link."""
    location = await make_location(api)
    await add_numbers(api, location, *(f"+1202555{index:04d}" for index in range(5)))
    first = await api.get("/telephony/config/numbers", max="2")
    assert len(first.body["phoneNumbers"]) == 2
    link = first.headers["Link"]
    assert link.endswith('>;rel="next"')
    url = link[1 : link.index(">")]
    assert "start=2" in url
    rows = first.body["phoneNumbers"]
    while url:
        page = await api.call("GET", url)
        rows += page.body["phoneNumbers"]
        header = page.headers.get("Link", "")
        url = header[1 : header.index(">")] if header else ""
    assert len({row["phoneNumber"] for row in rows}) == 5
