"""A 429 storm: the simulator allows 5 requests/s per token with a burst of 5 and punishes a
request sent during a pause by lengthening it; the engine runs 40 workers. Read from the
simulator's own arrival times: no request arrives while a pause holds, no herd is released when
it ends, and once the rate has adapted 429s are rare.
"""

from __future__ import annotations

import asyncio
import logging
import math
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from support import aside

from reliability import invariants
from reliability.conftest import scale
from webex_bulk.config import Settings
from webex_bulk.credentials import Credentials
from webex_bulk.http import CircuitBreaker, WebexClient

pytestmark = pytest.mark.timeout(600)

SERVER_RATE = 5.0
BURST = 5
WORKERS = 40
#: A request already on the wire when a 429 left the server may land just after it.
IN_FLIGHT = 0.05
#: Traffic before this many seconds is the adaptation (the first storm and the climb back).
ADAPTATION = 8.0

HEADER = (
    "entity_type,name,time_zone,address1,city,state,postal_code,country,"
    "email,first_name,last_name,location,extension"
)


def users_csv(path: Path, count: int) -> Path:
    """A location and ``count`` calling users in it."""
    lines = [HEADER, "location,Storm HQ,America/New_York,1 Main St,Boston,MA,02110,US,,,,,"]
    lines += [
        f"user,,,,,,,,storm{i:05d}@example.com,First{i},Last{i},Storm HQ,{20_000 + i}"
        for i in range(count)
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def requests_during_pauses(recent: list[dict[str, Any]], pause: float) -> list[tuple[float, float]]:
    """(429 time, later arrival) pairs where a request arrived while a pause of at least
    ``pause`` seconds held (arrivals within ``IN_FLIGHT`` of the 429 excepted)."""
    found = []
    for index, record in enumerate(recent):
        if record["status"] != 429:
            continue
        for later in recent[index + 1 :]:
            gap = later["t"] - record["t"]
            if gap >= pause:
                break
            if gap > IN_FLIGHT:
                found.append((record["t"], later["t"]))
    return found


def busiest_window(times: list[float], width: float) -> int:
    """The most arrivals in any window of ``width`` seconds."""
    best = 0
    start = 0
    for end, at in enumerate(times):
        while at - times[start] >= width:
            start += 1
        best = max(best, end - start + 1)
    return best


def after_pauses(recent: list[dict[str, Any]], width: float) -> int:
    """The most arrivals within ``width`` seconds after a pause ended (a 429 + 1 s)."""
    times = [record["t"] for record in recent]
    ends = [record["t"] + 1.0 for record in recent if record["status"] == 429]
    return max((sum(1 for t in times if end <= t < end + width) for end in ends), default=0)


async def drain_the_bucket(sim: Any) -> int:
    """Spend the token's burst and one more just before the run (another client of the same
    token), so the run starts inside a pause; the number of requests sent."""
    async with aiohttp.ClientSession(headers=sim.headers) as session:

        async def one() -> None:
            async with session.get(f"{sim.base_url}/people/me") as answer:
                await answer.read()

        await asyncio.gather(*(one() for _ in range(BURST + 1)))
    return BURST + 1


@pytest.mark.parametrize("configured", [SERVER_RATE, 2 * SERVER_RATE], ids=["rate=R", "rate=2R"])
async def test_429_storm_with_40_workers(
    configured: float, simulator: Any, run_engine: Any, tmp_path: Path, figures: Any
) -> None:
    """The run starts inside a pause another client of the token caused. With the engine's rate
    at R or at 2R (the default 10/s against 5/s): no request reaches the server during a pause,
    at most one limiter burst follows the end of a pause (no herd of 40), the run completes
    (I1, I2), and after the adaptation 429s stay under 1 % of successes at rate R (under 5 % at
    2R, where the rate keeps probing above the limit)."""
    users = scale(6, 600)
    csv_path = users_csv(tmp_path / "storm.csv", users)
    knobs = {
        "rate_limit": SERVER_RATE,
        "rate_burst": BURST,
        "rate_limit_penalty": 1.0,
        "retry_after": 1.0,
        "recent_requests": 1_000_000,
    }
    async with simulator(**knobs) as sim:
        drained = await drain_the_bucket(sim)
        run = await run_engine(sim, csv_path, concurrency=WORKERS, rate=configured)
        counts = await aside(sim, "counts")
        creates = await aside(sim, "creates")
    assert len(counts["recent"]) == counts["total"]
    recent = counts["recent"][drained:]  # the engine's requests only
    start = recent[0]["t"]
    late = [record for record in recent if record["t"] - start >= ADAPTATION]
    late_429 = sum(1 for record in late if record["status"] == 429)
    late_ok = sum(1 for record in late if 200 <= int(record["status"]) < 300)
    violations = requests_during_pauses(recent, pause=1.0)
    times = [record["t"] for record in recent]
    capacity = math.ceil(configured)
    herd = after_pauses(recent, width=0.2)

    assert run.exit_code == 0
    invariants.check_i1(run.result.run_dir, csv_path)
    invariants.check_i2(creates)
    assert counts["by_status"].get("429", 0) >= 1, "the storm never happened"
    assert violations == []
    assert herd <= capacity
    assert busiest_window(times, 1.0) <= 2 * capacity  # a full limiter plus one second's refill
    allowed = 0.01 if configured == SERVER_RATE else 0.05
    assert late_429 <= max(1, allowed * late_ok)
    figures(
        users=users,
        configured_rate=configured,
        requests=counts["total"],
        answered_429=counts["by_status"].get("429", 0),
        late_429=late_429,
        late_successes=late_ok,
        late_429_per_success=round(late_429 / late_ok, 4) if late_ok else None,
        requests_during_pauses=len(violations),
        most_arrivals_200ms_after_a_pause=herd,
        most_arrivals_in_1s=busiest_window(times, 1.0),
        duration_s=round(times[-1] - start, 1),
        achieved_rate=round(len(times) / (times[-1] - start), 2),
    )


def test_the_pause_check_catches_a_request_sent_during_a_pause() -> None:
    """The check above can fail: a request 0.5 s after a 429 is reported, one 1.2 s after is
    not, and one within the in-flight margin is not."""
    recent = [
        {"t": 10.0, "status": 429},
        {"t": 10.01, "status": 200},
        {"t": 10.5, "status": 200},
        {"t": 11.2, "status": 200},
    ]
    assert requests_during_pauses(recent, pause=1.0) == [(10.0, 10.5)]
    assert busiest_window([0.0, 0.1, 0.2, 1.5, 1.6], 1.0) == 3
    assert after_pauses(recent, width=0.2) == 0
    bursts = [{"t": 1.0, "status": 429}] + [{"t": 2.0 + i * 0.01, "status": 200} for i in range(9)]
    assert after_pauses(bursts, width=0.2) == 9


async def test_the_rate_climbs_back_after_a_storm_of_punished_pauses(
    simulator: Any, figures: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """The server holds a 2 s pause (lengthened 0.5 s by each request sent during it) without
    saying how long (no Retry-After), while the client pauses its default 0.1 s: every pause
    ends in another 429 and the rate falls to its 0.5/s floor. Once the server's pause is over,
    the rate climbs back to 2/s within 12 successes instead of settling at the floor."""
    knobs = {
        "rate_limit": 50.0,
        "rate_burst": 10,
        "rate_limit_penalty": 0.5,
        "retry_after": 2.0,
        "retry_after_style": "missing",
        "recent_requests": 100_000,
    }
    caplog.set_level(logging.INFO, logger="webex_bulk.http")
    async with simulator(**knobs) as sim:
        async with aiohttp.ClientSession(headers=sim.headers) as session:
            # Another client of the token spends its burst: the run starts inside a pause. It
            # sends until refused (on a loaded machine eleven requests may not outrun the refill).
            for _ in range(1000):  # bounded; a few dozen at most
                async with session.get(f"{sim.base_url}/people/me") as answer:
                    await answer.read()
                if answer.status == 429:
                    break
        async with aiohttp.ClientSession() as session:
            settings = Settings(
                base_url=sim.base_url, rate=10.0, retry_after_default=0.1, backoff_base=0.0
            )
            client = WebexClient(
                settings,
                Credentials(access_token=sim.token),
                session,
                CircuitBreaker.from_settings(settings),
                run_id="punished",
            )
            calm = 0  # successes since the last 429

            async def worker() -> None:
                nonlocal calm
                for _ in range(200):  # bounded; the storm and the climb need far fewer
                    if calm >= 12 or (calm and client.rate >= 2.0):
                        return
                    limited = client.stats.rate_limited
                    await client.request("GET", "/people/me")
                    calm = calm + 1 if client.stats.rate_limited == limited else 0

            await asyncio.gather(*(worker() for _ in range(4)))
        counts = await aside(sim, "counts")
    changes = [getattr(r, "event_fields", {}) for r in caplog.records]
    lowered = [change["new"] for change in changes if change.get("why") == "rate_limited"]
    assert client.stats.rate_limited >= 5, "the storm never happened"
    assert min(lowered) == pytest.approx(0.5)  # RATE_FLOOR
    assert client.rate >= 2.0
    figures(
        answered_429=counts["by_status"].get("429", 0),
        requests=client.stats.requests,
        lowest_rate=min(lowered),
        calm_successes_to_2_per_s=calm,
    )
