"""The circuit breaker through a 503 outage and its recovery: under virtual time with many
workers over real sockets (exact trip, silence while open, probes, close), and for the whole
engine against the simulator (a long outage stops with exit 4, the next run finishes cleanly).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import itertools
import random
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import aiohttp
import attrs
import pytest
from aiohttp import web
from support import FakeClock, aside, writes_reach

from reliability import invariants
from reliability.conftest import scale
from reliability.mixed_file import write_mixed_file
from webex_bulk.config import Settings
from webex_bulk.credentials import Credentials
from webex_bulk.error_handling import ApiError, RetriesExhausted, RunAborted
from webex_bulk.http.breaker import BreakerState, CircuitBreaker
from webex_bulk.http.client import WebexClient

pytestmark = pytest.mark.timeout(90)


@attrs.frozen
class Transition:
    """A change of the breaker's state at a virtual time."""

    at: float
    state: BreakerState


class RecordingBreaker(CircuitBreaker):
    """A breaker that notes each change of state and the failures it counted while closed."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.transitions: list[Transition] = []
        self.failures_while_closed: list[float] = []

    def _note(self, now: float, before: BreakerState) -> None:
        after = self.state(now)
        if after is not before:
            self.transitions.append(Transition(now, after))

    def acquire(self, *, now: float) -> bool:
        """As the breaker says; the moment half-open begins is noted."""
        before = self.state(now)
        if before is BreakerState.HALF_OPEN and (
            not self.transitions or self.transitions[-1].state is not BreakerState.HALF_OPEN
        ):
            self.transitions.append(Transition(now, BreakerState.HALF_OPEN))
        return super().acquire(now=now)

    def record_failure(self, now: float) -> None:
        """As the breaker does; a failure counted while closed is noted."""
        before = self.state(now)
        if before is BreakerState.CLOSED:
            self.failures_while_closed.append(now)
        super().record_failure(now)
        self._note(now, before)

    def record_success(self, now: float) -> None:
        """As the breaker does."""
        before = self.state(now)
        super().record_success(now)
        self._note(now, before)


@attrs.frozen
class Hit:
    """A request as the server saw it: virtual time, answer, and the client breaker's state and
    number of transitions so far when it arrived."""

    at: float
    status: int
    state: BreakerState = BreakerState.CLOSED
    period: int = 0


class OutageServer:
    """Answers 503 during ``[start, end)`` of virtual time, else ``answer()``; records hits."""

    def __init__(self, clock: FakeClock, start: float, end: float) -> None:
        self.clock = clock
        self.start = start
        self.end = end
        self.hits: list[Hit] = []
        self.answer: Callable[[], int] = lambda: 200
        self.breaker: RecordingBreaker | None = None

    async def handle(self, request: web.Request) -> web.Response:
        """One request: outage or the normal answer."""
        now = self.clock.now
        status = 503 if self.start <= now < self.end else self.answer()
        if self.breaker is None:
            self.hits.append(Hit(now, status))
        else:
            state = self.breaker.state(now)
            self.hits.append(Hit(now, status, state, len(self.breaker.transitions)))
        headers = {"Retry-After": "1"} if status in (429, 423) else {}
        return web.json_response({"message": "x", "id": "1"}, status=status, headers=headers)

    def during(self, low: float, high: float) -> list[Hit]:
        """Hits strictly after ``low`` and strictly before ``high``."""
        return [hit for hit in self.hits if low < hit.at < high]


@contextlib.asynccontextmanager
async def serving(server: OutageServer) -> AsyncIterator[str]:
    """Serve ``server`` on 127.0.0.1 (ephemeral port); yields the base URL."""
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", server.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    try:
        yield f"http://{host}:{port}/v1"
    finally:
        await runner.cleanup()


def client_for(
    session: aiohttp.ClientSession, base_url: str, clock: FakeClock, **overrides: Any
) -> tuple[WebexClient, RecordingBreaker]:
    """A client on virtual time with a recording breaker built from the settings; its
    concurrency pinned, as the virtual clock counts sleeping workers, not requests waiting for
    a place in flight (sized from a latency of 0 on this clock, the place limit would be 4)."""
    values: dict[str, Any] = {"base_url": base_url, "rate": 1000.0, "concurrency": 8}
    values.update(overrides)
    settings = Settings(**values)
    breaker = RecordingBreaker(
        settings.breaker_threshold,
        settings.breaker_cooldown,
        settings.breaker_cooldown_max,
        settings.breaker_max_open,
        settings.breaker_probes,
    )
    client = WebexClient(
        settings,
        Credentials(access_token="tok"),
        session,
        breaker,
        run_id="breaker",
        clock=clock,
        sleep=clock.sleep,
        rng=random.Random(3),
    )
    return client, breaker


async def workers(
    client: WebexClient, clock: FakeClock, count: int, until: float
) -> dict[str, int]:
    """``count`` workers each send one GET per virtual second until ``until``; their fates."""
    fates: dict[str, int] = {"ok": 0, "exhausted": 0, "aborted": 0, "rejected": 0}

    async def work(index: int) -> None:
        with clock.worker():
            while clock.now < until:
                try:
                    await client.request("GET", f"/people/{index}")
                    fates["ok"] += 1
                except RetriesExhausted:
                    fates["exhausted"] += 1
                except ApiError:
                    fates["rejected"] += 1
                except RunAborted:
                    fates["aborted"] += 1
                    return
                await clock.sleep(1.0)

    async with asyncio.timeout(60), asyncio.TaskGroup() as group:
        for index in range(count):
            group.create_task(work(index))
    return fates


async def test_outage_trips_at_the_threshold_goes_silent_probes_and_closes() -> None:
    """8 workers through a 503 outage from t=10 s to t=75 s (virtual): the breaker opens on the
    5th consecutive failure; while open no request reaches the server; each half-open period
    lets at most the 2 configured probes through; the cooldown doubles up to its cap; once the
    outage is over two probes succeed, the breaker closes and traffic resumes."""
    clock = FakeClock(0.0, mode="workers")
    server = OutageServer(clock, start=10.0, end=75.0)
    async with serving(server) as base_url, aiohttp.ClientSession() as session:
        client, breaker = client_for(
            session,
            base_url,
            clock,
            breaker_threshold=5,
            breaker_cooldown=10.0,
            breaker_cooldown_max=20.0,
            breaker_probes=2,
            breaker_max_open=1000.0,
            max_attempts=10,
            retry_budget=1.0,
            backoff_base=0.5,
            backoff_cap=1.0,
        )
        server.breaker = breaker
        fates = await workers(client, clock, count=8, until=120.0)
    states = [(t.at, t.state) for t in breaker.transitions]
    first_open = states[0]
    assert first_open[1] is BreakerState.OPEN
    assert len(breaker.failures_while_closed) == 5
    assert breaker.failures_while_closed[-1] == first_open[0]
    opens = [t for t in breaker.transitions if t.state is BreakerState.OPEN]
    halves = [t for t in breaker.transitions if t.state is BreakerState.HALF_OPEN]
    # Cooldowns 10, 20, 20, 20: probes at +10, then every 20 s until the outage ends at 75 s.
    cooldowns = [half.at - opened.at for opened, half in zip(opens, halves, strict=False)]
    assert cooldowns == [10.0, 20.0, 20.0, 20.0]
    for opened, half in zip(opens, halves, strict=False):
        assert server.during(opened.at, half.at) == []  # silence while open
    # Silence while open: a request reaching the server while the breaker is open can only be
    # a probe that left before a sibling probe's failure reopened it, at that same instant.
    for hit in server.hits:
        if hit.state is BreakerState.OPEN:
            reopened = breaker.transitions[hit.period - 1]
            assert reopened.state is BreakerState.OPEN
            assert hit.at == reopened.at, hit
    probing = [hit for hit in server.hits if hit.state is BreakerState.HALF_OPEN]
    per_period = collections.Counter(hit.period for hit in probing)
    assert len(per_period) == len(halves)
    assert all(1 <= count <= 2 for count in per_period.values())  # never more than the probes
    assert states[-1][1] is BreakerState.CLOSED
    last = max(per_period)
    assert [hit.status for hit in probing if hit.period == last] == [200, 200]  # they close it
    assert halves[-1].at >= 75.0
    assert breaker.trips == 1
    late = [hit for hit in server.hits if hit.at > states[-1][0]]
    assert late
    assert all(hit.status == 200 for hit in late)
    assert fates["aborted"] == 0
    assert fates["ok"] > 0


async def test_a_long_outage_aborts_after_max_open_with_only_the_probes_sent() -> None:
    """An outage that never ends: after the trip only the probes reach the server (2 per
    half-open period, cooldowns 10, 20, 40, 40 s), and once the breaker has been open 100 s in
    total every worker gets RunAborted instead of waiting on."""
    clock = FakeClock(0.0, mode="workers")
    server = OutageServer(clock, start=5.0, end=10_000.0)
    async with serving(server) as base_url, aiohttp.ClientSession() as session:
        client, breaker = client_for(
            session,
            base_url,
            clock,
            breaker_threshold=5,
            breaker_cooldown=10.0,
            breaker_cooldown_max=40.0,
            breaker_probes=2,
            breaker_max_open=100.0,
            max_attempts=10,
            retry_budget=1.0,
            backoff_base=0.0,
        )
        fates = await workers(client, clock, count=8, until=1_000.0)
    opened = breaker.transitions[0]
    assert opened.state is BreakerState.OPEN
    after = [hit.at - opened.at for hit in server.hits if hit.at > opened.at]
    assert after == [10.0, 10.0, 30.0, 30.0, 70.0, 70.0]
    assert fates["aborted"] == 8
    assert clock.now == pytest.approx(opened.at + 100.0, abs=0.02)


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_4xx_and_rate_limits_never_trip_even_a_threshold_of_one(seed: int) -> None:
    """A storm of 400, 404, 409, 429 and 423 answers to 8 workers leaves a breaker of
    threshold 1 closed: they are answers about a row or the API protecting itself."""
    clock = FakeClock(0.0, mode="workers")
    server = OutageServer(clock, start=-1.0, end=-1.0)
    # A few rate-limited answers only: each lowers the (real-time) limiter's rate.
    answers = [429] * 3 + [423] * 3 + [400, 404, 409] * 25 + [200] * 25
    random.Random(seed).shuffle(answers)
    server.answer = lambda: answers.pop() if answers else 200
    async with serving(server) as base_url, aiohttp.ClientSession() as session:
        client, breaker = client_for(session, base_url, clock, breaker_threshold=1)
        fates = await workers(client, clock, count=8, until=30.0)
    statuses = {hit.status for hit in server.hits}
    assert {400, 404, 409, 429, 423} <= statuses
    assert breaker.transitions == []
    assert breaker.trips == 0
    assert fates["rejected"] > 0


# -- the whole engine ----------------------------------------------------------------------------


async def _when(sim: Any, writes: int, knobs: dict[str, Any]) -> None:
    """Once the simulator has seen ``writes`` writes, change its knobs."""
    await writes_reach(sim, writes)
    await aside(sim, "config", knobs)


def split_probes(times: list[float], first_cooldown: float) -> tuple[list[float], list[float]]:
    """Split 503 arrival times into the burst before the trip and the probes after it: the
    probes start at the first gap of at least a cooldown."""
    for index, (earlier, later) in enumerate(itertools.pairwise(times)):
        if later - earlier >= first_cooldown - 0.005:
            return times[: index + 1], times[index + 1 :]
    return times, []


#: The first cooldown of the outage test: long next to how late a loaded machine delivers a
#: request already in flight (tens of ms), so a late one is not taken for a probe.
OUTAGE_COOLDOWN = 0.2


async def test_long_outage_stops_with_4_and_the_next_runs_finish_cleanly(
    simulator: Any, run_engine: Any, tmp_path: Path, figures: Any
) -> None:
    """A 503 outage mid-run: the breaker opens, the simulator sees only a bounded number of
    requests while it lasts (threshold + those in flight + one probe per half-open period), the
    run stops with exit 4 past breaker_max_open; the resume finishes every row (I1), nothing
    was created twice (I2), every object maps to a row (I3), and one more run sends no write
    (I5)."""
    rows = scale(60, 2000)
    csv_path = write_mixed_file(tmp_path / "outage.csv", rows, seed=4)
    knobs = {"latency": {"default": {"median": 0.005, "p99": 0.01}}}
    breaker = {
        "concurrency": 4,
        "breaker_threshold": 3,
        "breaker_cooldown": OUTAGE_COOLDOWN,
        "breaker_max_open": 8 * OUTAGE_COOLDOWN,
        "max_attempts": 10,
        "retry_budget": 1.0,
    }
    async with simulator(**knobs) as sim:
        baseline = await aside(sim, "state")
        outage = asyncio.create_task(_when(sim, rows // 6, {"outage": True}))
        stopped = await run_engine(sim, csv_path, **breaker)
        invariants.check_i1(stopped.result.run_dir, csv_path, complete=False)
        stopped_counts = sum(stopped.result.summary["by_status"].values())
        await outage
        during = await aside(sim, "counts")
        await aside(sim, "config", {"outage": False})
        resumed = await run_engine(sim, csv_path)
        # Checked now: --fresh below sets this run directory aside.
        invariants.check_i1(resumed.result.run_dir, csv_path)
        state = await aside(sim, "state")
        invariants.check_i3(state, resumed.result.run_dir, baseline=baseline)
        before = await aside(sim, "counts")
        again = await run_engine(sim, csv_path, fresh=True)
        after = await aside(sim, "counts")
        creates = await aside(sim, "creates")
    unavailable = int(during["by_status"].get("503", 0))
    times = sorted(record["t"] for record in during["recent"] if record["status"] == 503)
    assert len(times) == unavailable > 0
    burst, probes = split_probes(times, first_cooldown=OUTAGE_COOLDOWN)
    # Before the trip: the threshold, plus what was in flight (a late success from before the
    # outage may reset the count once per worker).
    assert len(burst) <= 3 + 2 * 4
    # After it: one probe per half-open period, each a doubled cooldown after the previous
    # failure; cooldowns 1 + 2 + 4 of them fit in the 8 the breaker may stay open.
    assert 1 <= len(probes) <= 4
    for index, (previous, probe) in enumerate(itertools.pairwise([burst[-1], *probes])):
        assert probe - previous >= OUTAGE_COOLDOWN * 2**index - 0.005
    assert stopped.exit_code == 4
    assert stopped.result.summary["breaker_trips"] >= 1
    assert resumed.exit_code in (0, 3)
    invariants.check_i2(creates)
    invariants.check_i5(before, after, again.result.run_dir)
    figures(
        rows=rows,
        answered_503_during_outage=unavailable,
        probes=len(probes),
        breaker_trips=stopped.result.summary["breaker_trips"],
        rows_done_before_stop=stopped_counts,
    )
