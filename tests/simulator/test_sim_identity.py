"""Identity, licenses, tokens, tracking ids and error bodies."""

from __future__ import annotations

import base64
import re
from pathlib import Path

import aiohttp
from support import FakeClock

from webex_bulk.simulator import SimConfig

from .builders import (
    SCARCE_LICENSES,
    add_numbers,
    license_id,
    make_location,
    make_user,
    tenant_config,
    user_body,
)
from .conftest import Api, StartSim

ID_URI = re.compile(r"ciscospark://us/([A-Z_]+)/(.+)")


def decode(public_id: str) -> tuple[str, str]:
    """(TYPE, inner) of a Webex id."""
    match = ID_URI.fullmatch(base64.urlsafe_b64decode(public_id + "==").decode())
    assert match is not None, public_id
    return match.group(1), match.group(2)


async def test_me_and_organization(api: Api) -> None:
    """people/me is the admin of the org that organizations/{orgId} describes."""
    me = await api.get("/people/me")
    assert me.status == 200
    assert me.body["emails"] == ["admin@example.com"]
    assert decode(me.body["id"])[0] == "PEOPLE"
    assert "=" not in me.body["id"]
    org = await api.get(f"/organizations/{me.body['orgId']}")
    assert org.body["id"] == me.body["orgId"]
    assert decode(org.body["id"])[0] == "ORGANIZATION"
    assert (await api.get("/organizations/other")).status == 404
    assert (await api.get("/organizations")).body["items"][0]["id"] == org.body["id"]


async def test_license_ids_and_defaults(api: Api) -> None:
    """License ids name the org uuid and a code; the default tenant has the calling licenses."""
    items = (await api.get("/licenses")).body["items"]
    names = {item["name"] for item in items}
    assert {
        "Webex Calling - Professional",
        "Webex Calling - Basic",
        "Webex Calling - Workspaces",
    } <= names
    org_uuid = decode((await api.get("/people/me")).body["orgId"])[1]
    kind, inner = decode(items[0]["id"])
    assert kind == "LICENSE"
    assert re.fullmatch(rf"{org_uuid}:[A-Z]+_[0-9a-f-]{{36}}", inner)
    one = await api.get(f"/licenses/{items[0]['id']}")
    assert one.body["totalUnits"] == items[0]["totalUnits"]


async def test_same_seed_same_ids(start_sim: StartSim) -> None:
    """Two simulators with one seed mint the same ids; another seed mints others."""
    first = await start_sim(SimConfig(seed=7))
    second = await start_sim(SimConfig(seed=7))
    third = await start_sim(SimConfig(seed=8))
    ids = [(await api.get("/people/me")).body["id"] for api in (first, second, third)]
    assert ids[0] == ids[1] != ids[2]


async def test_missing_or_wrong_token_is_401(api: Api) -> None:
    """No Authorization header, or an unknown token, gives 401 with a Webex error body."""
    answer = await api.call("GET", "/people/me", authorised=False)
    assert answer.status == 401
    assert answer.body["errors"][0]["description"]
    api.token = "wrong"
    assert (await api.get("/people/me")).status == 401


async def test_tracking_id_is_echoed_or_minted(api: Api) -> None:
    """A TrackingID header comes back as Trackingid; without one the server mints ROUTER_…."""
    sent = await api.call("GET", "/people/me", headers={"TrackingID": "WEBEX_BULK_run_1"})
    assert sent.headers["Trackingid"] == "WEBEX_BULK_run_1"
    minted = await api.get("/people/unknown")
    assert re.fullmatch(r"ROUTER_[0-9a-f-]{36}", minted.headers["Trackingid"])
    assert minted.body["trackingId"] == minted.headers["Trackingid"]


async def test_patch_license_adds_calling(api: Api) -> None:
    """PATCH /licenses/users adds a calling license with its properties (200)."""
    location = await make_location(api)
    person = (await api.post("/people", {"emails": ["a@example.com"], "displayName": "A"})).body
    pro = await license_id(api)
    body = {
        "email": "a@example.com",
        "licenses": [
            {
                "id": pro,
                "operation": "add",
                "properties": {"locationId": location, "extension": "1001"},
            }
        ],
    }
    answer = await api.patch("/licenses/users", body)
    assert answer.status == 200
    assert answer.body["licenses"] == [pro]
    assert answer.body["personId"] == person["id"]
    shown = await api.get(f"/people/{person['id']}", callingData="true")
    assert shown.body["extension"] == "1001"


async def test_patch_license_partial_is_206(start_sim: StartSim, tmp_path: Path) -> None:
    """When one license is exhausted and another assigned, the answer is 206; 400 when none is."""
    api = await start_sim(tenant_config(tmp_path, {"licenses": SCARCE_LICENSES}))
    location = await make_location(api)
    messaging = await license_id(api, "Messaging")
    basic = await license_id(api, "Webex Calling - Basic")
    person = (await api.post("/people", {"emails": ["a@example.com"], "displayName": "A"})).body
    body = {
        "personId": person["id"],
        "licenses": [
            {"id": messaging},
            {"id": basic, "properties": {"locationId": location, "extension": "1001"}},
        ],
    }
    answer = await api.patch("/licenses/users", body)
    assert answer.status == 206
    assert answer.body["licenses"] == [messaging]
    only_exhausted = {"personId": person["id"], "licenses": [{"id": basic}]}
    refused = await api.patch("/licenses/users", only_exhausted)
    assert (refused.status, refused.body["errors"][0]["errorCode"]) == (400, 400101)


async def test_patch_license_needs_a_person(api: Api) -> None:
    """Without email or personId the PATCH is 400; an unknown email is 404."""
    pro = await license_id(api)
    assert (await api.patch("/licenses/users", {"licenses": [{"id": pro}]})).status == 400
    unknown = {"email": "nobody@example.com", "licenses": [{"id": pro}]}
    assert (await api.patch("/licenses/users", unknown)).status == 404


async def test_exhausted_license_is_refused(start_sim: StartSim, tmp_path: Path) -> None:
    """A calling user cannot be created once the calling license has no unit left."""
    api = await start_sim(tenant_config(tmp_path, {"licenses": SCARCE_LICENSES}))
    location = await make_location(api)
    await make_user(api, "a@example.com", location, extension="1001")
    body = user_body("b@example.com", location, await license_id(api), extension="1002")
    answer = await api.post("/people", body)
    assert (answer.status, answer.body["errors"][0]["errorCode"]) == (400, 400101)
    licenses = (await api.get("/licenses")).body["items"]
    pro = next(item for item in licenses if item["name"].endswith("Professional"))
    assert (pro["totalUnits"], pro["consumedUnits"]) == (1, 1)


async def test_refresh_grant_and_token_expiry(start_sim: StartSim) -> None:
    """An expired token gets 401; the refresh grant mints a working one."""
    clock = FakeClock()
    api = await start_sim(SimConfig(token_ttl=60), clock=clock)
    assert (await api.get("/people/me")).status == 200
    clock.advance(61)
    assert (await api.get("/people/me")).status == 401
    form = {
        "grant_type": "refresh_token",
        "client_id": "sim-client-id",
        "client_secret": "sim-client-secret",
        "refresh_token": "sim-refresh-token",
    }
    async with api.session.post(f"{api.sim.base_url}/access_token", data=form) as answer:
        assert answer.status == 200
        token = await answer.json()
    assert set(token) == {
        "access_token",
        "expires_in",
        "refresh_token",
        "refresh_token_expires_in",
        "token_type",
    }
    assert token["expires_in"] == 60
    api.token = token["access_token"]
    assert (await api.get("/people/me")).status == 200


async def test_refresh_grant_refuses_bad_credentials(start_sim: StartSim) -> None:
    """A wrong client secret is 401, a wrong refresh token 400; rotation retires the old one."""
    api = await start_sim(SimConfig(rotate_refresh_token=True))
    url = f"{api.sim.base_url}/access_token"
    good = {
        "grant_type": "refresh_token",
        "client_id": "sim-client-id",
        "client_secret": "sim-client-secret",
        "refresh_token": "sim-refresh-token",
    }
    session: aiohttp.ClientSession = api.session
    async with session.post(url, data={**good, "client_secret": "x"}) as answer:
        assert answer.status == 401
    async with session.post(url, data={**good, "refresh_token": "x"}) as answer:
        assert answer.status == 400
    async with session.post(url, data=good) as answer:
        rotated = (await answer.json())["refresh_token"]
    assert rotated != "sim-refresh-token"
    async with session.post(url, data=good) as answer:
        assert answer.status == 400
    async with session.post(url, data={**good, "refresh_token": rotated}) as answer:
        assert answer.status == 200


async def test_unknown_route_is_a_webex_404(api: Api) -> None:
    """An unknown /v1 path answers 404 with a Webex error body and is still counted."""
    answer = await api.get("/nothing/here")
    assert answer.status == 404
    assert answer.body["trackingId"]
    counts = await api.side("counts")
    assert counts["by_route"]["GET (unmatched)"] == 1


async def test_numbers_owner_shows_names(api: Api) -> None:
    """The numbers list names the owner of an assigned number."""
    location = await make_location(api)
    await add_numbers(api, location, "+12025550100")
    person = await make_user(
        api, "ann@example.com", location, extension="1001", number="+12025550100"
    )
    row = (await api.get("/telephony/config/numbers", ownerId=person["id"])).body["phoneNumbers"][0]
    assert row["owner"] == {
        "id": person["id"],
        "type": "PEOPLE",
        "firstName": "Ann",
        "lastName": "Tester",
    }
    assert row["extension"] == "1001"
