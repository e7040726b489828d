"""The engine under the faults a real tenant shows: unknown outcomes, 429 storms, expired tokens,
5xx outages, deadlines and locks. Each run is against the simulator over real HTTP."""

from __future__ import annotations

import asyncio
import collections
import itertools
import logging
import signal
from pathlib import Path
from typing import Any

import pytest
from support import aside, until, write_csv, writes_reach

from webex_bulk.credentials import Credentials
from webex_bulk.engine import Caps, StopControl
from webex_bulk.error_handling import AuthError, LockError
from webex_bulk.models import EntityType
from webex_bulk.state.lock import RunLock

USERS = """
entity_type,name,time_zone,address1,city,state,postal_code,country,email,first_name,last_name,location,extension
location,Fault Lab,America/New_York,1 Main St,Boston,MA,02110,US,,,,,
"""


def users_csv(path: Path, count: int) -> Path:
    """A location and ``count`` calling users in it."""
    rows = [
        f"user,,,,,,,,user{i:04d}@example.com,First{i},Last{i},Fault Lab,{3000 + i}"
        for i in range(count)
    ]
    return write_csv(path, USERS + "\n".join(rows))


def every_line_once(run: Any, expected: int) -> None:
    """Every input row is in exactly one output, exactly once."""
    seen: collections.Counter[int] = collections.Counter()
    for status in ("success", "rejected", "pending"):
        seen.update(int(row["_line"]) for row in run.rows(status))
    assert len(seen) == expected
    assert set(seen.values()) == {1}


async def test_create_committed_then_connection_dropped_is_adopted(
    simulator, run_engine, tmp_path
) -> None:
    """Creates whose answer is lost after the commit end success, created once each."""
    csv_path = users_csv(tmp_path / "u.csv", 20)
    async with simulator(drop_after_probability=0.5, seed=7) as sim:
        # Half of all answers are lost, reads included, and every re-send is a counted retry of
        # the policy (none hidden in aiohttp): room for them, so the test is about the creates.
        run = await run_engine(sim, csv_path, max_attempts=10, retry_budget=1.0)
        creates = await aside(sim, "creates")
        counts = await aside(sim, "counts")
    assert counts["by_status"].get("dropped", 0) > 0
    assert run.exit_code == 0
    assert creates["duplicates"] == {}
    assert len(creates["people"]) == 20
    every_line_once(run, 21)


async def test_400_but_created_users_end_success_once(simulator, run_engine, tmp_path) -> None:
    """People POSTs answered 400 although the user was created end success, one user each."""
    csv_path = users_csv(tmp_path / "u.csv", 10)
    async with simulator(created_400_probability=1.0) as sim:
        run = await run_engine(sim, csv_path)
        creates = await aside(sim, "creates")
    assert run.exit_code == 0
    assert creates["duplicates"] == {}
    assert len(creates["people"]) == 10


# An HTTP-date Retry-After has one-second resolution, so over real time its pause can round to
# zero and the check below could not fail: it is proven on a fake wall clock instead
# (test_connection_client.py::test_the_pause_is_global, reliability/test_retry_table.py).
@pytest.mark.parametrize("style", ["int", "missing", "malformed"])
async def test_429_storm_pauses_everyone_and_completes(
    simulator, run_engine, tmp_path, style: str
) -> None:
    """Under a 429 storm no request arrives while a pause holds, and the run completes."""
    csv_path = users_csv(tmp_path / "u.csv", 30)
    knobs = {"rate_limit": 20.0, "rate_burst": 4, "retry_after_style": style, "retry_after": 1}
    async with simulator(**knobs) as sim:
        run = await run_engine(
            sim, csv_path, rate=200.0, concurrency=IN_FLIGHT, retry_after_default=FALLBACK_PAUSE
        )
        counts = await aside(sim, "counts")
    assert run.exit_code == 0
    assert counts["by_status"].get("429", 0) > 0
    assert_no_request_during_pauses(counts["recent"], _pause_for(style), IN_FLIGHT)
    every_line_once(run, 31)


IN_FLIGHT = 16
#: The pause of a 429 without a usable Retry-After here: long enough that the margin for
#: requests already on the wire (half of it) holds on a loaded machine.
FALLBACK_PAUSE = 0.3


def _pause_for(style: str) -> float:
    # int announces 1 s; missing and malformed fall back to retry_after_default.
    return {"int": 1.0, "missing": FALLBACK_PAUSE, "malformed": FALLBACK_PAUSE}[style]


def assert_no_request_during_pauses(
    recent: list[dict[str, Any]], pause: float, in_flight: int
) -> None:
    """After a 429 is answered, nothing new is sent until the pause is over.

    Requests already on the wire when the 429 left may still land during the pause, and on a
    loaded machine the server may take them late: at most ``in_flight - 1`` of them. A client
    that kept sending through the pause would land its rate × pause requests there (60 and more).
    """
    for index, record in enumerate(recent):
        if record["status"] != 429:
            continue
        landed = []
        for later in recent[index + 1 :]:
            if later["t"] - record["t"] >= pause:
                break
            landed.append(later)
        assert len(landed) < in_flight, (record, landed)


async def test_a_rate_twice_the_limit_settles_at_it_in_one_burst(
    simulator, run_engine, tmp_path, caplog
) -> None:
    """A rate set at twice the server's limit meets it in one burst of 429s, which moves the rate
    straight to just below the limit (not to a fraction of the rate that met it), and the run
    completes without a second burst."""
    csv_path = users_csv(tmp_path / "u.csv", 80)
    caplog.set_level(logging.INFO, logger="webex_bulk.http")
    async with simulator(rate_limit=10.0, retry_after=1) as sim:
        run = await run_engine(sim, csv_path, rate=20.0, concurrency=8)
        counts = await aside(sim, "counts")
    assert run.exit_code == 0
    limited = [record["t"] for record in counts["recent"] if record["status"] == 429]
    assert limited
    assert all(b - a <= 1.0 for a, b in itertools.pairwise(limited))  # one burst
    changes = [getattr(r, "event_fields", {}) for r in caplog.records]
    settled = [c["new"] for c in changes if c.get("why") == "rate_limited"]
    assert len(settled) == 1
    assert 0.9 * 10.0 <= settled[0] <= 10.0
    every_line_once(run, 81)


async def test_expired_token_is_refreshed_once_and_the_run_completes(
    simulator, run_engine, tmp_path
) -> None:
    """A token that expires mid-run is refreshed and the run completes."""
    csv_path = users_csv(tmp_path / "u.csv", 60)
    # Webex announces lifetimes in whole seconds; the run lasts well over one.
    async with simulator(token_ttl=1, latency={"default": {"median": 0.04, "p99": 0.06}}) as sim:
        config = sim.simulator.config
        credentials = Credentials(
            access_token=sim.token,
            refresh_token=config.refresh_token,
            client_id=config.client_id,
            client_secret=config.client_secret,
        )
        run = await run_engine(sim, csv_path, credentials=credentials, concurrency=2)
        counts = await aside(sim, "counts")
    assert run.exit_code == 0
    assert counts["by_route"].get("POST /v1/access_token", 0) >= 1
    every_line_once(run, 61)


async def test_expired_token_without_refresh_stops_and_resumes(
    simulator, run_engine, tmp_path
) -> None:
    """Without refresh credentials an expired token stops the run (fatal); a later run resumes."""
    csv_path = users_csv(tmp_path / "u.csv", 40)
    async with simulator(token_ttl=0.3, latency={"default": {"median": 0.01, "p99": 0.02}}) as sim:
        with pytest.raises(AuthError):
            await run_engine(sim, csv_path, concurrency=2)
        await aside(sim, "config", {"token_ttl": 0})
        fresh_token = await _refreshed_token(sim)
        run = await run_engine(sim, csv_path, credentials=Credentials(access_token=fresh_token))
        creates = await aside(sim, "creates")
    assert run.exit_code == 0
    assert creates["duplicates"] == {}
    every_line_once(run, 41)


async def _refreshed_token(sim: Any) -> str:
    import aiohttp

    config = sim.simulator.config
    form = {
        "grant_type": "refresh_token",
        "client_id": config.client_id,
        "client_secret": config.client_secret,
        "refresh_token": config.refresh_token,
    }
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{sim.base_url}/access_token", data=form) as answer,
    ):
        return str((await answer.json())["access_token"])


async def test_outage_opens_the_breaker_stops_with_4_and_resumes(
    simulator, run_engine, tmp_path
) -> None:
    """A 503 outage opens the breaker; past breaker_max_open the run stops (4); later it ends."""
    csv_path = users_csv(tmp_path / "u.csv", 40)
    async with simulator(latency={"default": {"median": 0.01, "p99": 0.02}}) as sim:
        outage = asyncio.create_task(when_writes_reach(sim, 10, {"outage": True}))
        stopped = await run_engine(
            sim,
            csv_path,
            concurrency=2,
            breaker_threshold=3,
            breaker_cooldown=0.05,
            breaker_max_open=0.3,
        )
        await outage
        await aside(sim, "config", {"outage": False})
        resumed = await run_engine(sim, csv_path)
        creates = await aside(sim, "creates")
    assert stopped.exit_code == 4
    assert stopped.result.summary["breaker_trips"] >= 1
    assert resumed.exit_code == 0
    assert creates["duplicates"] == {}
    every_line_once(resumed, 41)


async def when_writes_reach(
    sim: Any, writes: int, knobs: dict[str, Any] | None, stop: StopControl | None = None
) -> None:
    """Once the simulator has seen ``writes`` writes: change its knobs, or send SIGTERM."""
    await writes_reach(sim, writes)
    if knobs is not None:
        await aside(sim, "config", knobs)
    if stop is not None:
        stop.on_signal(signal.SIGTERM)


async def people_created(sim: Any, count: int) -> None:
    """Return once ``count`` people are committed in the tenant."""

    async def created() -> bool:
        return len((await aside(sim, "creates"))["people"]) >= count

    await until(created, f"{count} people created")


async def when_people_created(sim: Any, count: int, stop: StopControl) -> None:
    """Send SIGTERM once ``count`` people are committed in the tenant."""
    await people_created(sim, count)
    stop.on_signal(signal.SIGTERM)


async def test_deadline_stops_cleanly_with_4_and_resume_completes(
    simulator, run_engine, tmp_path
) -> None:
    """When the time window closes the run stops with exit 4; the next run finishes the rest."""
    csv_path = users_csv(tmp_path / "u.csv", 60)
    latency = {"default": {"median": 0.02, "p99": 0.04}}
    asked: list[float] = []
    async with simulator(latency=latency) as sim:

        async def window_closes_after_ten_creates(seconds: float) -> None:
            asked.append(seconds)
            await people_created(sim, 10)

        stopped = await run_engine(
            sim,
            csv_path,
            seconds_left=8 * 3600,
            timer=window_closes_after_ten_creates,
            concurrency=2,
        )
        resumed = await run_engine(sim, csv_path)
        creates = await aside(sim, "creates")
    assert asked == [8 * 3600]
    assert stopped.exit_code == 4
    assert stopped.result.summary["stopped"] == "the deadline was reached"
    assert 10 <= stopped.result.summary["by_status"]["success"] < 61
    assert resumed.exit_code == 0
    assert creates["duplicates"] == {}
    every_line_once(resumed, 61)


async def test_sigterm_mid_run_exits_143_and_resume_completes(
    simulator, run_engine, tmp_path
) -> None:
    """A SIGTERM stops intake, commits what ended (143); the resume finishes every row once."""
    csv_path = users_csv(tmp_path / "u.csv", 60)
    latency = {"default": {"median": 0.02, "p99": 0.04}}
    async with simulator(latency=latency) as sim:
        stop = StopControl()
        signaller = asyncio.create_task(when_writes_reach(sim, 10, None, stop))
        stopped = await run_engine(sim, csv_path, stop=stop, concurrency=2)
        await signaller
        resumed = await run_engine(sim, csv_path)
        creates = await aside(sim, "creates")
    assert stopped.exit_code == 143
    assert 0 < stopped.result.summary["by_status"]["success"] < 61
    assert resumed.exit_code == 0
    assert creates["duplicates"] == {}
    every_line_once(resumed, 61)


async def test_a_locked_run_directory_refuses_a_second_run(simulator, run_engine, tmp_path) -> None:
    """A second run on a run directory held by another run fails naming the holder."""
    csv_path = users_csv(tmp_path / "u.csv", 2)
    async with simulator() as sim:
        first = await run_engine(sim, csv_path)
        with RunLock(first.result.run_dir), pytest.raises(LockError) as error:
            await run_engine(sim, csv_path)
    assert "pid" in str(error.value)


async def test_stop_with_requests_hanging_cancels_them_after_the_grace(
    simulator, run_engine, tmp_path
) -> None:
    """A signal while requests hang ends the run after the grace period (143) without waiting
    for their answers; the creates committed behind those answers are adopted on resume."""
    csv_path = users_csv(tmp_path / "u.csv", 30)
    async with simulator() as sim:
        await run_engine(sim, csv_path, caps=Caps(only=frozenset({EntityType.LOCATION})))
        await aside(sim, "config", {"stall_probability": 1.0, "stall_seconds": 30})
        stop = StopControl()
        signaller = asyncio.create_task(when_people_created(sim, 2, stop))
        stopped = await run_engine(sim, csv_path, stop=stop, shutdown_grace=0.2, concurrency=4)
        await signaller
        await aside(sim, "config", {"stall_probability": 0.0})
        resumed = await run_engine(sim, csv_path)
        creates = await aside(sim, "creates")
    assert stopped.exit_code == 143
    # Every user create hung after its commit; none got an outcome: the run did not wait.
    assert "user" not in stopped.result.summary["by_entity_type"]
    assert resumed.exit_code == 0
    assert creates["duplicates"] == {}
    every_line_once(resumed, 31)
