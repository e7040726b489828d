"""What the tests share: a fake clock, bounded waits on the simulator's counters, and running
the engine on a simulator on 127.0.0.1 (engine tests assert on output files and on the
simulator's counts and tenant, never on a mock).
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import heapq
import itertools
import json
import random
import time
import zipfile
from collections.abc import Awaitable, Callable, Iterator, Mapping
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Literal

import aiohttp
import attrs
import pytest
from aioresponses import aioresponses
from yarl import URL

from webex_bulk.config import Settings
from webex_bulk.credentials import Credentials
from webex_bulk.engine import RunResult
from webex_bulk.http import CircuitBreaker, SaveFile, WebexClient
from webex_bulk.simulator import RunningSimulator

#: How often and how many times a wait polls: 3000 × 10 ms, 30 s at most.
POLLS = 3000
POLL_INTERVAL = 0.01


class FakeClock:
    """Virtual time for code that takes ``now`` (call the clock) and ``sleep`` as arguments.

    Every sleep is recorded. ``auto``: a sleep moves time forward at once. ``manual``: sleepers
    wait until the test calls ``advance``. ``workers``: time is shared by the tasks inside
    ``worker()``; when every one of them sleeps, time jumps to the earliest wake-up, so a worker
    waiting on the network holds time still.
    """

    def __init__(
        self, start: float = 1_000.0, *, mode: Literal["auto", "manual", "workers"] = "auto"
    ) -> None:
        self.now = start
        self.mode = mode
        self.sleeps: list[float] = []
        self.workers = 0
        self._order = itertools.count()
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._changed = asyncio.Condition()

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        """Sleep ``seconds`` of virtual time."""
        self.sleeps.append(seconds)
        if self.mode == "auto":
            self.now += max(0.0, seconds)
            await asyncio.sleep(0)
            return
        wake = asyncio.get_running_loop().create_future()
        if self.mode == "workers":
            heapq.heappush(self._sleepers, (self.now + max(0.0, seconds), next(self._order), wake))
            self._advance_when_idle()
            try:
                await wake
            finally:
                if not wake.done():  # cancelled: this worker no longer waits on the clock
                    wake.cancel()
                    self._advance_when_idle()
            return
        heapq.heappush(self._sleepers, (self.now + seconds, next(self._order), wake))
        async with self._changed:
            self._changed.notify_all()
        try:
            await wake
        finally:
            self._sleepers = [sleeper for sleeper in self._sleepers if sleeper[2] is not wake]
            heapq.heapify(self._sleepers)

    async def sleepers(self, count: int) -> None:
        """Wait until ``count`` tasks sleep on this clock (``manual``)."""
        async with asyncio.timeout(5), self._changed:
            await self._changed.wait_for(lambda: len(self._sleepers) >= count)

    def advance(self, seconds: float) -> None:
        """Move time forward and wake the sleepers that are due."""
        self.now += seconds
        for at, _, wake in self._sleepers:
            if at <= self.now and not wake.done():
                wake.set_result(None)

    @contextlib.contextmanager
    def worker(self) -> Iterator[None]:
        """Count the calling task among the workers while the block runs (``workers``)."""
        self.workers += 1
        try:
            yield
        finally:
            self.workers -= 1
            self._advance_when_idle()

    def _advance_when_idle(self) -> None:
        self._sleepers = [sleeper for sleeper in self._sleepers if not sleeper[2].done()]
        heapq.heapify(self._sleepers)
        if not self._sleepers or len(self._sleepers) < self.workers:
            return
        self.now = max(self.now, self._sleepers[0][0])
        while self._sleepers and self._sleepers[0][0] <= self.now:
            heapq.heappop(self._sleepers)[2].set_result(None)


async def until(reached: Callable[[], Awaitable[bool]], what: str) -> None:
    """Poll ``reached`` (bounded, see ``POLLS``) until it is true; fail naming ``what``."""
    for _ in range(POLLS):
        if await reached():
            return
        await asyncio.sleep(POLL_INTERVAL)
    raise AssertionError(f"never reached: {what}")


def until_sync(reached: Callable[[], bool], what: str) -> None:
    """``until`` for a test that drives a child process without an event loop."""
    for _ in range(POLLS):
        if reached():
            return
        time.sleep(POLL_INTERVAL)
    raise AssertionError(f"never reached: {what}")


async def writes_reach(sim: RunningSimulator, writes: int) -> None:
    """Wait until the simulator has answered ``writes`` writes (POST, PUT, PATCH, DELETE)."""

    async def reached() -> bool:
        return int((await aside(sim, "counts"))["writes"]) >= writes

    await until(reached, f"{writes} writes")


#: Settings that keep engine tests quick: no real waits between retries or consistency lookups.
FAST = {
    "rate": 1000.0,
    "concurrency": 8,
    "backoff_base": 0.0,
    "backoff_cap": 0.0,
    "consistency_wait": 0.0,
    "retry_after_default": 0.05,
    "breaker_cooldown": 0.05,
    "checkpoint_interval": 0.05,
    "shutdown_grace": 1.0,
    "read_timeout": 5.0,
}


async def aside(sim: RunningSimulator, name: str, payload: Mapping[str, Any] | None = None) -> Any:
    """Call a ``/_sim/<name>`` side endpoint (POST when ``payload`` is given); its JSON."""
    async with aiohttp.ClientSession() as session:
        url = f"{sim.root_url}/_sim/{name}"
        if payload is None:
            async with session.get(url) as answer:
                return await answer.json()
        async with session.post(url, json=payload) as answer:
            return await answer.json()


async def directory_sync(sim: RunningSimulator, email: str, first: str, last: str) -> Any:
    """Bring a person into the tenant as a directory sync does, through the API: identity only,
    no calling license, no line; the created person's JSON."""
    body = {"emails": [email], "firstName": first, "lastName": last}
    async with (
        aiohttp.ClientSession(headers=sim.headers) as session,
        session.post(f"{sim.base_url}/people", json=body) as answer,
    ):
        assert answer.status == 200, await answer.text()
        return await answer.json()


@attrs.frozen
class EngineRun:
    """What one engine run left behind."""

    result: RunResult
    output: str

    @property
    def exit_code(self) -> int:
        """The process exit code the CLI would return."""
        return self.result.exit_code

    def rows(self, status: str) -> list[dict[str, str]]:
        """The rows of ``success.csv`` / ``rejected.csv`` / ``pending.csv``."""
        path = self.result.run_dir / f"{status}.csv"
        if not path.exists():
            return []
        with path.open(encoding="utf-8-sig", newline="") as handle:
            return list(csv.DictReader(handle))


def settings_for(sim: RunningSimulator, tmp_path: Path, **overrides: Any) -> Settings:
    """Settings pointing at the simulator, with quick waits."""
    values = {**FAST, "base_url": sim.base_url, "runs_root": str(tmp_path / "runs"), **overrides}
    return Settings(**values)


def write_csv(path: Path, text: str) -> Path:
    """Write a CSV fixture (leading indentation of a triple-quoted string removed)."""
    lines = [line.strip() for line in text.strip().splitlines()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


# ---------------------------------------------------------------------------------------------
# Moves: a tenant whose calling users a file moves to another location

#: The move-users job routes as the simulator's request counts name them.
MOVE_JOBS = "/v1/telephony/config/jobs/person/moveLocation"
MOVE_JOB = MOVE_JOBS + "/{jobId}"
#: The header of the move tests' user rows.
MOVE_HEADER = "entity_type,email,first_name,last_name,location,extension,phone_number"


def move_tenant(path: Path) -> str:
    """Write a tenant file (locations HQ and Branch; Ann and Cy in HQ, Bob in Branch on 2001)
    and return its path."""

    def person(email: str, location: str, extension: str, **more: str) -> dict[str, str]:
        first, last = email.split("@")[0].title(), "Example"
        return {
            "email": email,
            "firstName": first,
            "lastName": last,
            "location": location,
            "extension": extension,
            **more,
        }

    spec = {
        "locations": [
            {"name": "HQ", "timeZone": "America/Chicago", "numbers": ["+13125550100"]},
            {"name": "Branch", "timeZone": "America/Denver", "numbers": ["+17205550100"]},
        ],
        "people": [
            person("ann@example.com", "HQ", "1001", phoneNumber="+13125550101"),
            person("cy@example.com", "HQ", "1003"),
            person("bob@example.com", "Branch", "2001"),
        ],
    }
    path.write_text(json.dumps(spec), encoding="utf-8")
    return str(path)


async def person_state(sim: RunningSimulator | Any, email: str) -> dict[str, Any]:
    """The simulator's record of one person (``sim`` runs in this process)."""
    people = (await aside(sim, "state?types=people"))["people"]
    return next(person for person in people if person["email"] == email)


# ---------------------------------------------------------------------------------------------
# The request path: a client on a fake clock, and aioresponses fitted to this aiohttp

#: The base URL of clients whose transport is mocked.
BASE = "https://api.test/v1"
#: The static token of ``make_client``'s default credentials.
TOKEN = "secret-access-token-123"
#: The wall-clock epoch seconds that a fake monotonic reading of 0 stands for.
WALL_EPOCH = 1_800_000_000.0


def make_client(
    session: aiohttp.ClientSession,
    clock: Callable[[], float],
    *,
    sleep: Callable[[float], Awaitable[None]] | None = None,
    credentials: Credentials | None = None,
    breaker: CircuitBreaker | None = None,
    rng: random.Random | None = None,
    save_file: SaveFile | None = None,
    run_id: str = "run1",
    **overrides: Any,
) -> WebexClient:
    """A client on ``clock`` (its wall clock is ``WALL_EPOCH`` + the clock; it sleeps on
    ``sleep``, else on ``clock.sleep``), a static token and a high rate unless overridden;
    settings overridable by keyword."""
    values: dict[str, Any] = {"base_url": BASE, "rate": 1000.0, **overrides}
    settings = Settings(**values)
    return WebexClient(
        settings,
        credentials or Credentials(access_token=TOKEN),
        session,
        breaker or CircuitBreaker.from_settings(settings),
        run_id=run_id,
        clock=clock,
        wall_clock=lambda: WALL_EPOCH + clock(),
        sleep=sleep or getattr(clock, "sleep"),  # noqa: B009 - fake clocks carry their sleep
        rng=rng,
        save_file=save_file,
    )


class CompatResponse(aiohttp.ClientResponse):
    """aioresponses 0.7.9 builds responses without the ``stream_writer`` argument that
    aiohttp 3.14 requires; this subclass supplies a finished writer."""

    def __init__(self, method: str, url: URL, **kwargs: Any) -> None:
        kwargs.setdefault("stream_writer", SimpleNamespace(output_size=0))
        super().__init__(method, url, **kwargs)


def mock_transport(monkeypatch: pytest.MonkeyPatch) -> aioresponses:
    """An aioresponses mock that works with this aiohttp (enter it with ``with``)."""
    monkeypatch.setattr("aioresponses.core.ClientResponse", CompatResponse)
    return aioresponses()


def sent(mocked: aioresponses, method: str, url: str) -> list[Any]:
    """The recorded calls of one method and URL."""
    return mocked.requests.get((method, URL(url)), [])


#: The namespace of Excel's row attributes (``x14ac:dyDescent``), declared on its sheets' root.
X14AC = "http://schemas.microsoft.com/office/spreadsheetml/2009/9/ac"


def raw_workbook(path: Path, sheet_data: str, shared_strings: str = "") -> Path:
    """A workbook written part by part, as Excel lays it out: one sheet ``Users`` holding
    ``sheet_data`` (its ``<sheetData>`` element, as XML text), the shared strings (``<si>``
    elements), and a style table whose style 1 is a custom date format."""
    main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    rels = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    parts = {
        "[Content_Types].xml": '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.'
        'org/package/2006/content-types"/>',
        "xl/workbook.xml": f'<workbook xmlns="{main}" xmlns:r="{rels}"><sheets>'
        '<sheet name="Users" sheetId="1" r:id="rId1"/></sheets></workbook>',
        "xl/_rels/workbook.xml.rels": '<Relationships xmlns="http://schemas.openxmlformats.org/'
        'package/2006/relationships">'
        f'<Relationship Id="rId1" Type="{rels}/worksheet" Target="worksheets/sheet1.xml"/>'
        f'<Relationship Id="rId2" Type="{rels}/sharedStrings" Target="sharedStrings.xml"/>'
        f'<Relationship Id="rId3" Type="{rels}/styles" Target="/xl/styles.xml"/>'
        "</Relationships>",
        "xl/sharedStrings.xml": f'<sst xmlns="{main}">{shared_strings}</sst>',
        "xl/styles.xml": f'<styleSheet xmlns="{main}"><numFmts count="1">'
        '<numFmt numFmtId="164" formatCode="[$-409]d\\-mmm\\-yy;@"/></numFmts>'
        '<cellXfs count="2"><xf numFmtId="0"/><xf numFmtId="164"/></cellXfs></styleSheet>',
        "xl/worksheets/sheet1.xml": f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        f'<worksheet xmlns="{main}" xmlns:x14ac="{X14AC}"><dimension ref="A1"/>{sheet_data}'
        '<pageMargins left="0.7"/></worksheet>',
    }
    with zipfile.ZipFile(path, "w") as archive:
        for name, text in parts.items():
            archive.writestr(name, text)
    return path
