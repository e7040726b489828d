"""Virtual lines, and virtual lines and workspaces as hunt group and call queue members."""

from __future__ import annotations

from pathlib import Path

import pytest

from webex_bulk.simulator.seed import TenantFileError

from .builders import (
    add_numbers,
    hunt_group_body,
    make_location,
    make_user,
    make_virtual_line,
    make_workspace,
    queue_body,
    tenant_config,
)
from .conftest import Api, StartSim

PATH = "/telephony/config/virtualLines"


async def test_virtual_line_lifecycle(api: Api) -> None:
    """A virtual line is created (201), read with its number and location, updated and deleted."""
    location = await make_location(api)
    await add_numbers(api, location, "+13125550100")
    created = await api.post(
        PATH,
        {
            "firstName": "Front",
            "lastName": "Desk",
            "locationId": location,
            "extension": "2001",
            "phoneNumber": "+13125550100",
        },
    )
    assert created.status == 201
    item = f"{PATH}/{created.body['id']}"
    detail = (await api.get(item)).body
    assert (detail["displayName"], detail["number"]["extension"], detail["number"]["external"]) == (
        "Front Desk",
        "2001",
        "+13125550100",
    )
    assert detail["location"]["name"] == "HQ"
    numbers = await api.get("/telephony/config/numbers", phoneNumber="+13125550100")
    assert numbers.body["phoneNumbers"][0]["owner"]["type"] == "VIRTUAL_LINE"
    assert (await api.put(item, {"extension": "2002", "lastName": "Office"})).status == 204
    detail = (await api.get(item)).body
    assert (detail["lastName"], detail["number"]["extension"]) == ("Office", "2002")
    assert (await api.delete(item)).status == 204
    assert (await api.get(item)).status == 404
    numbers = await api.get("/telephony/config/numbers", phoneNumber="+13125550100")
    assert "owner" not in numbers.body["phoneNumbers"][0]


async def test_virtual_line_list_filters(api: Api) -> None:
    """The list filters by location, owner name (contains), number and assigned extension."""
    hq = await make_location(api)
    branch = await make_location(api, "Branch")
    first = await make_virtual_line(api, hq, extension="2001", last="Reception")
    second = await make_virtual_line(api, branch, extension="2001", last="Lab")
    ids = [line["id"] for line in (await api.get(PATH)).body["virtualLines"]]
    assert ids == [first, second]
    assert [v["id"] for v in (await api.get(PATH, locationId=branch)).body["virtualLines"]] == [
        second
    ]
    assert [v["id"] for v in (await api.get(PATH, ownerName="recep")).body["virtualLines"]] == [
        first
    ]
    assert [v["id"] for v in (await api.get(PATH, locationName="Branch")).body["virtualLines"]] == [
        second
    ]
    assert (await api.get(PATH, hasDnAssigned="true")).body["virtualLines"] == []
    paged = await api.get(PATH, max="1")
    assert len(paged.body["virtualLines"]) == 1
    assert "start=1" in paged.headers["Link"]


async def test_virtual_line_display_name_only_in_details(api: Api) -> None:
    """As in Cisco's spec, the listing's items carry both names but no display name; the
    details do, even when it differs from the first and last names."""
    location = await make_location(api)
    body = {"firstName": "Front", "lastName": "Desk", "locationId": location, "extension": "2001"}
    created = await api.post(PATH, {**body, "displayName": "Night Line"})
    [item] = (await api.get(PATH)).body["virtualLines"]
    assert "displayName" not in item
    assert (item["firstName"], item["lastName"]) == ("Front", "Desk")
    detail = (await api.get(f"{PATH}/{created.body['id']}")).body
    assert detail["displayName"] == "Night Line"


async def test_virtual_line_rules(api: Api) -> None:
    """Required fields, a line, a free extension and a display name unique per location."""
    location = await make_location(api)
    await make_user(api, "ann@example.com", location, extension="1001")
    missing = await api.post(PATH, {"firstName": "A", "locationId": location, "extension": "2001"})
    assert (missing.status, missing.body["errorCode"]) == (400, 25008)
    body = {"firstName": "A", "lastName": "B", "locationId": location}
    no_line = await api.post(PATH, body)
    assert (no_line.status, no_line.body["errorCode"]) == (400, 25235)
    taken = await api.post(PATH, {**body, "extension": "1001"})
    assert (taken.status, taken.body["errorCode"]) == (409, 25224)
    assert (await api.post(PATH, {**body, "extension": "2001"})).status == 201
    same_name = await api.post(PATH, {**body, "extension": "2002"})
    assert (same_name.status, same_name.body["errorCode"]) == (409, 25233)
    no_calling = await make_location(api, "Plain", calling=False)
    assert (
        await api.post(PATH, {**body, "locationId": no_calling, "extension": "1"})
    ).status == 404


async def test_virtual_lines_and_workspaces_are_members(api: Api) -> None:
    """Hunt groups and call queues take virtual lines and workspaces as agents; deleting the
    virtual line removes it from the hunt group."""
    location = await make_location(api)
    line = await make_virtual_line(api, location, extension="2001")
    space = await make_workspace(api, "Lobby", location, extension="2002")
    base = f"/telephony/config/locations/{location}"
    hunt = await api.post(f"{base}/huntGroups", hunt_group_body("Sales", "5001", [line, space]))
    assert hunt.status == 200, hunt.body
    queue = await api.post(f"{base}/queues", queue_body("Help", "5002", [line]))
    assert queue.status == 200, queue.body
    detail = (await api.get(f"{base}/huntGroups/{hunt.body['id']}")).body
    assert [(a["id"], a["type"]) for a in detail["agents"]] == [
        (line, "VIRTUAL_LINE"),
        (space, "PLACE"),
    ]
    assert (await api.delete(f"{PATH}/{line}")).status == 204
    detail = (await api.get(f"{base}/huntGroups/{hunt.body['id']}")).body
    assert [a["id"] for a in detail["agents"]] == [space]


async def test_tenant_file_seeds_virtual_lines(start_sim: StartSim, tmp_path: Path) -> None:
    """A tenant file's virtual lines are created with their lines; a clash refuses the file."""
    tenant = {
        "locations": [{"name": "HQ"}],
        "virtualLines": [
            {"firstName": "Front", "lastName": "Desk", "location": "HQ", "extension": "2001"},
            {
                "firstName": "Lab",
                "lastName": "Line",
                "location": "HQ",
                "phoneNumber": "+13125550100",
            },
        ],
    }
    api = await start_sim(tenant_config(tmp_path, tenant))
    lines = (await api.get(PATH)).body["virtualLines"]
    assert [
        (v["firstName"], v["number"].get("extension"), v["number"].get("external")) for v in lines
    ] == [
        ("Front", "2001", None),
        ("Lab", None, "+13125550100"),
    ]
    clash = {**tenant, "virtualLines": tenant["virtualLines"][:1] * 2}
    with pytest.raises(TenantFileError, match="already in use"):
        await start_sim(tenant_config(tmp_path, clash))
