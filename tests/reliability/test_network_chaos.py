"""Network chaos: a toxiproxy-like proxy on 127.0.0.1 between the engine and the simulator adds
latency with jitter, starves bandwidth, delays closes, swallows bytes, resets connections,
slices packets and cuts connections after some bytes — upstream and downstream, at several
toxicities. Every run ends within a bound, without a traceback, with each row in one output at
most once and no object created twice; a later run without toxics finishes the file. The
proxy's toxics are themselves checked against an echo server at the end of the file.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from support import aside

from reliability import invariants
from reliability.chaos_proxy import (
    Bandwidth,
    BlackHole,
    ChaosProxy,
    Latency,
    LimitData,
    ResetPeer,
    Slicer,
    SlowClose,
    Stream,
    Toxic,
)
from reliability.conftest import FULL, scale
from reliability.mixed_file import write_mixed_file
from webex_bulk.simulator import RunningSimulator

pytestmark = pytest.mark.timeout(900)


#: A run that takes longer than this has hung: the test fails instead of waiting.
RUN_BOUND = 120.0
#: Short timeouts and a short breaker window, so swallowed bytes cost little time.
SETTINGS: dict[str, Any] = {
    "read_timeout": 0.5,
    "connect_timeout": 0.5,
    "consistency_wait": 0.05,
    "breaker_cooldown": 0.05,
    "breaker_max_open": 2.0,
}
#: Where every byte is swallowed on purpose, shorter still.
BLACK_HOLE = {"read_timeout": 0.2, "connect_timeout": 0.2, "breaker_max_open": 0.6}


def toxic(kind: str, stream: Stream, toxicity: float) -> Toxic:
    """One toxic of each kind with parameters that hurt without making progress impossible."""
    made: dict[str, Toxic] = {
        "latency": Latency(stream=stream, toxicity=toxicity, latency=0.01, jitter=0.01),
        "bandwidth": Bandwidth(stream=stream, toxicity=toxicity, rate=256_000.0),
        "slow_close": SlowClose(stream=stream, toxicity=toxicity, delay=0.1),
        "black_hole": BlackHole(stream=stream, toxicity=toxicity, timeout=0.0),
        "reset_peer": ResetPeer(stream=stream, toxicity=toxicity, timeout=0.05),
        "slicer": Slicer(stream=stream, toxicity=toxicity, average_size=64, size_variation=48),
        # Smaller than a full page of people (~75 kB): at toxicity 1 such a page could never
        # arrive, so that case is left out of the matrix below.
        "limit_data": LimitData(stream=stream, toxicity=toxicity, limit=30_000),
    }
    return made[kind]


KINDS = ("latency", "bandwidth", "slow_close", "black_hole", "reset_peer", "slicer", "limit_data")
#: make test: each toxic once, alternating streams; make torture: every stream and toxicity.
SMALL_CASES = [
    ("latency", "downstream", 1.0),
    ("bandwidth", "downstream", 0.5),
    ("slow_close", "upstream", 1.0),
    ("black_hole", "downstream", 0.2),
    ("reset_peer", "upstream", 0.3),
    ("slicer", "downstream", 1.0),
    ("limit_data", "downstream", 0.5),
]
FULL_CASES = [
    (kind, stream, toxicity)
    for kind in KINDS
    for stream in ("upstream", "downstream")
    for toxicity in (0.1, 0.5, 1.0)
    # Every connection swallowed, reset from its first byte, or cut before a full page: the
    # preflight itself cannot pass. The mid-run black hole below is that case done right.
    if not (kind in ("black_hole", "reset_peer", "limit_data") and toxicity == 1.0)
]
CASES = FULL_CASES if FULL else SMALL_CASES


async def run_through(
    run_engine: Any, sim: RunningSimulator, proxy: ChaosProxy, csv_path: Path, **overrides: Any
) -> Any:
    """Run the engine against the simulator through the proxy; fail if it takes too long."""
    via = RunningSimulator(
        sim.root_url, f"http://127.0.0.1:{proxy.port}/v1", sim.token, sim.simulator
    )
    async with asyncio.timeout(RUN_BOUND):
        return await run_engine(via, csv_path, **{**SETTINGS, **overrides})


def assert_no_traceback(run: Any) -> None:
    """Neither the run's output nor its events.log holds a traceback or an internal error.

    The simulator runs in this process and logs through the same handlers: its records (a
    reset connection makes it log a failed route) are the server's, not the engine's.
    """
    assert "Traceback" not in run.output
    events = run.result.run_dir / "events.log"
    for line in events.read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        if record["logger"].startswith("webex_bulk.simulator"):
            continue
        assert record["event"] != "run.internal_error", record
        assert "exc" not in record, record


@pytest.mark.parametrize(("kind", "stream", "toxicity"), CASES)
async def test_toxics_never_hang_never_crash_and_lose_nothing(
    kind: str,
    stream: Stream,
    toxicity: float,
    simulator: Any,
    run_engine: Any,
    tmp_path: Path,
    figures: Any,
) -> None:
    """Through one toxic the run ends (no hang, no traceback) with each row in one output at
    most once (all of them unless it stopped early) and nothing created twice; a resume without
    the toxic completes every row, and a fresh run after it leaves no object unnamed (I3)."""
    rows = scale(60, 300)
    csv_path = write_mixed_file(tmp_path / "chaos.csv", rows, seed=KINDS.index(kind))
    # A little server latency keeps requests on the wire long enough for the toxics to bite.
    async with simulator(seed=7, latency={"default": {"median": 0.003, "p99": 0.02}}) as sim:
        baseline = await aside(sim, "state")
        host, port = sim.root_url.removeprefix("http://").split(":")
        proxy = ChaosProxy(host, int(port), [toxic(kind, stream, toxicity)], seed=7)
        async with proxy.running():
            chaos = await run_through(run_engine, sim, proxy, csv_path)
            assert_no_traceback(chaos)
            invariants.check_i1(chaos.result.run_dir, csv_path, complete=chaos.exit_code != 4)
            proxy.set_toxics([])
            resumed = await run_through(run_engine, sim, proxy, csv_path)
            assert_no_traceback(resumed)
            invariants.check_i1(resumed.result.run_dir, csv_path)
            fresh = await run_through(run_engine, sim, proxy, csv_path, fresh=True)
            invariants.check_i3(await aside(sim, "state"), fresh.result.run_dir, baseline=baseline)
        creates = await aside(sim, "creates")
    assert chaos.exit_code in (0, 3, 4)
    assert resumed.exit_code in (0, 3)
    invariants.check_i2(creates)
    summary = chaos.result.summary
    figures(
        rows=rows,
        exit_code=chaos.exit_code,
        connections=proxy.connections,
        requests=summary["requests"],
        retries=summary["retries"],
        breaker_trips=summary["breaker_trips"],
        by_status=summary["by_status"],
        duration_s=summary["duration_seconds"],
    )


def after_request(sim: RunningSimulator, hook: Callable[[str, str, int | str], None]) -> None:
    """Call ``hook(method, route, status)`` each time the simulator has answered a request
    (it wraps the request ledger, so the hook runs at an exact request, not after a poll)."""
    ledger = sim.simulator.requests
    record = ledger.record

    def recorded(arrived: float, method: str, route: str, status: int | str) -> None:
        record(arrived, method, route, status)
        hook(method, route, status)

    ledger.record = recorded  # type: ignore[method-assign]


@pytest.mark.parametrize("stream", ["upstream", "downstream"])
async def test_a_black_hole_mid_run_opens_the_breaker_and_a_later_run_completes(
    stream: Stream, simulator: Any, run_engine: Any, tmp_path: Path, figures: Any
) -> None:
    """Every byte swallowed from mid-run on: requests time out, the breaker opens and the run
    stops with exit 4 once it has been open breaker_max_open; with the network back, the next
    run of the same command finishes every row and nothing was created twice."""
    rows = scale(60, 1000)
    csv_path = write_mixed_file(tmp_path / "hole.csv", rows, seed=21)
    users = sum(1 for line in csv_path.read_text().splitlines() if line.startswith("user,"))
    async with simulator(seed=21) as sim:
        baseline = await aside(sim, "state")
        host, port = sim.root_url.removeprefix("http://").split(":")
        proxy = ChaosProxy(host, int(port), seed=21)
        async with proxy.running():
            created: list[str] = []

            def hole_after_some_users(method: str, route: str, status: int | str) -> None:
                if (method, route) == ("POST", "/v1/people"):
                    created.append(route)
                    if len(created) == users // 2:  # mid-phase: rows in flight, none preparing
                        proxy.set_toxics([BlackHole(stream=stream, toxicity=1.0)])

            after_request(sim, hole_after_some_users)
            stopped = await run_through(run_engine, sim, proxy, csv_path, **BLACK_HOLE)
            assert_no_traceback(stopped)
            invariants.check_i1(stopped.result.run_dir, csv_path, complete=False)
            proxy.set_toxics([])
            later = await run_through(run_engine, sim, proxy, csv_path)
            assert_no_traceback(later)
            invariants.check_i1(later.result.run_dir, csv_path)
            fresh = await run_through(run_engine, sim, proxy, csv_path, fresh=True)
            invariants.check_i3(await aside(sim, "state"), fresh.result.run_dir, baseline=baseline)
        creates = await aside(sim, "creates")
    assert stopped.exit_code == 4
    assert stopped.result.summary["breaker_trips"] >= 1
    assert later.exit_code in (0, 3)
    invariants.check_i2(creates)
    figures(
        rows=rows,
        rows_before_stop=sum(stopped.result.summary["by_status"].values()),
        breaker_trips=stopped.result.summary["breaker_trips"],
    )


WORKSPACES = (
    "entity_type,name,time_zone,address1,city,state,postal_code,country,email,first_name,"
    "last_name,display_name,location,extension\n"
    "location,Hole HQ,America/New_York,1 Main St,Boston,MA,02110,US,,,,,,\n"
    "user,,,,,,,,hole@example.com,Hole,User,,Hole HQ,7000\n"
)


async def test_a_black_hole_as_a_phase_lists_its_inventory_is_not_an_internal_error(
    simulator: Any, run_engine: Any, tmp_path: Path
) -> None:
    """The network dies right when the workspace phase lists the tenant's workspaces: the run
    must end like any other outage (rows pending, or a clean stop with exit 4), not as a bug."""
    lines = [WORKSPACES.rstrip("\n")]
    lines += [f"workspace,,,,,,,,,,,Room {i},Hole HQ,{7100 + i}" for i in range(30)]
    csv_path = tmp_path / "listing.csv"
    csv_path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    async with simulator(seed=5) as sim:
        host, port = sim.root_url.removeprefix("http://").split(":")
        proxy = ChaosProxy(host, int(port), seed=5)

        def hole_after_the_user(method: str, route: str, status: int | str) -> None:
            if (method, route) == ("POST", "/v1/people"):
                proxy.set_toxics([BlackHole(stream="downstream", toxicity=1.0)])

        after_request(sim, hole_after_the_user)
        async with proxy.running():
            run = await run_through(run_engine, sim, proxy, csv_path, **BLACK_HOLE)
    assert_no_traceback(run)
    assert run.exit_code in (3, 4)


# -- the proxy itself ----------------------------------------------------------------------------


async def echo_through(toxics: list[Toxic], payload: bytes, *, seed: int = 0) -> bytes:
    """Send ``payload`` through the proxy to an echo server, half-close, and read to the end."""

    async def echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError):
            while data := await reader.read(65_536):
                writer.write(data)
                await writer.drain()
        writer.close()

    server = await asyncio.start_server(echo, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        async with ChaosProxy("127.0.0.1", port, toxics, seed=seed).running() as proxy:
            reader, writer = await asyncio.open_connection("127.0.0.1", proxy.port)
            writer.write(payload)
            await writer.drain()
            received = b""
            async with asyncio.timeout(10):
                while len(received) < len(payload) and (data := await reader.read(65_536)):
                    received += data
            writer.close()
            return received
    finally:
        server.close()
        await server.wait_closed()


PAYLOAD = bytes(range(256)) * 800  # 200 KB


@pytest.mark.parametrize(
    "toxic_",
    [
        Latency(stream="downstream", latency=0.001, jitter=0.001),
        Latency(stream="upstream", latency=0.001, jitter=0.001),
        Bandwidth(stream="downstream", rate=4_000_000.0),
        Slicer(stream="upstream", average_size=100, size_variation=90),
        Slicer(stream="downstream", average_size=1000, size_variation=900, delay=0.0001),
        SlowClose(stream="downstream", delay=0.01),
    ],
    ids=lambda t: type(t).__name__ + "-" + t.stream,
)
async def test_toxics_that_only_slow_the_bytes_keep_every_byte_in_order(toxic_: Toxic) -> None:
    """Latency, bandwidth, slicing and a slow close deliver the 200 KB exactly, in order."""
    assert await echo_through([toxic_], PAYLOAD) == PAYLOAD


async def test_limit_data_cuts_the_connection_after_its_bytes() -> None:
    """LimitData lets exactly ``limit`` bytes of its stream through, then closes."""
    received = await echo_through([LimitData(stream="downstream", limit=1000)], PAYLOAD)
    assert received == PAYLOAD[:1000]


@pytest.mark.parametrize("stream", ["upstream", "downstream"])
async def test_a_black_hole_swallows_everything_then_closes(stream: Stream) -> None:
    """A black hole with a timeout delivers nothing and then closes the connection."""
    assert await echo_through([BlackHole(stream=stream, timeout=0.05)], PAYLOAD) == b""


async def test_reset_peer_resets_the_connection() -> None:
    """ResetPeer ends the connection with an RST: the reader sees a reset, not an end."""
    with pytest.raises(ConnectionResetError):
        await echo_through([ResetPeer(stream="downstream", timeout=0.0)], PAYLOAD * 20)


async def test_toxicity_is_drawn_per_connection_from_the_seed() -> None:
    """Toxicity 0 never applies and 1 always does; in between, the same seed draws the same
    connections."""
    never = LimitData(stream="downstream", limit=10, toxicity=0.0)
    assert await echo_through([never], PAYLOAD) == PAYLOAD
    always = LimitData(stream="downstream", limit=10, toxicity=1.0)
    assert await echo_through([always], PAYLOAD) == PAYLOAD[:10]
    half = LimitData(stream="downstream", limit=10, toxicity=0.5)
    first = [len(await echo_through([half], b"x" * 100, seed=seed)) for seed in range(12)]
    again = [len(await echo_through([half], b"x" * 100, seed=seed)) for seed in range(12)]
    assert first == again
    assert set(first) == {10, 100}
