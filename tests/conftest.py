"""Shared fixtures of the engine tests: a simulator on 127.0.0.1 and a way to run the engine on it.

Engine tests assert on output files and on the simulator's counts and tenant, never on a mock.
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from aioresponses import aioresponses
from support import EngineRun, mock_transport, settings_for

from webex_bulk.credentials import Credentials
from webex_bulk.engine import Caps, RunRequest, StopControl, Timer, plan_file, run_file
from webex_bulk.simulator import RunningSimulator, SimConfig, running_simulator

RunEngine = Callable[..., Awaitable[EngineRun]]


@pytest.fixture
def run_engine(tmp_path: Path) -> RunEngine:
    """A function that runs the engine on a CSV against a simulator and returns what it left."""

    async def run(
        sim: RunningSimulator,
        csv_path: Path,
        *,
        caps: Caps | None = None,
        stop: StopControl | None = None,
        credentials: Credentials | None = None,
        fresh: bool = False,
        seconds_left: float | None = None,
        timer: Timer = asyncio.sleep,
        plan_in: Path | None = None,
        **overrides: Any,
    ) -> EngineRun:
        request = RunRequest(
            input_path=csv_path,
            settings=settings_for(sim, tmp_path, **overrides),
            credentials=credentials or Credentials(access_token=sim.token),
            caps=caps or Caps(),
            fresh=fresh,
            seconds_left=seconds_left,
            plan_in=plan_in,
        )
        out = io.StringIO()
        result = await run_file(request, stop or StopControl(), out, timer=timer)
        return EngineRun(result, out.getvalue())

    return run


@pytest.fixture
def run_plan(tmp_path: Path) -> Callable[..., Awaitable[Any]]:
    """A function that runs ``plan`` on a CSV against a simulator."""

    async def plan(
        sim: RunningSimulator, csv_path: Path, *, plan_out: Path | None = None, **overrides: Any
    ) -> Any:
        request = RunRequest(
            input_path=csv_path,
            settings=settings_for(sim, tmp_path, **overrides),
            credentials=Credentials(access_token=sim.token),
            plan_out=plan_out,
        )
        return await plan_file(request, io.StringIO())

    return plan


@pytest.fixture
def simulator() -> Callable[..., Any]:
    """A factory: ``async with simulator(**knobs) as sim`` serves a fresh tenant on 127.0.0.1."""

    def start(**knobs: Any) -> Any:
        return running_simulator(SimConfig(**knobs))

    return start


@pytest.fixture
def mocked(monkeypatch: pytest.MonkeyPatch) -> Iterator[aioresponses]:
    """An aioresponses mock (fitted to this aiohttp) for the test's duration."""
    with mock_transport(monkeypatch) as mock:
        yield mock
