"""Call park extensions, call parks, call pickups, paging groups and voicemail groups."""

from __future__ import annotations

from typing import Any

from .builders import (
    add_numbers,
    hunt_group_body,
    make_location,
    make_user,
    make_virtual_line,
    make_workspace,
    voicemail_group_body,
)
from .conftest import Api

CONFIG = "/telephony/config"


def base(location: str) -> str:
    """The path of a location's telephony config."""
    return f"{CONFIG}/locations/{location}"


async def test_call_park_extension_lifecycle(api: Api) -> None:
    """A call park extension is created, listed org-wide by name part, read, changed, deleted."""
    location = await make_location(api)
    created = await api.post(
        f"{base(location)}/callParkExtensions", {"name": "Park A", "extension": "7001"}
    )
    assert created.status == 201
    item = f"{base(location)}/callParkExtensions/{created.body['id']}"
    listed = (await api.get(f"{CONFIG}/callParkExtensions", name="ark")).body
    assert [
        (e["name"], e["extension"], e["locationName"]) for e in listed["callParkExtensions"]
    ] == [("Park A", "7001", "HQ")]
    assert (await api.get(item)).body == {"name": "Park A", "extension": "7001"}
    assert (await api.put(item, {"name": "Park B", "extension": "7002"})).status == 204
    assert (await api.get(item)).body == {"name": "Park B", "extension": "7002"}
    by_extension = await api.get(f"{CONFIG}/callParkExtensions", extension="7001")
    assert by_extension.body["callParkExtensions"] == []
    assert (await api.delete(item)).status == 204
    assert (await api.get(item)).status == 404


async def test_call_park_extension_rules(api: Api) -> None:
    """Names are unique per location and extensions unique across users and features (409)."""
    location = await make_location(api)
    await make_user(api, "ann@example.com", location, extension="1001")
    path = f"{base(location)}/callParkExtensions"
    assert (await api.post(path, {"name": "P", "extension": "7001"})).status == 201
    duplicate = await api.post(path, {"name": "P", "extension": "7002"})
    assert (duplicate.status, duplicate.body["errorCode"]) == (409, 25233)
    taken = await api.post(path, {"name": "Q", "extension": "1001"})
    assert (taken.status, taken.body["errorCode"]) == (409, 25224)
    missing = await api.post(path, {"name": "Q"})
    assert (missing.status, missing.body["errorCode"]) == (400, 25008)
    other = await make_location(api, "Branch")
    elsewhere = await api.post(
        f"{base(other)}/callParkExtensions", {"name": "P", "extension": "7001"}
    )
    assert elsewhere.status == 201


async def test_call_park_lifecycle(api: Api) -> None:
    """A call park takes users, workspaces and virtual lines; a rename changes its id."""
    location = await make_location(api)
    ann = await make_user(api, "ann@example.com", location, extension="1001")
    space = await make_workspace(api, "Lobby", location, extension="1002")
    line = await make_virtual_line(api, location, extension="1003")
    extension = await api.post(
        f"{base(location)}/callParkExtensions", {"name": "P1", "extension": "7001"}
    )
    body = {
        "name": "Front desk",
        "recall": {"option": "ALERT_PARKING_USER_ONLY"},
        "agents": [ann["id"], space, line],
        "callParkExtensions": [extension.body["id"]],
    }
    created = await api.post(f"{base(location)}/callParks", body)
    assert created.status == 201
    item = f"{base(location)}/callParks/{created.body['id']}"
    detail = (await api.get(item)).body
    assert [(a["id"], a["type"]) for a in detail["agents"]] == [
        (ann["id"], "PEOPLE"),
        (space, "PLACE"),
        (line, "VIRTUAL_LINE"),
    ]
    assert detail["callParkExtensions"][0]["extension"] == "7001"
    listed = (await api.get(f"{base(location)}/callParks", name="desk")).body["callParks"]
    assert [park["name"] for park in listed] == ["Front desk"]
    same = await api.put(item, {"recall": {"option": "ALERT_PARKING_USER_ONLY"}, "agents": []})
    assert (same.status, same.body) == (200, {"id": created.body["id"]})
    renamed = await api.put(
        item, {"name": "Reception", "recall": {"option": "ALERT_PARKING_USER_ONLY"}}
    )
    assert renamed.status == 200
    assert renamed.body["id"] != created.body["id"]
    assert (await api.get(item)).status == 404
    new_item = f"{base(location)}/callParks/{renamed.body['id']}"
    assert (await api.get(new_item)).body["agents"] == []
    assert (await api.delete(new_item)).status == 204


async def test_call_park_rules(api: Api) -> None:
    """Members must be calling and of the location; extensions and recall hunt groups must exist."""
    location = await make_location(api)
    other = await make_location(api, "Branch")
    stranger = await make_user(api, "bob@example.com", other, extension="1001")
    path = f"{base(location)}/callParks"
    recall = {"option": "ALERT_PARKING_USER_ONLY"}
    unknown = await api.post(path, {"name": "P", "recall": recall, "agents": ["nobody"]})
    assert (unknown.status, unknown.body["errorCode"]) == (400, 25231)
    elsewhere = await api.post(path, {"name": "P", "recall": recall, "agents": [stranger["id"]]})
    assert (elsewhere.status, elsewhere.body["errorCode"]) == (400, 25238)
    no_extension = await api.post(
        path, {"name": "P", "recall": recall, "callParkExtensions": ["missing"]}
    )
    assert (no_extension.status, no_extension.body["errorCode"]) == (400, 25240)
    hunt = {"option": "ALERT_HUNT_GROUP_ONLY", "huntGroupId": "missing"}
    assert (await api.post(path, {"name": "P", "recall": hunt})).body["errorCode"] == 25244
    assert (await api.post(path, {"name": "P"})).body["errorCode"] == 25008
    assert (await api.post(path, {"name": "P", "recall": recall})).status == 201
    assert (await api.post(path, {"name": "P", "recall": recall})).status == 409


async def test_call_park_recall_hunt_group(api: Api) -> None:
    """A recall to a hunt group of the location is stored and shown with its name."""
    location = await make_location(api)
    ann = await make_user(api, "ann@example.com", location, extension="1001")
    hunt = await api.post(
        f"{base(location)}/huntGroups", hunt_group_body("Sales", "5001", [ann["id"]])
    )
    recall = {"option": "ALERT_HUNT_GROUP_ONLY", "huntGroupId": hunt.body["id"]}
    created = await api.post(f"{base(location)}/callParks", {"name": "P", "recall": recall})
    detail = (await api.get(f"{base(location)}/callParks/{created.body['id']}")).body
    assert detail["recall"]["huntGroupName"] == "Sales"


async def test_call_pickup_lifecycle_and_rules(api: Api) -> None:
    """A pickup is created with members, a member cannot join a second pickup, a rename changes
    its id, and a deleted user leaves it."""
    location = await make_location(api)
    ann = await make_user(api, "ann@example.com", location, extension="1001")
    line = await make_virtual_line(api, location, extension="1003")
    path = f"{base(location)}/callPickups"
    created = await api.post(
        path, {"name": "Floor 1", "agents": [ann["id"], line], "notificationType": "AUDIO_ONLY"}
    )
    assert created.status == 201
    item = f"{path}/{created.body['id']}"
    detail = (await api.get(item)).body
    assert detail["notificationType"] == "AUDIO_ONLY"
    assert [agent["id"] for agent in detail["agents"]] == [ann["id"], line]
    second = await api.post(path, {"name": "Floor 2", "agents": [ann["id"]]})
    assert (second.status, second.body["errorCode"]) == (400, 25239)
    assert (await api.post(path, {"name": "Floor 1"})).status == 409
    bad = await api.post(path, {"name": "Floor 3", "notificationType": "LOUD"})
    assert bad.status == 400
    assert [p["name"] for p in (await api.get(path, name="floor")).body["callPickups"]] == [
        "Floor 1"
    ]
    renamed = await api.put(item, {"name": "Ground floor"})
    assert renamed.status == 200
    assert renamed.body["id"] != created.body["id"]
    assert (await api.delete(f"/people/{ann['id']}")).status == 204
    detail = (await api.get(f"{path}/{renamed.body['id']}")).body
    assert [agent["id"] for agent in detail["agents"]] == [line]


async def test_paging_group_lifecycle(api: Api) -> None:
    """A paging group holds a line, originators and targets; a delete frees its line."""
    location = await make_location(api)
    await add_numbers(api, location, "+13125550100")
    ann = await make_user(api, "ann@example.com", location, extension="1001")
    other = await make_location(api, "Branch")
    bob = await make_user(api, "bob@example.com", other, extension="1001")
    body = {
        "name": "All staff",
        "extension": "6001",
        "phoneNumber": "+13125550100",
        "originators": [ann["id"]],
        "targets": [ann["id"], bob["id"]],
    }
    created = await api.post(f"{base(location)}/paging", body)
    assert created.status == 201
    item = f"{base(location)}/paging/{created.body['id']}"
    detail = (await api.get(item)).body
    assert (detail["extension"], detail["phoneNumber"]) == ("6001", "+13125550100")
    assert [t["id"] for t in detail["targets"]] == [ann["id"], bob["id"]]
    assert [o["id"] for o in detail["originators"]] == [ann["id"]]
    listed = (await api.get(f"{CONFIG}/paging", name="staff")).body["locationPaging"]
    assert [(p["name"], p["extension"]) for p in listed] == [("All staff", "6001")]
    assert (await api.put(item, {"extension": "6002", "targets": []})).status == 204
    detail = (await api.get(item)).body
    assert (detail["extension"], detail["targets"]) == ("6002", [])
    reuse = await make_user(api, "cy@example.com", location, extension="6001")
    assert reuse["id"]
    assert (await api.delete(item)).status == 204
    numbers = await api.get(f"{CONFIG}/numbers", phoneNumber="+13125550100")
    assert "owner" not in numbers.body["phoneNumbers"][0]


async def test_paging_group_rules(api: Api) -> None:
    """A paging group needs a free line and calling members."""
    location = await make_location(api)
    await make_user(api, "ann@example.com", location, extension="1001")
    path = f"{base(location)}/paging"
    taken = await api.post(path, {"name": "P", "extension": "1001"})
    assert (taken.status, taken.body["errorCode"]) == (409, 25224)
    no_line = await api.post(path, {"name": "P"})
    assert (no_line.status, no_line.body["errorCode"]) == (400, 25235)
    bad = await api.post(path, {"name": "P", "extension": "6001", "targets": ["ghost"]})
    assert (bad.status, bad.body["errorCode"]) == (400, 25231)


async def test_voicemail_group_lifecycle(api: Api) -> None:
    """A voicemail group is created, listed, read without its passcode, updated and deleted."""
    location = await make_location(api)
    path = f"{base(location)}/voicemailGroups"
    created = await api.post(path, voicemail_group_body("Support", "8001", "740913"))
    assert created.status == 201
    item = f"{path}/{created.body['id']}"
    detail = (await api.get(item)).body
    assert (detail["name"], detail["extension"], detail["languageCode"]) == (
        "Support",
        8001,
        "en_us",
    )
    assert "passcode" not in detail
    assert "740913" not in str(detail)
    listed = (await api.get(f"{CONFIG}/voicemailGroups", name="port")).body["voicemailGroups"]
    assert [(g["name"], g["extension"]) for g in listed] == [("Support", "8001")]
    changed = await api.put(item, {"passcode": "551902", "notifications": {"enabled": False}})
    assert changed.status == 204
    detail = (await api.get(item)).body
    assert detail["notifications"] == {"enabled": False}
    assert "551902" not in str(detail)
    state = await api.side("state?types=features")
    assert "551902" not in str(state)
    assert (await api.delete(item)).status == 204


async def test_voicemail_group_rules(api: Api) -> None:
    """Required fields, passcode digits, unique names and a free extension are enforced."""
    location = await make_location(api)
    await make_user(api, "ann@example.com", location, extension="1001")
    path = f"{base(location)}/voicemailGroups"
    body: dict[str, Any] = voicemail_group_body("Support", "8001", "740913")
    del body["messageStorage"]
    missing = await api.post(path, body)
    assert (missing.status, missing.body["errorCode"]) == (400, 25008)
    assert (await api.post(path, voicemail_group_body("S", "8001", "12ab"))).status == 400
    taken = await api.post(path, voicemail_group_body("S", "1001", "740913"))
    assert (taken.status, taken.body["errorCode"]) == (409, 25224)
    assert (await api.post(path, voicemail_group_body("S", "8001", "740913"))).status == 201
    assert (await api.post(path, voicemail_group_body("S", "8002", "740913"))).status == 409


async def test_features_of_a_location_without_calling_are_404(api: Api) -> None:
    """Every location feature answers 404 under a location that is not calling-enabled."""
    location = await make_location(api, calling=False)
    for family in ("callParkExtensions", "callParks", "callPickups", "paging", "voicemailGroups"):
        answer = await api.post(f"{base(location)}/{family}", {"name": "X"})
        assert answer.status == 404, family
