"""Fixtures of the simulator tests: a factory that starts in-process simulators (real HTTP on
127.0.0.1, ephemeral port) with a small JSON client (the fake clock is ``support.FakeClock``)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import aiohttp
import attrs
import pytest

from webex_bulk.simulator import RunningSimulator, SimConfig, running_simulator


@attrs.frozen
class Answer:
    """An HTTP answer: status, JSON body (None when empty) and headers."""

    status: int
    body: Any
    headers: dict[str, str]


class Api:
    """A small JSON client bound to one simulator; sends its token unless told otherwise."""

    def __init__(self, session: aiohttp.ClientSession, sim: RunningSimulator) -> None:
        self.session = session
        self.sim = sim
        self.token = sim.token

    async def call(
        self,
        method: str,
        path: str,
        json: Any = None,
        *,
        params: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
        authorised: bool = True,
    ) -> Answer:
        """Send a request to ``/v1`` + path (or an absolute URL)."""
        url = path if path.startswith("http") else self.sim.base_url + path
        sent = {"Authorization": f"Bearer {self.token}"} if authorised else {}
        sent.update(headers or {})
        async with self.session.request(method, url, json=json, params=params, headers=sent) as r:
            raw = await r.read()
            body = None
            if raw and r.content_type == "application/json":
                body = await r.json()
            return Answer(r.status, body, dict(r.headers))

    async def get(self, path: str, **params: str) -> Answer:
        """GET with query parameters."""
        return await self.call("GET", path, params=params or None)

    async def post(self, path: str, json: Any = None) -> Answer:
        """POST a JSON body."""
        return await self.call("POST", path, json)

    async def put(self, path: str, json: Any = None) -> Answer:
        """PUT a JSON body."""
        return await self.call("PUT", path, json)

    async def patch(self, path: str, json: Any = None) -> Answer:
        """PATCH a JSON body."""
        return await self.call("PATCH", path, json)

    async def delete(self, path: str, json: Any = None) -> Answer:
        """DELETE, with an optional JSON body."""
        return await self.call("DELETE", path, json)

    async def side(self, name: str, payload: Any = None) -> Any:
        """A ``/_sim/`` side endpoint: GET, or POST when a payload is given."""
        method = "GET" if payload is None else "POST"
        url = f"{self.sim.root_url}/_sim/{name}"
        async with self.session.request(method, url, json=payload) as answer:
            return await answer.json()


StartSim = Callable[..., Awaitable[Api]]


@pytest.fixture
async def start_sim() -> AsyncIterator[StartSim]:
    """Factory: ``await start_sim(config, clock=…)`` starts a simulator and returns its client;
    everything started is stopped at the end of the test."""
    async with contextlib.AsyncExitStack() as stack:
        session = await stack.enter_async_context(aiohttp.ClientSession())

        async def start(config: SimConfig | None = None, **kwargs: Any) -> Api:
            sim = await stack.enter_async_context(running_simulator(config, **kwargs))
            return Api(session, sim)

        yield start


@pytest.fixture
async def api(start_sim: StartSim) -> Api:
    """A client of a simulator with the default config."""
    return await start_sim()
