"""The request path against real sockets on 127.0.0.1: a tiny aiohttp.web app records when
requests arrive (on the loop's clock), so the global 429 pause, timeouts and refused
connections are observed end to end."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import aiohttp
import attrs
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from support import aside, make_client

from webex_bulk.config import Settings
from webex_bulk.credentials import Credentials
from webex_bulk.error_handling import RetriesExhausted, UnknownOutcome
from webex_bulk.http import CircuitBreaker, WebexClient

pytestmark = pytest.mark.timeout(20)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@pytest.fixture
async def serve() -> AsyncIterator[Callable[[Handler], Awaitable[str]]]:
    """A factory: serve a handler for every path on 127.0.0.1:<ephemeral>; returns the base URL."""
    servers: list[TestServer] = []

    async def start(handler: Handler) -> str:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", handler)
        server = TestServer(app, host="127.0.0.1", port=0)
        await server.start_server()
        servers.append(server)
        return str(server.make_url("/v1"))

    yield start
    for server in servers:
        await server.close()


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    """One aiohttp session, closed after the test."""
    async with aiohttp.ClientSession() as client_session:
        yield client_session


def loop_client(
    session: aiohttp.ClientSession,
    base_url: str,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    **overrides: Any,
) -> WebexClient:
    """A client on the loop's own clock, so its pause and the server's timestamps compare."""
    loop = asyncio.get_running_loop()
    return make_client(
        session,
        loop.time,
        sleep=sleep,
        credentials=Credentials(access_token="tok"),
        run_id="http",
        base_url=base_url,
        **overrides,
    )


async def test_no_request_arrives_before_the_pause_ends(
    serve: Callable[[Handler], Awaitable[str]], session: aiohttp.ClientSession
) -> None:
    """After a 429 (Retry-After: 1, capped to 0.3 s here) neither the retry nor any other
    worker's request reaches the server before the pause has ended."""
    loop = asyncio.get_running_loop()
    arrivals: list[float] = []

    async def handler(request: web.Request) -> web.StreamResponse:
        arrivals.append(loop.time())
        if len(arrivals) == 1:
            return web.json_response(
                {"message": "slow down"}, status=429, headers={"Retry-After": "1"}
            )
        echo = {"Trackingid": request.headers.get("TrackingID", "")}
        return web.json_response({"ok": True}, headers=echo)

    pausing = asyncio.Event()

    async def sleep(seconds: float) -> None:
        pausing.set()
        await asyncio.sleep(seconds)

    base = await serve(handler)
    client = loop_client(session, base, sleep, retry_after_cap=0.3)
    first = asyncio.ensure_future(client.request("GET", "/people/me"))
    await pausing.wait()
    others = [client.request("GET", f"/people/{i}") for i in range(4)]
    answers = await asyncio.gather(first, *others)
    assert len(arrivals) == 6
    pause_end = arrivals[0] + 0.3
    assert all(at >= pause_end for at in arrivals[1:])
    assert all(a.tracking_id.startswith("WEBEX_BULK_http_") for a in answers)
    assert client.stats.rate_limited == 1


async def test_a_post_whose_answer_times_out_is_sent_once(
    serve: Callable[[Handler], Awaitable[str]], session: aiohttp.ClientSession
) -> None:
    """With a 0.1 s read timeout a POST left unanswered raises UnknownOutcome after one send."""
    arrived: list[str] = []
    never = asyncio.Event()

    async def handler(request: web.Request) -> web.StreamResponse:
        arrived.append(request.method)
        await never.wait()
        return web.Response(status=500)

    base = await serve(handler)
    client = loop_client(session, base, read_timeout=0.1)
    with pytest.raises(UnknownOutcome, match="timeout"):
        await client.request("POST", "/people", json={"emails": ["a@b.c"]})
    assert arrived == ["POST"]


async def test_a_refused_connection_is_retried_even_for_a_post(
    session: aiohttp.ClientSession,
) -> None:
    """Nothing listens on the port: the POST certainly never left, so it is tried max_attempts
    times and ends RetriesExhausted (not UnknownOutcome)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = loop_client(session, f"http://127.0.0.1:{port}/v1", backoff_base=0.0)
    with pytest.raises(RetriesExhausted, match="could not connect") as caught:
        await client.request("POST", "/people", json={})
    assert caught.value.attempts == 4
    assert client.stats.transport_errors == 4


async def test_every_send_is_counted_when_the_server_drops_connections(
    simulator: Callable[..., Any],
) -> None:
    """Against a simulator that drops some connections before answering, the client counts
    exactly the GETs the server saw: aiohttp sends nothing on its own, and each drop is a retry
    of the policy (counted in the stats and spent from the retry budget)."""
    settings = Settings(
        rate=1000.0, backoff_base=0.0, backoff_cap=0.0, max_attempts=10, retry_budget=1.0
    )
    async with simulator(drop_before_probability=0.3, seed=7) as sim:
        async with aiohttp.ClientSession() as session:
            client = WebexClient(
                attrs.evolve(settings, base_url=sim.base_url),
                Credentials(access_token=sim.token),
                session,
                CircuitBreaker.from_settings(settings),
                run_id="drops",
            )
            for _ in range(20):
                await client.request("GET", "/people/me")
        counts = await aside(sim, "counts")
    dropped = counts["by_status"].get("dropped", 0)
    assert dropped >= 2
    assert client.stats.requests == sum(counts["by_status"].values()) == 20 + dropped
    assert client.stats.retries == client.stats.transport_errors == dropped
