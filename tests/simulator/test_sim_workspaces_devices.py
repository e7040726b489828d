"""Workspaces and devices."""

from __future__ import annotations

from pathlib import Path

from .builders import SCARCE_LICENSES, make_location, make_user, tenant_config
from .conftest import Api, StartSim


def calling_workspace(name: str, location: str, extension: str) -> dict[str, object]:
    """A create-workspace body with Webex Calling."""
    return {
        "displayName": name,
        "locationId": location,
        "calling": {"type": "webexCalling", "webexCalling": {"extension": extension}},
        "capacity": 4,
        "notes": "front desk",
    }


async def test_create_calling_workspace_takes_a_license(api: Api) -> None:
    """A Webex Calling workspace is created (201) and consumes a Workspaces license unit."""
    location = await make_location(api)
    answer = await api.post("/workspaces", calling_workspace("Lobby", location, "4001"))
    assert answer.status == 201
    assert answer.body["calling"]["type"] == "webexCalling"
    license_id = answer.body["calling"]["webexCalling"]["licenses"][0]
    licenses = {item["id"]: item for item in (await api.get("/licenses")).body["items"]}
    assert licenses[license_id]["name"] == "Webex Calling - Workspaces"
    assert licenses[license_id]["consumedByWorkspaces"] == 1
    line = (await api.get("/telephony/config/numbers", ownerId=answer.body["id"])).body
    assert line["phoneNumbers"][0]["extension"] == "4001"
    assert line["phoneNumbers"][0]["owner"]["type"] == "PLACE"


async def test_workspace_rules(start_sim: StartSim, tmp_path: Path) -> None:
    """displayName is required; calling needs a location and a free extension and license."""
    api = await start_sim(tenant_config(tmp_path, {"licenses": SCARCE_LICENSES}))
    location = await make_location(api)
    assert (await api.post("/workspaces", {"locationId": location})).status == 400
    no_location = calling_workspace("A", "", "4001")
    del no_location["locationId"]
    assert (await api.post("/workspaces", no_location)).status == 400
    assert (await api.post("/workspaces", calling_workspace("A", location, "4001"))).status == 201
    assert (await api.post("/workspaces", calling_workspace("B", location, "4001"))).status == 409
    exhausted = await api.post("/workspaces", calling_workspace("C", location, "4002"))
    assert (exhausted.status, exhausted.body["errors"][0]["errorCode"]) == (400, 400101)


async def test_workspace_list_and_update(api: Api) -> None:
    """The list filters displayName (contains) and location; PUT clears capacity and notes."""
    hq = await make_location(api, "HQ")
    branch = await make_location(api, "Branch")
    lobby = (await api.post("/workspaces", calling_workspace("Main Lobby", hq, "4001"))).body
    await api.post("/workspaces", calling_workspace("Lobby", branch, "4001"))
    names = sorted(
        w["displayName"] for w in (await api.get("/workspaces", displayName="lobby")).body["items"]
    )
    assert names == ["Lobby", "Main Lobby"]
    at_hq = await api.get("/workspaces", displayName="Lobby", locationId=hq)
    assert [w["id"] for w in at_hq.body["items"]] == [lobby["id"]]
    answer = await api.put(f"/workspaces/{lobby['id']}", {"displayName": "Front Lobby"})
    assert answer.status == 200
    assert answer.body["displayName"] == "Front Lobby"
    assert "capacity" not in answer.body
    assert "notes" not in answer.body
    assert answer.body["calling"]["type"] == "webexCalling"
    moved = await api.put(f"/workspaces/{lobby['id']}", {"displayName": "X", "locationId": branch})
    assert moved.status == 400
    change = {
        "displayName": "X",
        "calling": {"type": "webexCalling", "webexCalling": {"extension": "4010"}},
    }
    assert (await api.put(f"/workspaces/{lobby['id']}", change)).status == 200
    rows = (await api.get("/telephony/config/numbers", ownerId=lobby["id"])).body["phoneNumbers"]
    assert rows[0]["extension"] == "4010"


async def test_delete_workspace_frees_license_and_devices(api: Api) -> None:
    """Deleting a workspace gives back its license unit and deletes its devices."""
    location = await make_location(api)
    lobby = (await api.post("/workspaces", calling_workspace("Lobby", location, "4001"))).body
    device = await api.post(
        "/devices",
        {"mac": "00:11:22:33:44:55", "model": "DMS Cisco 8851", "workspaceId": lobby["id"]},
    )
    assert device.status == 200
    assert (await api.delete(f"/workspaces/{lobby['id']}")).status == 204
    assert (await api.get("/devices", mac="001122334455")).body["items"] == []
    licenses = (await api.get("/licenses")).body["items"]
    assert all(item["consumedByWorkspaces"] == 0 for item in licenses)


async def test_supported_devices(api: Api) -> None:
    """The supported list carries models with their display names and types."""
    devices = (await api.get("/telephony/config/supportedDevices")).body["devices"]
    models = {device["model"]: device for device in devices}
    assert models["DMS Cisco 8851"]["displayName"] == "Cisco 8851"
    assert models["DMS Cisco 192"]["type"] == "ATA"


async def test_device_rules(api: Api) -> None:
    """MACs are unique, models must be supported, exactly one calling owner is named."""
    location = await make_location(api)
    ann = await make_user(api, "ann@example.com", location, extension="1001")
    plain = (await api.post("/people", {"emails": ["p@example.com"], "displayName": "P"})).body
    good = {"mac": "aa-bb-cc-dd-ee-ff", "model": "DMS Cisco 8851", "personId": ann["id"]}
    created = await api.post("/devices", good)
    assert created.status == 200
    assert (created.body["mac"], created.body["personId"]) == ("AA:BB:CC:DD:EE:FF", ann["id"])
    assert (await api.post("/devices", good)).status == 409
    assert (
        await api.post("/devices", {**good, "mac": "AABBCCDDEE00", "model": "Nokia 3310"})
    ).status == 400
    both = {**good, "mac": "AABBCCDDEE01", "workspaceId": "x"}
    assert (await api.post("/devices", both)).status == 400
    assert (await api.post("/devices", {**good, "mac": "not a mac"})).status == 400
    assert (
        await api.post("/devices", {**good, "mac": "AABBCCDDEE02", "personId": plain["id"]})
    ).status == 400
    listed = await api.get("/devices", personId=ann["id"])
    assert [d["id"] for d in listed.body["items"]] == [created.body["id"]]
    by_mac = await api.get("/devices", mac="aabbccddeeff")
    assert [d["id"] for d in by_mac.body["items"]] == [created.body["id"]]
    assert (await api.post("/devices", {"mac": "AABBCCDDEE03"})).status == 400
