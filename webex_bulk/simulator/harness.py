"""Start and stop a simulator for tests, benchmarks and demos: in-process on the running loop, or
as a separate process whose tenant outlives any client (a client may be killed with -9).

Readiness is the printed ``base_url=`` line, never a sleep.
"""

from __future__ import annotations

import contextlib
import json
import os
import selectors
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, cast

import attrs
from aiohttp import web

from webex_bulk.simulator.app import build_app
from webex_bulk.simulator.config import SimConfig
from webex_bulk.simulator.runtime import SIM, Clock, Simulator
from webex_bulk.simulator.tenant import Tenant

LOOPBACK = "127.0.0.1"
#: Seconds an in-flight handler (e.g. a stalled answer) may finish in when the server stops.
SHUTDOWN_GRACE = 0.5


class SimulatorStartError(RuntimeError):
    """The simulator process exited or went silent before printing its address."""


@attrs.frozen
class RunningSimulator:
    """An in-process simulator: its URLs, token, and the live simulator for assertions."""

    root_url: str
    base_url: str
    token: str
    simulator: Simulator

    @property
    def state(self) -> Tenant:
        """The tenant as it is now (a reset replaces it)."""
        return self.simulator.tenant

    @property
    def headers(self) -> dict[str, str]:
        """The ``Authorization`` header of the configured token."""
        return {"Authorization": f"Bearer {self.token}"}


@contextlib.asynccontextmanager
async def running_simulator(
    config: SimConfig | None = None,
    *,
    clock: Clock = time.monotonic,
    host: str = LOOPBACK,
    port: int = 0,
) -> AsyncIterator[RunningSimulator]:
    """Serve a simulator on ``host`` (ephemeral port by default) for the body of the block."""
    app = build_app(config or SimConfig(), clock)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=SHUTDOWN_GRACE)
    await runner.setup()
    try:
        site = web.TCPSite(runner, host, port)
        await site.start()
        bound_host, bound_port = cast("tuple[str, int]", runner.addresses[0][:2])
        root = f"http://{bound_host}:{bound_port}"
        simulator = app[SIM]
        yield RunningSimulator(root, f"{root}/v1", simulator.config.token, simulator)
    finally:
        await runner.cleanup()


@attrs.frozen
class SimulatorProcess:
    """A simulator running as a child process."""

    root_url: str
    base_url: str
    token: str
    process: subprocess.Popen[bytes]

    @property
    def pid(self) -> int:
        """The process id of the simulator."""
        return self.process.pid

    @property
    def headers(self) -> dict[str, str]:
        """The ``Authorization`` header of the configured token."""
        return {"Authorization": f"Bearer {self.token}"}

    def side(self, name: str, payload: Mapping[str, Any] | None = None) -> Any:
        """Call a ``/_sim/<name>`` side endpoint (POST when ``payload`` is given); its JSON."""
        data = None if payload is None else json.dumps(payload).encode()
        request = urllib.request.Request(
            f"{self.root_url}/_sim/{name}",
            data=data,
            method="GET" if payload is None else "POST",
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=30) as answer:
            return json.loads(answer.read())


@contextlib.contextmanager
def simulator_process(
    config: SimConfig | None = None,
    *,
    profile: str | Path | None = None,
    seed: int | None = None,
    tenant: str | Path | None = None,
    extra_args: Sequence[str] = (),
    startup_timeout: float = 30.0,
) -> Iterator[SimulatorProcess]:
    """Run ``python -m webex_bulk.simulator`` on an ephemeral port until the block ends.

    ``config`` is handed over as a profile file (``profile`` names one instead); ``seed`` and
    ``tenant`` are passed as flags and win over both.
    """
    with tempfile.TemporaryDirectory(prefix="webex-sim-") as scratch:
        args = [sys.executable, "-m", "webex_bulk.simulator", "--port", "0"]
        if config is not None:
            config_file = Path(scratch) / "profile.json"
            config_file.write_text(json.dumps(config.to_json()), encoding="utf-8")
            args += ["--profile", str(config_file)]
        elif profile is not None:
            args += ["--profile", str(profile)]
        if seed is not None:
            args += ["--seed", str(seed)]
        if tenant is not None:
            args += ["--tenant", str(tenant)]
        log_path = Path(scratch) / "stderr.log"
        with log_path.open("w", encoding="utf-8") as stderr:
            process = subprocess.Popen([*args, *extra_args], stdout=subprocess.PIPE, stderr=stderr)
            try:
                fields = _read_banner(process, startup_timeout, log_path)
                yield SimulatorProcess(
                    fields["root_url"], fields["base_url"], fields["token"], process
                )
            finally:
                _stop(process)


def _read_banner(
    process: subprocess.Popen[bytes], timeout: float, log_path: Path
) -> dict[str, str]:
    """Read ``key=value`` lines until the URLs and the token were printed. Raw reads: a buffered
    reader could hold lines the selector no longer reports."""
    assert process.stdout is not None
    descriptor = process.stdout.fileno()
    fields: dict[str, str] = {}
    pending = b""
    deadline = time.monotonic() + timeout
    with selectors.DefaultSelector() as selector:
        selector.register(descriptor, selectors.EVENT_READ)
        while not {"root_url", "base_url", "token"} <= fields.keys():
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not selector.select(remaining):
                raise SimulatorStartError(f"no address within {timeout} s: {_tail(log_path)}")
            chunk = os.read(descriptor, 4096)
            if not chunk:
                raise SimulatorStartError(f"simulator exited early: {_tail(log_path)}")
            *lines, pending = (pending + chunk).split(b"\n")
            for line in lines:
                key, _, value = line.decode().strip().partition("=")
                fields[key] = value
    return fields


def _tail(path: Path) -> str:
    return path.read_text(encoding="utf-8", errors="replace")[-2000:]


def _stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM, then SIGKILL if the process does not end within 10 s."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.kill(process.pid, signal.SIGKILL)
            process.wait()
    if process.stdout is not None:
        process.stdout.close()
