"""Fault and load knobs: each is deterministic for a seed, and does what it says."""

from __future__ import annotations

import email.utils
import statistics

import aiohttp
import pytest
from support import FakeClock

from webex_bulk.simulator import Latency, SimConfig
from webex_bulk.simulator.faults import FaultPlan

from .builders import location_body
from .conftest import Api, StartSim

PERSON = {"emails": ["ann@example.com"], "displayName": "Ann"}


async def statuses(api: Api, count: int) -> list[int | str]:
    """Send ``count`` creates of distinct people; their statuses ("dropped" when cut)."""
    result: list[int | str] = []
    for index in range(count):
        try:
            answer = await api.post(
                "/people", {"emails": [f"p{index}@example.com"], "displayName": "P"}
            )
            result.append(answer.status)
        except aiohttp.ServerDisconnectedError:
            result.append("dropped")
    return result


async def test_same_seed_gives_same_faults(start_sim: StartSim) -> None:
    """Two simulators with the same seed answer the same request sequence identically."""
    knobs = {
        "locked_probability": 0.1,
        "error_probability": {"*": 0.2},
        "drop_before_probability": 0.1,
        "drop_after_probability": 0.1,
        "error_after_commit_probability": 0.1,
        "created_400_probability": 0.1,
    }
    first = await statuses(await start_sim(SimConfig(seed=11, **knobs)), 40)
    second = await statuses(await start_sim(SimConfig(seed=11, **knobs)), 40)
    other = await statuses(await start_sim(SimConfig(seed=12, **knobs)), 40)
    assert first == second
    assert first != other
    assert {423, 400, "dropped", 200} <= set(first)


async def test_rate_limit_token_bucket(start_sim: StartSim) -> None:
    """A burst of 2 passes, the third request is 429 with Retry-After; refill lets one through."""
    clock = FakeClock()
    api = await start_sim(SimConfig(rate_limit=0.5, rate_burst=2, retry_after=3), clock=clock)
    assert [(await api.get("/people/me")).status for _ in range(2)] == [200, 200]
    limited = await api.get("/people/me")
    assert limited.status == 429
    assert limited.headers["Retry-After"] == "3"
    clock.advance(2)
    assert (await api.get("/people/me")).status == 200
    assert (await api.get("/people/me")).status == 429
    counts = await api.side("counts")
    assert counts["by_status"] == {"200": 3, "429": 2}
    assert [entry["status"] for entry in counts["recent"]] == [200, 200, 429, 200, 429]
    assert counts["recent"][2]["t"] == 1_000.0
    assert counts["recent"][3]["t"] == 1_002.0


@pytest.mark.parametrize(
    ("style", "check"),
    [
        ("int", lambda value: value == "7"),
        ("missing", lambda value: value is None),
        ("malformed", lambda value: value == "rand(30),add(30)"),
        ("http-date", lambda value: email.utils.parsedate_to_datetime(value) is not None),
    ],
)
async def test_retry_after_styles(start_sim: StartSim, style: str, check: object) -> None:
    """Retry-After is written as an integer, left out, malformed or an HTTP date."""
    config = SimConfig(rate_limit=0.001, rate_burst=1, retry_after=6.5, retry_after_style=style)
    api = await start_sim(config, clock=FakeClock())
    await api.get("/people/me")
    limited = await api.get("/people/me")
    assert limited.status == 429
    assert check(limited.headers.get("Retry-After"))  # type: ignore[operator]


async def test_rate_limit_penalty_escalates(start_sim: StartSim) -> None:
    """Requests sent during the pause are refused and lengthen it; waiting it out works."""
    clock = FakeClock()
    config = SimConfig(rate_limit=1, rate_burst=1, retry_after=10, rate_limit_penalty=5)
    api = await start_sim(config, clock=clock)
    assert (await api.get("/people/me")).status == 200
    assert (await api.get("/people/me")).headers["Retry-After"] == "10"
    clock.advance(1)
    assert (await api.get("/people/me")).headers["Retry-After"] == "14"
    clock.advance(1)
    assert (await api.get("/people/me")).headers["Retry-After"] == "18"
    clock.advance(20)
    assert (await api.get("/people/me")).status == 200


async def test_rate_limit_is_per_token(start_sim: StartSim) -> None:
    """A refreshed token has its own bucket."""
    api = await start_sim(SimConfig(rate_limit=0.001, rate_burst=1), clock=FakeClock())
    await api.get("/people/me")
    assert (await api.get("/people/me")).status == 429
    await api.side("config", {"token": "second-token"})
    api.token = "second-token"
    assert (await api.get("/people/me")).status == 200


async def test_locked_423_changes_nothing(start_sim: StartSim) -> None:
    """A 423 carries Retry-After and the request had no effect."""
    api = await start_sim(SimConfig(locked_probability=1.0, retry_after=2))
    answer = await api.post("/people", PERSON)
    assert answer.status == 423
    assert answer.headers["Retry-After"] == "2"
    assert "ann@example.com" not in api.sim.state.person_by_email


async def test_injected_5xx_per_method(start_sim: StartSim) -> None:
    """error_probability applies to the methods it names, with the configured statuses."""
    api = await start_sim(SimConfig(error_probability={"POST": 1.0}, error_statuses=[502]))
    assert (await api.get("/people/me")).status == 200
    answer = await api.post("/people", PERSON)
    assert answer.status == 502
    assert answer.body["trackingId"]
    assert "ann@example.com" not in api.sim.state.person_by_email


async def test_drop_before_commit(start_sim: StartSim) -> None:
    """A connection dropped before the change leaves the tenant unchanged."""
    api = await start_sim(SimConfig(drop_before_probability=1.0))
    with pytest.raises(aiohttp.ServerDisconnectedError):
        await api.post("/people", PERSON)
    assert "ann@example.com" not in api.sim.state.person_by_email
    counts = await api.side("counts")
    assert counts["by_status"] == {"dropped": 1}
    assert counts["writes"] == 1


async def test_drop_after_commit(start_sim: StartSim) -> None:
    """A connection dropped after the change: no answer, but the person exists."""
    api = await start_sim(SimConfig(drop_after_probability=1.0))
    with pytest.raises(aiohttp.ServerDisconnectedError):
        await api.post("/people", PERSON)
    assert "ann@example.com" in api.sim.state.person_by_email
    assert (await api.side("creates"))["people"] == {"ann@example.com": 1}


async def test_error_after_commit(start_sim: StartSim) -> None:
    """A 5xx after commit: the write took effect although the answer says it failed."""
    api = await start_sim(SimConfig(error_after_commit_probability=1.0, error_statuses=[500]))
    assert (await api.get("/people/me")).status == 200  # reads are not affected
    assert (await api.post("/locations", location_body("HQ"))).status == 500
    assert "HQ" in api.sim.state.location_by_name


async def test_stall_past_client_timeout(start_sim: StartSim) -> None:
    """A stalled answer outlives the client's timeout; the change is already committed."""
    api = await start_sim(SimConfig(stall_probability=1.0, stall_seconds=30))
    timeout = aiohttp.ClientTimeout(total=0.2)
    url = f"{api.sim.base_url}/people"
    with pytest.raises(TimeoutError):
        async with api.session.post(url, json=PERSON, headers=api.sim.headers, timeout=timeout):
            pass
    assert "ann@example.com" in api.sim.state.person_by_email


async def test_400_but_created(start_sim: StartSim) -> None:
    """POST /people may answer 400 although the person was created."""
    api = await start_sim(SimConfig(created_400_probability=1.0))
    answer = await api.post("/people", PERSON)
    assert answer.status == 400
    found = await api.get("/people", email="ann@example.com")
    assert len(found.body["items"]) == 1
    assert (await api.post("/locations", location_body("HQ"))).status == 201  # people POST only


async def test_consistency_lag_hides_new_objects_from_lists(start_sim: StartSim) -> None:
    """A new object is missing from list results during the lag, but GET by id finds it."""
    clock = FakeClock()
    api = await start_sim(SimConfig(consistency_lag=5), clock=clock)
    person = (await api.post("/people", PERSON)).body
    location = (await api.post("/locations", location_body("HQ"))).body
    assert (await api.get("/people", email="ann@example.com")).body["items"] == []
    assert (await api.get("/locations", name="HQ")).body["items"] == []
    assert (await api.get(f"/people/{person['id']}")).status == 200
    assert (await api.get(f"/locations/{location['id']}")).status == 200
    duplicate = await api.post("/people", PERSON)
    assert duplicate.status == 409  # conflict checks see the object at once
    clock.advance(5)
    assert len((await api.get("/people", email="ann@example.com")).body["items"]) == 1
    assert len((await api.get("/locations", name="HQ")).body["items"]) == 1


async def test_outage_switch_at_runtime(api: Api) -> None:
    """The outage switch answers 503 to every /v1 request until it is turned off."""
    await api.side("config", {"outage": True})
    assert (await api.get("/people/me")).status == 503
    assert (await api.call("GET", "/people/me", authorised=False)).status == 503
    await api.side("config", {"outage": False})
    assert (await api.get("/people/me")).status == 200


async def test_latency_knob_serves_requests(start_sim: StartSim) -> None:
    """With latency on, requests still succeed (the delay itself is measured by a unit test)."""
    api = await start_sim(SimConfig(latency={"default": {"median": 0.001, "p99": 0.003}}))
    assert (await api.get("/people/me")).status == 200


def test_latency_draws_are_seeded_lognormal() -> None:
    """Latency draws repeat for a seed and follow the configured median and 99th percentile."""
    config = SimConfig(latency={"people": Latency(0.1, 0.5)})
    first = [FaultPlan(5).delay(config, "people") for _ in range(1)]
    plan, again = FaultPlan(5), FaultPlan(5)
    draws = [plan.delay(config, "people") for _ in range(4000)]
    assert draws[:50] == [again.delay(config, "people") for _ in range(50)]
    assert first[0] == draws[0]
    assert 0.09 < statistics.median(draws) < 0.11
    assert 0.4 < sorted(draws)[int(0.99 * len(draws))] < 0.6
    assert FaultPlan(5).delay(config, "devices") == 0.0


async def test_next_link_can_drop_filters(start_sim: StartSim) -> None:
    """With the quirk on, next links keep only max and the cursor."""
    api = await start_sim(SimConfig(next_link_drops_filters=True))
    for index in range(3):
        await api.post(
            "/people", {"emails": [f"h{index}@example.com"], "displayName": f"Hal {index}"}
        )
    answer = await api.get("/people", displayName="Hal", max="2")
    link = answer.headers["Link"]
    assert "displayName" not in link
    assert "max=2" in link
    assert "cursor=" in link
