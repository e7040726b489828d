"""Fidelity to the spec and to observed Webex behaviour: the PSTN connection and its scope,
workspace calling with devices, re-adding numbers, the number DELETE limit, late SIP addresses,
token refresh and expiry, and device activation codes."""

from __future__ import annotations

import time
from pathlib import Path

from support import FakeClock

from webex_bulk.simulator import SimConfig

from .builders import add_numbers, make_location, make_user, make_workspace, tenant_config
from .conftest import Api, StartSim

CONFIG = "/telephony/config"


def connection(location: str) -> str:
    """The PSTN connection path of a location."""
    return f"/telephony/pstn/locations/{location}/connection"


async def test_pstn_connection_per_type(start_sim: StartSim, tmp_path: Path) -> None:
    """Each PSTN type answers its spec connection type; a location without PSTN answers 404."""
    tenant = {
        "locations": [
            {"name": "Gateway", "pstn": "LOCAL_GATEWAY"},
            {"name": "Plan", "pstn": "CISCO_CALLING_PLAN"},
            {"name": "Bare", "pstn": "NONE"},
        ]
    }
    api = await start_sim(tenant_config(tmp_path, tenant))
    ids = {
        item["name"]: item["id"]
        for item in (await api.get("/telephony/config/locations")).body["locations"]
    }
    gateway = (await api.get(connection(ids["Gateway"]))).body
    assert (gateway["pstnConnectionType"], gateway["routeType"]) == ("LOCAL_GATEWAY", "TRUNK")
    plan = (await api.get(connection(ids["Plan"]))).body
    assert plan["pstnConnectionType"] == "CISCO_PSTN"
    bare = await api.get(connection(ids["Bare"]))
    assert (bare.status, bare.body["errorCode"]) == (404, 25243)
    assert (await api.get(connection("nowhere"))).status == 404


async def test_pstn_connection_needs_its_scope(start_sim: StartSim) -> None:
    """A token issued without ``spark-admin:telephony_pstn_read`` gets 403 there, not elsewhere."""
    api = await start_sim(SimConfig(missing_scopes=["spark-admin:telephony_pstn_read"]))
    location = await make_location(api)
    refused = await api.get(connection(location))
    assert (refused.status, refused.body["errors"][0]["errorCode"]) == (403, 403000)
    assert (await api.get(f"{CONFIG}/locations/{location}")).status == 200


async def test_new_location_without_pstn(start_sim: StartSim) -> None:
    """``new_location_pstn`` NONE makes locations created through the API lack a connection."""
    api = await start_sim(SimConfig(new_location_pstn="NONE"))
    location = await make_location(api)
    assert (await api.get(connection(location))).status == 404


async def test_workspace_calling_with_devices_is_refused(start_sim: StartSim) -> None:
    """Setting ``calling`` on a workspace with devices is 400; the knob restores the old 200."""
    for strict, expected in ((True, 400), (False, 200)):
        api = await start_sim(SimConfig(refuse_workspace_calling_with_devices=strict))
        location = await make_location(api)
        space = await make_workspace(api, "Lobby", location, extension="1002")
        device = {"mac": "001122334455", "model": "DMS Cisco 8851", "workspaceId": space}
        assert (await api.post("/devices", device)).status == 200
        calling = {"type": "webexCalling", "webexCalling": {"extension": "1003"}}
        body = {"displayName": "Lobby", "calling": calling}
        answer = await api.put(f"/workspaces/{space}", body)
        assert answer.status == expected, strict
        renamed = await api.put(f"/workspaces/{space}", {"displayName": "Hall"})
        assert renamed.status == 200


async def test_adding_a_present_number_is_ignored(start_sim: StartSim) -> None:
    """Re-adding a number the location has answers 201 and creates nothing; the knob gives 409."""
    api = await start_sim()
    location = await make_location(api)
    await add_numbers(api, location, "+13125550100")
    await add_numbers(api, location, "+13125550100", "+13125550101")
    numbers = (await api.get(f"{CONFIG}/numbers", locationId=location)).body["phoneNumbers"]
    assert [row["phoneNumber"] for row in numbers] == ["+13125550100", "+13125550101"]
    assert (await api.side("creates"))["duplicates"] == {}
    strict = await start_sim(SimConfig(number_add_conflict=True))
    location = await make_location(strict)
    await add_numbers(strict, location, "+13125550100")
    again = await strict.post(
        f"{CONFIG}/locations/{location}/numbers", {"phoneNumbers": ["+13125550100"]}
    )
    assert (again.status, again.body["errorCode"]) == (409, 25223)


async def test_number_delete_takes_at_most_five(api: Api) -> None:
    """A DELETE naming six numbers is 400; five are removed (204)."""
    location = await make_location(api)
    numbers = [f"+1312555010{index}" for index in range(7)]
    await add_numbers(api, location, *numbers)
    path = f"{CONFIG}/locations/{location}/numbers"
    too_many = await api.delete(path, {"phoneNumbers": numbers[1:7]})
    assert (too_many.status, too_many.body["errorCode"]) == (400, 25242)
    assert (await api.delete(path, {"phoneNumbers": numbers[1:6]})).status == 204
    left = (await api.get(f"{CONFIG}/numbers", locationId=location)).body["phoneNumbers"]
    assert [row["phoneNumber"] for row in left] == [numbers[0], numbers[6]]


async def test_sip_addresses_appear_late(start_sim: StartSim) -> None:
    """With ``sip_address_lag`` a new calling user has no SIP address until the lag passed."""
    clock = FakeClock()
    api = await start_sim(SimConfig(sip_address_lag=30), clock=clock)
    location = await make_location(api)
    ann = await make_user(api, "ann@example.com", location, extension="1001")
    assert "sipAddresses" not in ann
    assert "sipAddresses" not in (await api.get(f"/people/{ann['id']}")).body
    clock.advance(30)
    [address] = (await api.get(f"/people/{ann['id']}")).body["sipAddresses"]
    assert (address["type"], address["value"].startswith("ann@")) == ("cloud-calling", True)


async def test_sip_addresses_at_once_by_default(api: Api) -> None:
    """Without the lag a calling user shows its SIP address at once; a plain person has none."""
    location = await make_location(api)
    ann = await make_user(api, "ann@example.com", location, extension="1001")
    assert ann["sipAddresses"][0]["type"] == "cloud-calling"
    plain = (await api.post("/people", {"emails": ["p@example.com"], "displayName": "P"})).body
    assert "sipAddresses" not in plain


async def refresh(api: Api) -> dict[str, object]:
    """Run the refresh grant with the default client credentials."""
    form = {
        "grant_type": "refresh_token",
        "client_id": "sim-client-id",
        "client_secret": "sim-client-secret",
        "refresh_token": "sim-refresh-token",
    }
    async with api.session.post(f"{api.sim.base_url}/access_token", data=form) as answer:
        assert answer.status == 200
        return dict(await answer.json())


async def test_refresh_may_return_the_same_token(start_sim: StartSim) -> None:
    """With ``refresh_returns_same_token`` the grant answers the token in use, unchanged."""
    clock = FakeClock()
    api = await start_sim(SimConfig(token_ttl=600, refresh_returns_same_token=True), clock=clock)
    clock.advance(100)
    granted = await refresh(api)
    assert (granted["access_token"], granted["expires_in"]) == ("sim-token", 500)
    usual = await start_sim(SimConfig(token_ttl=600))
    assert (await refresh(usual))["access_token"] != "sim-token"


async def test_token_expiry(start_sim: StartSim) -> None:
    """``GET /authorizations/tokenExpiry`` tells when the bearer token expires, in epoch ms."""
    clock = FakeClock()
    api = await start_sim(SimConfig(token_ttl=600), clock=clock)
    before = time.time() * 1000
    expiry = (await api.get("/authorizations/tokenExpiry")).body["exp"]
    assert before + 590_000 <= expiry <= time.time() * 1000 + 600_000
    clock.advance(601)
    assert (await api.get("/authorizations/tokenExpiry")).status == 401


async def test_activation_codes(start_sim: StartSim) -> None:
    """A code is minted for a person or a workspace and expires ``activation_code_ttl`` later;
    the rules of the owner and model are enforced."""
    clock = FakeClock()
    api = await start_sim(SimConfig(activation_code_ttl=3600), clock=clock)
    location = await make_location(api)
    ann = await make_user(api, "ann@example.com", location, extension="1001")
    space = (await api.post("/workspaces", {"displayName": "Room"})).body["id"]
    path = "/devices/activationCode"
    for_ann = await api.post(path, {"personId": ann["id"], "model": "Cisco 8851"})
    assert for_ann.status == 200
    assert len(for_ann.body["code"]) == 16
    assert for_ann.body["code"].isdigit()
    assert for_ann.body["expiryTime"].endswith("Z")
    for_room = await api.post(path, {"workspaceId": space})
    assert for_room.status == 200
    assert for_room.body["code"] != for_ann.body["code"]
    assert (await api.post(path, {"personId": ann["id"], "workspaceId": space})).status == 400
    assert (await api.post(path, {})).status == 400
    assert (await api.post(path, {"personId": ann["id"], "model": "Nokia 3310"})).status == 400
    assert (await api.post(path, {"workspaceId": space, "model": "DMS Cisco 8851"})).status == 400
    assert (await api.post(path, {"personId": "nobody"})).status == 404
    codes = (await api.side("state?types=activationCodes"))["activationCodes"]
    assert [(code["owner"]["id"], code["expired"]) for code in codes] == [
        (ann["id"], False),
        (space, False),
    ]
    clock.advance(3600)
    codes = (await api.side("state?types=activationCodes"))["activationCodes"]
    assert [code["expired"] for code in codes] == [True, True]


async def test_a_phone_awaiting_its_code_is_an_activating_device(start_sim: StartSim) -> None:
    """A code minted for a phone model shows that phone in the owner's device list as
    ``activating``, without a MAC; a second code for the same owner and model re-uses it, and a
    code without a model (a RoomOS device) adds none."""
    api = await start_sim(SimConfig())
    location = await make_location(api)
    ann = await make_user(api, "ann@example.com", location, extension="1001")
    path = "/devices/activationCode"
    for _ in range(2):
        assert (await api.post(path, {"personId": ann["id"], "model": "Cisco 8851"})).status == 200
    assert (await api.post(path, {"personId": ann["id"]})).status == 200
    [phone] = (await api.get("/devices", personId=ann["id"])).body["items"]
    assert phone["connectionStatus"] == "activating"
    assert phone["product"] == "Cisco 8851"
    assert "mac" not in phone
    assert phone["personId"] == ann["id"]
