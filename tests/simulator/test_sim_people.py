"""People routes and the calling-user rules."""

from __future__ import annotations

import base64
from pathlib import Path

from .builders import add_numbers, license_id, make_location, make_user, tenant_config, user_body
from .conftest import Api, StartSim


async def test_create_calling_user_returns_calling_fields(api: Api) -> None:
    """A calling user is created with 200 and shows extension, location and work number."""
    location = await make_location(api)
    await add_numbers(api, location, "+12025550100")
    person = await make_user(
        api, "ann@example.com", location, extension="1001", number="+12025550100"
    )
    assert person["extension"] == "1001"
    assert person["locationId"] == location
    assert {"type": "work", "value": "+12025550100", "primary": True} in person["phoneNumbers"]
    assert person["emails"] == ["ann@example.com"]


async def test_calling_fields_only_with_calling_data(api: Api) -> None:
    """Without callingData=true a person's extension and location are not shown."""
    location = await make_location(api)
    person = await make_user(api, "ann@example.com", location, extension="1001")
    plain = await api.get(f"/people/{person['id']}")
    assert "extension" not in plain.body
    assert "locationId" not in plain.body
    calling = await api.get(f"/people/{person['id']}", callingData="true")
    assert calling.body["extension"] == "1001"


async def test_duplicate_email_is_409(api: Api) -> None:
    """A second person with the same email (any case) is refused with 409."""
    await api.post("/people", {"emails": ["ann@example.com"], "displayName": "Ann"})
    answer = await api.post("/people", {"emails": ["ANN@example.com"], "displayName": "Ann"})
    assert answer.status == 409
    assert answer.body["trackingId"]


async def test_missing_required_fields_are_400(api: Api) -> None:
    """emails is required, and so is one of the name fields."""
    assert (await api.post("/people", {"displayName": "No Mail"})).status == 400
    assert (await api.post("/people", {"emails": ["x@example.com"]})).status == 400


async def test_calling_user_needs_location_and_line(api: Api) -> None:
    """A calling license without a location, or without extension and number, is refused."""
    location = await make_location(api)
    pro = await license_id(api)
    no_location = {
        "emails": ["a@example.com"],
        "displayName": "A",
        "licenses": [pro],
        "extension": "10",
    }
    assert (await api.post("/people", no_location)).status == 400
    no_line = user_body("b@example.com", location, pro)
    answer = await api.post("/people", no_line)
    assert answer.status == 400
    assert answer.body["errorCode"] == 25235


async def test_calling_user_needs_calling_enabled_location(api: Api) -> None:
    """A location that is not enabled for calling cannot host a calling user."""
    location = await make_location(api, calling=False)
    body = user_body("a@example.com", location, await license_id(api), extension="1001")
    answer = await api.post("/people", body)
    assert answer.status == 400
    assert answer.body["errorCode"] == 25227


async def test_extension_without_calling_license_is_400(api: Api) -> None:
    """An extension needs a calling license."""
    body = {"emails": ["a@example.com"], "displayName": "A", "extension": "1001"}
    assert (await api.post("/people", body)).status == 400


async def test_extension_unique_per_location(api: Api) -> None:
    """The same extension twice in a location is 409; in another location it is fine."""
    first = await make_location(api, "First")
    second = await make_location(api, "Second")
    await make_user(api, "a@example.com", first, extension="1001")
    pro = await license_id(api)
    clash = await api.post("/people", user_body("b@example.com", first, pro, extension="1001"))
    assert clash.status == 409
    assert clash.body["errorCode"] == 25224
    elsewhere = await api.post("/people", user_body("c@example.com", second, pro, extension="1001"))
    assert elsewhere.status == 200


async def test_number_rules(api: Api) -> None:
    """A number must be in the location's inventory and free; a taken one is 409 25223/8363."""
    hq = await make_location(api, "HQ")
    branch = await make_location(api, "Branch")
    await add_numbers(api, hq, "+12025550100")
    pro = await license_id(api)
    unknown = await api.post("/people", user_body("a@example.com", hq, pro, number="+12025559999"))
    assert (unknown.status, unknown.body["errorCode"]) == (400, 25225)
    other = await api.post(
        "/people", user_body("b@example.com", branch, pro, number="+12025550100")
    )
    assert (other.status, other.body["errorCode"]) == (400, 25226)
    await make_user(api, "c@example.com", hq, number="+12025550100")
    taken = await api.post("/people", user_body("d@example.com", hq, pro, number="+12025550100"))
    assert taken.status == 409
    assert taken.body["errorCode"] == 25223
    assert taken.body["errors"][0]["errorCode"] == 8363
    assert taken.body["message"].startswith("[Error 25223]")


async def test_license_units_are_counted(api: Api) -> None:
    """Creating a calling user consumes a unit; deleting the user gives it back."""
    location = await make_location(api)
    person = await make_user(api, "a@example.com", location, extension="1001")
    pro = await license_id(api)

    async def consumed() -> int:
        items = (await api.get("/licenses")).body["items"]
        return next(int(i["consumedByUsers"]) for i in items if i["id"] == pro)

    assert await consumed() == 1
    assert (await api.delete(f"/people/{person['id']}")).status == 204
    assert await consumed() == 0


async def test_list_by_email_and_display_name_prefix(api: Api) -> None:
    """email matches exactly, displayName matches a case-insensitive prefix."""
    for name in ("Harold Smith", "Harriet Jones", "Bob Harold"):
        email = name.replace(" ", ".").lower() + "@example.com"
        await api.post("/people", {"emails": [email], "displayName": name})
    by_email = await api.get("/people", email="harold.smith@example.com")
    assert [p["displayName"] for p in by_email.body["items"]] == ["Harold Smith"]
    by_prefix = await api.get("/people", displayName="har")
    assert sorted(p["displayName"] for p in by_prefix.body["items"]) == [
        "Harold Smith",
        "Harriet Jones",
    ]


async def test_cursor_paging_follows_full_next_links(api: Api) -> None:
    """Pages chain through absolute Link URLs on the server until every person was listed."""
    for index in range(7):
        await api.post(
            "/people", {"emails": [f"p{index}@example.com"], "displayName": f"P {index}"}
        )
    seen: list[str] = []
    answer = await api.get("/people", max="3")
    pages = 1
    while "Link" in answer.headers:
        link = answer.headers["Link"]
        assert link.endswith('>; rel="next"')
        url = link[1 : link.index(">")]
        assert url.startswith(api.sim.root_url + "/v1/people?")
        seen += [p["id"] for p in answer.body["items"]]
        answer = await api.call("GET", url)
        pages += 1
    seen += [p["id"] for p in answer.body["items"]]
    assert pages == 3
    assert len(seen) == len(set(seen)) == 8  # the admin plus seven


async def test_page_caps_with_calling_data_and_location(api: Api) -> None:
    """max is capped at 100 with callingData and at 50 with locationId."""
    location = await make_location(api)
    for index in range(120):
        body = {"emails": [f"p{index}@example.com"], "displayName": f"P {index}"}
        assert (await api.post("/people", body)).status == 200
    calling = await api.get("/people", max="1000", callingData="true")
    assert len(calling.body["items"]) == 100
    assert "Link" in calling.headers
    for index in range(60):
        await make_user(api, f"c{index}@example.com", location, extension=str(2000 + index))
    by_location = await api.get("/people", max="1000", locationId=location, callingData="true")
    assert len(by_location.body["items"]) == 50


async def test_id_filter_lists_found_and_not_found(api: Api) -> None:
    """id= takes up to 85 ids and names the unknown ones in notFoundIds."""
    person = (await api.post("/people", {"emails": ["a@example.com"], "displayName": "A"})).body
    answer = await api.get("/people", id=f"{person['id']},nope")
    assert [p["id"] for p in answer.body["items"]] == [person["id"]]
    assert answer.body["notFoundIds"] == ["nope"]
    too_many = ",".join(f"id{index}" for index in range(86))
    assert (await api.get("/people", id=too_many)).status == 400


async def test_put_is_a_full_replace(api: Api) -> None:
    """PUT clears optional fields, numbers and extension the body omits."""
    location = await make_location(api)
    await add_numbers(api, location, "+12025550100")
    pro = await license_id(api)
    body = user_body("a@example.com", location, pro, extension="1001", number="+12025550100")
    body.update(department="Sales", title="Boss")
    person = (await api.post("/people?callingData=true", body)).body
    replace = {
        "displayName": "Ann Other",
        "emails": ["a@example.com"],
        "licenses": [pro],
        "locationId": location,
        "extension": "1002",
    }
    answer = await api.put(f"/people/{person['id']}?callingData=true", replace)
    assert answer.status == 200
    updated = answer.body
    assert updated["displayName"] == "Ann Other"
    assert "department" not in updated
    assert "title" not in updated
    assert updated["extension"] == "1002"
    assert not [n for n in updated["phoneNumbers"] if n["type"] == "work"]
    numbers = await api.get("/telephony/config/numbers", phoneNumber="+12025550100")
    assert "owner" not in numbers.body["phoneNumbers"][0]


async def test_put_without_licenses_removes_calling(api: Api) -> None:
    """A PUT that lists no licenses removes the calling license and frees the line."""
    location = await make_location(api)
    person = await make_user(api, "a@example.com", location, extension="1001")
    answer = await api.put(f"/people/{person['id']}?callingData=true", {"displayName": "A"})
    assert answer.status == 200
    assert answer.body["licenses"] == []
    assert "extension" not in answer.body
    again = await make_user(api, "b@example.com", location, extension="1001")
    assert again["extension"] == "1001"


async def test_put_requires_display_name_and_keeps_location(api: Api) -> None:
    """displayName is required on PUT, and a calling user's location cannot change there."""
    first = await make_location(api, "First")
    second = await make_location(api, "Second")
    person = await make_user(api, "a@example.com", first, extension="1001")
    assert (await api.put(f"/people/{person['id']}", {"emails": ["a@example.com"]})).status == 400
    move = {
        "displayName": "A",
        "licenses": person["licenses"],
        "locationId": second,
        "extension": "1001",
    }
    answer = await api.put(f"/people/{person['id']}", move)
    assert (answer.status, answer.body["errors"][0]["errorCode"]) == (400, 400104)


async def test_get_by_bare_uuid_and_unknown_id(api: Api) -> None:
    """GET accepts the bare uuid of a person id; an unknown id is 404 with a tracking id."""
    person = (await api.post("/people", {"emails": ["a@example.com"], "displayName": "A"})).body
    decoded = base64.urlsafe_b64decode(person["id"] + "==").decode()
    uuid = decoded.rsplit("/", 1)[1]
    assert (await api.get(f"/people/{uuid}")).body["id"] == person["id"]
    missing = await api.get("/people/unknown")
    assert missing.status == 404
    assert set(missing.body) == {"message", "errors", "trackingId"}


async def test_delete_frees_extension_and_number(api: Api) -> None:
    """Deleting a calling user frees its extension and number for someone else."""
    location = await make_location(api)
    await add_numbers(api, location, "+12025550100")
    person = await make_user(
        api, "a@example.com", location, extension="1001", number="+12025550100"
    )
    assert (await api.delete(f"/people/{person['id']}")).status == 204
    assert (await api.get(f"/people/{person['id']}")).status == 404
    again = await make_user(api, "b@example.com", location, extension="1001", number="+12025550100")
    assert again["extension"] == "1001"


async def test_routing_prefix_adds_work_extension(start_sim: StartSim, tmp_path: Path) -> None:
    """In a location with a routing prefix a calling user also shows a work_extension number."""
    tenant = {"locations": [{"name": "HQ", "routingPrefix": "8001"}]}
    api = await start_sim(tenant_config(tmp_path, tenant))
    location = (await api.get("/locations", name="HQ")).body["items"][0]["id"]
    person = await make_user(api, "a@example.com", location, extension="1001")
    assert {"type": "work_extension", "value": "80011001"} in person["phoneNumbers"]
