"""Side endpoints: counts, creates, state, reset and runtime config."""

from __future__ import annotations

from .builders import add_numbers, make_location, make_user
from .conftest import Api


async def test_counts_by_method_route_status_and_writes(api: Api) -> None:
    """Counts split requests by method, route template and status; writes exclude reads."""
    location = await make_location(api)
    await api.get(f"/locations/{location}")
    await api.get("/people/nobody")
    counts = await api.side("counts")
    assert counts["total"] == 4
    assert counts["writes"] == 2
    assert counts["by_method"] == {"POST": 2, "GET": 2}
    assert counts["by_route"]["GET /v1/locations/{locationId}"] == 1
    assert counts["by_route"]["POST /v1/telephony/config/locations"] == 1
    assert counts["by_status"] == {"201": 2, "200": 1, "404": 1}
    assert [entry["route"] for entry in counts["recent"]][-1] == "/v1/people/{personId}"
    assert set(counts["recent"][0]) == {"t", "method", "route", "status"}


async def test_side_endpoints_are_not_counted_and_need_no_token(api: Api) -> None:
    """/_sim requests need no token and are not counted."""
    await api.side("counts")
    await api.side("state")
    assert (await api.side("counts"))["total"] == 0


async def test_creates_ledger_keys_and_duplicates(api: Api) -> None:
    """Creates are counted per natural key; a key created twice is listed as a duplicate."""
    location = await make_location(api)
    await add_numbers(api, location, "+12025550100")
    await make_user(api, "ann@example.com", location, number="+12025550100")
    for _ in range(2):
        body = {"displayName": "Lobby", "locationId": location}
        assert (await api.post("/workspaces", body)).status == 201
    creates = await api.side("creates")
    assert creates["people"] == {"ann@example.com": 1}
    assert creates["locations"] == {"HQ": 1}
    assert creates["numbers"] == {"+12025550100": 1}
    assert creates["workspaces"] == {f"Lobby|{location}": 2}
    assert creates["duplicates"] == {"workspaces": {f"Lobby|{location}": 2}}


async def test_state_dump(api: Api) -> None:
    """The state dump lists the tenant's objects, optionally only some types."""
    location = await make_location(api)
    await make_user(api, "ann@example.com", location, extension="1001")
    state = await api.side("state")
    assert {p["email"] for p in state["people"]} == {"admin@example.com", "ann@example.com"}
    assert state["locations"][0]["calling"] is True
    only = await api.side("state?types=people")
    assert set(only) == {"org", "adminId", "people"}


async def test_reset_counters_and_tenant(api: Api) -> None:
    """Reset clears counters, the create ledger and (by default) the tenant."""
    await make_location(api)
    await api.side("reset", {"tenant": False})
    assert (await api.side("counts"))["total"] == 0
    assert (await api.side("creates"))["locations"] == {}
    assert (await api.get("/locations", name="HQ")).body["items"]
    await api.side("reset", {})
    assert (await api.get("/locations", name="HQ")).body["items"] == []


async def test_config_reads_and_merges(api: Api) -> None:
    """POST /_sim/config merges partial JSON, nested maps by key; bad values are 400."""
    config = await api.side("config")
    assert config["rate_limit"] == 0.0
    merged = await api.side("config", {"latency": {"people": {"median": 0.01, "p99": 0.05}}})
    merged = await api.side("config", {"latency": {"devices": [0.02, 0.04]}, "retry_after": 3})
    assert merged["latency"] == {
        "people": {"median": 0.01, "p99": 0.05},
        "devices": {"median": 0.02, "p99": 0.04},
    }
    assert merged["retry_after"] == 3.0
    url = f"{api.sim.root_url}/_sim/config"
    async with api.session.post(url, json={"locked_probability": 2}) as answer:
        assert answer.status == 400
    async with api.session.post(url, json={"no_such_knob": 1}) as answer:
        assert answer.status == 400
